"""The management line of a synthetic organisation: one head director at the top (no
manager), the other directors report to the head, sales managers to a director, everyone else
to a sales manager, usually in the same city, otherwise in the same region. Every manager is a
mentor, so every ``manager_id`` is a known id and each mentee has mentors in their line.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

_SAME_CITY_BOSS = 0.7  # chance to report to a manager of one's own city, when there is one


def draw_bosses(rng: np.random.Generator, n_dir: int, n_mgr: int, city: np.ndarray,
                region: np.ndarray) -> np.ndarray:
    """The org chart as each person's boss (an index; -1 at the top): persons ``0 .. n_dir-1``
    are the directors (0 the head), the next ``n_mgr`` the managers, the rest report to a
    manager (or to a director when there are no managers)."""
    n = len(city)
    parent = np.full(n, -1, dtype=np.int64)
    dirs = np.arange(n_dir)
    mgrs = np.arange(n_dir, n_dir + n_mgr)
    parent[dirs[1:]] = 0
    if n_mgr:
        parent[mgrs] = _assign_boss(rng, city[mgrs], region[mgrs], dirs, city[dirs], region[dirs])
    rest = np.arange(n_dir + n_mgr, n)
    bosses = mgrs if n_mgr else dirs
    parent[rest] = _assign_boss(rng, city[rest], region[rest], bosses, city[bosses], region[bosses])
    return parent


def team_names(last: np.ndarray, city: np.ndarray, parent: np.ndarray, n_heads: int) -> np.ndarray:
    """Each person's team: their boss's team name (the head's own for the head), unique:
    "Team <surname of the boss>", then the city, then a number. The bosses are persons
    ``0 .. n_heads-1``."""
    heads = np.arange(n_heads)
    team_name = pd.Series("Team " + last[heads])
    dup = team_name.duplicated(keep=False)
    team_name[dup] = team_name[dup] + " (" + pd.Series(city[heads])[dup] + ")"
    again = team_name.groupby(team_name).cumcount()
    team_name = np.where(again > 0, team_name + " " + (again + 1).astype(str), team_name).astype(object)
    return team_name[np.where(parent >= 0, parent, 0)]


def _assign_boss(rng: np.random.Generator, person_city: np.ndarray, person_region: np.ndarray,
                 boss: np.ndarray, boss_city: np.ndarray, boss_region: np.ndarray) -> np.ndarray:
    """For each person, a boss (an element of ``boss``): of the same city with probability
    ``_SAME_CITY_BOSS`` when the city has one, else of the same region when it has one, else any.

    A loop over regions and cities (a few dozen), never over people.
    """
    n = len(person_city)
    out = boss[rng.integers(len(boss), size=n)]
    u = rng.random(n)
    for r in np.unique(boss_region):
        pool = boss[boss_region == r]
        rows = np.flatnonzero(person_region == r)
        out[rows] = pool[rng.integers(len(pool), size=len(rows))]
    for c in np.unique(boss_city):
        pool = boss[boss_city == c]
        rows = np.flatnonzero((person_city == c) & (u < _SAME_CITY_BOSS))
        out[rows] = pool[rng.integers(len(pool), size=len(rows))]
    return out


def ancestors(parent: np.ndarray) -> np.ndarray:
    """(n, depth) matrix: column d holds each person's ancestor d+1 steps up, or -1."""
    cols = []
    up = parent.copy()
    while (up >= 0).any():
        cols.append(up)
        up = np.where(up >= 0, parent[np.maximum(up, 0)], -1)
    return np.column_stack(cols) if cols else np.full((len(parent), 1), -1, dtype=np.int64)

"""What the people of a synthetic organisation state: a target role (about 30 % of the
mentees: one of the next roles on the pathway), ranked lists of partners, mostly plausible
(same region, a level apart, outside the management line), and a few managers' suggestions.
"""
from __future__ import annotations

import numpy as np

from ..careers import CareerFramework
from .orgchart import ancestors

_TARGET_SHARE = 0.3
_MENTOR_PREFERENCE_SHARE = 0.15
_SUGGESTION_SHARE = 0.1
_DRAWS = 12  # candidates drawn per person who states preferences


def draw_targets(rng: np.random.Generator, fw: CareerFramework, mentee_role: np.ndarray) -> np.ndarray:
    """Each mentee's target role: for about 30 %, one of the next roles of their role; "" otherwise."""
    n_e = len(mentee_role)
    target = np.full(n_e, "", dtype=object)
    wants = rng.random(n_e) < _TARGET_SHARE
    choice = rng.random(n_e)
    for r in fw.roles:
        nxt = fw.next_roles(r)
        rows = wants & (mentee_role == r)
        if nxt and rows.any():
            target[rows] = np.array(nxt, dtype=object)[(choice[rows] * len(nxt)).astype(np.int64)]
    return target


def draw_preferences(rng: np.random.Generator, ids: np.ndarray, parent: np.ndarray, level: np.ndarray,
                     city: np.ndarray, region: np.ndarray, n_m: int,
                     share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mentees' ranked mentors, mentors' ranked mentees, managers' suggestions for mentees):
    ';'-joined ids, "" for who states none. Persons are the mentors ``0 .. n_m-1``, then the
    mentees; ``share`` of the mentees state a list of 1-3 mentors."""
    n = len(ids)
    n_e = n - n_m
    anc = ancestors(parent)
    mentor_pool = np.arange(n_m)
    mentee_pool = np.arange(n_m, n)

    def mentee_view(e: np.ndarray, m: np.ndarray) -> np.ndarray:
        line = (anc[e[:, 0]][:, None, :] == m[:, :, None]).any(axis=2)
        return (1.5 * (level[m] > level[e]) + 0.7 * (city[m] == city[e])
                + 0.3 * (level[m] > level[e] + 1) - 4.0 * line)

    def mentor_view(m: np.ndarray, e: np.ndarray) -> np.ndarray:
        line = (anc[e] == m[:, :, None]).any(axis=2)
        return 1.5 * (level[e] < level[m]) + 0.7 * (city[m] == city[e]) - 4.0 * line

    def suggestion_view(e: np.ndarray, m: np.ndarray) -> np.ndarray:
        line = (anc[e[:, 0]][:, None, :] == m[:, :, None]).any(axis=2)
        peer = parent[m] == parent[e]  # a senior colleague in the mentee's own team
        return np.where(line, -np.inf, 2.0 * (level[m] > level[e]) + 1.5 * peer + 0.7 * (city[m] == city[e]))

    states = np.flatnonzero(rng.random(n_e) < share)
    chosen = _ranked(rng, n_m + states, mentor_pool, region, rng.integers(1, 4, size=len(states)), mentee_view)
    mentee_pref = _join(ids, chosen, n_e, states)
    states = np.flatnonzero(rng.random(n_m) < _MENTOR_PREFERENCE_SHARE)
    chosen = _ranked(rng, states, mentee_pool, region, rng.integers(1, 3, size=len(states)), mentor_view)
    mentor_pref = _join(ids, chosen, n_m, states)
    states = np.flatnonzero(rng.random(n_e) < _SUGGESTION_SHARE)
    chosen = _ranked(rng, n_m + states, mentor_pool, region, rng.integers(1, 3, size=len(states)), suggestion_view)
    suggestions = _join(ids, chosen, n_e, states)
    return mentee_pref, mentor_pref, suggestions


def _ranked(rng: np.random.Generator, rows: np.ndarray, pool: np.ndarray, region: np.ndarray,
            k: np.ndarray, score) -> np.ndarray:
    """Up to ``k[i]`` distinct members of ``pool`` for each of ``rows`` (global indices), best
    first by ``score(rows[:, None], candidates) + Gumbel noise``; -1 pads.

    Candidates are drawn mostly from the person's region; ``score`` returns -inf for a
    candidate that must not be named.
    """
    n, kmax = len(rows), int(k.max(initial=0))
    if n == 0 or kmax == 0 or len(pool) == 0:
        return np.full((n, max(kmax, 1)), -1, dtype=np.int64)
    draws = min(_DRAWS, len(pool))
    kmax = min(kmax, draws)
    cand = pool[rng.integers(len(pool), size=(n, draws))]
    local = rng.random((n, draws)) < 0.8
    for r in np.unique(region[rows]):
        same = pool[region[pool] == r]
        if len(same) == 0:
            continue
        sel = (region[rows] == r)[:, None] & local
        cand[sel] = same[rng.integers(len(same), size=int(sel.sum()))]
    cand.sort(axis=1)
    dup = np.zeros_like(cand, dtype=bool)
    dup[:, 1:] = cand[:, 1:] == cand[:, :-1]
    value = score(rows[:, None], cand) + rng.gumbel(size=cand.shape)
    value[dup] = -np.inf
    order = np.argsort(-value, axis=1, kind="stable")[:, :kmax]
    best = np.take_along_axis(cand, order, axis=1)
    ok = np.isfinite(np.take_along_axis(value, order, axis=1)) & (np.arange(kmax)[None, :] < k[:, None])
    return np.where(ok, best, -1)


def _join(ids: np.ndarray, chosen: np.ndarray, n_rows: int, rows: np.ndarray) -> np.ndarray:
    """';'-joined ids of ``chosen`` (-1 = none) for ``rows`` of a table of ``n_rows``; "" elsewhere."""
    out = np.full(n_rows, "", dtype=object)
    if len(rows) == 0:
        return out
    text = np.full(len(rows), "", dtype=object)
    for c in range(chosen.shape[1]):
        col = chosen[:, c]
        has = col >= 0
        name = np.where(has, ids[np.maximum(col, 0)], "")
        sep = np.where(has & (text != ""), ";", "")
        text = text + sep + name
    out[rows] = text
    return out

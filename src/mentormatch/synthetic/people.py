"""Who the people of a synthetic organisation are: their roles and levels (from the career
framework: mentees at junior and mid roles, mentors at mid and senior roles, directors and
managers first), names and gender, experience (it follows the level), Big Five traits, and
competency mastery (scattered around what the person's role requires, or, where it requires
nothing, what the roles leading to it required; mentors strong in a few competencies).

Each ``draw_*`` function takes the generator and draws in a fixed order.
"""
from __future__ import annotations

import networkx as nx
import numpy as np

from ..careers import CareerFramework
from ..schema import BIG_FIVE

_GENDERS = np.array(["F", "M", "X"], dtype=object)
_GENDER_SHARE = np.array([0.47, 0.49, 0.04])
_FIRST = {
    "F": ["Amara", "Sofia", "Mei", "Priya", "Hannah", "Olivia", "Aiko", "Fatima", "Elena", "Chloe",
          "Ingrid", "Lucia", "Zanele", "Grace", "Ananya", "Yuna", "Camille", "Nadia", "Maya", "Leah"],
    "M": ["Liam", "Mateo", "Kenji", "Arjun", "Lukas", "Noah", "Omar", "Wei", "Jonas", "Diego",
          "Ethan", "Tariq", "Sipho", "Hiroshi", "Marco", "Rahul", "Felix", "Daniel", "Min-jun", "Tom"],
    "X": ["Alex", "Sam", "Robin", "Jordan", "Kai", "Noor", "Ari", "Quinn", "Sasha", "River"],
}
_LAST = ["Okafor", "Garcia", "Tanaka", "Sharma", "Müller", "Smith", "Nakamura", "Haddad", "Rossi",
         "Dubois", "Andersson", "Kowalski", "Nguyen", "Kim", "O'Brien", "Fernández", "Patel",
         "Johansson", "Dlamini", "Chen", "Williams", "Schmidt", "Singh", "Lopez", "Martin", "Ito",
         "Brown", "Novak", "Costa", "Walker", "Ahmed", "Jansen", "Moreau", "Lee", "Wilson", "Bauer",
         "Silva", "Park", "Murphy", "Hughes"]

# Big Five means of a sales organisation on the 1-5 scale (openness .. neuroticism), sd 0.7
_TRAIT_MEAN = np.array([3.5, 3.6, 3.7, 3.5, 2.6])
_TRAIT_SD = 0.7

# role mix of the bundled sales framework; another framework gets a mix from its levels
_SALES_MENTEE_ROLES = {"sales_support": 0.2, "sdr": 0.3, "ae": 0.3, "customer_success": 0.2}
_SALES_MENTOR_ROLES = {"senior_ae": 0.5, "sales_ops": 0.25, "ae": 0.25}
_SALES_MANAGER, _SALES_DIRECTOR = "sales_manager", "director"
_DIRECTOR_SHARE, _MANAGER_SHARE = 0.05, 0.2  # of the mentors
_STRONG = 3  # competencies a mentor is strong in (the third only half the time)


def _role_mix(fw: CareerFramework) -> tuple[str, str, dict[str, float], dict[str, float]]:
    """(director role, manager role, mentor individual roles, mentee roles) with their shares."""
    if {_SALES_MANAGER, _SALES_DIRECTOR, *_SALES_MENTEE_ROLES, *_SALES_MENTOR_ROLES} <= set(fw.roles):
        return _SALES_DIRECTOR, _SALES_MANAGER, dict(_SALES_MENTOR_ROLES), dict(_SALES_MENTEE_ROLES)
    levels = sorted(set(fw.level.values()))
    at = {lv: [r for r in fw.roles if fw.level[r] == lv] for lv in levels}
    director = at[levels[-1]][0]
    manager = at[levels[-2]][0] if len(levels) > 1 else director
    junior = levels[: max(1, (len(levels) - 1) // 2)]  # the lower half of the levels, below managers
    mentee = {r: 1.0 for lv in junior for r in at[lv]}
    middle = [lv for lv in levels if junior[-1] <= lv < fw.level[manager]] or [junior[-1]]
    # mentors mostly above the mentees' top level, some at it
    mentor = {r: (0.3 if lv == junior[-1] and len(middle) > 1 else 1.0) for lv in middle for r in at[lv]}
    return director, manager, mentor, mentee


def _draw(rng: np.random.Generator, mix: dict[str, float], n: int) -> np.ndarray:
    names = np.array(list(mix), dtype=object)
    p = np.array(list(mix.values()), dtype=np.float64)
    return names[rng.choice(len(names), size=n, p=p / p.sum())]


def _background(fw: CareerFramework, need: np.ndarray) -> np.ndarray:
    """(roles, competencies): the highest mastery any role leading to a role requires."""
    out = np.zeros_like(need)
    where = {r: k for k, r in enumerate(fw.roles)}
    for k, role in enumerate(fw.roles):
        before = [where[r] for r in nx.ancestors(fw.graph, role)]
        if before:
            out[k] = need[before].max(axis=0)
    return out


def draw_roles(rng: np.random.Generator, fw: CareerFramework, n_m: int,
               n_e: int) -> tuple[np.ndarray, int, int, str]:
    """(role of each person, number of directors, number of managers, the manager role).

    Persons are mentors ``0 .. n_m-1`` (directors, then managers, then the others), then
    mentees; the org chart needs the directors and managers first among the mentors.
    """
    director, manager, mentor_mix, mentee_mix = _role_mix(fw)
    n_dir = max(1, int(round(_DIRECTOR_SHARE * n_m)))
    n_mgr = 0 if n_m < 2 else max(1, int(round(_MANAGER_SHARE * n_m)))
    n_ic = n_m - n_dir - n_mgr
    role = np.concatenate([np.full(n_dir, director, dtype=object), np.full(n_mgr, manager, dtype=object),
                           _draw(rng, mentor_mix, n_ic), _draw(rng, mentee_mix, n_e)])
    return role, n_dir, n_mgr, manager


def draw_names(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(gender F/M/X, first name, last name) of ``n`` people; the first name fits the gender."""
    gender = _GENDERS[rng.choice(3, size=n, p=_GENDER_SHARE)]
    first = np.empty(n, dtype=object)
    pick = rng.random(n)
    for g in _GENDERS:
        names = np.array(_FIRST[g], dtype=object)
        rows = gender == g
        first[rows] = names[(pick[rows] * len(names)).astype(np.int64)]
    last = np.array(_LAST, dtype=object)[rng.integers(len(_LAST), size=n)]
    return gender, first, last


def draw_experience(rng: np.random.Generator, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(years of experience, tenure years): experience follows the level; tenure is a part of it."""
    n = len(level)
    years = np.clip(1.5 + 3.2 * level + rng.normal(0.0, 1.2 + 0.4 * level, size=n), 0.0, 45.0)
    years = np.round(years, 1)
    tenure = np.minimum(np.floor(years * rng.beta(2.0, 3.0, size=n) * 10.0) / 10.0, years)
    return years, tenure


def draw_traits(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 5): the Big Five on the 1-5 scale, one decimal, in the order of ``BIG_FIVE``."""
    return np.round(np.clip(rng.normal(_TRAIT_MEAN, _TRAIT_SD, size=(n, len(BIG_FIVE))), 1.0, 5.0), 1)


def draw_mastery(rng: np.random.Generator, fw: CareerFramework, role_idx: np.ndarray,
                 n_m: int) -> np.ndarray:
    """(n, competencies): whole mastery levels 0..5 around what each person's role requires
    (index ``role_idx`` into ``fw.roles``), or what the roles on the way to it required (a
    director still prospects); the first ``n_m`` people (the mentors) strong in two or three,
    or in each competency when the framework has fewer than three (the boosts are drawn for
    three and the first ones kept, so that larger frameworks draw as they always did)."""
    n = len(role_idx)
    need = fw.required.loc[fw.roles, fw.competencies].to_numpy(dtype=np.float64)
    req = need[role_idx]
    k_comp = req.shape[1]
    base = np.where(req > 0, req, np.maximum(0.8, 0.8 * _background(fw, need)[role_idx]))
    mastery = base + rng.normal(0.0, 0.7, size=(n, k_comp))
    top = min(_STRONG, k_comp)  # a framework may have fewer competencies than a mentor's strengths
    strong = np.argsort(rng.random((n_m, k_comp)), axis=1)[:, :top]
    boost = rng.integers(1, 3, size=(n_m, _STRONG)).astype(np.float64)
    boost[:, 2] *= rng.random(n_m) < 0.5
    boost = boost[:, :top]
    np.put_along_axis(mastery[:n_m], strong, np.take_along_axis(mastery[:n_m], strong, axis=1) + boost, axis=1)
    return np.clip(np.rint(mastery), 0, 5).astype(np.int64)

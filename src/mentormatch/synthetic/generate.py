"""The generator: :func:`organisation` draws a whole organisation, concern by concern (roles,
places, people, the org chart, what people state, the mentors' programme terms), and
assembles the two tables; :func:`jitter_traits` moves the Big Five off their one-decimal grid.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..careers import CareerFramework
from ..errors import Problem, ValidationError
from ..schema import BIG_FIVE, COMPETENCY_PREFIX
from .orgchart import draw_bosses, team_names
from .people import draw_experience, draw_mastery, draw_names, draw_roles, draw_traits
from .preferences import draw_preferences, draw_targets
from .places import city_table, draw_cities


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
    # the draws below take the generator in a fixed order: reordering them changes every
    # seeded organisation

    # roles: directors and managers first among the mentors (the org chart needs them)
    role, n_dir, n_mgr, manager = draw_roles(rng, fw, n_m, n_e)
    role_idx = pd.Index(fw.roles).get_indexer(role)
    level = np.array([fw.level[r] for r in fw.roles], dtype=np.int64)[role_idx]

    table = city_table()
    city_idx = draw_cities(rng, n)
    city = table["city"].to_numpy(dtype=object)[city_idx]
    region = table["region"].to_numpy(dtype=object)[city_idx]

    gender, first, last = draw_names(rng, n)
    years, tenure = draw_experience(rng, level)
    traits = draw_traits(rng, n)
    mastery = draw_mastery(rng, fw, role_idx, n_m)

    # ids: a random permutation, so that ids say nothing about the table or the rank
    width = max(5, len(str(n)))
    number = rng.permutation(n) + 1
    ids = ("E" + pd.Series(number).astype(str).str.zfill(width)).to_numpy(dtype=object)

    parent = draw_bosses(rng, n_dir, n_mgr, city, region)
    manager_id = np.where(parent >= 0, ids[np.maximum(parent, 0)], "").astype(object)
    team = team_names(last, city, parent, n_dir + n_mgr)

    target = draw_targets(rng, fw, role[n_m:])
    mentee_pref, mentor_pref, suggestions = draw_preferences(rng, ids, parent, level, city, region,
                                                             n_m, share)

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

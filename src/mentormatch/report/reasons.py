"""Why each unmatched mentee is unmatched, in plain words with numbers from the data."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..constraints import RULE_WORDS

REASON_CODES = ("no_mentors", "no_eligible_mentor", "no_capacity", "capacity_taken", "no_gain",
                "trade_off")


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def unmatched_reasons(
    unmatched: np.ndarray,
    removed: pd.DataFrame,
    pair_mentee: np.ndarray,
    pair_mentor: np.ndarray,
    pair_score: np.ndarray,
    chosen: np.ndarray,
    capacity: np.ndarray,
    load: np.ndarray,
    mentee_ids: np.ndarray,
    mentor_ids: np.ndarray,
    n_mentors: int,
    side_constraints: list[str],
) -> pd.DataFrame:
    """One row per unmatched mentee: ``mentee_id``, ``reason_code``, ``reason``.

    Parameters
    ----------
    unmatched : mentee indices with no mentor.
    removed : mentees x rules counts of candidates each eligibility rule removed.
    pair_mentee, pair_mentor, pair_score : the eligible pairs given to the solver.
    chosen : positions of the chosen pairs among them.
    capacity : per mentor; load : per mentee.
    side_constraints : names of the active side constraints (budget, fairness floors, ...).
    """
    n_e = len(load)
    mentor_load = np.bincount(pair_mentor[chosen], weights=load[pair_mentee[chosen]], minlength=n_mentors)
    weakest = np.full(n_mentors, np.inf)
    np.minimum.at(weakest, pair_mentor[chosen], pair_score[chosen])
    full = mentor_load >= capacity - 1e-9
    starts = np.searchsorted(pair_mentee, np.arange(n_e + 1))
    rows = []
    for i in np.asarray(unmatched, dtype=np.int64):
        sl = slice(starts[i], starts[i + 1])
        js, ss = pair_mentor[sl], pair_score[sl]
        if n_mentors == 0:
            rows.append((mentee_ids[i], "no_mentors", "no mentors take part in the programme"))
            continue
        if len(js) == 0:
            counts = removed.iloc[i] if len(removed.columns) else pd.Series(dtype=int)
            parts = [f"{int(c)} {RULE_WORDS.get(name, 'are removed by rule ' + repr(name))}"
                     for name, c in counts.items() if c > 0]
            rows.append((mentee_ids[i], "no_eligible_mentor",
                         f"no eligible mentor: of {n_mentors} mentors, " + ", ".join(parts)
                         if parts else f"no eligible mentor among {n_mentors} mentors"))
            continue
        fits = capacity[js] >= load[i] - 1e-9
        if not fits.any():
            rows.append((mentee_ids[i], "no_capacity",
                         f"all {len(js)} eligible mentors have fewer free places than this mentee needs "
                         f"(largest capacity {capacity[js].max():g}, needs {load[i]:g})"))
            continue
        free = ~full[js] & (capacity[js] - mentor_load[js] >= load[i] - 1e-9)
        if side_constraints and free.any():
            k = int(np.argmax(np.where(free, ss, -np.inf)))
            rows.append((mentee_ids[i], "trade_off",
                         f"excluded by the {' and '.join(side_constraints)} trade-off: eligible mentor "
                         f"{mentor_ids[js[k]]!s} has a free place (pair score {_fmt(ss[k])}) but "
                         f"pairing them would break or worsen the {'/'.join(side_constraints)} terms"))
            continue
        if free.any():
            k = int(np.argmax(np.where(free, ss, -np.inf)))
            rows.append((mentee_ids[i], "no_gain",
                         f"{int(free.sum())} eligible mentors have a free place but the best pair, with "
                         f"{mentor_ids[js[k]]!s}, scores {_fmt(ss[k])} (not above 0), so pairing adds nothing; "
                         "set constraints.coverage_first to pair anyway"))
            continue
        # every eligible mentor with room for them is full: name the closest call
        k = int(np.argmax(ss))
        j = js[k]
        rows.append((mentee_ids[i], "capacity_taken",
                     f"all {len(js)} eligible mentors are full with better-scoring pairs: the best match, "
                     f"{mentor_ids[j]!s} (score {_fmt(ss[k])} with this mentee), is at capacity "
                     f"{capacity[j]:g} and its weakest pair scores {_fmt(weakest[j])}"))
    return pd.DataFrame(rows, columns=["mentee_id", "reason_code", "reason"])

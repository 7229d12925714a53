"""Why a mentee who needs several mentors got fewer than they need, in the terms of the
unmatched reasons (:mod:`.reasons`): no other eligible mentor, trade_off, no_gain,
capacity_taken."""
from __future__ import annotations

import numpy as np
import pandas as pd

PARTIAL_COLUMNS = ["mentee_id", "mentors_needed", "mentors_got", "reason_code", "reason"]


def partial_reasons(problem, chosen: np.ndarray, mentee_ids: np.ndarray,
                    mentor_ids: np.ndarray) -> pd.DataFrame:
    """The mentees who need several mentors and got some, but fewer than they need: one row
    each (``PARTIAL_COLUMNS``), with why no further mentor was added, in the terms of
    :func:`unmatched_reasons` (no other eligible mentor, trade_off, no_gain, capacity_taken).
    Mentees with no mentor at all are in ``unmatched`` instead."""
    P = problem.pairs
    chosen = np.asarray(chosen, dtype=np.int64)
    demand = np.asarray(problem.demand, dtype=np.int64)
    got = np.bincount(P.mentee[chosen], minlength=P.n_mentees)
    short = np.flatnonzero((got > 0) & (got < demand))
    if not len(short):
        return pd.DataFrame(columns=PARTIAL_COLUMNS)
    load = np.bincount(P.mentor[chosen], weights=problem.load[P.mentee[chosen]], minlength=P.n_mentors)
    weakest = np.full(P.n_mentors, np.inf)
    np.minimum.at(weakest, P.mentor[chosen], problem.score[chosen])
    on = np.zeros(len(P), bool)
    on[chosen] = True
    starts = P.starts()
    side = problem.side.active()
    rows = []
    for i in short.tolist():
        own = np.arange(starts[i], starts[i + 1])
        other = own[~on[own]]
        js, ss = P.mentor[other], problem.score[other]
        head = f"needs {demand[i]} mentors, got {got[i]}"
        if not len(js):
            rows.append((mentee_ids[i], demand[i], got[i], "no_eligible_mentor",
                         f"{head}: no other eligible mentor (all {len(own)} eligible mentors are already its mentors)"))
            continue
        free = problem.capacity[js] - load[js] >= problem.load[i] - 1e-9
        if free.any():
            k = int(np.argmax(np.where(free, ss, -np.inf)))
            if side:
                rows.append((mentee_ids[i], demand[i], got[i], "trade_off",
                             f"{head}: excluded by the {' and '.join(side)} trade-off: eligible mentor "
                             f"{mentor_ids[js[k]]!s} has a free place (pair score {_fmt(ss[k])})"))
            else:
                rows.append((mentee_ids[i], demand[i], got[i], "no_gain",
                             f"{head}: the best other mentor with a free place, {mentor_ids[js[k]]!s}, "
                             f"scores {_fmt(ss[k])} (not above 0), so adding them adds nothing"))
            continue
        k = int(np.argmax(ss))
        j = js[k]
        rows.append((mentee_ids[i], demand[i], got[i], "capacity_taken",
                     f"{head}: its other {len(js)} eligible mentors are full with better-scoring pairs: "
                     f"the best, {mentor_ids[j]!s} (score {_fmt(ss[k])} with this mentee), is at capacity "
                     f"{problem.capacity[j]:g} and its weakest pair scores {_fmt(weakest[j])}"))
    return pd.DataFrame(rows, columns=PARTIAL_COLUMNS)


def _fmt(x: float) -> str:
    return f"{x:.3f}"

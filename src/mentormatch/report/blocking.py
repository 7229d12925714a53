"""Blocking pairs of a pairing (stability with preferences from the scores): which pairs both
sides would rather have than what they got, counted fast when both sides rank by score, and the
first of them listed by name for the audit."""
from __future__ import annotations

import numpy as np
import pandas as pd

#: The blocking pairs listed by name (all are counted).
BLOCKING_LISTED = 500
BLOCKING_COLUMNS = ["mentee_id", "mentor_id", "score", "mentee_current_score", "mentor_worst_score"]


def blocking_positions(problem, chosen: np.ndarray) -> np.ndarray:
    """The blocking pairs of a matching, as :func:`mentormatch.solvers.stable.blocking_pairs`
    finds them, without its two sorts of every pair when both sides rank by score.

    With no stated ranks, a mentee prefers a higher score, ties to the lower mentor index,
    and a mentor likewise (ties to the lower mentee index), so comparing each pair with the
    mentee's best current pair and the mentor's worst one needs no preference positions.
    """
    if problem.mentee_rank is not None or problem.mentor_rank is not None:
        from ..solvers.stable import blocking_pairs

        return blocking_pairs(problem, chosen)
    P = problem.pairs
    score = problem.score
    chosen = np.asarray(chosen, dtype=np.int64)
    on = np.zeros(len(P), bool)
    on[chosen] = True
    e, m = P.mentee[chosen], P.mentor[chosen]
    sc = score[chosen]
    # each mentee's most preferred current pair: highest score, then lowest mentor index
    best_s = np.full(problem.n_mentees, -np.inf)
    best_j = np.full(problem.n_mentees, np.iinfo(np.int64).max)
    matched = np.zeros(problem.n_mentees, bool)
    o = np.lexsort((-m, sc))  # the best of each mentee written last
    best_s[e[o]], best_j[e[o]] = sc[o], m[o]
    matched[e] = True
    # each mentor's least preferred current pair: lowest score, then highest mentee index
    worst_s = np.full(problem.n_mentors, np.inf)
    worst_i = np.full(problem.n_mentors, -1)
    o = np.lexsort((e, -sc))  # the worst of each mentor written last
    worst_s[m[o]], worst_i[m[o]] = sc[o], e[o]
    s_all = score
    prefers = ~matched[P.mentee] | (s_all > best_s[P.mentee]) | (
        (s_all == best_s[P.mentee]) & (P.mentor < best_j[P.mentee]))
    cap = np.floor(problem.capacity + 1e-9).astype(np.int64)
    count = np.bincount(m, minlength=problem.n_mentors)
    wants = (count[P.mentor] < cap[P.mentor]) | (s_all > worst_s[P.mentor]) | (
        (s_all == worst_s[P.mentor]) & (P.mentee < worst_i[P.mentor]))
    return np.flatnonzero(~on & prefers & wants)


def blocking_list(problem, chosen: np.ndarray, bp: np.ndarray, m_ids, e_ids) -> pd.DataFrame:
    """The first ``BLOCKING_LISTED`` blocking pairs (positions ``bp``), best score first, then by
    mentee id: columns ``BLOCKING_COLUMNS``, with the mentee's current score (its lowest, when
    it has several pairs) and the mentor's worst current score."""
    P = problem.pairs
    score = problem.score
    cur = np.full(problem.n_mentees, np.nan)
    worst = np.full(problem.n_mentors, np.nan)
    if len(chosen):
        o = np.argsort(-score[chosen], kind="stable")  # the lowest written last wins
        cur[P.mentee[chosen][o]] = score[chosen][o]
        worst[P.mentor[chosen][o]] = score[chosen][o]
    bp = np.asarray(bp, dtype=np.int64)
    order = np.lexsort((e_ids[P.mentee[bp]].astype(str), -score[bp]))[:BLOCKING_LISTED]
    k = bp[order]
    return pd.DataFrame({"mentee_id": e_ids[P.mentee[k]].astype(str),
                         "mentor_id": m_ids[P.mentor[k]].astype(str), "score": score[k],
                         "mentee_current_score": cur[P.mentee[k]],
                         "mentor_worst_score": worst[P.mentor[k]]}, columns=BLOCKING_COLUMNS)

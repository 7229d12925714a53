"""``assign()``: pair mentees with mentors on a score matrix the caller computed."""
from __future__ import annotations

import time
from typing import Sequence

import numpy as np
import pandas as pd

from .. import constraints as C
from ..errors import Conflict, InfeasibleError, Problem, ValidationError
from .._native import assign_kernel
from ..matching import Matching
from ..pairs import Candidates, Encoder
from ..record import Built
from ..rules.check import TIME_LIMIT_EXPECTED, is_time_limit
from ..schema.scores import plain_inputs
from ..solvers import AssignmentProblem, SolverOptions, get_solver
from ..solvers.dense.small import applies as small_applies, every_pair as holds_every_pair, solve_small
from .order import seeded_ranks
from .wrap import Ids, _solve, _timed, _wrap, relabelled


def _labels(index, table: str, axis: str, texts: list[str] | None = None) -> Encoder:
    """The ids of one axis (``texts``: its labels as ``label_texts`` gives them, or None)."""
    if index.inferred_type == "string" and index.is_unique:
        # every label a str already, and unique: both answers are cached on the Index, so a
        # DataFrame passed again (round after round) costs no pass here
        return Encoder(np.asarray(index.tolist() if texts is None else texts, dtype=object))
    ids = [str(x) for x in index.tolist()]  # tolist: python scalars, fast for arrow strings
    if pd.Index(ids, dtype=object).duplicated().any():
        seen: dict[str, int] = {}
        problems = []
        for n, x in enumerate(ids):
            if x in seen:
                problems.append(Problem(table, None, x, None, x,
                                        f"unique {axis} ids (also at position {seen[x]})"))
            seen.setdefault(x, n)
        raise ValidationError(problems)
    return Encoder.from_ids(ids)


def assign(scores: pd.DataFrame, capacity: pd.Series, forbidden: pd.DataFrame | None = None,
           solver: str = "flow", *, locked: Sequence[tuple[str, str]] = (),
           coverage_first: bool = False, seed: int = 0, time_limit: float | None = None,
           case_sensitive_ids: bool = False) -> Matching:
    """Pair mentees with mentors on scores the caller computed.

    Solves ``max sum_ij scores[i, j] x_ij`` subject to ``sum_i x_ij <= capacity[j]``,
    ``sum_j x_ij <= 1``, ``x_ij = 0`` where forbidden or where the score is ``-inf``,
    ``x_ij = 1`` for locked pairs.

    Parameters
    ----------
    scores : DataFrame
        Mentees x mentors (index = mentee ids, columns = mentor ids, always this way round).
        ``-inf`` marks an ineligible pair; NaN is an error (say -inf if you mean ineligible).
    capacity : Series
        Indexed by mentor id, one whole number >= 0 (mentees) per column of ``scores``.
    forbidden : DataFrame of bool, optional
        Shaped and labelled like ``scores``; True = the pair may not be made.
    solver : str
        A name from ``mentormatch.solvers.SOLVERS``; unknown names raise.
    locked : sequence of (mentee_id, mentor_id)
        Pairs that must be in the result.
    time_limit : float, optional
        Seconds (> 0) for the whole call, counted from it as ``pair()``'s (checking the inputs
        counts too); None: the solver's default. A solve stopped by it answers "feasible" with
        a bound where the solver has one; one pass that has started (each mentee's best pairs,
        a flow over them) runs whole, so the call may end that much after the limit. The
        result records it (``record.time_limit``): its explanations' re-solves share it.
    case_sensitive_ids : bool
        False (the default): labels of one axis that differ only in case ("E001" and "e001")
        are refused as one id written two ways, as ``pair()`` refuses such ids unless
        ``input.case_sensitive_ids``; True: they are two people.

    Returns
    -------
    Matching

    Examples
    --------
    >>> import pandas as pd, mentormatch as mm
    >>> s = pd.DataFrame([[0.9, 0.1], [0.8, 0.7]], index=["e1", "e2"], columns=["m1", "m2"])
    >>> mm.assign(s, pd.Series({"m1": 1, "m2": 1})).pairs[["mentee_id", "mentor_id"]].values.tolist()
    [['e1', 'm1'], ['e2', 'm2']]
    """
    started = time.perf_counter()
    get_solver(solver)  # unknown name: raise before any work
    if time_limit is not None and not is_time_limit(time_limit):
        raise ValidationError(Problem("assign", "time_limit", None, None, time_limit,
                                      f"None (the default) or {TIME_LIMIT_EXPECTED}"))
    if not isinstance(case_sensitive_ids, bool):
        raise ValidationError(Problem("assign", "case_sensitive_ids", None, None, case_sensitive_ids,
                                      "True or False"))
    if not isinstance(scores, pd.DataFrame):
        raise ValidationError(Problem("scores", None, None, None, type(scores).__name__,
                                      "a DataFrame, mentees x mentors"))
    dense = solver == "flow" and not coverage_first and scores.shape[0] * scores.shape[1]
    # on a large matrix, the dense path checks the scores in its first pass (no pass of its own)
    fused = dense and not locked and scores.shape[0] * scores.shape[1] >= FUSED_CHECK_CELLS
    # the usual inputs in a few compiled passes; any other, the full checks (their messages)
    plain = plain_inputs(scores, capacity, forbidden, case_sensitive_ids, not fused) \
        if solver != "hungarian" else None
    if plain is not None:
        mentee_ids, mentor_ids, values, has_neginf, cap, forbid = plain
        mentee_ids, mentor_ids = Encoder(mentee_ids), Encoder(mentor_ids)
    else:
        mentee_ids, mentor_ids, values, has_neginf, cap, forbid = _checked_inputs(
            scores, capacity, forbidden, solver, case_sensitive_ids, fused)
    # the tie rule (seeded_order): ties are decided by a seeded order of the ids, never by rows
    (mentee_rows, mentee_rank), (mentor_rows, mentor_rank) = (seeded_ranks(mentee_ids.ids, seed),
                                                              seeded_ranks(mentor_ids.ids, seed))
    # the limit counts from this call, as pair()'s: checking the inputs counts too
    options = SolverOptions(seed=seed, time_limit=time_limit, started=started)
    if dense and has_neginf is not None and not locked and time_limit is None and small_applies(values.size):
        # one compiled flow over every pair (solvers/dense/small.py): the same pairs
        return _timed(_assign_small(scores, values, forbid, cap, mentee_ids, mentor_ids,
                                    mentee_rows, (mentee_rank, mentor_rank)), started)
    if dense:
        # solved on the caller's matrix in its memory order, the seeded order given to the
        # solver as ranks (no reordered copy); certified against every pair
        return _timed(_assign_dense(scores, values, forbid, has_neginf, cap, mentee_ids, mentor_ids,
                                    (mentee_rank, mentor_rank), locked, options), started)
    # other solvers: solved in the seeded order (one np.ix_ gather), reported in the caller's
    values = values[np.ix_(mentee_rows, mentor_rows)]
    if forbid is not None:
        forbid = forbid[np.ix_(mentee_rows, mentor_rows)]
    cap = cap[mentor_rows]
    mentee_ids = Encoder.from_ids(mentee_ids.ids[mentee_rows])
    mentor_ids = Encoder.from_ids(mentor_ids.ids[mentor_rows])
    order_data = {"scores": scores, "input_rows": (mentee_rows, mentor_rows), "time_limit": time_limit}
    # rows of the matrix with -inf where forbidden, a block at a time: no full-size copy
    rows, removed, lock_i, lock_j = _rows_and_locks(values, forbid, has_neginf, locked,
                                                    mentee_ids, mentor_ids)
    masked = forbid is not None or has_neginf
    work = rows(slice(0, len(values))) if masked else values
    eligible2d = work > -np.inf if masked else np.ones(values.shape, dtype=bool)
    cand = Candidates.from_mask(eligible2d)
    lock_mask = np.zeros(len(cand), dtype=bool)
    lock_mask[cand.locate(lock_i, lock_j)] = True
    problem = AssignmentProblem(cand, work[eligible2d], cap, locked=lock_mask,
                                coverage_first=coverage_first)
    solution = _solve(problem, solver, options, Ids(mentee_ids, mentor_ids))  # conflicts by id
    return _timed(_wrap(problem, solution, mentee_ids, mentor_ids, removed, None, order_data),
                  started)


def _checked_inputs(scores: pd.DataFrame, capacity, forbidden, solver: str, case_sensitive_ids: bool,
                    fused: bool):
    """``assign()``'s inputs checked in full (every wrong one named: table, row id, column,
    value, expected), then read: the ids, the scores, whether one is ``-inf`` (None when
    ``fused``: the dense path's first pass checks them), the capacities and the forbidden mask
    (:func:`mentormatch.schema.scores.plain_inputs` gives the same for the usual inputs)."""
    from ..schema.scores import check_assign_inputs, label_texts  # issue 20: inputs misread

    # the labels as lists once, for the checks, the ids and forbidden's labels
    texts = (label_texts(scores.index), label_texts(scores.columns))
    same_labels = check_assign_inputs(scores, capacity, forbidden, solver, case_sensitive_ids, texts)
    mentee_ids = _labels(scores.index, "scores", "mentee (index)", texts[0])
    mentor_ids = _labels(scores.columns, "scores", "mentor (column)", texts[1])
    try:
        values = scores.to_numpy(dtype=np.float64)  # often a read-only, column-major view
    except (TypeError, ValueError):
        bad = scores.apply(pd.to_numeric, errors="coerce").isna() & scores.notna()
        i, j = np.argwhere(bad.to_numpy())[0]
        raise ValidationError(Problem("scores", mentor_ids.ids[j], mentee_ids.ids[i], None,
                                      scores.iat[i, j], "a number (or -inf for ineligible)")) from None
    has_neginf = None if fused else _check_scores(values, mentee_ids, mentor_ids)
    cap = _capacity_series(capacity, mentor_ids)
    forbid = None
    if forbidden is not None:
        if not isinstance(forbidden, pd.DataFrame) or forbidden.shape != scores.shape:
            raise ValidationError(Problem("forbidden", None, None, None,
                                          getattr(forbidden, "shape", type(forbidden).__name__),
                                          f"a bool DataFrame shaped like scores {scores.shape}"))
        same = same_labels if same_labels is not None else (
            forbidden.index.equals(scores.index) and forbidden.columns.equals(scores.columns))
        forbid = forbidden.to_numpy() if same else None  # bool only if every column is bool
        if forbid is None or forbid.dtype != np.dtype(bool):
            f = forbidden.reindex(index=scores.index, columns=scores.columns)
            # plain bool columns hold no NaN, and with the same labels reindex added none
            if not (same and (f.dtypes == np.dtype(bool)).all()) and f.isna().any().any():
                raise ValidationError(Problem("forbidden", None, None, None, "labels differ from scores",
                                              "the same index and columns as scores"))
            forbid = f.to_numpy(dtype=bool)
    return mentee_ids, mentor_ids, values, has_neginf, cap, forbid


#: From this many cells, ``assign(solver="flow")`` checks that every score is a number in the
#: dense path's first pass instead of a pass of its own (CPU time of the whole call: 2,000 x
#: 500, 28.2 ms against 28.8; 4,000 x 1,000, 65.1 against 66.9; 10,000 x 2,500, 234.6 against
#: 240.2, under load); on small matrices the pass of its own is cheaper than the per-column
#: work it would add.
FUSED_CHECK_CELLS = 1_000_000


def _check_scores(values: np.ndarray, mentee_ids: Encoder, mentor_ids: Encoder,
                  screen: np.ndarray | None = None) -> bool:
    """Raise a ValidationError naming the cells that are NaN or ``+inf``; else whether any
    score is ``-inf``. ``screen`` (each mentee's lowest and highest score, from the dense
    path's first pass) answers without a pass when it shows neither NaN nor ``+inf``."""
    if screen is not None and not np.isnan(screen).any() and not (screen[1] == np.inf).any():
        return bool((screen[0] == -np.inf).any())
    # a finite sum means every score is finite (NaN and +-inf propagate): one pass, no
    # temporary; otherwise (or on overflow) min and max: max is NaN if any NaN, +inf if any +inf
    lo = hi = 0.0
    with np.errstate(all="ignore"):  # an overflow or inf - inf is a finding here, not a warning
        finite = not values.size or bool(np.isfinite(values.sum()))
    if not finite:
        lo, hi = values.min(), values.max()
    if not hi < np.inf:
        bad = np.argwhere(np.isnan(values) | np.isposinf(values))
        if len(bad):
            raise ValidationError([Problem("scores", mentor_ids.ids[j], mentee_ids.ids[i], None, values[i, j],
                                           "a finite number (or -inf for ineligible)") for i, j in bad[:20]])
    return bool(lo == -np.inf)


#: the columns of :func:`_removed`'s frame, built once (an Index is immutable: frames share it;
#: building it took two thirds of the frame's 37 us at 200 mentees)
_REMOVED_COLUMNS = pd.Index(["forbidden", "ineligible_score"])


def _removed(rows, has_neginf: bool) -> pd.DataFrame:
    """Per mentee, the pairs taken out: forbidden, and (not forbidden) scored -inf."""
    n_forbidden = rows.n_forbidden
    n_neginf = rows.row_counts(-np.inf) if has_neginf else n_forbidden  # forbidden or -inf
    return _removed_frame(n_forbidden, n_neginf - n_forbidden)


def _removed_frame(n_forbidden: np.ndarray, n_ineligible: np.ndarray) -> pd.DataFrame:
    """:func:`_removed`'s frame from its two counts per mentee."""
    # one int64 block (a third less time than a frame built column by column)
    return pd.DataFrame(np.stack([n_forbidden, n_ineligible], axis=1).astype(np.int64),
                        columns=_REMOVED_COLUMNS, copy=False)


def _rows_and_locks(values, forbid, has_neginf: bool | None, locked, mentee_ids: Encoder,
                    mentor_ids: Encoder):
    """The matrix's rows with -inf where forbidden (forbidden cells kept as positions or the
    mask: no full-size copy), the per-mentee counts of what was removed (None while
    ``has_neginf`` is unknown: the scores not checked yet), and the locked pairs as indices;
    a locked pair that is forbidden or scores -inf is infeasible."""
    from ..pairs import DenseRows

    rows = DenseRows(values, forbid)
    removed = _removed(rows, has_neginf) if has_neginf is not None else None
    lock_i = lock_j = np.zeros(0, np.int64)
    if locked:
        lock_i, lock_j = C.id_pairs(locked, mentee_ids, mentor_ids, "locked")
        bad = ~(rows.at(lock_i, lock_j) > -np.inf)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise InfeasibleError(Conflict("locked", f"locked pair ({mentee_ids.ids[lock_i[k]]!s}, "
                                           f"{mentor_ids.ids[lock_j[k]]!s}) is forbidden or has score -inf",
                                           "drop the lock or allow the pair"))
    return rows, removed, lock_i, lock_j


def _assign_dense(scores, values, forbid, has_neginf: bool | None, cap, mentee_ids: Encoder,
                  mentor_ids: Encoder, ranks, locked, options: SolverOptions) -> Matching:
    """``assign(solver="flow")``: :func:`mentormatch.solvers.dense.solve_dense` on the caller's
    matrix and indices (no reordered copy), the seeded tie order passed as ``ranks`` (each
    mentee's and each mentor's rank: :func:`~mentormatch.pipeline.order.seeded_ranks`). With
    ``has_neginf`` None the scores are not checked yet: the solver's first pass checks them."""
    from ..solvers.dense import solve_dense

    rows, removed, lock_i, lock_j = _rows_and_locks(values, forbid, has_neginf, locked,
                                                    mentee_ids, mentor_ids)
    found = []

    def check(screen):  # raises on NaN or +inf, naming the cells, before the solver goes on
        found.append(_check_scores(values, mentee_ids, mentor_ids, screen))

    try:
        problem, solution = solve_dense(rows, cap, locked=(lock_i, lock_j),
                                        mentee_rank=ranks[0], mentor_rank=ranks[1],
                                        options=options,
                                        check_scores=check if removed is None else None,
                                        # small: the result holds every eligible pair, so that
                                        # the reasons for the unmatched (re-solves of "the score
                                        # it would have needed") and the explanations see every
                                        # option, as the solver's pairs hold each mentee's best
                                        # few; the small path's problem (the same size)
                                        every_pair=holds_every_pair(values.size))
    except InfeasibleError as e:  # the locks' conflicts, by index in the caller's order: by id
        raise relabelled(Ids(mentee_ids, mentor_ids), e) from None
    if removed is None:
        removed = _removed(rows, found[0])
    rows_in_order = (np.arange(values.shape[0]), np.arange(values.shape[1]))  # the caller's
    return _wrap(problem, solution, mentee_ids, mentor_ids, removed, None,
                 {"scores": scores, "input_rows": rows_in_order, "time_limit": options.time_limit},
                 # (the frame is one int64 block: its array costs no column lookups)
                 eligible_counts=values.shape[1] - removed.to_numpy().sum(axis=1))


def _assign_small(scores, values, forbid, cap, mentee_ids: Encoder, mentor_ids: Encoder,
                  mentee_rows: np.ndarray, ranks: tuple[np.ndarray, np.ndarray]) -> Matching:
    """``assign(solver="flow")`` on a small matrix with no locks and no time limit, its scores
    checked: :func:`mentormatch.solvers.dense.small.solve_small`, the result as
    :func:`_assign_dense`'s (the same problem, pairs and ``removed`` counts)."""
    problem, solution, (n_forbidden, n_neginf) = solve_small(
        values, forbid, cap, ranks[0], ranks[1], mentee_rows)
    rows_in_order = (np.arange(values.shape[0]), np.arange(values.shape[1]))  # the caller's

    kernel = assign_kernel()

    def ranks(_mentees, _scores):  # on the pairs table's first read: the compiled count
        return kernel.chosen_ranks(problem.pairs.mentee, problem.score, solution.chosen)

    # the removed counts' frame on its first read (the unmatched's reasons, a baseline); the
    # pairs' ranks by the kernel (wrap's numpy count took 80 us; the path's build has it)
    return _wrap(problem, solution, mentee_ids, mentor_ids,
                 Built(lambda: _removed_frame(n_forbidden, n_neginf)), None,
                 {"scores": scores, "input_rows": rows_in_order, "time_limit": None},
                 eligible_counts=values.shape[1] - n_forbidden - n_neginf, ranks=ranks)


def _capacity_in_order(capacity: pd.Series, mentor_ids: Encoder) -> np.ndarray | None:
    """The capacities as float64 when ``capacity`` is numeric, finite, >= 0 and indexed by
    exactly the mentor ids in column order (the usual case: a tenth of the full checks' time,
    which matters on small problems); None otherwise, for the full checks and their messages."""
    idx = capacity.index
    if len(idx) != len(mentor_ids) or capacity.dtype.kind not in "fiu" or idx.dtype.kind != "O":
        return None
    if idx.tolist() != mentor_ids.ids.tolist():
        return None
    values = capacity.to_numpy(dtype=np.float64)
    kernel = assign_kernel()  # (one compiled pass: this function 7-8 us against 13 at 50 mentors)
    if kernel is not None and hasattr(kernel, "whole_counts") and values.flags.c_contiguous:
        return values if kernel.whole_counts(values) else None
    if not (np.isfinite(values).all() and (values >= 0).all() and (values == np.floor(values)).all()):
        return None
    return values


def _capacity_series(capacity, mentor_ids: Encoder) -> np.ndarray:
    if not isinstance(capacity, pd.Series):
        raise ValidationError(Problem("capacity", None, None, None, type(capacity).__name__,
                                      "a Series indexed by mentor id"))
    fast = _capacity_in_order(capacity, mentor_ids)
    if fast is not None:
        return fast
    cap = capacity.copy()
    cap.index = pd.Index([str(x) for x in cap.index.tolist()], dtype=object)
    columns = pd.Index(mentor_ids.ids, dtype=object)
    problems = []
    missing = columns[~columns.isin(cap.index)]
    for m in missing[:20]:
        problems.append(Problem("capacity", "capacity", m, None, None, "a capacity for every mentor column of scores"))
    extra = cap.index[~cap.index.isin(columns)]
    for m in extra[:20]:
        problems.append(Problem("capacity", "capacity", m, None, cap[m], "only mentor ids that are columns of scores"))
    if problems:
        raise ValidationError(problems)
    if cap.index.duplicated().any():
        m = cap.index[cap.index.duplicated()][0]
        raise ValidationError(Problem("capacity", "capacity", m, None, m, "one entry per mentor"))
    num = pd.to_numeric(cap, errors="coerce")
    bad = num.isna() | (num < 0) | np.isinf(num) | (num != np.floor(num))
    if bad.any():  # assign() has no loads: a capacity counts mentees
        raise ValidationError([Problem("capacity", "capacity", m, None, cap[m],
                                       "a whole number of mentees >= 0")
                               for m in cap.index[bad][:20]])
    return num.reindex(mentor_ids.ids).to_numpy(dtype=np.float64)

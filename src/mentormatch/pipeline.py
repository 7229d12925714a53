"""``pair()`` and ``assign()``: validate -> candidates -> score -> constrain -> solve -> Matching."""
from __future__ import annotations

import dataclasses
import functools
import math
import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from . import constraints as C
from .errors import Conflict, InfeasibleError, Problem, ValidationError
from .features import Context
from .matching import Matching
from .pairs import Candidates, Encoder
from .report.reasons import unmatched_reasons
from .rules import Rules
from .solvers import AssignmentProblem, SideConstraints, Solution, SolverOptions, get_solver
from .solvers.base import PairBonus


# --------------------------------------------------------------------------------------------
# shared tail: arrays -> solver -> result
# --------------------------------------------------------------------------------------------
def _solve(problem: AssignmentProblem, solver: str, options: SolverOptions, labels=None):
    """Run the named solver; an infeasibility is re-diagnosed with the people's ids (``labels``:
    anything with ``mentee_ids``/``mentor_ids`` encoders) so messages name people, not indices."""
    try:
        return get_solver(solver)(problem, options)
    except InfeasibleError:
        if labels is None:
            raise
        from .solvers.diagnose import diagnose

        conflicts = diagnose(problem, labels.mentee_ids.ids, labels.mentor_ids.ids)
        if not conflicts:
            raise
        raise InfeasibleError(conflicts) from None


def _rank_of_pairs(problem: AssignmentProblem) -> np.ndarray:
    """Per eligible pair, the mentor's rank among the mentee's eligible mentors (1 = best score;
    tied scores share the best rank of their run, like pandas' ``rank(method="min")``)."""
    mentee = np.asarray(problem.pairs.mentee, dtype=np.int64)
    score = np.asarray(problem.score, dtype=np.float64)
    n = len(score)
    if n == 0:
        return np.zeros(0, np.int64)
    counts = np.bincount(mentee)
    width = int(counts.max())
    if width <= 64 and len(counts) * width <= (1 << 22) and bool(np.all(mentee[1:] >= mentee[:-1])):
        # few pairs per mentee (the sparse paths): 1 + how many of its mentee's scores beat
        # each pair's, on a NaN-padded mentees x width table (<= 32 MB), without sorting; with
        # wide rows this compares every pair with its whole row (54 % of assign() at 2,000 x
        # 500), so wide rows are sorted instead
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        table = np.full((len(counts), width), np.nan)
        table[mentee, np.arange(n) - starts[mentee]] = score
        ranks = np.empty(n, dtype=np.int64)
        step = max(1, (1 << 20) // width)  # pairs compared at a time
        for a in range(0, n, step):
            b = min(a + step, n)
            ranks[a:b] = 1 + np.count_nonzero(table[mentee[a:b]] > score[a:b, None], axis=1)
        return ranks
    order = np.lexsort((-score, mentee))  # by mentee, then best score first
    m_sorted, s_sorted = mentee[order], score[order]
    pos = np.arange(n, dtype=np.int64)
    new_mentee = np.ones(n, dtype=bool)
    new_mentee[1:] = m_sorted[1:] != m_sorted[:-1]
    new_run = new_mentee.copy()  # a run of equal scores within one mentee starts here
    new_run[1:] |= s_sorted[1:] != s_sorted[:-1]
    group_start = np.maximum.accumulate(np.where(new_mentee, pos, 0))
    run_start = np.maximum.accumulate(np.where(new_run, pos, 0))
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = run_start - group_start + 1
    return ranks


def _rank_of_chosen(problem: AssignmentProblem, chosen: np.ndarray) -> np.ndarray:
    """``_rank_of_pairs(problem)[chosen]`` in one pass over the pairs per chosen pair of a
    mentee (usually one): 1 + how many of the mentee's scores beat the chosen pair's."""
    mentee = np.asarray(problem.pairs.mentee, dtype=np.int64)
    score = np.asarray(problem.score, dtype=np.float64)
    chosen = np.asarray(chosen, dtype=np.int64)
    out = np.empty(len(chosen), np.int64)
    if not len(chosen):
        return out
    n = problem.pairs.n_mentees
    order = np.argsort(mentee[chosen], kind="stable")
    cm = mentee[chosen][order]
    first = np.ones(len(cm), bool)
    first[1:] = cm[1:] != cm[:-1]
    nth = np.arange(len(cm)) - np.maximum.accumulate(np.where(first, np.arange(len(cm)), 0))
    for r in range(int(nth.max()) + 1):  # the r-th chosen pair of each mentee
        sel = order[nth == r]
        thr = np.full(n, np.inf)
        thr[mentee[chosen[sel]]] = score[chosen[sel]]
        beats = np.bincount(mentee, weights=score > thr[mentee], minlength=n)
        out[sel] = 1 + beats[mentee[chosen[sel]]].astype(np.int64)
    return out


#: Pairs x re-solves spent on exact "capacity taken" reasons, counting the re-solve of the optimum
#: they start from; beyond it reasons stay approximate (and say that the exact check was skipped).
#: A solve of 885,000 pairs takes about 4 s: counted without that first solve, the budget let the
#: 100,000 x 20,000 scale run spend 9 s on the reason of one unmatched mentee.
REASON_SOLVE_BUDGET = 1_000_000


def _wrap(problem: AssignmentProblem, solution, mentee_ids: Encoder, mentor_ids: Encoder,
          removed: pd.DataFrame, contributions: pd.DataFrame | None, data: dict[str, Any],
          eligible_counts: np.ndarray | None = None) -> Matching:
    """Turn a solver's index arrays into the result: ids, ranks, reasons for the unmatched.

    ``eligible_counts`` (per mentee) is needed when ``problem`` holds only a sparse subset of the
    eligible pairs (the certified scale path); ranks are then ranks within that subset, which
    holds each mentee's best pairs, so the top ranks are exact."""
    chosen = solution.chosen
    pairs = problem.pairs
    pair_df = pd.DataFrame({
        "mentee_id": mentee_ids.decode(pairs.mentee[chosen]),
        "mentor_id": mentor_ids.decode(pairs.mentor[chosen]),
        "score": problem.score[chosen],
        "rank": _rank_of_chosen(problem, chosen),
        "eligible_mentors": (eligible_counts if eligible_counts is not None else
                             np.bincount(pairs.mentee, minlength=pairs.n_mentees))[pairs.mentee[chosen]],
        "locked": problem.locked[chosen],
    })
    matched = np.zeros(pairs.n_mentees, dtype=bool)
    matched[pairs.mentee[chosen]] = True
    unmatched_idx = np.flatnonzero(~matched)
    unmatched = unmatched_reasons(
        unmatched_idx, removed, pairs.mentee, pairs.mentor, problem.score, chosen,
        problem.capacity, problem.load, mentee_ids.ids, mentor_ids.ids, pairs.n_mentors,
        problem.side.active(), problem=problem,
        # exact "score it would have needed" costs one re-solve per mentor: bounded work
        max_solves=int(min(200, max(REASON_SOLVE_BUDGET // max(len(pairs), 1) - 1, 0))))
    contrib = (contributions.iloc[chosen].reset_index(drop=True)
               if contributions is not None else pd.DataFrame(index=range(len(chosen))))
    if "input_rows" in data:  # solved in the seeded order: report in the caller's row order
        mentee_rows, mentor_rows = data["input_rows"]
        back = np.lexsort((mentor_rows[pairs.mentor[chosen]], mentee_rows[pairs.mentee[chosen]]))
        pair_df = pair_df.iloc[back].reset_index(drop=True)
        contrib = contrib.iloc[back].reset_index(drop=True)
        if len(unmatched):
            row_of = dict(zip(mentee_ids.ids.tolist(), mentee_rows.tolist()))
            unmatched = unmatched.iloc[np.argsort([row_of[x] for x in unmatched["mentee_id"]],
                                                  kind="stable")].reset_index(drop=True)
    data.update(problem=problem, solution=solution, mentee_ids=mentee_ids, mentor_ids=mentor_ids,
                removed=removed, n_mentees=pairs.n_mentees, n_mentors=pairs.n_mentors)
    return Matching(pairs=pair_df, unmatched=unmatched, status=solution.status,
                    objective=solution.objective, bound=solution.bound, gap=solution.gap,
                    solver=solution.solver, wall_time=solution.wall_time,
                    certificate=solution.certificate, contributions=contrib, data=data)


def baseline(result: Matching, solver: str = "random", seed: int = 0) -> Matching:
    """Re-solve the same eligible pairs, capacities and locks with a baseline solver
    ("random" or "greedy"). Side constraints (budget, floors) are not imposed on baselines."""
    problem: AssignmentProblem = result.data["full_problem"]() if "full_problem" in result.data \
        else result.data["problem"]
    plain = problem.without_side()
    solution = _solve(plain, solver, SolverOptions(seed=seed))
    # contributions are kept for the solver's pairs; a scale-path baseline draws from all pairs
    contributions = None if "full_problem" in result.data else result.data.get("all_contributions")
    return _wrap(plain, solution, result.data["mentee_ids"], result.data["mentor_ids"],
                 result.data["removed"], contributions, dict(result.data))


# --------------------------------------------------------------------------------------------
# assign(): bring your own scores
# --------------------------------------------------------------------------------------------
def _labels(index, table: str, axis: str) -> Encoder:
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
           coverage_first: bool = False, seed: int = 0, time_limit: float | None = None) -> Matching:
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
        Indexed by mentor id, one non-negative number per column of ``scores``.
    forbidden : DataFrame of bool, optional
        Shaped and labelled like ``scores``; True = the pair may not be made.
    solver : str
        A name from ``mentormatch.solvers.SOLVERS``; unknown names raise.
    locked : sequence of (mentee_id, mentor_id)
        Pairs that must be in the result.

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
    from .schema.scores import check_assign_inputs  # issue 20: inputs assign() would misread

    check_assign_inputs(scores, capacity, forbidden, solver)
    if not isinstance(scores, pd.DataFrame):
        raise ValidationError(Problem("scores", None, None, None, type(scores).__name__,
                                      "a DataFrame, mentees x mentors"))
    mentee_ids = _labels(scores.index, "scores", "mentee (index)")
    mentor_ids = _labels(scores.columns, "scores", "mentor (column)")
    try:
        values = scores.to_numpy(dtype=np.float64)  # often a read-only, column-major view
    except (TypeError, ValueError):
        bad = scores.apply(pd.to_numeric, errors="coerce").isna() & scores.notna()
        i, j = np.argwhere(bad.to_numpy())[0]
        raise ValidationError(Problem("scores", mentor_ids.ids[j], mentee_ids.ids[i], None,
                                      scores.iat[i, j], "a number (or -inf for ineligible)")) from None
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
    has_neginf = bool(lo == -np.inf)
    cap = _capacity_series(capacity, mentor_ids)
    forbid = None
    if forbidden is not None:
        if not isinstance(forbidden, pd.DataFrame) or forbidden.shape != scores.shape:
            raise ValidationError(Problem("forbidden", None, None, None,
                                          getattr(forbidden, "shape", type(forbidden).__name__),
                                          f"a bool DataFrame shaped like scores {scores.shape}"))
        f = forbidden.reindex(index=scores.index, columns=scores.columns)
        # plain bool columns hold no NaN, and with the same labels reindex added none
        same = forbidden.index.equals(scores.index) and forbidden.columns.equals(scores.columns)
        if not (same and (f.dtypes == np.dtype(bool)).all()) and f.isna().any().any():
            raise ValidationError(Problem("forbidden", None, None, None, "labels differ from scores",
                                          "the same index and columns as scores"))
        forbid = f.to_numpy(dtype=bool)
    # the tie rule (seeded_order): ties are decided by a seeded order of the ids, never by rows
    mentee_rows = seeded_order(mentee_ids.ids, seed)
    mentor_rows = seeded_order(mentor_ids.ids, seed)
    from .pairs import DenseRows

    options = SolverOptions(seed=seed, time_limit=time_limit)
    if solver == "flow" and not coverage_first and values.size:
        # solved on the caller's matrix in its memory order, the seeded order given to the
        # solver as ranks (no reordered copy); certified against every pair
        return _timed(_assign_dense(scores, values, forbid, has_neginf, cap, mentee_ids, mentor_ids,
                                    (mentee_rows, mentor_rows), locked, options), started)
    # other solvers: solved in the seeded order (one np.ix_ gather), reported in the caller's
    values = values[np.ix_(mentee_rows, mentor_rows)]
    if forbid is not None:
        forbid = forbid[np.ix_(mentee_rows, mentor_rows)]
    cap = cap[mentor_rows]
    mentee_ids = Encoder.from_ids(mentee_ids.ids[mentee_rows])
    mentor_ids = Encoder.from_ids(mentor_ids.ids[mentor_rows])
    order_data = {"scores": scores, "input_rows": (mentee_rows, mentor_rows)}
    # rows of the matrix with -inf where forbidden, a block at a time: no full-size copy
    rows = DenseRows(values, forbid)
    masked = forbid is not None or has_neginf
    n_forbidden = rows.n_forbidden
    n_neginf = rows.row_counts(-np.inf) if has_neginf else n_forbidden  # forbidden or -inf
    removed = pd.DataFrame({"forbidden": n_forbidden, "ineligible_score": n_neginf - n_forbidden})
    lock_i = lock_j = np.zeros(0, np.int64)
    if locked:
        lock_i, lock_j = C.id_pairs(locked, mentee_ids, mentor_ids, "locked")
        bad = (~(rows.at(lock_i, lock_j) > -np.inf) if masked
               else np.zeros(len(lock_i), dtype=bool))
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise InfeasibleError(Conflict("locked", f"locked pair ({mentee_ids.ids[lock_i[k]]!s}, "
                                           f"{mentor_ids.ids[lock_j[k]]!s}) is forbidden or has score -inf",
                                           "drop the lock or allow the pair"))
    work = rows(slice(0, len(values))) if masked else values
    eligible2d = work > -np.inf if masked else np.ones(values.shape, dtype=bool)
    cand = Candidates.from_mask(eligible2d)
    lock_mask = np.zeros(len(cand), dtype=bool)
    lock_mask[cand.locate(lock_i, lock_j)] = True
    problem = AssignmentProblem(cand, work[eligible2d], cap, locked=lock_mask,
                                coverage_first=coverage_first)
    solution = _solve(problem, solver, options)
    return _timed(_wrap(problem, solution, mentee_ids, mentor_ids, removed, None, order_data),
                  started)


def _rank(order: np.ndarray) -> np.ndarray:
    """Each index's position in ``order`` (the inverse permutation)."""
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank


def _assign_dense(scores, values, forbid, has_neginf: bool, cap, mentee_ids: Encoder,
                  mentor_ids: Encoder, seeded, locked, options: SolverOptions) -> Matching:
    """``assign(solver="flow")``: :func:`mentormatch.solvers.dense.solve_dense` on the caller's
    matrix and indices (no reordered copy), the seeded tie order passed as ranks."""
    from .pairs import DenseRows
    from .solvers.dense import solve_dense

    rows = DenseRows(values, forbid)  # forbidden cells as sorted positions (or the mask)
    n_forbidden = rows.n_forbidden
    n_neginf = rows.row_counts(-np.inf) if has_neginf else n_forbidden  # forbidden or -inf
    removed = pd.DataFrame({"forbidden": n_forbidden, "ineligible_score": n_neginf - n_forbidden})
    lock_i = lock_j = np.zeros(0, np.int64)
    if locked:
        lock_i, lock_j = C.id_pairs(locked, mentee_ids, mentor_ids, "locked")
        bad = ~(rows.at(lock_i, lock_j) > -np.inf)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise InfeasibleError(Conflict("locked", f"locked pair ({mentee_ids.ids[lock_i[k]]!s}, "
                                           f"{mentor_ids.ids[lock_j[k]]!s}) is forbidden or has score -inf",
                                           "drop the lock or allow the pair"))
    problem, solution = solve_dense(rows, cap, locked=(lock_i, lock_j), mentee_rank=_rank(seeded[0]),
                                    mentor_rank=_rank(seeded[1]), options=options)
    from .solvers.flow import SPARSE_THRESHOLD

    if values.size <= SPARSE_THRESHOLD:  # small: the result holds every eligible pair
        problem, solution = _with_every_pair(rows, problem, solution)
    return _wrap(problem, solution, mentee_ids, mentor_ids, removed, None, {"scores": scores},
                 eligible_counts=values.shape[1] - n_neginf)


def _with_every_pair(rows, problem: AssignmentProblem, solution: Solution):
    """The same solution on the complete set of eligible pairs: on small inputs the reasons
    for the unmatched (re-solves of "the score it would have needed") and the explanations
    then see every option, as the solver's pairs hold only each mentee's best few."""
    work = rows(slice(0, rows.n_mentees))
    eligible = work > -np.inf
    cand = Candidates.from_mask(eligible)
    pairs = problem.pairs
    locked = np.zeros(len(cand), dtype=bool)
    locked[cand.locate(pairs.mentee[problem.locked], pairs.mentor[problem.locked])] = True
    chosen = np.sort(cand.locate(pairs.mentee[solution.chosen], pairs.mentor[solution.chosen]))
    full = AssignmentProblem(cand, work[eligible], problem.capacity, locked=locked)
    return full, dataclasses.replace(solution, chosen=chosen)


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
    if not (np.isfinite(values).all() and (values >= 0).all()):
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
    bad = num.isna() | (num < 0) | np.isinf(num)
    if bad.any():
        raise ValidationError([Problem("capacity", "capacity", m, None, cap[m], "a finite number >= 0")
                               for m in cap.index[bad][:20]])
    return num.reindex(mentor_ids.ids).to_numpy(dtype=np.float64)


# --------------------------------------------------------------------------------------------
# pair(): the whole pipeline on people tables
# --------------------------------------------------------------------------------------------
def resolve_framework(framework, mentees: pd.DataFrame, mentors: pd.DataFrame):
    """None -> the bundled sales framework when every role in the tables is one of its roles,
    else no framework (the competency feature is then neutral, and the report says so).
    A path -> loaded from TOML or (requirements CSV) ; a CareerFramework -> as is."""
    from .careers import CareerFramework

    if isinstance(framework, CareerFramework):
        return framework
    if framework in (None, "", "sales"):
        sales = CareerFramework.sales()
        roles = set()
        for df in (mentees, mentors):
            if "role" in df.columns:
                roles |= set(df["role"].dropna().astype(str)) - {""}
        if framework == "sales" or (roles and roles <= set(sales.roles)):
            return sales
        return None
    return CareerFramework.load(framework)  # issue 20: TOML, or {requirements, pathways} CSVs


def _side_constraints(rules: Rules, mentees: pd.DataFrame, mentors: pd.DataFrame) -> SideConstraints:
    cons, fair = rules.constraints, rules.fairness
    side = SideConstraints()

    def col(df, name):
        return df[name].to_numpy(dtype=np.float64) if name in df.columns else None

    if "min_capacity" in mentors.columns:
        mins = np.nan_to_num(col(mentors, "min_capacity"), nan=0.0)
        if (mins > 0).any():
            side.min_load = mins
    if not math.isnan(cons["budget"]):
        side.budget = float(cons["budget"])
        side.stipend_fixed = np.nan_to_num(col(mentors, "stipend_fixed"), nan=0.0) \
            if "stipend_fixed" in mentors.columns else np.zeros(len(mentors))
        side.stipend_per_mentee = np.nan_to_num(col(mentors, "stipend_per_mentee"), nan=0.0) \
            if "stipend_per_mentee" in mentors.columns else np.zeros(len(mentors))
    if cons["incentives"]:
        for name in ("bonus", "reservation_value"):
            if name not in mentors.columns:
                raise ValidationError(Problem("mentors", name, None, None, None,
                                              "this column, because constraints.incentives is on"))
        side.bonus = np.nan_to_num(col(mentors, "bonus"), nan=0.0)
        side.reservation = np.nan_to_num(col(mentors, "reservation_value"), nan=0.0)
        for name in ("stipend_fixed", "stipend_per_mentee"):  # stipends count toward the payoff
            if name in mentors.columns:
                setattr(side, name, np.nan_to_num(col(mentors, name), nan=0.0))
        # a pair's success probability is its score as a share of the best possible score
        side.success_scale = float(sum(w for w in rules.weights.values() if w > 0)) or 1.0
    side.balanced_load = bool(cons["balanced_load"])
    if not math.isnan(fair["score_floor"]) or not math.isnan(fair["share_floor"]):
        g = fair["floor_group"]
        if g not in mentees.columns:
            raise ValidationError(Problem("mentees", g, None, None, None,
                                          "the group column named by fairness.floor_group"))
        values = mentees[g].fillna("").astype(str)
        codes, names = pd.factorize(values.where(values != "", None), sort=True)
        side.group = codes.astype(np.int64)
        side.group_names = [str(n) for n in names]
        side.score_floor = None if math.isnan(fair["score_floor"]) else float(fair["score_floor"])
        side.share_floor = None if math.isnan(fair["share_floor"]) else float(fair["share_floor"])
    return side


def _choose_solver(rules: Rules, side: SideConstraints, problem: AssignmentProblem) -> str:
    """The rules' solver, except that the default ``flow`` hands over to the solver that the
    rules need (documented in the README: nothing is silently ignored)."""
    name = rules.solver
    objective = rules.fairness["objective"]
    if objective != "total":
        return objective
    if name == "flow" and (side.active() or not problem.integral):
        return "mip"
    return name


def pair(mentors, mentees, programme=None, *, framework=None, org=None) -> Matching:
    """Pair mentees with mentors: validate, score every eligible pair, solve exactly.

    Parameters
    ----------
    mentors, mentees : DataFrame or path to CSV
        Tables in the documented schema (``mentormatch.schema.describe_columns()``); other
        headers are mapped with the programme's ``columns`` setting.
    programme : None, dict, path to TOML, Rules or Programme
        Weights, constraints, fairness and solver settings; None = the defaults.
    framework : CareerFramework, path, "sales" or None
        The career framework for the competency feature (default: the bundled sales framework
        when every role in the tables belongs to it).
    org : DataFrame or path, optional
        The org chart (``id``, ``manager_id`` for everyone, people in neither table included)
        for the management-line and team rules; see ``mentormatch.schema.validate_tables``.

    Returns
    -------
    Matching
        ``pairs`` (mentee_id, mentor_id, score, rank, ...), ``unmatched`` (mentee_id,
        reason_code, reason), ``status``, ``objective``, ``bound``, ``gap``, ``contributions``.
    """
    started = time.perf_counter()
    prepared = prepare(mentors, mentees, programme, framework=framework, org=org)
    # the mentees' priority column, as a bonus that works at every size
    return _timed(solve(prepared, C.priority_bonus(prepared)), started)


def _timed(result: Matching, started: float) -> Matching:
    """``wall_time`` is the whole call; the solver's own time stays in the certificate."""
    cert = dict(result.certificate or {})
    cert.setdefault("solver_wall_time", result.wall_time)
    return dataclasses.replace(result, wall_time=time.perf_counter() - started, certificate=cert)


@dataclass
class Prepared:
    """A pairing round ready to solve: see :func:`prepare` and :func:`solve`."""

    problem: AssignmentProblem
    mentee_ids: Encoder
    mentor_ids: Encoder
    removed: pd.DataFrame
    contributions: pd.DataFrame
    data: dict[str, Any]
    solver: str
    options: SolverOptions
    scorer: Any = None  # the scale path: a _BlockScorer or a scale.BoundedScorer


def prepare(mentors, mentees, programme=None, *, framework=None, org=None) -> Prepared:
    """Validate the tables, score every pair and apply the eligibility rules, without solving.

    Takes the same parameters as :func:`pair`.

    Returns
    -------
    Prepared
        The eligible pairs and their scores as an :class:`AssignmentProblem`, the solver the
        rules call for, and what the result needs; :func:`solve` turns it into a Matching.
    """
    from .schema import validate_tables

    rules = Rules.coerce(programme)
    mentor_cols, mentee_cols = rules.column_maps()
    mentors, mentees = validate_tables(mentors, mentees, mentor_columns=mentor_cols or None,
                                       mentee_columns=mentee_cols or None,
                                       **rules.input_options(org))  # [input] settings, org chart
    # the tie rule: solve in a seeded order of the ids, so row order never decides a tie
    mentee_rows = seeded_order(mentees["id"], rules.seed)
    mentor_rows = seeded_order(mentors["id"], rules.seed)
    mentees = mentees.iloc[mentee_rows].reset_index(drop=True)
    mentors = mentors.iloc[mentor_rows].reset_index(drop=True)
    prepared = _prepare_ordered(mentors, mentees, rules, framework)
    prepared.data["input_rows"] = (mentee_rows, mentor_rows)
    return prepared


def seeded_order(ids, seed: int) -> np.ndarray:
    """The documented tie-breaking rule. Rows are solved in the order of a keyed hash of their
    ids (pandas' SipHash-2-4, keyed by the seed), ties of the hash by the id itself. Among
    assignments of equal score the solvers' choice then depends on the ids and the seed only:
    shuffling the rows gives the same pairs, and another seed may break ties differently.

    >>> seeded_order(["b", "a", "c"], 0).tolist() == seeded_order(["c", "b", "a"], 0).tolist()
    False
    >>> ids = ["b", "a", "c"]; [ids[k] for k in seeded_order(ids, 0)] == [["c", "b", "a"][k] for k in seeded_order(["c", "b", "a"], 0)]
    True
    """
    values = np.asarray([str(x) for x in ids], dtype=object)
    key = f"{int(seed) % (1 << 64):016x}"[-16:]
    hashed = pd.util.hash_array(values, hash_key=key, categorize=False)
    return np.lexsort((values.astype(str), hashed)) if len(values) else np.zeros(0, np.int64)


def _prepare_ordered(mentors, mentees, rules: Rules, framework) -> Prepared:
    from .scoring import score_pairs

    mentee_ids = Encoder.from_ids(mentees["id"])
    mentor_ids = Encoder.from_ids(mentors["id"])
    fw = resolve_framework(framework if framework is not None else rules.framework_source(),
                           mentees, mentors)  # issue 20: the programme may name the framework
    context = Context(framework=fw)
    if len(mentees) * len(mentors) > LARGE_PAIRS:
        return _prepare_large(mentors, mentees, rules, fw, context, mentee_ids, mentor_ids)
    complete = Candidates.complete(len(mentees), len(mentors))
    masks = C.rule_masks(mentees, mentors, complete, rules.constraints, mentee_ids, mentor_ids)
    scores = score_pairs(mentees, mentors, complete, rules, context)
    masks.update(scores.ineligible)
    min_score = rules.constraints["min_score"]
    if not math.isnan(min_score):
        masks["min_score"] = scores.total < min_score
    which, names = C.first_rule(masks, len(complete))
    removed = C.removal_counts(which, names, complete)
    eligible = which < 0
    cand = complete.subset(eligible)

    lock_mask = np.zeros(len(cand), dtype=bool)
    if rules.constraints["locked"]:
        a, b = C.id_pairs(rules.constraints["locked"], mentee_ids, mentor_ids, "constraints.locked")
        pos = cand.locate(a, b)
        if (pos < 0).any():
            k = int(np.flatnonzero(pos < 0)[0])
            full_pos = complete.locate(a[k:k + 1], b[k:k + 1])[0]
            rule = names[which[full_pos]]
            raise InfeasibleError(Conflict(
                "locked", f"locked pair ({mentee_ids.ids[a[k]]!s}, {mentor_ids.ids[b[k]]!s}) is "
                f"ineligible: rule {rule!r} removes it", f"drop the lock or turn off {rule!r}"))
        lock_mask[pos] = True

    side = _side_constraints(rules, mentees, mentors)
    demand = (np.nan_to_num(mentees["mentors_needed"].to_numpy(dtype=float), nan=1.0).astype(np.int64)
              if "mentors_needed" in mentees.columns else None)
    load = (np.nan_to_num(mentees["load"].to_numpy(dtype=float), nan=1.0)
            if "load" in mentees.columns else None)
    problem = AssignmentProblem(cand, scores.total[eligible], mentors["capacity"].to_numpy(dtype=float),
                                demand=demand, load=load, locked=lock_mask,
                                coverage_first=bool(rules.constraints["coverage_first"]), side=side)
    contributions = pd.DataFrame(scores.contributions[eligible], columns=scores.features)
    data = {"mentees": mentees, "mentors": mentors, "rules": rules, "framework": fw,
            "scores": scores, "eligible": eligible, "complete": complete, "which_rule": which,
            "rule_names": names, "all_contributions": contributions,
            "missing": scores.missing[eligible], "requested_solver": rules.solver}
    data.update(problem=problem, mentee_ids=mentee_ids, mentor_ids=mentor_ids, removed=removed)
    return Prepared(problem, mentee_ids, mentor_ids, removed, contributions, data,
                    _choose_solver(rules, side, problem),
                    SolverOptions(seed=rules.seed, time_limit=rules.settings["time_limit"]))


def solve(prepared: Prepared, bonus: "np.ndarray | PairBonus | None" = None) -> Matching:
    """Solve a prepared pairing round.

    Parameters
    ----------
    prepared : Prepared
        From :func:`prepare`.
    bonus : ndarray or PairBonus, optional
        Added to the objective only (for example a priority for mentees left unmatched last
        round, or continuity with a previous mentor): one number per eligible pair of
        ``prepared.problem``, or a :class:`PairBonus`, which works at every size. The reported
        scores and ``objective`` stay the plain scores; ``status`` refers to the adjusted
        objective, whose value and bound are in ``certificate``; ``bound`` and ``gap`` are left
        empty, since a bound on the adjusted objective says nothing about the plain one.
    """
    if prepared.scorer is not None:
        if bonus is not None and not isinstance(bonus, PairBonus):
            raise ValueError("at this size a bonus must be a PairBonus (per mentee and per listed "
                             "pair): the round has no array of every eligible pair")
        return _solve_large(prepared, bonus if bonus is not None and bonus.any() else None)
    p = prepared.problem
    if isinstance(bonus, PairBonus):
        bonus = bonus.on_pairs(p.pairs.mentee, p.pairs.mentor) if bonus.any() else None
    if bonus is None or not np.any(bonus):
        solution = _solve(p, prepared.solver, prepared.options, prepared)
    else:
        bonus = np.asarray(bonus, dtype=np.float64)
        if bonus.shape != p.score.shape or not np.isfinite(bonus).all():
            raise ValueError(f"bonus must hold one finite number per eligible pair ({len(p.score)})")
        adjusted = dataclasses.replace(p, score=p.score + bonus)
        sol = _solve(adjusted, prepared.solver, prepared.options, prepared)
        chosen = sol.chosen
        solution = Solution(chosen, sol.status, float(p.score[chosen].sum()) if len(chosen) else 0.0,
                            None, sol.wall_time, sol.solver,
                            {"objective": "score + bonus", "adjusted_objective": sol.objective,
                             "adjusted_bound": sol.bound,
                             "bonus_total": float(bonus[chosen].sum()) if len(chosen) else 0.0,
                             "solver_certificate": sol.certificate}, sol.message)
    data = dict(prepared.data)
    if bonus is not None:
        data["bonus"] = bonus
    return _wrap(p, solution, prepared.mentee_ids, prepared.mentor_ids, prepared.removed,
                 prepared.contributions, data)


# --------------------------------------------------------------------------------------------
# the scale path: no complete candidate set, scores block by block, certified sparse solve
# --------------------------------------------------------------------------------------------
#: Above this many (mentee, mentor) pairs, pair() never materialises every pair: scores are
#: computed in blocks of mentee rows, each mentee's best pairs are solved exactly by min-cost
#: flow and the optimum is certified against every pair with dual prices.
LARGE_PAIRS = 4_000_000
#: The scale path's plain flow uses the features' bounds where the rules allow (False: always
#: score blocks exactly; the same pairs, slower).
USE_BOUNDS = True
#: Up to this many pairs the scale path keeps the block scores in memory between the top-k pass
#: and the certificate's checks (8 bytes a pair: 256 MB at the limit).
SCORE_CACHE_PAIRS = 32_000_000


class _BlockScorer:
    """Scores of blocks of mentee rows against every mentor, ``-inf`` where a rule removes the
    pair; counts per mentee how many candidates each rule removed (for unmatched reasons)."""

    def __init__(self, mentees, mentors, rules: Rules, context: Context, mentee_ids: Encoder,
                 mentor_ids: Encoder):
        from .scoring import prepare_features

        self.mentees, self.mentors, self.rules = mentees, mentors, rules
        self.mentee_ids, self.mentor_ids = mentee_ids, mentor_ids
        self.context = context
        self.features = prepare_features(mentees, mentors, rules, context)
        cons = rules.constraints
        self.line = (C.management_line_pairs(mentees, mentors) if cons.get("management_line", True)
                     else None)
        self.forbidden = (C.id_pairs(cons["forbidden"], mentee_ids, mentor_ids, "constraints.forbidden")
                          if cons.get("forbidden") else None)
        self.min_score = cons["min_score"]
        self.rule_names: list[str] = []
        self.removed: dict[str, np.ndarray] = {}
        self.eligible_counts = np.zeros(len(mentees), dtype=np.int64)
        # The certificate asks for each block again; below this size the blocks are kept
        # (8 bytes a pair) rather than scored a second time.
        self.cache: dict[tuple[int, int], np.ndarray] | None = (
            {} if len(mentees) * len(mentors) <= SCORE_CACHE_PAIRS else None)

    def __call__(self, rows: slice) -> np.ndarray:
        key = (rows.start, rows.stop)
        if self.cache is not None and key in self.cache:
            return self.cache[key]
        block = self._score(rows)
        if self.cache is not None:
            self.cache[key] = block
        return block

    def _score(self, rows: slice) -> np.ndarray:
        from .scoring import score_pairs

        n, m = len(self.mentees), len(self.mentors)
        r = np.arange(rows.start, rows.stop, dtype=np.int64)
        cand = Candidates(np.repeat(r, m), np.tile(np.arange(m, dtype=np.int64), len(r)), n, m)
        masks = C.rule_masks(self.mentees, self.mentors, cand, self.rules.constraints, self.mentee_ids,
                             self.mentor_ids, line_pairs=self.line, forbidden_pairs=self.forbidden)
        scores = score_pairs(self.mentees, self.mentors, cand, self.rules, self.context,
                             prepared=self.features)
        masks.update(scores.ineligible)
        if not math.isnan(self.min_score):
            masks["min_score"] = scores.total < self.min_score
        which, names = C.first_rule(masks, len(cand))
        for k, name in enumerate(names):
            if name not in self.removed:
                self.removed[name] = np.zeros(n, dtype=np.int64)
                self.rule_names.append(name)
            self.removed[name][r] = (which == k).reshape(len(r), m).sum(axis=1)
        eligible = which < 0
        self.eligible_counts[r] = eligible.reshape(len(r), m).sum(axis=1)
        return np.where(eligible, scores.total, -np.inf).reshape(len(r), m)

    def removed_frame(self) -> pd.DataFrame:
        return pd.DataFrame({name: self.removed[name] for name in self.rule_names})


def _full_problem(scorer, data: dict, side=None) -> AssignmentProblem:
    """Every eligible pair of a scale-path round, from the cached block scores: what random,
    greedy and stable baselines must draw from (the solver's sparse set holds only each
    mentee's best pairs, which would flatter a random baseline)."""
    from .solvers.certify import row_blocks

    n, m = len(data["mentees"]), len(data["mentors"])
    parts_i, parts_j, parts_s = [], [], []
    if isinstance(scorer, _BlockScorer):
        for a, b in row_blocks(n, m):  # the certificate's blocks, so the cache serves them
            block = scorer(slice(a, b))
            r, c = np.nonzero(np.isfinite(block))
            parts_i.append(r + a)
            parts_j.append(c)
            parts_s.append(block[r, c])
    else:  # exact scores of every eligible pair, block by block
        for i, j, s in _source(scorer, n, m).blocks():
            parts_i.append(i)
            parts_j.append(j)
            parts_s.append(s)
    cand = Candidates(np.concatenate(parts_i).astype(np.int64), np.concatenate(parts_j).astype(np.int64), n, m)
    locked = np.zeros(len(cand), dtype=bool)
    if data["locked"] is not None:
        pos = cand.locate(*data["locked"])
        locked[pos[pos >= 0]] = True
    return AssignmentProblem(cand, np.concatenate(parts_s), data["capacity"], demand=data["demand"],
                             locked=locked, side=side if side is not None else SideConstraints())


def _prepare_large(mentors, mentees, rules: Rules, fw, context, mentee_ids, mentor_ids) -> Prepared:
    n_pairs = len(mentees) * len(mentors)
    side = _side_constraints(rules, mentees, mentors)
    cap = mentors["capacity"].to_numpy(dtype=float)
    load = (np.nan_to_num(mentees["load"].to_numpy(dtype=float), nan=1.0)
            if "load" in mentees.columns else None)
    demand = (np.nan_to_num(mentees["mentors_needed"].to_numpy(dtype=float), nan=1.0).astype(np.int64)
              if "mentors_needed" in mentees.columns else None)
    locked = None
    if rules.constraints["locked"]:
        locked = C.id_pairs(rules.constraints["locked"], mentee_ids, mentor_ids, "constraints.locked")
    scorer = None
    plain = (rules.solver == "flow" and not side.active() and not rules.constraints["coverage_first"]
             and (load is None or np.all(load == 1)))
    if USE_BOUNDS and (plain or n_pairs > SCORE_CACHE_PAIRS):
        # bounds wherever the rules allow them for the plain flow (measured: 10,000 x 3,000 in
        # 4.6 s against 27 s scoring and caching every block); the engine's repeated pricing
        # passes over side constraints read cached blocks up to SCORE_CACHE_PAIRS
        from .scale import bounded_scorer

        scorer = bounded_scorer(mentees, mentors, rules, context, mentee_ids, mentor_ids)
    if scorer is None:
        scorer = _BlockScorer(mentees, mentors, rules, context, mentee_ids, mentor_ids)
    data = {"mentees": mentees, "mentors": mentors, "rules": rules, "framework": fw,
            "requested_solver": rules.solver, "scale_path": True, "demand": demand, "locked": locked,
            "capacity": cap, "load": load, "side": side,
            "coverage_first": bool(rules.constraints["coverage_first"]),
            "mentee_ids": mentee_ids, "mentor_ids": mentor_ids}
    plain = AssignmentProblem(Candidates(np.zeros(0, np.int64), np.zeros(0, np.int64), len(mentees),
                                         len(mentors)), np.zeros(0), cap, load=load, side=side)
    return Prepared(None, mentee_ids, mentor_ids, pd.DataFrame(), pd.DataFrame(), data,
                    _choose_solver(rules, side, plain),
                    SolverOptions(seed=rules.seed, progress=True,
                                  time_limit=rules.settings["time_limit"]), scorer)


def _source(scorer, n: int, m: int):
    """The pair source of a scale-path round: its cached or recomputed blocks, or its bounds."""
    from .solvers.sources import BlockSource, BoundedSource

    return BlockSource(scorer, n, m) if isinstance(scorer, _BlockScorer) else BoundedSource(scorer, n, m)


#: At most this many unmatched mentees without a pair in the solver's set get their whole row
#: scored for their reasons (one row costs a pass over the mentors).
STRANDED_ROWS = 2_000


def _with_rows_of_stranded(problem: AssignmentProblem, solution: Solution, scorer):
    """Unmatched mentees with eligible mentors but no pair in the solver's set (every mentor of
    theirs full, for example of locked pairs, so no pair of theirs was worth keeping): their
    eligible pairs join the problem, unchosen, so that their reason names those mentors and
    their places ("capacity taken"), never "no eligible mentor"."""
    P = problem.pairs
    has = np.bincount(P.mentee, minlength=P.n_mentees) > 0
    matched = np.zeros(P.n_mentees, bool)
    matched[P.mentee[solution.chosen]] = True
    counts = np.asarray(scorer.eligible_counts)
    stranded = np.flatnonzero(~has & ~matched & (counts > 0))[:STRANDED_ROWS]
    if not len(stranded):
        return problem, solution
    parts_i, parts_j, parts_s = [], [], []
    for i in stranded.tolist():
        if isinstance(scorer, _BlockScorer):
            row = scorer(slice(i, i + 1))[0]
            j = np.flatnonzero(row > -np.inf)
            s = row[j]
        else:  # bounds: the eligible mentors of the mentee's internal row, scored exactly
            from .scale import BIG

            r = int(scorer.inverse[i])
            j = np.flatnonzero(scorer.upper(r, r + 1)[0] > -BIG / 2)
            s = scorer.exact_scores(np.full(len(j), r), j)
        parts_i.append(np.full(len(j), i, np.int64))
        parts_j.append(j.astype(np.int64))
        parts_s.append(np.asarray(s, float))
    mentee = np.concatenate([P.mentee, *parts_i])
    mentor = np.concatenate([P.mentor, *parts_j])
    score = np.concatenate([problem.score, *parts_s])
    order = np.lexsort((mentor, mentee))
    pairs = Candidates(mentee[order], mentor[order], P.n_mentees, P.n_mentors)
    was = np.empty(len(order), np.int64)
    was[order] = np.arange(len(order))  # old position -> new position
    locked = np.concatenate([problem.locked, np.zeros(len(mentee) - len(P), bool)])[order]
    grown = dataclasses.replace(problem, pairs=pairs, score=score[order], locked=locked)
    return grown, dataclasses.replace(solution, chosen=np.sort(was[solution.chosen]))


def _solve_large(prepared: Prepared, bonus: "PairBonus | None" = None) -> Matching:
    from .scoring import score_pairs
    from .solvers.certify import solve_scored

    scorer, data = prepared.scorer, dict(prepared.data)
    n, m = len(data["mentees"]), len(data["mentors"])
    plain = (prepared.solver == "flow" and not data["coverage_first"]
             and (data["load"] is None or np.all(data["load"] == 1)))
    solve_on = scorer
    if plain and bonus is not None:
        # a plain flow with a bonus: the certified flow on score + bonus, the bonus folded into
        # the scorer (its bounds and exact scores), then the plain scores reported
        from .solvers.bonus import BonusBlocks, BonusBounds

        solve_on = (BonusBlocks(scorer, bonus, m) if isinstance(scorer, _BlockScorer)
                    else BonusBounds(scorer, bonus))
    if not plain and prepared.solver in ("flow", "mip"):
        from .solvers.engine import solve_source

        problem, solution = solve_source(
            _source(scorer, n, m), data["capacity"], demand=data["demand"], load=data["load"],
            locked=data["locked"] or (None, None), side=data["side"],
            coverage_first=data["coverage_first"],
            bonus=None if bonus is None else bonus.on_pairs, options=prepared.options)
    elif not plain:
        # solvers that need every pair in memory (fairness objectives, stable, baselines):
        # every eligible pair, from the block scores
        full = (data["full_problem"]() if "full_problem" in data
                else _full_problem(scorer, data, side=data["side"]))
        full = dataclasses.replace(full, coverage_first=data["coverage_first"], side=data["side"],
                                   load=data["load"] if data["load"] is not None else full.load)
        solution = _solve(full, prepared.solver, prepared.options, prepared)
        problem = full
    elif isinstance(scorer, _BlockScorer):
        problem, solution = solve_scored(solve_on, data["capacity"], n_mentees=len(data["mentees"]),
                                         n_mentors=len(data["mentors"]), demand=data["demand"],
                                         locked=data["locked"], options=prepared.options)
    else:
        from .solvers.bounded import solve_bounded

        problem, solution = solve_bounded(solve_on, data["capacity"], demand=data["demand"],
                                          locked=data["locked"], options=prepared.options)
    if plain and bonus is not None:  # report the plain scores; the adjusted ones certify
        extra = bonus.on_pairs(problem.pairs.mentee, problem.pairs.mentor)
        problem = dataclasses.replace(problem, score=problem.score - extra)
        chosen = solution.chosen
        cert = {**(solution.certificate or {}), "objective": "score + bonus",
                "adjusted_objective": solution.objective, "adjusted_bound": solution.bound,
                "bonus_total": float(extra[chosen].sum())}
        solution = dataclasses.replace(solution, objective=float(problem.score[chosen].sum()),
                                       bound=None, certificate=cert)
    elif bonus is not None and solution.certificate is not None:
        solution.certificate.setdefault("objective", "score + bonus")
    problem, solution = _with_rows_of_stranded(problem, solution, scorer)
    # contributions only on the pairs the solver kept (each mentee's best pairs and the pairs
    # the certificate added), never on every pair
    scores = score_pairs(data["mentees"], data["mentors"], problem.pairs, data["rules"],
                         scorer.context, prepared=scorer.features)
    contributions = pd.DataFrame(scores.contributions, columns=scores.features)
    data.update(scores=scores, all_contributions=contributions, missing=scores.missing,
                rule_names=scorer.rule_names,
                pair_source="blocks" if isinstance(scorer, _BlockScorer) else "bounds")
    # baselines draw from every eligible pair: built on first use only (a pass over the cached
    # blocks, or exact scores block by block, and 24 bytes a pair)
    data["full_problem"] = functools.cache(lambda: _full_problem(scorer, data))
    return _wrap(problem, solution, prepared.mentee_ids, prepared.mentor_ids, scorer.removed_frame(),
                 contributions, data, eligible_counts=scorer.eligible_counts)

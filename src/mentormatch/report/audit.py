"""Programme audit: score distribution, lift over random / greedy / stable assignment, share of
mentees with one of their top-3 mentors, fairness per group and the price of fairness, mentor
loads, budget and incentives, blocking pairs. Every figure is a DataFrame.

Works on the pieces of a result (its ``data`` dict, ``pairs``, ``unmatched``, ``objective``);
never imports the result class.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import MentormatchError
from .export import write_csv

__all__ = ["Audit", "audit"]


@dataclass
class Audit:
    """The audit's tables, each a DataFrame (see :func:`audit`)."""

    summary: pd.DataFrame  # metric, value
    scores: pd.DataFrame  # describe() of the pair scores: statistic, value
    histogram: pd.DataFrame  # bin_left, bin_right, optimal, random_mean
    lift: pd.DataFrame  # method, runs, total_mean, total_std, total_min, total_max, mean_score, matched, lift
    top_choice: pd.DataFrame  # top_k, mentees, share
    fairness: pd.DataFrame  # attribute, group, mentees, matched, matched_share, mean_score, min_score
    price_of_fairness: pd.DataFrame  # constraints, total_with, total_without, price, price_share
    load: pd.DataFrame  # load, mentors
    mentors: pd.DataFrame  # mentor_id, capacity, load, mean_score, stipend, incentive
    budget: pd.DataFrame  # metric, value
    blocking: pd.DataFrame  # metric, value
    random_scores: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    notes: list[str] = field(default_factory=list)
    # mentee_id, mentor_id, score, mentee_current_score, mentor_worst_score: each pair that
    # both would rather have than what they got (first BLOCKING_LISTED, by score)
    blocking_pairs: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BLOCKING_COLUMNS))

    def frames(self) -> dict[str, pd.DataFrame]:
        names = ["summary", "scores", "histogram", "lift", "top_choice", "fairness",
                 "price_of_fairness", "load", "mentors", "budget", "blocking", "blocking_pairs"]
        return {n: getattr(self, n) for n in names}

    def to_csv(self, directory: str | Path) -> dict[str, Path]:
        """One CSV per table, ``audit_<name>.csv`` (cells escaped against spreadsheet formulas)."""
        d = Path(directory)
        return {n: write_csv(f, d / f"audit_{n}.csv") for n, f in self.frames().items()}

    def __str__(self) -> str:
        parts = []
        for n, f in self.frames().items():
            if len(f):
                parts.append(f"== {n} ==\n{f.to_string(index=False)}")
        parts += [f"Note: {n}" for n in self.notes]
        return "\n\n".join(parts)

    def _repr_html_(self) -> str:
        return "".join(f"<h4>{n}</h4>{f.to_html(index=False)}" for n, f in self.frames().items() if len(f))


def _plain(problem):
    return problem.without_side()


def _run(problem, name: str, seed: int = 0):
    from ..errors import UnknownNameError
    from ..solvers import SolverOptions, get_solver

    try:
        solve = get_solver(name)  # built-in solvers load on first use
    except UnknownNameError:
        return None, f"solver {name!r} is not available"
    try:
        return solve(problem, SolverOptions(seed=seed)), ""
    except (MentormatchError, ValueError) as exc:
        return None, f"{name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"


def _baseline_runner(data, problem):
    """``run(name, seed) -> (problem, solution or None, why)``: a baseline over every eligible
    pair (the scale path's pair reader, or the complete set's problem), side constraints left
    out; None when a scale-path result lost its reader (pickled)."""
    if not data.get("scale_path"):
        plain = _plain(problem)

        def run(name, seed):
            sol, why = _run(plain, name, seed)
            return plain, sol, why
        return run
    if "pair_reader" not in data:
        return None
    from ..solvers.baselines_rows import solve_on_reader

    def run(name, seed):
        try:
            base, sol = solve_on_reader(name, data["pair_reader"](), data["capacity"],
                                        demand=data.get("demand"), load=data.get("load"),
                                        locked=data.get("locked"),
                                        coverage_first=bool(data.get("coverage_first")), seed=seed)
        except (MentormatchError, ValueError) as exc:
            return None, None, f"{name}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        return base, sol, ""
    return run


#: The columns every audit breaks the matched share down by, when the mentees have them,
#: besides the programme's named fairness groups.
GROUP_COLUMNS = ("level", "role", "department", "region", "gender")
#: A group matched at under this share of the overall matched rate is flagged.
FLAG_RATIO = 0.8
#: The blocking pairs listed by name (all are counted).
BLOCKING_LISTED = 500
BLOCKING_COLUMNS = ["mentee_id", "mentor_id", "score", "mentee_current_score", "mentor_worst_score"]


def _group_columns(data: dict, mentees: pd.DataFrame | None) -> list[str]:
    if mentees is None:
        return []
    rules = data.get("rules")
    groups = list(getattr(rules, "fairness", {}).get("groups", []) or []) if rules is not None else []
    floor = getattr(rules, "fairness", {}).get("floor_group", "") if rules is not None else ""
    if floor and floor not in groups:
        groups.append(floor)
    groups += [c for c in GROUP_COLUMNS if c not in groups]
    return [g for g in groups if g in mentees.columns]


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


def _blocking_list(problem, chosen: np.ndarray, bp: np.ndarray, m_ids, e_ids) -> pd.DataFrame:
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


BASELINES = ("random", "greedy", "stable")


def audit(data: dict, pairs: pd.DataFrame, unmatched: pd.DataFrame, objective: float,
          seeds: int = 20, bins: int = 20, baselines: tuple[str, ...] = BASELINES) -> Audit:
    """Audit a programme's pairing.

    Parameters
    ----------
    data, pairs, unmatched, objective
        The pieces of a result (``Matching.data`` etc.).
    seeds : int
        Seeded random assignments of the same eligible pairs, capacities and locks (>= 20 for
        a stable mean and spread); seeds ``0 .. seeds-1``.
    bins : int
        Bins of the score histogram.
    baselines : tuple of {'random', 'greedy', 'stable'}
        The baselines to compare with (random: ``seeds`` runs).

    Returns
    -------
    Audit
        DataFrames: ``scores`` (describe), ``histogram`` (optimal vs mean random counts per bin),
        ``lift`` (total score of the result vs random, greedy, stable: mean, spread, lift ratio),
        ``top_choice`` (share of mentees with one of their top-1/3 mentors), ``fairness`` (per
        group attribute: matched share, mean and minimum score), ``price_of_fairness`` (total
        score with and without side constraints), ``load`` (mentors per load), ``mentors``
        (per mentor load, stipend, incentive), ``budget``, ``blocking``.
    """
    problem = data["problem"]
    solution = data["solution"]
    P = problem.pairs
    chosen = np.asarray(solution.chosen, dtype=np.int64)
    notes: list[str] = []
    mentees, mentors = data.get("mentees"), data.get("mentors")
    m_ids = data["mentor_ids"].ids
    n_e = P.n_mentees
    score = pairs["score"].to_numpy(dtype=float) if len(pairs) else np.zeros(0)

    # ---- distribution
    desc = pd.Series(score, dtype=float).describe()
    scores_df = pd.DataFrame({"statistic": desc.index, "value": desc.to_numpy()})

    # ---- baselines, over every eligible pair (a scale-path round's solver problem holds only
    # each mentee's best pairs, which would flatter them: there they read every pair on demand)
    run = _baseline_runner(data, problem)
    rand_totals, rand_matched, rand_scores = [], [], []
    if run is None:
        notes.append("baselines over every eligible pair are not available: this result's pair "
                     "reader was not transferred (it cannot be pickled)")
        seeds = 0
    unknown = sorted(set(baselines) - set(BASELINES))
    if unknown:
        raise ValueError(f"audit baselines: {unknown[0]!r} is not one of {list(BASELINES)}")
    if "random" not in baselines:
        seeds = 0
    for s in range(int(seeds)):
        base, sol, why = run("random", s)
        if sol is None:
            notes.append(why)
            break
        rand_totals.append(sol.objective)
        rand_matched.append(len(np.unique(base.pairs.mentee[sol.chosen])))
        rand_scores.append(base.score[sol.chosen])
    random_scores = np.concatenate(rand_scores) if rand_scores else np.zeros(0)
    rows = [("result", 1, objective, 0.0, objective, objective,
             float(score.mean()) if len(score) else 0.0, int(pairs["mentee_id"].nunique()) if len(pairs) else 0)]
    if rand_totals:
        t = np.asarray(rand_totals)
        rows.append(("random", len(t), t.mean(), t.std(ddof=1) if len(t) > 1 else 0.0, t.min(), t.max(),
                     float(random_scores.mean()) if len(random_scores) else 0.0, float(np.mean(rand_matched))))
    for name in [b for b in ("greedy", "stable") if b in baselines] if run is not None else ():
        base, sol, why = run(name, 0)
        if sol is None:
            notes.append(f"no {name} baseline: {why}")
            continue
        sc = base.score[sol.chosen]
        rows.append((name, 1, sol.objective, 0.0, sol.objective, sol.objective,
                     float(sc.mean()) if len(sc) else 0.0, len(np.unique(base.pairs.mentee[sol.chosen]))))
    lift = pd.DataFrame(rows, columns=["method", "runs", "total_mean", "total_std", "total_min",
                                       "total_max", "mean_score", "matched"])
    with np.errstate(divide="ignore", invalid="ignore"):
        lift["lift"] = np.where(lift["total_mean"] > 0, objective / lift["total_mean"], np.nan)
    lift["gain"] = objective - lift["total_mean"]

    # ---- histogram: result vs the mean random run
    if len(score) or len(random_scores):
        allv = np.concatenate([score, random_scores])
        lo, hi = float(allv.min()), float(allv.max())
        edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
        h_opt = np.histogram(score, edges)[0]
        h_rnd = np.histogram(random_scores, edges)[0] / max(len(rand_scores), 1)
        histogram = pd.DataFrame({"bin_left": edges[:-1], "bin_right": edges[1:], "optimal": h_opt,
                                  "random_mean": h_rnd})
    else:
        histogram = pd.DataFrame(columns=["bin_left", "bin_right", "optimal", "random_mean"])

    # ---- top choices: the mentor's rank among the mentee's eligible mentors
    top_rows = []
    if "rank" in pairs.columns:
        best = pairs.groupby("mentee_id")["rank"].min()
        for k in (1, 3):
            top_rows.append((k, int((best <= k).sum()), float((best <= k).sum() / max(n_e, 1))))
    top_choice = pd.DataFrame(top_rows, columns=["top_k", "mentees", "share"])

    # ---- fairness per group
    best_score = np.full(n_e, np.nan)
    if len(chosen):
        s_ch = problem.score[chosen]
        order = np.argsort(s_ch)
        best_score[P.mentee[chosen][order]] = s_ch[order]  # the best pair per mentee wins
    matched = ~np.isnan(best_score)
    f_rows = []
    for col in _group_columns(data, mentees):
        raw = mentees[col]
        if pd.api.types.is_float_dtype(raw) and (raw.dropna() == raw.dropna().round()).all():
            raw = raw.astype("Int64")  # levels 1.0, 2.0 read as 1, 2
        values = raw.astype(object).where(raw.notna(), "(missing)").astype(str) \
            .replace("", "(missing)").to_numpy()
        for g in sorted(set(values)):
            inside = values == g
            sc = best_score[inside & matched]
            f_rows.append((col, g, int(inside.sum()), int((inside & matched).sum()),
                           float((inside & matched).sum() / inside.sum()),
                           float(sc.mean()) if len(sc) else np.nan, float(sc.min()) if len(sc) else np.nan))
    fairness = pd.DataFrame(f_rows, columns=["attribute", "group", "mentees", "matched", "matched_share",
                                             "mean_score", "min_score"])
    overall = float(matched.mean()) if n_e else 1.0
    fairness["flag"] = fairness["matched_share"] < FLAG_RATIO * overall - 1e-12
    for r in fairness.loc[fairness["flag"]].itertuples():
        notes.append(f"{r.attribute} {r.group}: {r.matched} of {r.mentees} mentees matched "
                     f"({r.matched_share:.0%}), under {FLAG_RATIO:g} x the overall rate of {overall:.0%}")

    # ---- price of fairness / side constraints
    active = problem.side.active()
    pof_rows = []
    if active:
        plain = _plain(problem)  # a scale-path round: every eligible pair where they fit
        if data.get("scale_path") and "full_problem" in data:
            from ..errors import TooLargeError

            try:
                plain = _plain(data["full_problem"]())
            except TooLargeError:
                notes.append("price of fairness: the unconstrained optimum is taken over the "
                             "solver's candidate pairs (every eligible pair does not fit)")
        sol, why = _run(plain, "flow" if plain.integral else "cpsat")
        if sol is None:
            notes.append(f"price of fairness not computed: {why}")
        else:
            price = sol.objective - objective
            pof_rows.append((", ".join(active), objective, sol.objective, price,
                             price / sol.objective if sol.objective else np.nan))
    else:
        pof_rows.append(("(none)", objective, objective, 0.0, 0.0))
    price_of_fairness = pd.DataFrame(pof_rows, columns=["constraints", "total_with", "total_without",
                                                        "price", "price_share"])

    # ---- mentor loads, stipends, incentives
    load = np.bincount(P.mentor[chosen], weights=problem.load[P.mentee[chosen]], minlength=P.n_mentors)
    sum_score = np.bincount(P.mentor[chosen], weights=problem.score[chosen], minlength=P.n_mentors)
    cnt = np.bincount(P.mentor[chosen], minlength=P.n_mentors)
    per_mentor = pd.DataFrame({"mentor_id": m_ids, "capacity": problem.capacity, "load": load,
                               "mean_score": np.where(cnt > 0, sum_score / np.maximum(cnt, 1), np.nan)})
    lv, lc = np.unique(np.round(load, 6), return_counts=True)
    load_df = pd.DataFrame({"load": lv, "mentors": lc})

    def col(name):
        if mentors is not None and name in mentors.columns:
            return np.nan_to_num(pd.to_numeric(mentors[name], errors="coerce").to_numpy(dtype=float), nan=0.0)
        return None

    fixed, per = col("stipend_fixed"), col("stipend_per_mentee")
    b_rows = []
    if fixed is not None or per is not None:
        stipend = (fixed if fixed is not None else 0.0) * (load > 0) + (per if per is not None else 0.0) * load
        per_mentor["stipend"] = stipend
        b_rows.append(("stipends_paid", float(stipend.sum())))
        b_rows.append(("active_mentors", int((load > 0).sum())))
        budget = getattr(data.get("rules"), "constraints", {}).get("budget", np.nan) \
            if data.get("rules") is not None else np.nan
        if budget is not None and not np.isnan(budget):
            b_rows.append(("budget", float(budget)))
            b_rows.append(("budget_used_share", float(stipend.sum() / budget) if budget else np.nan))
    bonus = col("bonus")
    if bonus is not None:
        per_mentor["incentive"] = bonus * sum_score
        b_rows.append(("incentives_total", float((bonus * sum_score).sum())))
    budget_df = pd.DataFrame(b_rows, columns=["metric", "value"])

    # ---- blocking pairs (stability with preferences from the scores)
    bl_rows = []
    blocking_list = pd.DataFrame(columns=BLOCKING_COLUMNS)
    try:
        bp = blocking_positions(problem, chosen)
        blocking_list = _blocking_list(problem, chosen, bp, m_ids, data["mentee_ids"].ids)
        bl_rows.append(("blocking_pairs", len(bp)))
        bl_rows.append(("mentees_in_blocking_pairs", int(len(np.unique(P.mentee[bp])))))
    except ImportError:
        notes.append("blocking pairs not counted: the stable solver is not installed")
    except (MentormatchError, ValueError) as exc:
        notes.append(f"blocking pairs not counted: {str(exc).splitlines()[0]}")
    blocking = pd.DataFrame(bl_rows, columns=["metric", "value"])

    rnd = lift.loc[lift["method"] == "random"]
    summary_rows = [("mentees", n_e), ("mentors", P.n_mentors), ("pairs", len(pairs)),
                    ("unmatched", len(unmatched)), ("total_score", objective),
                    ("mean_score", float(score.mean()) if len(score) else np.nan)]
    if len(rnd):
        summary_rows += [("random_total_mean", float(rnd["total_mean"].iloc[0])),
                         ("random_total_std", float(rnd["total_std"].iloc[0])),
                         ("lift_over_random", float(rnd["lift"].iloc[0]))]
    if len(top_choice):
        summary_rows.append(("share_top3", float(top_choice.loc[top_choice["top_k"] == 3, "share"].iloc[0])))
    if bl_rows:
        summary_rows.append(("blocking_pairs", bl_rows[0][1]))
    summary = pd.DataFrame(summary_rows, columns=["metric", "value"])
    return Audit(summary, scores_df, histogram, lift, top_choice, fairness, price_of_fairness, load_df,
                 per_mentor, budget_df, blocking, random_scores, notes, blocking_pairs=blocking_list)

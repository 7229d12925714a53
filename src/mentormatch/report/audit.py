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
from .baselines import BASELINES, lift_tables, run_solver, unconstrained
from .blocking import BLOCKING_COLUMNS, blocking_list, blocking_positions
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
    # attribute, group, mentees, matched, matched_share, mean_score, min_score (per matched
    # mentee, each counted once by their best pair: see audit())
    fairness: pd.DataFrame
    price_of_fairness: pd.DataFrame  # constraints, total_with, total_without, price, price_share
    load: pd.DataFrame  # load, mentors
    mentors: pd.DataFrame  # mentor_id, capacity, load, mean_score, stipend, incentive (bonus x expected successes)
    budget: pd.DataFrame  # metric, value
    blocking: pd.DataFrame  # metric, value
    random_scores: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    notes: list[str] = field(default_factory=list)
    # mentee_id, mentor_id, score, mentee_current_score, mentor_worst_score: each pair that
    # both would rather have than what they got (the first blocking.BLOCKING_LISTED, by score)
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


#: The columns every audit breaks the matched share down by, when the mentees have them,
#: besides the programme's named fairness groups.
GROUP_COLUMNS = ("level", "role", "department", "region", "gender")
#: A group matched at under this share of the overall matched rate is flagged.
FLAG_RATIO = 0.8


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
        group attribute: its mentees, those matched and their share, and ``mean_score`` and
        ``min_score`` over the group's matched mentees, each mentee counted once by their best
        pair: a mentee with several mentors (``mentors_needed`` above 1) by the best of them,
        an unmatched one not at all; so not the measure of ``fairness.score_floor``, which is
        the group's total score of every pair per member, unmatched members included,
        :mod:`mentormatch.solvers.scorefloors`), ``price_of_fairness`` (total
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

    # ---- baselines, over every eligible pair: the lift over them and the score histogram
    lift, histogram, random_scores = lift_tables(data, problem, pairs, score, objective, seeds, bins,
                                                 baselines, notes)

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
        plain = unconstrained(problem)  # a scale-path round: every eligible pair where they fit
        if data.get("scale_path") and "full_problem" in data:
            from ..errors import TooLargeError

            try:
                plain = unconstrained(data["full_problem"]())
            except TooLargeError:
                notes.append("price of fairness: the unconstrained optimum is taken over the "
                             "solver's candidate pairs (every eligible pair does not fit)")
        sol, why = run_solver(plain, "flow" if plain.integral else "cpsat")
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
    active = cnt > 0  # as the budget counts them: a mentor with a pair (a mentee of load 0 too)
    if fixed is not None or per is not None:
        # paid per mentee, whatever the mentee's load (the budget's row, solvers.linear)
        stipend = (fixed if fixed is not None else 0.0) * active + (per if per is not None else 0.0) * cnt
        per_mentor["stipend"] = stipend
        b_rows.append(("stipends_paid", float(stipend.sum())))
        b_rows.append(("active_mentors", int(active.sum())))
        budget = getattr(data.get("rules"), "constraints", {}).get("budget", np.nan) \
            if data.get("rules") is not None else np.nan
        if budget is not None and not np.isnan(budget):
            b_rows.append(("budget", float(budget)))
            b_rows.append(("budget_used_share", float(stipend.sum() / budget) if budget else np.nan))
    bonus = col("bonus")
    if bonus is not None:
        # bonus x expected successes: each pair's success probability by the documented link
        # (solvers.linear_rows.success_probability, the one the reservation values read)
        from ..solvers.base import SideConstraints
        from ..solvers.linear_rows import success_probability

        rules = data.get("rules")
        link = SideConstraints(success_scale=(rules.score_span if rules is not None else 0.0) or 1.0)
        successes = np.bincount(P.mentor[chosen], weights=success_probability(problem.score[chosen], link),
                                minlength=P.n_mentors)
        per_mentor["incentive"] = bonus * successes
        b_rows.append(("incentives_total", float((bonus * successes).sum())))
    budget_df = pd.DataFrame(b_rows, columns=["metric", "value"])

    # ---- blocking pairs (stability with preferences from the scores)
    bl_rows = []
    listed = pd.DataFrame(columns=BLOCKING_COLUMNS)
    try:
        bp = blocking_positions(problem, chosen)
        listed = blocking_list(problem, chosen, bp, m_ids, data["mentee_ids"].ids)
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
                 per_mentor, budget_df, blocking, random_scores, notes, blocking_pairs=listed)

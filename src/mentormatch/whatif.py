"""What-if and sensitivity: re-solve a pairing under changed weights, mentors or capacities.

A programme lead asks what would change if geography weighed more, or if this mentor left.
:func:`what_if` answers one such question: it changes the result's inputs, pairs again through
:func:`mentormatch.pair` and lists the mentees whose mentors change, with their score deltas.
:func:`sensitivity` asks it of every weight: each moved down and up by ``step``, the number of
mentees whose mentors change (a robustness table), and :func:`sensitivity_plot` draws it for a
report. Their solves are independent, so they run on any ``concurrent.futures.Executor`` (see
:func:`mentormatch.pair_many`).

Both re-solve from the result's validated tables and rules (``Matching.record``). :func:`what_if`
also starts from the last solution where the path allows it: on the scale path's certified flow on
bounds (:func:`mentormatch.solvers.bounded.start.starting_from`), the result's mentor prices
(``Solution.prices``), mapped to the changed mentors by id (a removed mentor has no places, so no
price; an added one starts at 0), rank the first pass and start the potentials instead of a
sub-market or the bound alone. Any prices are a valid start: the certificate is computed afresh,
so the answer is the optimum a cold ``pair`` call certifies (``WhatIf.warm_started`` says whether
the start was taken). Changed weights keep the old prices as the start: they are still valid, and
near the new ones when the change is small. Elsewhere (the complete candidate set, a path with
side constraints) every re-solve is the same computation as a fresh ``pair`` call.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import Problem, ValidationError
from .matching import Matching
from .report.plots import sensitivity_plot  # drawn where the report's plots are

__all__ = ["WhatIf", "what_if", "sensitivity", "sensitivity_plot", "changes", "last_prices"]


@dataclass(frozen=True)
class WhatIf:
    """The answer of :func:`what_if`.

    Attributes
    ----------
    before, after : Matching
        The result asked about and the re-solve on the changed inputs.
    changes : DataFrame
        One row per mentee whose mentors differ (see :func:`changes`): ``mentee_id``,
        ``mentors_before``, ``mentors_after`` (ids joined by ``;``, empty when unmatched),
        ``score_before``, ``score_after`` (the sum of the mentee's pair scores, 0 when
        unmatched, each under its own weights) and ``delta`` = after - before.
    objective_delta : float
        ``after.objective - before.objective``.
    notes : tuple of str
        What the change implied beyond what was asked (a locked pair dropped because its mentor
        was removed).
    warm_started : bool
        Whether the re-solve started from ``before``'s mentor prices (the scale path's flow on
        bounds; see the module) rather than from cold. The answer is the same optimum either way.
    """

    before: Matching
    after: Matching
    changes: pd.DataFrame
    objective_delta: float
    notes: tuple[str, ...] = ()
    warm_started: bool = False

    @property
    def n_changed(self) -> int:
        """Mentees whose mentors change."""
        return len(self.changes)


# --------------------------------------------------------------------------------------------
# comparing two results
# --------------------------------------------------------------------------------------------
def _per_mentee(result: Matching) -> pd.DataFrame:
    p = result.pairs[["mentee_id", "mentor_id", "score"]].astype({"mentee_id": str, "mentor_id": str})
    p = p.sort_values(["mentee_id", "mentor_id"], kind="stable")
    g = p.groupby("mentee_id", sort=True)
    out = pd.DataFrame({"mentors": g["mentor_id"].agg(";".join), "score": g["score"].sum()})
    unmatched = pd.Index(result.unmatched["mentee_id"].astype(str)).difference(out.index)
    if len(unmatched):
        out = pd.concat([out, pd.DataFrame({"mentors": "", "score": 0.0}, index=unmatched)])
    return out


def changes(before: Matching, after: Matching) -> pd.DataFrame:
    """The mentees whose set of mentors differs between two results of the same mentees.

    Returns
    -------
    DataFrame
        ``mentee_id``, ``mentors_before``, ``mentors_after``, ``score_before``, ``score_after``,
        ``delta``, sorted by mentee id. A mentee in only one of the results counts as unmatched
        in the other.
    """
    a, b = _per_mentee(before), _per_mentee(after)
    ids = a.index.union(b.index)
    a = a.reindex(ids).fillna({"mentors": "", "score": 0.0})
    b = b.reindex(ids).fillna({"mentors": "", "score": 0.0})
    moved = (a["mentors"] != b["mentors"]).to_numpy()
    out = pd.DataFrame({"mentee_id": ids[moved], "mentors_before": a["mentors"].to_numpy()[moved],
                        "mentors_after": b["mentors"].to_numpy()[moved],
                        "score_before": a["score"].to_numpy(dtype=float)[moved],
                        "score_after": b["score"].to_numpy(dtype=float)[moved]})
    out["delta"] = out["score_after"] - out["score_before"]
    return out.sort_values("mentee_id", kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# the inputs of a result, changed
# --------------------------------------------------------------------------------------------
def _inputs(result: Matching):
    """(mentors, mentees, rules, framework) the result was paired from: validated tables with
    canonical columns, so the rules' column mapping is no longer needed."""
    rec = result.record
    missing = [k for k in ("mentors", "mentees", "rules") if getattr(rec, k) is None]
    if missing:
        raise ValueError("what-if needs a result of mentormatch.pair (its tables and rules); this "
                         f"one lacks {', '.join(missing)} (a result of assign() has no tables)")
    if rec.bonus is not None and np.any(rec.bonus):
        raise ValueError("this result was solved with a bonus in its objective (a programme round's "
                         "priority or continuity): a what-if re-solves through pair(), without it, "
                         "so its pairs would differ even with nothing changed")
    mentors, mentees = rec.mentors, rec.mentees
    if rec.input_rows is not None:  # solved in the seeded order of the ids: back to the caller's rows
        mentee_rows, mentor_rows = rec.input_rows
        mentees = mentees.iloc[np.argsort(mentee_rows)].reset_index(drop=True)
        mentors = mentors.iloc[np.argsort(mentor_rows)].reset_index(drop=True)
    return mentors, mentees, rec.rules.replace(columns={}), rec.framework


def _weights(rules, weights: Mapping[str, float] | None) -> dict[str, float]:
    merged = dict(rules.weights)
    if weights is not None:
        if not isinstance(weights, Mapping):
            raise ValidationError(Problem("what_if", "weights", None, None, weights,
                                          "a mapping of feature name -> weight"))
        merged.update({str(k): v for k, v in weights.items()})
    return merged


def _changed_inputs(result: Matching, weights, remove_mentors, add_mentors, capacity):
    mentors, mentees, rules, framework = _inputs(result)
    notes: list[str] = []
    known = pd.Index(mentors["id"].astype(str))
    if isinstance(remove_mentors, str):
        remove_mentors = [remove_mentors]
    remove = [str(x) for x in (remove_mentors if remove_mentors is not None else ())]
    bad = [x for x in remove if x not in known]
    if bad:
        raise ValidationError([Problem("remove_mentors", None, x, None, x,
                                       "the id of a mentor of this result") for x in bad])
    if remove:
        # a mentor who leaves the programme stays in the organisation: same org chart, same
        # preferences naming them, no mentees (capacity 0) and so no locked pair with them
        gone = known.isin(remove)
        mentors = mentors.assign(capacity=np.where(gone, 0.0, mentors["capacity"].to_numpy(dtype=float)))
        if "min_capacity" in mentors.columns:
            mentors["min_capacity"] = np.where(gone, 0.0, mentors["min_capacity"].to_numpy(dtype=float))
        locked = list(rules.constraints["locked"])
        kept = [p for p in locked if str(p[1]) not in remove]
        notes += [f"locked pair ({p[0]}, {p[1]}) dropped: mentor {p[1]} removed"
                  for p in locked if str(p[1]) in remove]
        if len(kept) < len(locked):
            rules = rules.replace(constraints={"locked": kept})
    if capacity is not None:
        if not isinstance(capacity, (Mapping, pd.Series)):
            raise ValidationError(Problem("what_if", "capacity", None, None, type(capacity).__name__,
                                          "a mapping or Series of mentor id -> capacity"))
        cap = pd.Series(dict(capacity)) if isinstance(capacity, Mapping) else capacity.copy()
        cap.index = cap.index.astype(str)
        ids = mentors["id"].astype(str)
        bad = [x for x in cap.index if x not in set(ids)]
        if bad:
            raise ValidationError([Problem("capacity", None, x, None, cap[x],
                                           "the id of a mentor of this what-if") for x in bad])
        mentors = mentors.assign(capacity=ids.map(cap).fillna(mentors["capacity"]).to_numpy())
    if add_mentors is not None:
        if not isinstance(add_mentors, pd.DataFrame):
            raise ValidationError(Problem("add_mentors", None, None, None, type(add_mentors).__name__,
                                          "a DataFrame of mentor rows (the mentors table's columns)"))
        mentors = pd.concat([mentors, add_mentors], ignore_index=True)
    if weights is not None:
        rules = rules.replace(weights=_weights(rules, weights))
    return mentors, mentees, rules, framework, notes


#: The certificate of the path whose prices start a what-if (the scale path's flow on bounds).
WARM_METHOD = "sparse_min_cost_flow+dual_check_on_bounds"


def last_prices(result: Matching) -> pd.Series | None:
    """The mentor prices of ``result``'s certified flow on bounds, by mentor id (``+inf``, a
    mentor with no places left, as 0), or None where its path keeps none to start from."""
    rec = result.record
    sol = rec.solution
    if sol is None or sol.prices is None or sol.status != "optimal" or rec.mentor_ids is None \
            or (sol.certificate or {}).get("method") != WARM_METHOD:
        return None
    p = np.asarray(sol.prices[1], np.float64)
    return pd.Series(np.where(np.isfinite(p), p, 0.0), index=[str(x) for x in rec.mentor_ids.ids])


def _resolve(mentors, mentees, rules, framework, prices: pd.Series | None):
    """One what-if re-solve, here or on a worker: ``pair()`` on the changed inputs, started from
    ``prices`` (by mentor id; added mentors at 0) where the path takes a start. Returns
    (Matching, whether the start was taken)."""
    import time
    import traceback

    from .constraints import priority_bonus
    from .portable import JobError, _picklable
    from .pipeline import prepare, solve
    from .pipeline.wrap import _timed
    from .solvers.bounded.start import starting_from

    try:
        started = time.perf_counter()
        prep = prepare(mentors, mentees, rules, framework=framework)
        start = None
        if prices is not None and prep.scorer is not None:  # the scale path: in its mentor order
            start = prices.reindex([str(x) for x in prep.mentor_ids.ids]).fillna(0.0).to_numpy()
        with starting_from(start) as warm:
            after = _timed(solve(prep, priority_bonus(prep)), started)
        return after, warm.used
    except Exception as exc:
        if _picklable(exc):
            raise
        raise JobError(type(exc).__name__, str(exc), traceback.format_exc()) from None


def what_if(result: Matching, weights: Mapping[str, float] | None = None,
            remove_mentors: Sequence[str] = (), add_mentors: pd.DataFrame | None = None,
            capacity: Mapping[str, float] | pd.Series | None = None, *, executor=None,
            warm_start: bool = True) -> WhatIf:
    """Re-solve ``result`` with changed weights, mentors or capacities and report what changes.

    Parameters
    ----------
    result : Matching
        A result of :func:`mentormatch.pair`.
    weights : mapping, optional
        Feature name -> new weight, over the result's weights (features not named keep theirs).
    remove_mentors : sequence of str, optional
        Mentor ids who leave the programme: they get capacity 0 (and ``min_capacity`` 0) but
        stay in the organisation, so the org chart and the preferences naming them hold as
        before; locked pairs naming them are dropped (listed in ``notes``).
    add_mentors : DataFrame, optional
        Rows to add to the mentors table, in its columns.
    capacity : mapping or Series, optional
        Mentor id -> new capacity.
    executor : concurrent.futures.Executor, optional
        Where the re-solve runs (None: here; a ``distributed.Client`` is taken as its executor).
    warm_start : bool
        Start from ``result``'s mentor prices where the path allows it (see the module); False
        re-solves from cold. The answer is the same optimum.

    Returns
    -------
    WhatIf

    Examples
    --------
    >>> import mentormatch as mm
    >>> mentors, mentees = mm.synthetic.organisation(n_mentees=30, n_mentors=10, seed=2)
    >>> result = mm.pair(mentors, mentees)
    >>> answer = result.what_if(remove_mentors=[result.pairs["mentor_id"].iloc[0]])
    >>> answer.n_changed > 0
    True
    >>> answer.warm_started  # pairs of the complete candidate set: no prices to start from
    False
    """
    mentors, mentees, rules, framework, notes = _changed_inputs(result, weights, remove_mentors,
                                                                add_mentors, capacity)
    prices = last_prices(result) if warm_start else None
    if executor is None:
        after, warm = _resolve(mentors, mentees, rules, framework, prices)
    else:
        if callable(getattr(executor, "get_executor", None)):  # a distributed.Client
            executor = executor.get_executor()
        after, warm = executor.submit(_resolve, mentors, mentees, rules, framework, prices).result()
    return WhatIf(result, after, changes(result, after), float(after.objective - result.objective),
                  tuple(notes), warm)


def sensitivity(result: Matching, step: float = 0.25, *, executor=None, relative: bool = True,
                progress: bool = False) -> pd.DataFrame:
    """How many mentees change mentor when each weight moves down and up by ``step``.

    Parameters
    ----------
    result : Matching
        A result of :func:`mentormatch.pair`.
    step : float
        With ``relative`` (the default), each weight ``w`` becomes ``w * (1 - step)`` and
        ``w * (1 + step)``, ``0 < step <= 1``, for the features with ``w > 0``; otherwise
        ``max(w - step, 0)`` and ``w + step`` for every feature named in the weights, ``step > 0``
        (a move that cannot go down is left empty).
    executor : concurrent.futures.Executor, optional
        Runs the ``2 x features`` re-solves (None: here, one after the other).
    progress : bool
        A progress bar over the re-solves.

    Returns
    -------
    DataFrame
        Indexed by ``feature``: ``weight``, ``weight_down``, ``weight_up``, ``changed_down``,
        ``changed_up`` (mentees whose mentors differ from ``result``'s), ``objective_down``,
        ``objective_up`` (each re-solve's total score under its own weights) and ``changed_max``,
        sorted by ``changed_max`` (largest first), then feature name.

    Examples
    --------
    >>> import mentormatch as mm
    >>> mentors, mentees = mm.synthetic.organisation(n_mentees=20, n_mentors=8, seed=1)
    >>> table = mm.pair(mentors, mentees).sensitivity(step=0.5)
    >>> list(table.columns[:3])
    ['weight', 'weight_down', 'weight_up']
    """
    if isinstance(step, bool) or not isinstance(step, (int, float)) or not math.isfinite(step) \
            or step <= 0 or (relative and step > 1):
        raise ValidationError(Problem("sensitivity", "step", None, None, step,
                                      "a number in (0, 1] (relative)" if relative else "a number > 0"))
    mentors, mentees, rules, framework = _inputs(result)
    base = rules.weights
    rows, jobs, slots = [], [], []
    for feature in sorted(base):
        w = base[feature]
        if relative:
            if w <= 0:
                continue
            down, up = w * (1 - step), w * (1 + step)
        else:
            down, up = (max(w - step, 0.0) if w > 0 else math.nan), w + step
        rows.append((feature, w, down, up))
        for side, value in (("down", down), ("up", up)):
            if not math.isnan(value):
                jobs.append((mentors, mentees, rules.replace(weights={**base, feature: value})))
                slots.append((len(rows) - 1, side))
    from .batch import pair_many

    outs = pair_many(jobs, executor, framework=framework, progress=progress)
    table = pd.DataFrame(rows, columns=["feature", "weight", "weight_down", "weight_up"])
    for col in ("changed_down", "changed_up"):
        table[col] = pd.array([pd.NA] * len(table), dtype="Int64")
    for col in ("objective_down", "objective_up"):
        table[col] = np.nan
    for (row, side), out in zip(slots, outs):
        after = out.unwrap()
        table.loc[row, f"changed_{side}"] = len(changes(result, after))
        table.loc[row, f"objective_{side}"] = float(after.objective)
    table["changed_max"] = table[["changed_down", "changed_up"]].max(axis=1).astype("Int64")
    table = table.sort_values(["changed_max", "feature"], ascending=[False, True], kind="stable")
    return table.set_index("feature")

"""The table of past pairs that :func:`~mentormatch.learn.fit_weights` learns from: read from a
programme's rounds (:func:`past_pairs`) and checked (outcomes 0/1, feature values in [0, 1],
contributions divided by the weights in force), each finding naming the row and column."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import Problem, ValidationError
from ..rules import Rules


def _row_ids(table: pd.DataFrame) -> list[str]:
    if {"mentee_id", "mentor_id"} <= set(table.columns):
        return [f"{a}/{b}" for a, b in zip(table["mentee_id"], table["mentor_id"])]
    return [str(i) for i in table.index]


def outcome_column(table: pd.DataFrame, outcome: str) -> np.ndarray:
    """The ``outcome`` column as floats 0/1 (true/false read as 1/0), or every bad row named."""
    if outcome not in table.columns:
        raise ValidationError(Problem("outcomes", outcome, None, 1, list(map(str, table.columns))[:12],
                                      f"an outcome column {outcome!r} of 0/1 (or true/false)"))
    raw = table[outcome]
    values = pd.to_numeric(raw.map(lambda v: float(v) if isinstance(v, (bool, np.bool_)) else v),
                           errors="coerce").to_numpy(dtype=float)
    bad = ~np.isin(values, [0.0, 1.0])
    if bad.any():
        ids = _row_ids(table)
        raise ValidationError([Problem("outcomes", outcome, ids[k], None, raw.iloc[k], "0 or 1")
                               for k in np.flatnonzero(bad)])
    return values


def feature_values(table: pd.DataFrame, features: Sequence[str] | None,
                   weights_used) -> tuple[list[str], np.ndarray]:
    """(features, values): one column per feature (``<feature>`` or ``contrib_<feature>``), divided
    by ``weights_used`` when given, checked to lie in [0, 1]; ``features`` default to every known
    feature with a column."""
    from ..features import FEATURES

    def column(f):
        for name in (f"contrib_{f}", f):
            if name in table.columns:
                return name
        return None

    if features is None:
        features = [f for f in FEATURES if column(f) is not None]
        if not features:
            raise ValidationError(Problem("outcomes", None, None, 1, list(map(str, table.columns))[:12],
                                          "one column per feature (named after the feature, or "
                                          f"contrib_<feature>), features: {sorted(FEATURES)}"))
    features = list(features)
    problems = [Problem("outcomes", f, None, 1, None, "a column of this feature (or contrib_" + f + ")")
                for f in features if column(f) is None]
    if problems:
        raise ValidationError(problems)
    used = None
    if weights_used is not None:
        used = (dict(weights_used) if isinstance(weights_used, Mapping)
                else Rules.coerce(weights_used).weights)
        zero = [f for f in features if not used.get(f, 0.0) > 0]
        if zero:
            raise ValidationError([Problem("weights_used", f, None, None, used.get(f, 0.0),
                                           "a weight > 0: with weight 0 the pairs' values of this "
                                           "feature were not recorded; leave it out of features")
                                   for f in zero])
    x = np.empty((len(table), len(features)))
    ids = None
    for k, f in enumerate(features):
        col = pd.to_numeric(table[column(f)], errors="coerce").to_numpy(dtype=float)
        if used is not None:
            col = col / used[f]
        bad = ~np.isfinite(col) | (col < -1e-9) | (col > 1 + 1e-9)
        if bad.any():
            ids = ids or _row_ids(table)
            hint = "" if used is not None else " (contributions? pass weights_used=)"
            raise ValidationError([Problem("outcomes", column(f), ids[i], None, table[column(f)].iloc[i],
                                           "a feature value in [0, 1]" + (
                                               f" after dividing by the weight used ({used[f]:g})"
                                               if used is not None else hint))
                                   for i in np.flatnonzero(bad)])
        x[:, k] = np.clip(col, 0.0, 1.0)
    return features, x


def past_pairs(programme, success: str = "promoted") -> pd.DataFrame:
    """The pairs a :class:`~mentormatch.Programme` made in its rounds, with their feature values
    and recorded outcomes: the table :func:`fit_weights` takes.

    Each pair instance made by a round (not carried from an earlier one; rematches are left
    out, their values were not recorded) that has an outcome row
    (:meth:`Programme.record_outcomes`) gives one row. Its feature values are its contributions
    divided by the weights of the round that made it (NaN for a feature whose weight was 0 in
    that round: its value was not computed), so rounds with different weights can be pooled.
    As :meth:`Programme.metrics` does, an outcome row whose ``success`` column is empty counts
    as "not" (a promotion not recorded is no promotion).

    Parameters
    ----------
    programme : Programme
        With its rounds' results in memory (a programme read by :meth:`Programme.load` has none).
    success : str
        A date column of the outcomes (``promoted``, ``ended``, ``left``): 1 where it holds a date.

    Returns
    -------
    DataFrame
        ``mentee_id``, ``mentor_id``, ``round``, one column per feature, ``success`` (0/1).

    Examples
    --------
    >>> import pandas as pd, mentormatch as mm
    >>> mentors, mentees = mm.synthetic.organisation(n_mentees=20, n_mentors=6, seed=1)
    >>> prog = mm.Programme()
    >>> r = prog.run_round(mentors, mentees, date="2026-01-15")
    >>> prog.record_outcomes(r.pairs[["mentee_id", "mentor_id"]].assign(promoted="2026-09-01"))
    >>> table = mm.learn.past_pairs(prog)
    >>> len(table) == len(r.pairs), int(table["success"].sum()) == len(r.pairs)
    (True, True)
    """
    from ..features import FEATURES

    outcomes, history = programme.outcomes, programme.history
    if success not in ("promoted", "ended", "left"):
        raise ValidationError(Problem("past_pairs", "success", None, None, success,
                                      "a date column of the outcomes: promoted, ended or left"))
    frames = []
    for rnd in programme.rounds:
        result = rnd.matching
        if result is None:
            raise ValueError(f"round {rnd.number} has no result in memory (a programme read by "
                             "Programme.load keeps none): its pairs' feature values are unknown")
        made = rnd.pairs.loc[~rnd.pairs["carried"].astype(bool), ["mentee_id", "mentor_id"]]
        weights = result.record.rules.weights
        contrib = result.contributions
        values = pd.DataFrame({f: (contrib[f].to_numpy(dtype=float) / weights[f]
                                   if f in contrib.columns and weights.get(f, 0) > 0 else np.nan)
                               for f in FEATURES}, index=contrib.index)
        table = pd.concat([result.pairs[["mentee_id", "mentor_id"]].astype(str), values], axis=1)
        table = made.astype(str).merge(table, on=["mentee_id", "mentor_id"], how="left")
        table.insert(2, "round", rnd.number)
        frames.append(table)
    columns = ["mentee_id", "mentor_id", "round", *FEATURES, "success"]
    if not frames:
        return pd.DataFrame(columns=columns)
    pairs = pd.concat(frames, ignore_index=True)
    made_by = history.loc[history["source"] == "round", ["instance", "mentee_id", "mentor_id", "round"]]
    pairs = pairs.merge(made_by, on=["mentee_id", "mentor_id", "round"], how="inner")
    flag = outcomes[["instance", success]].copy()
    flag["success"] = (flag[success].astype(str).str.strip() != "").astype(int)
    pairs = pairs.merge(flag[["instance", "success"]], on="instance", how="inner")
    pairs = pairs[columns].sort_values(["round", "mentee_id", "mentor_id"], kind="stable")
    return pairs.reset_index(drop=True)

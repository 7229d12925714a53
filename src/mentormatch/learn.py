"""Weights from outcomes: fit non-negative feature weights on the recorded success of past pairs.

A programme records whether past pairs worked out (promotion, retention, a success flag). With
each pair's feature values ``x_f`` in [0, 1] (its contributions divided by the weights in force
when it was made), :func:`fit_weights` fits a logistic model with non-negative coefficients::

    P(success) = 1 / (1 + exp(-(b + sum_f beta_f x_f))),    beta_f >= 0

by L-BFGS-B on the mean log-loss plus a small ridge term ``l2 / 2 * |beta|^2``. Since a pairing
only depends on the weights up to a common factor, the fitted weights are ``beta`` rescaled to
the same total as the weights they are compared with. The evidence is reported, not assumed:

* k-fold cross-validation (folds stratified by outcome, seeded) of the fitted weights against the
  default weights (the same logistic link on ``sum_f w_f x_f``, its intercept and slope fitted on
  the same training folds): log-loss and AUC on the held-out folds;
* bootstrap percentile intervals of each weight;
* a refusal below a stated minimum sample: at least ``MIN_OUTCOMES`` pairs, and at least
  ``EVENTS_PER_FEATURE`` successes and as many failures per fitted feature (the usual
  ten-events-per-variable rule for logistic regression).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import Problem, ValidationError
from .rules import DEFAULT_WEIGHTS, Rules

__all__ = ["WeightFit", "fit_weights", "past_pairs", "MIN_OUTCOMES", "EVENTS_PER_FEATURE"]

#: Fewest past pairs with an outcome that :func:`fit_weights` accepts.
MIN_OUTCOMES = 100
#: Fewest successes, and fewest failures, per fitted feature.
EVENTS_PER_FEATURE = 10


@dataclass(frozen=True)
class WeightFit:
    """What :func:`fit_weights` learned, and the evidence for it.

    Attributes
    ----------
    features : list of str
        The fitted features, in column order.
    coef : dict of str to float
        ``beta_f`` of the logistic model (per unit of feature value).
    intercept : float
    weights : dict of str to float
        ``beta`` rescaled to the total of ``compared_to`` over the fitted features.
    compared_to : dict of str to float
        The weights the fit was compared with (the defaults unless given).
    intervals : DataFrame
        Indexed by feature: ``weight``, ``low``, ``high`` (bootstrap percentile interval of the
        rescaled weight at ``level``), ``coef``, ``coef_low``, ``coef_high``.
    cv : DataFrame
        One row per fold: ``fold``, ``n_test``, ``logloss_fitted``, ``logloss_compared``,
        ``auc_fitted``, ``auc_compared``.
    n, successes : int
        Pairs used and how many of them succeeded.
    level : float
        Coverage of the intervals.
    """

    features: list[str]
    coef: dict[str, float]
    intercept: float
    weights: dict[str, float]
    compared_to: dict[str, float]
    intervals: pd.DataFrame
    cv: pd.DataFrame
    n: int
    successes: int
    level: float

    @property
    def logloss(self) -> tuple[float, float]:
        """Mean held-out log-loss: (fitted weights, compared weights); lower is better."""
        return float(self.cv["logloss_fitted"].mean()), float(self.cv["logloss_compared"].mean())

    @property
    def auc(self) -> tuple[float, float]:
        """Mean held-out AUC: (fitted weights, compared weights); higher is better."""
        return float(self.cv["auc_fitted"].mean()), float(self.cv["auc_compared"].mean())

    @property
    def better(self) -> bool:
        """True when the fitted weights have the lower mean held-out log-loss."""
        fitted, compared = self.logloss
        return fitted < compared

    def programme(self, base=None, *, require_better: bool = True) -> Rules:
        """The rules of ``base`` (default: the default rules) with the fitted weights.

        The fitted features get ``beta`` rescaled to the total of ``base``'s weights over those
        features; the other features keep their weights.

        Raises
        ------
        ValueError
            With ``require_better`` (the default), when the fitted weights did not beat the
            compared weights on held-out log-loss; or when every fitted coefficient is 0.
        """
        fitted, compared = self.logloss
        if require_better and not self.better:
            raise ValueError(f"the fitted weights do not predict outcomes better than the weights "
                             f"compared with (held-out log-loss {fitted:.4f} against {compared:.4f}); "
                             "pass require_better=False to use them anyway")
        rules = Rules.coerce(base)
        current = rules.weights
        total = sum(current.get(f, 0.0) for f in self.features) or sum(self.compared_to.values())
        beta = np.array([self.coef[f] for f in self.features])
        if beta.sum() <= 0:
            raise ValueError("every fitted coefficient is 0: no feature predicts the outcomes")
        scaled = beta * (total / beta.sum())
        return rules.replace(weights={**current, **dict(zip(self.features, map(float, scaled)))})


# --------------------------------------------------------------------------------------------
# the model: logistic regression with non-negative slopes
# --------------------------------------------------------------------------------------------
def _fit_logistic(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[float, np.ndarray]:
    """(intercept, beta >= 0) minimising mean log-loss + l2/2 |beta|^2 (L-BFGS-B, bounds)."""
    from scipy.optimize import minimize
    from scipy.special import expit, log_expit

    n, k = x.shape

    def loss(theta):
        z = theta[0] + x @ theta[1:]
        value = -np.mean(y * log_expit(z) + (1 - y) * log_expit(-z)) + 0.5 * l2 * theta[1:] @ theta[1:]
        r = expit(z) - y
        grad = np.concatenate([[r.mean()], x.T @ r / n + l2 * theta[1:]])
        return value, grad

    p = min(max(y.mean(), 1e-6), 1 - 1e-6)
    start = np.concatenate([[math.log(p / (1 - p))], np.zeros(k)])
    res = minimize(loss, start, jac=True, method="L-BFGS-B",
                   bounds=[(None, None)] + [(0.0, None)] * k, options={"maxiter": 1000, "gtol": 1e-9})
    return float(res.x[0]), np.maximum(res.x[1:], 0.0)


def _log_loss(y: np.ndarray, z: np.ndarray) -> float:
    from scipy.special import log_expit

    return float(-np.mean(y * log_expit(z) + (1 - y) * log_expit(-z)))


def _auc(y: np.ndarray, z: np.ndarray) -> float:
    from scipy.stats import rankdata

    pos = y == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = rankdata(z)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _folds(y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Fold number per row, stratified by outcome."""
    fold = np.empty(len(y), dtype=np.int64)
    for label in (0, 1):
        idx = np.flatnonzero(y == label)
        idx = idx[rng.permutation(len(idx))]
        fold[idx] = np.arange(len(idx)) % k
    return fold


# --------------------------------------------------------------------------------------------
# reading the table of past pairs
# --------------------------------------------------------------------------------------------
def _row_ids(table: pd.DataFrame) -> list[str]:
    if {"mentee_id", "mentor_id"} <= set(table.columns):
        return [f"{a}/{b}" for a, b in zip(table["mentee_id"], table["mentor_id"])]
    return [str(i) for i in table.index]


def _outcomes(table: pd.DataFrame, outcome: str) -> np.ndarray:
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


def _values(table: pd.DataFrame, features: Sequence[str] | None,
            weights_used) -> tuple[list[str], np.ndarray]:
    from .features import FEATURES

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
    from .features import FEATURES

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


def fit_weights(table: pd.DataFrame, outcome: str = "success", *, weights_used=None,
                features: Sequence[str] | None = None, compare_to: Mapping[str, float] | None = None,
                folds: int = 5, bootstrap: int = 200, level: float = 0.95, l2: float = 1e-3,
                seed: int = 0) -> WeightFit:
    """Fit non-negative feature weights on the outcomes of past pairs.

    Parameters
    ----------
    table : DataFrame
        One row per past pair: one column per feature (named ``<feature>`` or, as
        :meth:`Matching.to_csv` writes them, ``contrib_<feature>``) and the ``outcome`` column.
        ``mentee_id`` and ``mentor_id``, when present, name the rows in error messages.
    outcome : str
        The column of outcomes: 1 (or True) = success, 0 = not.
    weights_used : mapping, Rules or programme, optional
        The weights in force when the pairs were made: the columns then hold contributions and
        are divided by them. None: the columns already hold feature values in [0, 1].
    features : sequence of str, optional
        The features to fit (default: every known feature with a column).
    compare_to : mapping, optional
        The weights to compare with (default: the library's default weights).
    folds : int
        Cross-validation folds (>= 2).
    bootstrap : int
        Bootstrap resamples for the intervals (0: none; the intervals are then NaN).
    level : float
        Coverage of the intervals.
    l2 : float
        Ridge penalty on the coefficients (keeps collinear features stable).
    seed : int
        Seeds the folds and the resamples.

    Returns
    -------
    WeightFit

    Raises
    ------
    ValidationError
        A missing column, an outcome other than 0/1, a value outside [0, 1] (or missing: leave
        out, with ``features``, a feature some past round did not weigh); or too few outcomes:
        fewer than ``MIN_OUTCOMES`` pairs, or fewer than ``EVENTS_PER_FEATURE`` successes (or
        failures) per fitted feature.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mentormatch.learn import fit_weights
    >>> rng = np.random.default_rng(0)
    >>> past = pd.DataFrame(rng.uniform(size=(2000, 2)), columns=["geography", "competency"])
    >>> z = -2 + 3 * past["competency"]
    >>> past["success"] = (rng.uniform(size=2000) < 1 / (1 + np.exp(-z))).astype(int)
    >>> fit = fit_weights(past, bootstrap=20)
    >>> fit.weights["competency"] > 5 * fit.weights["geography"], fit.better
    (True, True)
    """
    for name, value, ok, expected in (
            ("folds", folds, isinstance(folds, int) and folds >= 2, "an integer >= 2"),
            ("bootstrap", bootstrap, isinstance(bootstrap, int) and bootstrap >= 0, "an integer >= 0"),
            ("level", level, isinstance(level, float) and 0 < level < 1, "a number in (0, 1)"),
            ("l2", l2, isinstance(l2, (int, float)) and l2 >= 0, "a number >= 0")):
        if not ok or isinstance(value, bool):
            raise ValidationError(Problem("fit_weights", name, None, None, value, expected))
    if not isinstance(table, pd.DataFrame):
        raise ValidationError(Problem("outcomes", None, None, None, type(table).__name__, "a DataFrame"))
    y = _outcomes(table, outcome)
    features, x = _values(table, features, weights_used)
    n, wins = len(y), int(y.sum())
    events = EVENTS_PER_FEATURE * len(features)
    if n < MIN_OUTCOMES or min(wins, n - wins) < events:
        raise ValidationError(Problem(
            "outcomes", outcome, None, None, f"{n} pairs, {wins} successes, {n - wins} failures",
            f"at least {MIN_OUTCOMES} pairs and at least {events} successes and {events} failures "
            f"({EVENTS_PER_FEATURE} per fitted feature, {len(features)} features): too few outcomes "
            "to fit weights honestly; fit fewer features or wait for more rounds"))
    compared = dict(DEFAULT_WEIGHTS if compare_to is None else compare_to)
    missing = [f for f in features if f not in compared]
    if missing:
        raise ValidationError([Problem("compare_to", f, None, None, None, "a weight for this fitted feature")
                               for f in missing])
    w0 = np.array([float(compared[f]) for f in features])
    total = float(w0.sum()) or 1.0

    def rescale(beta):
        return beta * (total / beta.sum()) if beta.sum() > 0 else np.zeros_like(beta)

    intercept, beta = _fit_logistic(x, y, l2)
    rng = np.random.default_rng(seed)
    fold = _folds(y, folds, rng)
    rows = []
    s0 = (x @ w0)[:, None]
    for f in range(folds):
        test, train = fold == f, fold != f
        b, coef = _fit_logistic(x[train], y[train], l2)
        b0, c0 = _fit_logistic(s0[train], y[train], l2)
        z_fit, z_cmp = b + x[test] @ coef, b0 + s0[test, 0] * c0[0]
        rows.append((f, int(test.sum()), _log_loss(y[test], z_fit), _log_loss(y[test], z_cmp),
                     _auc(y[test], z_fit), _auc(y[test], z_cmp)))
    cv = pd.DataFrame(rows, columns=["fold", "n_test", "logloss_fitted", "logloss_compared",
                                     "auc_fitted", "auc_compared"])
    draws = np.full((bootstrap, len(features)), np.nan)
    for k in range(bootstrap):
        idx = rng.integers(0, n, n)
        draws[k] = _fit_logistic(x[idx], y[idx], l2)[1]
    alpha = (1 - level) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.array([rescale(d) for d in draws]) if bootstrap else draws

    def pct(a, q):
        return np.quantile(a, q, axis=0) if bootstrap else np.full(len(features), np.nan)

    weights = rescale(beta)
    intervals = pd.DataFrame({"weight": weights, "low": pct(scaled, alpha),
                              "high": pct(scaled, 1 - alpha), "coef": beta,
                              "coef_low": pct(draws, alpha), "coef_high": pct(draws, 1 - alpha)},
                             index=pd.Index(features, name="feature"))
    return WeightFit(features, dict(zip(features, map(float, beta))), intercept,
                     dict(zip(features, map(float, weights))), {f: compared[f] for f in features},
                     intervals, cv, n, wins, level)

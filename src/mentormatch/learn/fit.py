"""Fitting the weights: :func:`fit_weights` and its result :class:`WeightFit` (the weights, the
cross-validated comparison with the weights in use, bootstrap intervals), refusing below the
minimum sample (:data:`MIN_OUTCOMES`, :data:`EVENTS_PER_FEATURE`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import Problem, ValidationError
from ..rules import DEFAULT_WEIGHTS, Rules
from .logistic import fit_logistic, log_loss, roc_auc, stratified_folds
from .outcomes import feature_values, outcome_column

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
    y = outcome_column(table, outcome)
    features, x = feature_values(table, features, weights_used)
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

    intercept, beta = fit_logistic(x, y, l2)
    rng = np.random.default_rng(seed)
    fold = stratified_folds(y, folds, rng)
    rows = []
    s0 = (x @ w0)[:, None]
    for f in range(folds):
        test, train = fold == f, fold != f
        b, coef = fit_logistic(x[train], y[train], l2)
        b0, c0 = fit_logistic(s0[train], y[train], l2)
        z_fit, z_cmp = b + x[test] @ coef, b0 + s0[test, 0] * c0[0]
        rows.append((f, int(test.sum()), log_loss(y[test], z_fit), log_loss(y[test], z_cmp),
                     roc_auc(y[test], z_fit), roc_auc(y[test], z_cmp)))
    cv = pd.DataFrame(rows, columns=["fold", "n_test", "logloss_fitted", "logloss_compared",
                                     "auc_fitted", "auc_compared"])
    draws = np.full((bootstrap, len(features)), np.nan)
    for k in range(bootstrap):
        idx = rng.integers(0, n, n)
        draws[k] = fit_logistic(x[idx], y[idx], l2)[1]
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

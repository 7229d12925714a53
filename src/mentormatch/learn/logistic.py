"""The model behind :func:`~mentormatch.learn.fit_weights`: logistic regression with
non-negative slopes, and how it is judged (log-loss, AUC, folds stratified by outcome)."""
from __future__ import annotations

import math

import numpy as np


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[float, np.ndarray]:
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


def log_loss(y: np.ndarray, z: np.ndarray) -> float:
    """Mean log-loss of outcomes ``y`` (0/1) under log-odds ``z``."""
    from scipy.special import log_expit

    return float(-np.mean(y * log_expit(z) + (1 - y) * log_expit(-z)))


def roc_auc(y: np.ndarray, z: np.ndarray) -> float:
    """Area under the ROC curve of scores ``z`` for outcomes ``y`` (ties count half); NaN when
    one class is absent."""
    from scipy.stats import rankdata

    pos = y == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return math.nan
    ranks = rankdata(z)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def stratified_folds(y: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Fold number per row, stratified by outcome."""
    fold = np.empty(len(y), dtype=np.int64)
    for label in (0, 1):
        idx = np.flatnonzero(y == label)
        idx = idx[rng.permutation(len(idx))]
        fold[idx] = np.arange(len(idx)) % k
    return fold

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

Modules: :mod:`.fit` (:func:`fit_weights`, :class:`WeightFit`, the minimum sample),
:mod:`.outcomes` (the table of past pairs: :func:`past_pairs`, its checks), :mod:`.logistic`
(the model and its scores).
"""
from __future__ import annotations

from .fit import EVENTS_PER_FEATURE, MIN_OUTCOMES, WeightFit, fit_weights
from .outcomes import past_pairs

__all__ = ["WeightFit", "fit_weights", "past_pairs", "MIN_OUTCOMES", "EVENTS_PER_FEATURE"]

"""The bounds checker misses no violator (s27h4).

The check (:class:`~mentormatch.solvers.bounded.check._Certifier`) clears the pairs outside a
row's pool by a guard (``floor_i`` and the fall of each mentor's price since the pool was
taken), re-checks the mentors whose price fell on bands of rows by room, and scans in full the
rows with least room (one cut, :func:`~mentormatch.solvers.bounded.recheck._split`). A check
that missed a violator would certify a wrong optimum: here each check's violators are compared
with brute force over the complete score matrix, on small pools (most pairs outside them), over
several rounds of prices that rise and fall (so that the pools have several generations), for
any change to the guard, the cut or the bands.
"""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch import synthetic
from mentormatch.scale import BIG
from mentormatch.solvers.bounded import _first_pass, check, exact
from mentormatch.solvers.sparse import _Sparse

from _support import exact_round, scorer_of

#: The check's tolerance (a flow's ``1 / scale`` is smaller; any positive number will do).
TOL = 2.0 ** -12


def _setup(seed: int, n: int, m: int, pool: int):
    """A scorer, its complete score matrix (internal rows; -inf where ineligible), the guide
    prices ``g`` that rank the first pass, and the checker on that pass's pools."""
    mentors, mentees = synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
    prep, _, _ = exact_round(mentors, mentees, None)
    scorer = scorer_of(prep, None)
    eligible = scorer.upper(0, scorer.n) > -BIG / 2
    ii, jj = np.nonzero(eligible)
    s = np.full((scorer.n, scorer.m), -np.inf)
    s[ii, jj] = scorer.exact_scores(ii, jj)
    rng = np.random.default_rng(seed)
    g = np.round(rng.uniform(0.0, 0.5, scorer.m) * 2.0 ** 20) / 2.0 ** 20
    e = np.zeros(0, np.int64)
    pl, _, _ = _first_pass(scorer, g, None, pool, 0, np.full(scorer.m, 3.0), np.ones(scorer.n, np.int64),
                           e, e, False)
    return scorer, s, g, check._Certifier(scorer, exact._Exact(scorer), pl, e, e, False)


def _round(rng, s, p):
    """Row prices ``u`` with violators in some rows (``u_i`` below the row's best by 0 to 0.3)
    and a chosen pair in every third row (its best under ``p``)."""
    n = s.shape[0]
    best = (s - p[None, :]).max(axis=1)
    u = best - TOL / 2 - rng.choice([0.0, 0.0, 0.01, 0.05, 0.3], n)
    u = np.where(np.isfinite(best), u, 0.0)
    ii = np.flatnonzero(np.isfinite(best))[::3]
    jj = np.argmax(s[ii] - p[None, :], axis=1)
    return u, _Sparse(ii, jj, jj, s[ii, jj])


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("pool", [2, 4, 8])
def test_each_check_returns_every_violator_brute_force_finds(seed, pool):
    """Every unchosen pair with ``s - u - p > tol`` and no other (``per_row`` every mentor,
    ``near`` 0), round after round while the prices move from the pools' by up to 0.3 either
    way; rows were scanned in full and mentors re-checked (the paths under test ran)."""
    scorer, s, g, c = _setup(seed, 160, 40, pool)
    rng = np.random.default_rng(100 + seed)
    p = g.copy()
    missed = 0
    for _ in range(4):
        p = np.round((p + rng.normal(0.0, 0.1, scorer.m)) * 2.0 ** 20) / 2.0 ** 20
        u, chosen = _round(rng, s, p)
        viol, eps = c(u, p, chosen.i, chosen.j, TOL, scorer.m, 0.0)
        gain = s - u[:, None] - p[None, :]
        gain[chosen.i, chosen.j] = -np.inf
        want = set(zip(*(x.tolist() for x in np.nonzero(gain > TOL))))
        got = set(zip(viol.i.tolist(), viol.j.tolist()))
        assert got <= want and len(want) > 0
        # every row with a violator has one returned (a crowded row, more suspects than a pass
        # keeps, may return only its most promising: the next round finds the rest)
        assert {i for i, _ in got} == {i for i, _ in want}
        missed += len(want - got)
    assert c.rows_rescanned > 0 and c.pairs_rechecked > 0
    assert missed > 0 or pool == 8  # (small pools: crowded rows returned some of their violators)

"""The bounds checker's gather of the tie rule's maybe-tight pairs (s25h3).

A check that finds no violator is followed by the tie rule's gather at the same prices
(:meth:`~mentormatch.solvers.bounded.check._Certifier.tight`): every unchosen pair with
``s - u - p > TIGHT_GAIN * tol``. A check after a round that added few pairs (likely the last:
``check.GATHER_AFTER``) now looks for those pairs in its own passes and hands them over, as the
complete set's checker does, instead of a second check of every pair. Either way the set is
compared with brute force over the complete score matrix, with rows crowded (more suspects
than a pass keeps) and several tight pairs planted in one row: the gather of 31cb7f7 rescanned
a crowded row only when none of its kept suspects was tight, and missed the others.
"""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch import synthetic
from mentormatch.scale import BIG
from mentormatch.solvers.bounded import _first_pass, check, exact, passes
from mentormatch.solvers.sparse import _Sparse
from mentormatch.solvers.ties import TIGHT_GAIN

from _support import exact_round, scorer_of

#: The check's tolerance (a flow's ``1 / scale`` is smaller; any positive number will do).
TOL = 2.0 ** -12


def _setup(seed: int, planted: int):
    """A scorer on a small organisation, its complete score matrix (internal rows; -inf where
    ineligible) and prices ``(u, p)`` with no violator and at least one maybe-tight pair a row:
    ``u_i = max_j (s_ij - p_j) - tol / 2``; in ``planted`` rows a second mentor's price is set
    so that its pair ties the row's best."""
    mentors, mentees = synthetic.organisation(n_mentees=90, n_mentors=24, seed=seed)
    prep, _, _ = exact_round(mentors, mentees, None)
    scorer = scorer_of(prep, None)
    n, m = scorer.n, scorer.m
    eligible = scorer.upper(0, n) > -BIG / 2
    ii, jj = np.nonzero(eligible)
    s = np.full((n, m), -np.inf)
    s[ii, jj] = scorer.exact_scores(ii, jj)
    rng = np.random.default_rng(seed)
    p = np.round(rng.uniform(0.0, 0.5, m) * 2.0 ** 20) / 2.0 ** 20
    rows = rng.choice(np.flatnonzero(eligible.sum(axis=1) >= 2), planted, replace=False)
    for i in rows:
        g = s[i] - p
        first = int(np.argmax(g))
        other = int(rng.choice(np.flatnonzero(eligible[i] & (np.arange(m) != first))))
        p[other] = s[i, other] - g[first]  # (i, other) ties (i, first)
    u = (s - p[None, :]).max(axis=1) - TOL / 2
    return scorer, s, u, p, rows


def _checker(scorer, pool: int):
    cap = np.full(scorer.m, 3.0)
    dem = np.ones(scorer.n, np.int64)
    e = np.zeros(0, np.int64)
    pl, _, _ = _first_pass(scorer, None, None, pool, 0, cap, dem, e, e, False)
    return check._Certifier(scorer, exact._Exact(scorer), pl, e, e, False)


def _brute(s, u, p, chosen: set, floor: float) -> set:
    g = s - u[:, None] - p[None, :]
    return {(i, j) for i, j in zip(*np.nonzero(g > floor)) if (i, j) not in chosen}


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("pool,kept", [(2, 1), (4, 2), (64, 64)])
@pytest.mark.parametrize("last", [True, False])
def test_the_tie_rule_gets_every_maybe_tight_pair(seed, pool, kept, last, monkeypatch):
    """No violator: the check returns none, and ``tight`` at the same prices returns every
    unchosen pair of gain above ``TIGHT_GAIN * tol`` (brute force), the planted ties included;
    after a round that added few pairs (``last``), without another pass (no row scanned, no
    mentor re-checked, no bound computed)."""
    monkeypatch.setattr(passes, "SUSPECTS_PER_ROW", kept)
    scorer, s, u, p, _ = _setup(seed, planted=6)
    ii = np.flatnonzero(np.isfinite(s).any(axis=1))[::7]  # some rows' best pairs chosen
    jj = np.argmax(s[ii] - p[None, :], axis=1)
    chosen = _Sparse(ii, jj, jj, s[ii, jj])
    c = _checker(scorer, pool)
    assert not c.stop(1 if last else 500, 1000)  # (the round before added 0.1 % or 50 %)
    viol, eps = c.check(u, p, chosen, TOL, 4)
    assert len(viol.i) == 0 and eps == TOL
    want = _brute(s, u, p, set(zip(ii.tolist(), jj.tolist())), TIGHT_GAIN * TOL)
    assert max(np.bincount([i for i, _ in want])) >= 2  # (rows with several: the planted ties)
    work = (c.rows_rescanned, c.pairs_rechecked, c.bound_pairs)
    got = c.tight(u, p, chosen, TIGHT_GAIN * TOL)
    assert ((c.rows_rescanned, c.pairs_rechecked, c.bound_pairs) == work) or not last
    assert set(zip(got.i.tolist(), got.j.tolist())) == want
    assert np.array_equal(got.s, s[got.i, got.j])


@pytest.mark.parametrize("seed", range(3))
def test_tight_at_other_prices_gathers_afresh(seed):
    """``tight`` at prices other than the last check's (other arrays) does its own check: the
    same brute-force set for those prices."""
    scorer, s, u, p, _ = _setup(seed, planted=3)
    chosen = _Sparse(*(np.zeros(0, np.int64),) * 3, np.zeros(0))
    c = _checker(scorer, 4)
    c.stop(1, 1000)
    c.check(u, p, chosen, TOL, 4)
    p2 = p + 0.125
    u2 = (s - p2[None, :]).max(axis=1) - TOL / 4
    got = c.tight(u2, p2, chosen, TIGHT_GAIN * TOL)
    assert set(zip(got.i.tolist(), got.j.tolist())) == _brute(s, u2, p2, set(), TIGHT_GAIN * TOL)


@pytest.mark.parametrize("seed", range(3))
def test_a_check_with_violators_gathers_nothing(seed):
    """A violator (a row's price lowered below its best pair's gain): the check returns it and
    hands the tie rule nothing, so ``tight`` (were it called) checks afresh."""
    scorer, s, u, p, _ = _setup(seed, planted=2)
    i = int(np.flatnonzero(np.isfinite(s).any(axis=1))[0])
    u = u.copy()
    u[i] -= 0.5
    chosen = _Sparse(*(np.zeros(0, np.int64),) * 3, np.zeros(0))
    c = _checker(scorer, 4)
    c.stop(1, 1000)
    viol, _ = c.check(u, p, chosen, TOL, 4)
    assert i in viol.i.tolist() and c.near is None

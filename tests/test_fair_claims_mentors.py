"""The mentors' side of a max-min or leximin stop's bounds on bounds (s26h9).

A stop on bounds states its bounds with no pass after the limit (s26h6): the figures are the
scorer's row ceilings and eligible counts. Each mentor's best score was the largest row ceiling
for every mentor, so where the first flow itself stopped the total's bound came from the
mentees' side alone (gap 42-44 % at 20,000 x 5,000 and 100,000 x 20,000). The first pass of
that flow now keeps each mentor's ceiling (its best ``bound - price`` plus the price, with the
float32 rounding and the scorer's margin: :func:`mentormatch.solvers.bounded.ceiling.mentor_ceilings`),
and the stop's figures read it (:func:`mentormatch.solvers.fair_claims.source_claims`).

Pinned (each fails on s26merge at 230f961):

* the ceilings bound every eligible pair's exact score of each mentor (brute force over the
  complete score matrix), with prices, a threshold's lift at ``t = -inf``, locks and dead rows
  left out, blocks of a few rows, on the numpy scan and on the compiled one;
* a stop inside the first flow after its pass ran whole has a bound at most 1.2 ``T*`` (on
  s26merge 1.78-2.15 ``T*``: 56.8, 90.0, 67.6 for ``T*`` 31.9, 48.3, 31.5), still at least
  ``T*`` (``lex_milp``), with a count bound at least ``M*`` and a worst-pair bound at least
  ``t*``; the ceilings are not left in the answer's certificate.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from mentormatch import synthetic
from mentormatch.scale import BIG
from mentormatch.solvers.bounded import _first_pass, passes
from mentormatch.solvers.threshold import ThresholdBounds

from _kernels import native_kernel
from _support import exact_round, scorer_of, table_violations
from test_fair_claims import _fair_round
from test_hunt_s23 import _accounted
from test_hunt_s24 import _pair_jumping


def _blocks_of(rows: int):
    """:func:`.passes._pass_blocks` with ``rows`` rows a block (several blocks on a small
    scorer: a block gives each mentor its best row alone)."""
    return lambda n, width: [(a, min(a + rows, n)) for a in range(0, n, rows)]


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("lifted", [False, True])
@pytest.mark.parametrize("native", [False, True])
def test_first_pass_mentor_ceilings_bound_every_exact_score(seed, lifted, native, monkeypatch):
    """Each mentor's ceiling from a first pass is at least the exact score of each of its
    eligible pairs that the pass scans (not the locks, not a row with no demand left; every
    pair of a mentor with no room is left out), and, where it has one, within ``1e-4`` of the
    largest bound plus the margin (the mentor's best, not a looser figure); ``-inf`` where a
    mentor has no such pair. With random prices, ``mentor_k`` 1 and 2, blocks of 7 rows, and a
    threshold's lift at ``t = -inf`` with a weight of ``2**20`` (max-min's first flow)."""
    from mentormatch.solvers.bounded import blockscan

    if native and native_kernel("scan") is None:
        pytest.skip("mentormatch._native.scan was not built")
    monkeypatch.setattr(blockscan, "scan_kernel", (lambda: native_kernel("scan")) if native else (lambda: None))
    monkeypatch.setattr(passes, "_pass_blocks", _blocks_of(7))
    mentors, mentees = synthetic.organisation(n_mentees=60, n_mentors=14, seed=seed)
    prep, _, _ = exact_round(mentors, mentees, None)
    base = scorer_of(prep, None)
    n, m = base.n, base.m
    up = base.upper(0, n).astype(np.float64)
    ii, jj = np.nonzero(up > -BIG / 2)
    exact = np.full((n, m), -np.inf)
    exact[ii, jj] = base.exact_scores(ii, jj)
    rng = np.random.default_rng(seed)
    cap = rng.integers(0, 4, m).astype(float)
    cap[0] = 0.0  # (a mentor with no room: every pair left out)
    dem = np.where(rng.random(n) < 0.15, 0, 1).astype(np.int64)
    locked = rng.choice(len(ii), 5, replace=False)
    li, lj = ii[locked], jj[locked]
    lock_order = np.lexsort((lj, li))
    li, lj = li[lock_order], lj[lock_order]
    w = 2.0 ** 20
    scorer = ThresholdBounds(base, -np.inf, w) if lifted else base
    price = rng.uniform(-1.0, 3.0, m) + (w if lifted else 0.0)  # (a lifted flow's prices hold w)
    for mentor_k in (1, 2):
        _, _, ceiling = _first_pass(scorer, price, None, 4, mentor_k, cap, dem, li, lj, False)
        scanned = np.isfinite(exact) & (dem > 0)[:, None] & (cap > 0)[None, :]
        scanned[li, lj] = False
        best = np.where(scanned, exact, -np.inf).max(axis=0)
        assert np.all(ceiling >= best), (mentor_k, np.flatnonzero(ceiling < best))
        bound = np.where(scanned, up, -np.inf).max(axis=0) + base.margin
        has = np.isfinite(best)
        assert np.all(np.isneginf(ceiling[~has]))
        assert np.all(ceiling[has] <= bound[has] + 1e-4), mentor_k
        assert has.sum() >= m // 2  # (the case is not empty)


def _first_flow_stops(seed: int, objective: str, monkeypatch):
    """``pair()`` on bounds with the clock jumping at each read up to the first flow's proof:
    (the reference ``(M, t, T)``, each stop's result with whether it stopped inside the first
    flow after that flow's first pass over every mentee ran whole)."""
    import mentormatch.solvers.bounded as bounded

    mentors, mentees, programme, complete, (M, t, T) = _fair_round(seed, objective)
    real, whole = bounded._first_pass, []

    def first_pass(scorer, *a, **k):  # (a pass cut by the limit raises)
        got = real(scorer, *a, **k)
        lift = getattr(scorer, "lift", None)
        whole.append(scorer.n == len(mentees) and lift is not None and lift[0] == -np.inf)
        return got

    monkeypatch.setattr(bounded, "_first_pass", first_pass)
    out = []
    _, n = _pair_jumping(mentors, mentees, programme, "bounds", None)
    for k in range(2, n + 1):
        whole.clear()
        r, _ = _pair_jumping(mentors, mentees, programme, "bounds", k)
        assert not isinstance(r, Exception), (k, r)
        assert _accounted(r, mentees) and table_violations(mentors, mentees, programme, r, complete) == []
        cert = r.certificate or {}
        inner = cert.get("maxmin") if isinstance(cert.get("maxmin"), dict) else cert
        if r.status != "optimal" and "count_bound" in cert:
            out.append((k, r, inner.get("flows") == 1 and not inner.get("count_proven") and any(whole)))
        if inner.get("count_proven"):  # (the first flow proven: its own bound on the total)
            break
    return (M, t, T), out


@pytest.mark.parametrize("objective", ["maxmin", "leximin"])
@pytest.mark.parametrize("seed", [2501, 2502, 2503])
def test_a_stop_inside_the_first_flow_has_a_tight_bound(seed, objective, monkeypatch):
    """Every stop up to the first flow's proof carries bounds at least ``T*``, ``M*`` and
    ``t*`` (``lex_milp``; leximin's ``T*`` its proven optimum's total), and no mentor ceilings
    in its certificate; every stop inside the first flow after its pass ran whole has a
    total's bound at most 1.2 ``T*`` (1.05-1.17 here), where s26merge stated 1.78-2.15 ``T*``
    (the largest row ceiling for every mentor) at some of them."""
    (M, t, T), stops = _first_flow_stops(seed, objective, monkeypatch)
    inside = []
    for k, r, first in stops:
        cert = r.certificate
        assert r.bound is not None and math.isfinite(r.bound) and r.bound >= T - 1e-6, (k, r.bound)
        assert cert["count_bound"] >= M and (M == 0 or cert["threshold_bound"] >= t - 1e-9), k
        assert "mentor_ceilings" not in cert and "mentor_ceilings" not in (cert.get("maxmin") or {}), k
        if first:
            inside.append(r.bound)
    assert inside, "no stop inside the first flow after its pass"
    assert max(inside) <= 1.2 * T, (T, sorted(set(inside)))

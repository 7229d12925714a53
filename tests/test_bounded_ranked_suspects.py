"""A crowded row's largest suspects taken from the pool's own ranking (``rank._suspects_ranked``):
the same suspects as listing every suspect and ranking a crowded row's among them (ties to the
lower column), whatever the ties, the chosen pairs and the ``-inf`` entries."""
from __future__ import annotations

import numpy as np
import pytest

from mentormatch.solvers.bounded import rank


def _reference(s_after: np.ndarray, limit: np.ndarray, per_row: int):
    """Every suspect (``s > limit``, the chosen pairs at ``-inf``); a row with more than
    ``per_row`` keeps its ``per_row`` largest, ties to the lower column (brute force, row by row)."""
    out, crowded = set(), []
    for r in range(len(s_after)):
        cols = np.flatnonzero(s_after[r] > limit[r])
        if len(cols) > per_row:
            crowded.append(r)
            cols = sorted(cols.tolist(), key=lambda c: (-float(s_after[r, c]), c))[:per_row]
        out |= {(r, int(c)) for c in cols}
    return out, crowded


@pytest.mark.parametrize("seed", range(12))
def test_ranked_suspects_equal_every_suspect_ranked(seed):
    rng = np.random.default_rng(seed)
    rows, width, per_row, pk = 14, [200, 1_500][seed % 2], 8, [8, 12][seed % 3 == 0]
    s = rng.normal(size=(rows, width)).astype(np.float32)
    if seed % 4 >= 2:
        s = np.round(s * 3) / 3  # many ties, at the cut too
    s[rng.random(s.shape) < 0.05] = -np.inf  # locks, ineligible pairs
    s[1, 3:] = -np.inf  # a row with fewer entries than the pool
    # chosen pairs: up to 3 a row, among the row's best (where they shift the ranking)
    ci, cj = [], []
    for r in range(rows):
        best = np.argsort(-s[r], kind="stable")[:6]
        pick = rng.choice(best, size=int(rng.integers(0, 4)), replace=False)
        ci += [r] * len(pick)
        cj += sorted(pick.tolist())
    ci, cj = np.array(ci, np.int64), np.array(cj, np.int64)
    more = int(np.bincount(ci, minlength=rows).max(initial=0))
    for share in (0.0, 0.01, 0.2, 0.9):  # no suspect ... most of every row
        limit = np.full(rows, np.quantile(s[np.isfinite(s)], 1 - share) if share else np.inf, np.float32)
        limit[0] = -np.inf if share else limit[0]  # every finite entry of row 0 a suspect
        _, c = rank._row_best(s, min(pk + more, width))  # the pool's ranking, before the chosen
        ranked = c.reshape(rows, -1)
        after = s.copy()
        after[ci, cj] = -np.inf
        above = after > limit[:, None]
        rr, cc, crowded = rank._suspects_ranked(after, above.copy(), ranked, limit, per_row)
        got = set(zip(rr.tolist(), cc.tolist()))
        want, want_crowded = _reference(after, limit, per_row)
        assert len(got) == len(rr)  # no pair twice
        assert got == want
        assert crowded.tolist() == want_crowded
        assert not any((r, c) in got for r, c in zip(ci.tolist(), cj.tolist()))  # no chosen pair


def test_the_pool_is_a_prefix_of_the_longer_ranking():
    """The pool taken as the first ``pk`` of a ranking ``pk + more`` long equals the ranking ``pk``
    long (one order: descending, ties to the lower column), which the scan relies on."""
    rng = np.random.default_rng(5)
    s = (np.round(rng.normal(size=(30, 2_000)) * 4) / 4).astype(np.float32)
    s[rng.random(s.shape) < 0.1] = -np.inf
    for pk, more in ((64, 1), (64, 5), (16, 3)):
        short = rank._row_best(s, pk)[1].reshape(30, pk)
        long = rank._row_best(s, pk + more)[1].reshape(30, pk + more)
        np.testing.assert_array_equal(long[:, :pk], short)

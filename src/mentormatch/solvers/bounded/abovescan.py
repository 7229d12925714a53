"""One block of the ranks' bound pass (:meth:`mentormatch.solvers.sources.BoundedSource.above`):
the pairs of a block of rows whose bound is above each row's limit, of the mentors priced at
least the row's floor. Two implementations, each keeping every pair the other keeps but for
pairs within a float32 rounding of the limit (the kernel adds the bound's terms in float64; the
scorer's ``margin`` below the limit covers both, so that the pairs scoring above the mentee's
chosen ones are among either's, and the ranks are the same): the compiled kernel
(:func:`mentormatch._native.gather.above_pairs`) where the bound is the default features' (coded
groups and one product column, :func:`mentormatch.scale_codes.fused_factors`), and the block
scan of the bound passes (:func:`.blockscan.scan`, after the product) otherwise.

The kernel screens each pair by its product column and groups' table entry against the limit
less the row's largest coded terms and reads the coded groups of the pairs it keeps (9-24 % of
those read at 100,000 x 20,000), with no product written nor read back. On the captured ranks'
pass at 100,000 x 20,000 (1.06e9 pairs read, ``/tmp/s30h6/ab.py``, alternated, load 4-6): the
kernel and its set-up 1.25 s thread CPU against 1.6-1.8 for the product and the block scan; the
whole pass 3.33-3.37 s CPU against 3.57-3.81, the same ranks. At 200,000 x 40,000 the blocks'
read 6.97 against 7.35 s (the pass 13.1-13.4 either way, load 6-9): the pairs the screen keeps
cost 6-8 ns each (13 lookups), as much as the block scan's AVX2 adds of every pair."""
from __future__ import annotations

import numpy as np

from ..._native import gather_kernel
from .blockscan import scan

_NONE = np.zeros(0, np.int64)


def price_up(price: np.ndarray) -> np.ndarray:
    """``price`` (float64) in float32, each rounded up (never below its float64 value)."""
    p32 = np.asarray(price, np.float64).astype(np.float32)
    return np.where(p32.astype(np.float64) < price, np.nextafter(p32, np.float32(np.inf)), p32)


def mentor_codes(view) -> np.ndarray | None:
    """``view``'s mentors' codes (mentors x groups: a mentor's side by side, as the kernel reads
    them), or None where :func:`above_block` takes the block scan; once a view."""
    kernel = gather_kernel()
    if kernel is None or not hasattr(kernel, "above_pairs") or getattr(view, "codes", None) is None:
        return None
    return np.ascontiguousarray(view.codes.T, np.uint8)


def above_block(view, a: int, b: int, out: np.ndarray, lim: np.ndarray, price: np.ndarray | None,
                need: np.ndarray | None, codes_t: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(rows, mentors) of ``view`` (a :class:`mentormatch.scale.BoundedScorer` or a bound
    source's scorer) among rows ``a:b`` whose float32 bound is above ``lim`` (float32, one a
    row of the block), row-major; with ``price`` (one a mentor of ``view``) and ``need`` (one a
    row of the block), only the pairs with ``price >= need``. ``out``: a float32 buffer of at
    least the block's pairs (the product, where the block scan runs)."""
    from ...scale import BoundedScorer

    split = type(view) is BoundedScorer
    if split and codes_t is not None:
        s, rest = view.upper_split(a, b, out, fused=True)  # (not fused: the product in ``s``)
        if rest.lmul is not None:
            inc = rest.inc if rest.inc is not None else (_NONE, _NONE, np.zeros(0, np.float32))
            put = rest.put if rest.put is not None else (_NONE, _NONE)
            return gather_kernel().above_pairs(
                np.ascontiguousarray(rest.edges, np.int64), np.ascontiguousarray(rest.adds, np.float32),
                codes_t, np.ascontiguousarray(rest.lookup, np.float32),
                np.ascontiguousarray(rest.lmul, np.float32), np.ascontiguousarray(rest.rmul, np.float32),
                np.ascontiguousarray(inc[0], np.int64), np.ascontiguousarray(inc[1], np.int64),
                np.ascontiguousarray(inc[2], np.float32), np.ascontiguousarray(put[0], np.int64),
                np.ascontiguousarray(put[1], np.int64), np.ascontiguousarray(lim, np.float32),
                np.zeros(view.m) if price is None else np.ascontiguousarray(price, np.float64),
                np.full(b - a, -np.inf) if need is None else np.ascontiguousarray(need, np.float64),
                np.zeros(view.m, np.float32) if price is None else price_up(price), float(view.largest))
    else:
        s, rest = view.upper_split(a, b, out) if split else (view.upper(a, b, out), None)
    _, (rr, cc, _), _ = scan(s, 0, np.ascontiguousarray(lim), _NONE, _NONE, max(1, s.shape[1]), True, None, rest)
    if price is not None:
        keep = price[cc] >= need[rr]
        rr, cc = rr[keep], cc[keep]
    return rr, cc

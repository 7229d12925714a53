"""The bounds checker's reads of its pools (:class:`mentormatch.solvers.bounded.check._Certifier`):
the pool pairs whose bound may clear the threshold (:func:`over`), each row's largest pool
value under new prices (:func:`top`), and the largest size of each row's values
(:func:`largest`, for their float32 error). The compiled twins (:mod:`mentormatch._native.scan`'s
``pool_over``, ``pool_top``, ``abs_max``: one walk of each row's pool) where built, else numpy
(:func:`numpy_over`, :func:`numpy_top`; ``MENTORMATCH_NATIVE``, see :mod:`mentormatch._native`);
both give the same floats, so the same pairs in the same order. At 200,000 x 40,000 the numpy form built rows x
k temporaries and gathered a generations x mentors table, about 0.5 s a check (s25h3); at
100,000 x 20,000 (pools of 64) numpy's largest sizes took 50-100 ms CPU at the first check,
the kernel's 15-35 (s31h5; a kernel for the pools' move to new prices, ``vals + delta[cols]``,
was no faster than numpy: 14 ms against 15, memory-bound)."""
from __future__ import annotations

import numpy as np

from ..._native import scan_kernel
from .rank import _nonzero


def numpy_over(rows, cols, vals, gen, prices, p, u, err, threshold: float, low: float):
    """``(i, j)``: the pool pairs of ``rows`` (row by row in their order, then in pool order)
    with ``vals > low`` and ``vals + (q[gen_i, j] - p_j) - u_i + err_i > threshold`` in float64
    (``q``: ``prices``, one vector a generation; a NaN anywhere: not kept)."""
    pc, pv = cols[rows], vals[rows]
    with np.errstate(invalid="ignore"):
        drop = np.vstack(prices) - p[None, :]  # per generation and mentor: q - p
        ub = pv + drop[gen[rows][:, None], pc] - u[rows, None] + err[rows, None]
        keep = (pv > low) & (ub > threshold)
    rr, cc = _nonzero(keep)
    return rows[rr], pc[rr, cc]


def numpy_top(cols, vals, gen, prices, pf, low: float) -> np.ndarray:
    """Per pool row, the largest ``vals + (q[gen_i, j] - pf_j)`` over its entries with ``vals >
    low``, in float64 (``q - pf`` of a non-finite ``q`` or ``pf``: ``-inf``; NaN when a term is
    NaN, as ``np.max``; ``-inf`` for a row with none)."""
    gens = np.vstack(prices)
    with np.errstate(invalid="ignore"):
        drop = gens - pf[None, :]
        drop = np.where(np.isfinite(gens) & np.isfinite(pf)[None, :], drop, -np.inf)
        v = vals + drop[gen[:, None], cols]
        v = np.where(vals > low, v, -np.inf)
    return v.max(axis=1, initial=-np.inf)


def over(rows, cols, vals, gen, prices, p, u, err, threshold: float, low: float):
    """:func:`numpy_over`, by the compiled kernel where built."""
    kernel = scan_kernel()
    if kernel is None:
        return numpy_over(rows, cols, vals, gen, prices, p, u, err, threshold, low)
    return kernel.pool_over(rows, cols, vals, gen, list(prices), p, u, err, float(threshold), float(low))


def top(cols, vals, gen, prices, pf, low: float) -> np.ndarray:
    """:func:`numpy_top`, by the compiled kernel where built."""
    kernel = scan_kernel()
    if kernel is None:
        return numpy_top(cols, vals, gen, prices, pf, low)
    return kernel.pool_top(cols, vals, gen, list(prices), pf, float(low))


def largest(x, low: float, axis: int) -> np.ndarray:
    """Along ``axis`` (1: per row, 0: per column) of the 2-d ``x``, the largest ``|x|`` over its
    finite entries above ``low``, 0 where none; by the compiled kernel where built and ``x`` is
    float64 (a float32 ``x`` is compared with ``low`` in float32, as numpy does)."""
    kernel = scan_kernel()
    if kernel is None or not hasattr(kernel, "abs_max") or x.dtype != np.float64 or x.ndim != 2:
        return np.where(np.isfinite(x) & (x > low), np.abs(x), 0.0).max(axis=axis, initial=0.0)
    return kernel.abs_max(x, float(low), axis == 1)

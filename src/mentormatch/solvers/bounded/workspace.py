"""What the bound passes (:mod:`.passes`, and :meth:`mentormatch.solvers.sources.BoundedSource.above`)
hold beside their blocks, kept for the whole process: one threadpoolctl controller (BLAS on one
thread while a pass's own threads run the products) and the block buffers of finished passes,
taken again by the next. Both were paid once a pass: a few hundred passes at 100,000 x 20,000
(the checks' re-checks are 10-25 passes a check)."""
from __future__ import annotations

import threading

import numpy as np

_BLAS = []  # the process's threadpoolctl controller, built once (blas_controller)


def blas_controller():
    """The process's ``threadpoolctl.ThreadpoolController``, built at the first call: building
    one reads the process's loaded libraries (3 ms CPU, 5-30 ms wall), and ``threadpool_limits``
    builds one each time, which the passes did once a pass (at 100,000 x 20,000 a few hundred:
    the checks' re-checks are 10-25 passes a check). The BLAS the passes use is numpy's, loaded
    with it, so before the first call; a forked child (:mod:`.child`) keeps the same libraries."""
    if not _BLAS:
        from threadpoolctl import ThreadpoolController

        _BLAS.append(ThreadpoolController())
    return _BLAS[0]


def one_blas_thread():
    """A context in which BLAS runs on one thread (a pass's products run on its own threads)."""
    return blas_controller().limit(limits=1, user_api="blas")


#: A pass's threads take their block buffers from those of the passes before (the smallest
#: that fits) and give them back at its end; at most this many are kept. A fresh buffer is
#: page-faulted at its first write: 1.8 ms CPU for 16 MB against 0.35 ms reused, once per
#: thread and pass, and the checks' re-checks are 10-25 passes a check.
KEEP_BUFFERS = 4
_BUFFERS: list = []
_BUFFERS_LOCK = threading.Lock()


def take_buffer(size: int) -> np.ndarray:
    """A float32 buffer of at least ``size`` entries, kept from an earlier pass or new."""
    with _BUFFERS_LOCK:
        for k, b in enumerate(_BUFFERS):  # (ascending size)
            if b.size >= size:
                return _BUFFERS.pop(k)
    return np.empty(size, np.float32)


def give_back(buffers: list) -> None:
    """The buffers of a pass that ended, kept for the next (the ``KEEP_BUFFERS`` largest)."""
    with _BUFFERS_LOCK:
        _BUFFERS.extend(buffers)
        _BUFFERS.sort(key=lambda b: b.size)
        del _BUFFERS[:-KEEP_BUFFERS]

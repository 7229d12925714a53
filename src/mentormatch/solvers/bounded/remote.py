"""The block passes of :mod:`mentormatch.solvers.bounded` on a ``concurrent.futures.Executor``.

Two kinds of work leave the process when an executor is given (:func:`executing`, or
``solve_bounded(..., executor=...)``, or the module default :data:`EXECUTOR`):

- **bound passes** (the first pass, the certificate's rows scanned in full and its mentor
  re-checks): the rows are cut into chunks of whole blocks (:data:`BLOCKS_PER_TASK`, the
  same blocks as in this process), and each task computes its blocks exactly as a thread here
  would (:func:`mentormatch.solvers.bounded.passes.scan_task`);
- **exact scores** of a batch of pairs, in chunks of :data:`PAIRS_PER_TASK`.

What a task carries is small. On a Dask executor a bound chunk carries a future of its rows
(:class:`SentOnce`: the view's bounds without the mentors' factors are scattered to every
worker once, and a small task cuts each chunk's rows from them there), the prices and its rows'
limits; elsewhere it carries its rows of the bound matrices (the mentees' factors, their stated
pairs and blocked pairs, the rows of the groups table its mentees use). The mentors' factors
are sent once per pass. Before :class:`SentOnce`, a task of the 20,000 x 6,000 sub-market's
pass carried about 13 MB (most of it the groups table's rows) and Dask warned of a "large
graph" for each.
An exact chunk carries its pairs and the scorer's lookup tables (the prepared features, the
two tables of people), sent once per solve: never a score matrix. "Sent once" means
``Client.scatter(..., broadcast=True)`` on a Dask executor (``Client.get_executor()``), and
otherwise a blob pickled once here and unpickled once per worker process
(:class:`Shared`).

Results equal the sequential run's: the blocks are the same, each block's computation is the
same code with BLAS on one thread, and the merges (pools and suspects in block order, each
mentor's best rows ranked with ties to the lower row) do not depend on which worker did what.
This module imports nothing of the solver (the passes import it). Where the solve would fork a child for its sub-market (:mod:`.child`), it runs on a thread of
this process instead while an executor is in use (a fork would copy the executor's connections):
the workers take the first pass's tasks while this process runs the sub-market's flows.
"""
from __future__ import annotations

import contextlib
import pickle
import threading
import uuid
from concurrent.futures import Executor

import numpy as np

#: The executor the bounded solve uses when none is given: None runs every pass in this
#: process (threads). ``pair()`` reaches the solve through this default.
EXECUTOR: Executor | None = None
#: Blocks of rows (about a million pairs each) per task of a bound pass.
BLOCKS_PER_TASK = 32
#: On a Dask executor, the rows of a pass of one task are sent in the task up to this many
#: bytes (pickled), and scattered beforehand above it (:class:`SentOnce`).
INLINE_BYTES = 1_000_000
#: Pairs per task of exact scoring; batches up to this size are scored here.
PAIRS_PER_TASK = 250_000

_state = threading.local()


#: :func:`here`'s mark: this thread's passes run here whatever :data:`EXECUTOR` says.
_HERE = object()


def current() -> Executor | None:
    """The executor of the running solve (:func:`executing`), else :data:`EXECUTOR`; None
    inside :func:`here`."""
    ex = getattr(_state, "executor", None)
    if ex is _HERE:
        return None
    return ex if ex is not None else EXECUTOR


@contextlib.contextmanager
def here():
    """Run the block passes inside the ``with`` on this process's threads (a task that is
    itself a solve, on a worker: :func:`mentormatch.solvers.bounded.market._guide_task`)."""
    before = getattr(_state, "executor", None)
    _state.executor = _HERE
    try:
        yield
    finally:
        _state.executor = before


def dask_client(executor: Executor | None):
    """The Dask client behind ``executor`` (a ``Client.get_executor()``), else None."""
    client = getattr(executor, "_client", None)
    return client if client is not None and hasattr(client, "scatter") else None


@contextlib.contextmanager
def executing(executor: Executor | None):
    """Run the block passes inside the ``with`` on ``executor`` (None: the current default)."""
    before = getattr(_state, "executor", None)
    _state.executor = executor if executor is not None else before
    try:
        yield
    finally:
        _state.executor = before


# --------------------------------------------------------------------------------------------
# values sent once
# --------------------------------------------------------------------------------------------
_CACHE: dict[str, object] = {}
_CACHE_SIZE = 4
_cache_lock = threading.Lock()


def _unpickled(token: str, blob: bytes):
    with _cache_lock:
        if token in _CACHE:
            return _CACHE[token]
    value = pickle.loads(blob)
    with _cache_lock:
        _CACHE[token] = value
        while len(_CACHE) > _CACHE_SIZE:  # the oldest first
            _CACHE.pop(next(iter(_CACHE)))
    return value


class Shared:
    """A value pickled once here (when first sent) and unpickled once per worker process (by a
    token): a task carrying it costs a copy of the bytes, not a pickling and unpickling of the
    value; on a thread pool it is never pickled."""

    def __init__(self, value):
        self.token = uuid.uuid4().hex
        self._value = value
        self._blob = None
        self._lock = threading.Lock()

    def __reduce__(self):
        with self._lock:
            if self._blob is None:
                self._blob = pickle.dumps(self._value, protocol=pickle.HIGHEST_PROTOCOL)
        return _unpickled, (self.token, self._blob)

    def get(self):
        return self._value


def ship(executor: Executor, value):
    """``value`` made ready to be an argument of many tasks on ``executor``: a Dask future
    (scattered to every worker) or a :class:`Shared`. :func:`value_of` undoes it in a task."""
    client = dask_client(executor)
    if client is not None:
        return client.scatter(value, broadcast=True, hash=False)
    return Shared(value)


class SentOnce:
    """A bounded view (a :class:`mentormatch.scale.BoundedScorer`, or one with a bonus folded
    in) whose bound passes on a Dask executor send its bounds once: the first chunk of a pass
    scatters ``view.bounds_rows(0, n)`` (every row's factors, stated and blocked pairs, the
    groups table's rows they use; not the mentors' factors) to every worker, and
    :meth:`bounds_rows` returns a future of a small task that cuts a chunk's rows from it on a
    worker (:func:`rows_task`), which the pass's task takes as its argument. The rows are cut
    by the same code as here, so the bounds are the same float32 values. Everything else
    (``upper``, ``exact_scores``, ``order``, ...) is the view's; subsets are sent once too."""

    def __init__(self, view, client):
        self.view, self.client = view, client
        self._all = None  # the future of every row's bounds, once scattered

    def __getattr__(self, name):
        if name.startswith("__") or name in ("view", "client", "_all"):  # (not set yet)
            raise AttributeError(name)
        return getattr(self.view, name)

    def subset(self, rows=None, cols=None) -> "SentOnce":
        return SentOnce(self.view.subset(rows=rows, cols=cols), self.client)

    def bounds_rows(self, a: int, b: int):
        if a == 0 and b >= self.view.n:  # one chunk: nothing to share; scattered when large
            part = self.view.bounds_rows(a, b)
            if len(pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL)) <= INLINE_BYTES:
                return part
            return self.client.scatter(part, hash=False)
        if self._all is None:
            self._all = self.client.scatter(self.view.bounds_rows(0, self.view.n), broadcast=True,
                                            hash=False)
        return self.client.submit(rows_task, self._all, a, b, pure=False)


def rows_task(bounds, a: int, b: int):
    """Rows ``a:b`` of a view's bounds sent once (:class:`SentOnce`), cut on a worker."""
    return bounds.bounds_rows(a, b)


def sent_once(view):
    """``view`` as a :class:`SentOnce` when the current executor is a Dask one, else itself."""
    client = dask_client(current())
    if client is None or isinstance(view, SentOnce):
        return view
    return SentOnce(view, client)


def value_of(x):
    """The value inside a task: a :class:`Shared` not pickled (a thread pool) is opened here;
    Dask has already replaced its future by the value, pickle a Shared by its value."""
    return x.get() if isinstance(x, Shared) else x


# --------------------------------------------------------------------------------------------
# the tasks
# --------------------------------------------------------------------------------------------
def chunks(blocks: list) -> list[list]:
    """The blocks of a pass in tasks of :data:`BLOCKS_PER_TASK` consecutive blocks."""
    step = max(1, BLOCKS_PER_TASK)
    return [blocks[k:k + step] for k in range(0, len(blocks), step)]


def sent(n_pairs: int) -> bool:
    """Whether a batch of ``n_pairs`` exact scores goes to the executor (else: scored here)."""
    return n_pairs >= PAIRS_PER_TASK


def exact_task(kit, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Exact scores of pairs (internal rows, mentors) from the scorer's lookup tables."""
    return value_of(kit).exact_scores(i, j)


def exact_scores(executor: Executor, kit, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``kit.exact_scores(i, j)`` in chunks of :data:`PAIRS_PER_TASK` on ``executor`` (``kit``
    from :func:`ship`)."""
    cuts = list(range(0, len(i), PAIRS_PER_TASK)) + [len(i)]
    futures = [executor.submit(exact_task, kit, i[a:b], j[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]
    return np.concatenate([f.result() for f in futures]) if futures else np.zeros(0)

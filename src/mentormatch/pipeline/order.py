"""The tie rule: people are solved in a seeded order of their ids, never in row order."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._native import assign_kernel


def seeded_order(ids, seed: int, *, texts: bool = False) -> np.ndarray:
    """The documented tie-breaking rule, first half. Rows are solved in the order of a keyed
    hash of their ids (pandas' SipHash-2-4, keyed by the seed), ties of the hash by the id
    itself: a person's position in this order is their *rank*. ``pair()`` solves its tables in
    this order (an index is a rank); ``assign()`` passes the ranks to the solver.

    Second half (:mod:`mentormatch.solvers.ties`): scores are quantized once (one power of two,
    :func:`mentormatch.solvers.quantize.choose_scale`) and among the assignments of equal optimal
    total the one of least sum of a per-pair key, a hash of the mentee's and the mentor's
    ranks, is returned, by a second min-cost flow on the optimal face. So the pairs depend on
    the ids, the scores and the seed only: shuffling the rows gives the same pairs, every pair
    source (complete set, blocks, bounds, ``assign()``'s dense path) gives the same pairs, and
    another seed may break ties differently. Answers under side constraints (the engine,
    CP-SAT) follow the same ranks where people are alike: :mod:`mentormatch.solvers.alike`.

    >>> seeded_order(["b", "a", "c"], 0).tolist() == seeded_order(["c", "b", "a"], 0).tolist()
    False
    >>> ids = ["b", "a", "c"]; [ids[k] for k in seeded_order(ids, 0)] == [["c", "b", "a"][k] for k in seeded_order(["c", "b", "a"], 0)]
    True
    """
    # texts: ``ids`` is an object array of str already (an Encoder's), used as it is (the copy
    # of str() took a fifth of this function at 200 ids)
    values = ids if texts else np.asarray([str(x) for x in ids], dtype=object)
    key = f"{int(seed) % (1 << 64):016x}"[-16:]
    hashed = _hashes(values, key)
    if not len(values):
        return np.zeros(0, np.int64)
    order = np.argsort(hashed)  # (equal hashes are handled below: any sort will do)
    h = hashed[order]
    if bool((h[1:] == h[:-1]).any()):  # a collision of the hash: the ids decide among them
        return np.lexsort((values.astype(str), hashed))
    return order  # distinct hashes: the ids never decide, the same order without comparing them


def _hashes(values: np.ndarray, key: str) -> np.ndarray:
    """``pandas.util.hash_array(values, hash_key=key, categorize=False)``: compiled where built
    (:func:`mentormatch._native.assign.text_hashes`, the same numbers: 3 us at 200 ids against
    pandas' 19-21), else, or for an id that is not a str or not encodable, pandas'."""
    kernel = assign_kernel()
    if kernel is not None and hasattr(kernel, "text_hashes"):
        try:
            return kernel.text_hashes(values, key.encode())
        except (TypeError, ValueError, UnicodeError):
            pass
    return pd.util.hash_array(values, hash_key=key, categorize=False)


def seeded_ranks(ids: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`seeded_order` of ``ids`` (an object array of str, an Encoder's) and each id's
    rank in it (the inverse permutation), by the compiled ``hash_ranks`` where built (the same
    order: at 200 ids 5.8 us, where ``seeded_order`` took 8.8 and the inverse 2 more; s32h1),
    else, or when two hashes are equal (the ids decide), by ``seeded_order``."""
    kernel = assign_kernel()
    if kernel is not None and hasattr(kernel, "hash_ranks") and len(ids):
        found = kernel.hash_ranks(_hashes(ids, f"{int(seed) % (1 << 64):016x}"[-16:]))
        if found is not None:
            return found
    order = seeded_order(ids, seed, texts=True)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return order, rank

"""The exact-score cache of the bounded solve (:class:`_Exact`): each pair scored once per solve,
on the solve's executor (:mod:`.remote`) or on this process's threads."""
from __future__ import annotations

import os
import time

import numpy as np

from ...pairs import unique_sorted
from .rank import _lookup
from .remote import current, exact_scores, sent, ship


#: At most this many pairs are kept (16 bytes each): the pairs a threshold flow's certificate
#: scores grow like rows x mentors (``s + W``'s float32 margin; 18.6 million at 40,000 x 8,000,
#: the cache and its merge 0.7 GB); beyond it a pair asked again is scored again (the same value).
CACHE_PAIRS = 1 << 24


class _Exact:
    """Exact scores already computed, by pair code, so that a pair is scored once per solve."""

    def __init__(self, scorer):
        self.scorer, self.m = scorer, scorer.m
        self.code = np.zeros(0, np.int64)
        self.value = np.zeros(0)
        self.computed = 0
        self.seconds = 0.0  # spent scoring
        self.kit = None  # (executor, the scorer's lookup tables shipped to it)

    def __call__(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        code = i.astype(np.int64) * self.m + j
        pos, known = _lookup(self.code, code)
        out = np.empty(len(code))
        out[known] = self.value[pos[known]]
        if not known.all():
            new_code = unique_sorted(code[~known])
            t = time.perf_counter()
            fresh = self._score(new_code // self.m, new_code % self.m)
            self.seconds += time.perf_counter() - t
            self.computed += len(new_code)
            out[~known] = fresh[np.searchsorted(new_code, code[~known])]
            if len(self.code) + len(new_code) > CACHE_PAIRS:  # full: scored again if asked again
                return out
            merged = np.concatenate([self.code, new_code])
            order = np.argsort(merged, kind="stable")
            self.code = merged[order]
            self.value = np.concatenate([self.value, fresh])[order]
        return out

    def _score(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Exact scores: on the solve's executor in chunks (:mod:`.remote`) when there is one
        and the batch is large; else a large batch in two halves on two threads (the
        extractors' numpy work releases the GIL: about 20 % faster at a million pairs)."""
        executor = current()
        if executor is not None and sent(len(i)) and hasattr(self.scorer, "exact_kit"):
            if self.kit is None or self.kit[0] is not executor:  # the lookup tables, sent once
                self.kit = (executor, ship(executor, self.scorer.exact_kit()))
            return exact_scores(executor, self.kit[1], i, j)
        if len(i) < 200_000 or (os.cpu_count() or 1) < 2:
            return self.scorer.exact_scores(i, j)
        from concurrent.futures import ThreadPoolExecutor

        half = len(i) // 2
        with ThreadPoolExecutor(2) as pool:
            parts = list(pool.map(lambda sl: self.scorer.exact_scores(i[sl], j[sl]),
                                  [slice(0, half), slice(half, None)]))
        return np.concatenate(parts)

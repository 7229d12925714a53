"""The tie rule: people are solved in a seeded order of their ids, never in row order."""
from __future__ import annotations

import numpy as np
import pandas as pd


def seeded_order(ids, seed: int) -> np.ndarray:
    """The documented tie-breaking rule. Rows are solved in the order of a keyed hash of their
    ids (pandas' SipHash-2-4, keyed by the seed), ties of the hash by the id itself. Among
    assignments of equal score the solvers' choice then depends on the ids and the seed only:
    shuffling the rows gives the same pairs, and another seed may break ties differently.

    >>> seeded_order(["b", "a", "c"], 0).tolist() == seeded_order(["c", "b", "a"], 0).tolist()
    False
    >>> ids = ["b", "a", "c"]; [ids[k] for k in seeded_order(ids, 0)] == [["c", "b", "a"][k] for k in seeded_order(["c", "b", "a"], 0)]
    True
    """
    values = np.asarray([str(x) for x in ids], dtype=object)
    key = f"{int(seed) % (1 << 64):016x}"[-16:]
    hashed = pd.util.hash_array(values, hash_key=key, categorize=False)
    return np.lexsort((values.astype(str), hashed)) if len(values) else np.zeros(0, np.int64)

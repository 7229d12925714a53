"""The instances every peer of the speed section solves, built from a seed alike for all, and the
checks of an answer on them: the objective recomputed on the scores, each violated constraint
counted (a peer's own claim is never taken); and the people that ``pair()`` is measured on at
scale (``scale.py``, ``run.py``'s section 5), with the switch that puts a small one on the scale
path."""
from __future__ import annotations


def organisation(n: int, m: int, c: int, seed: int):
    """``synthetic.organisation`` of ``n`` mentees and ``m`` mentors, every mentor's capacity set
    to ``c``: (mentors, mentees)."""
    from mentormatch import synthetic

    mentors, mentees = synthetic.organisation(n_mentees=n, n_mentors=m, seed=seed)
    mentors["capacity"] = c
    return mentors, mentees


def force_scale_path():
    """``pair()`` and ``prepare()`` in this process take the scale path (a bounded scorer, the
    bounded solve) at any size: smoke runs on small organisations, and the cost of a block
    measured on a scorer of a few thousand rows."""
    import mentormatch.pipeline as pl

    pl.LARGE_PAIRS, pl.SCORE_CACHE_PAIRS = 100, 200


def uniform_problem(n: int, m: int, seed: int):
    """Uniform random scores (mentees x mentors) and a 1% forbidden mask, the same for every peer."""
    import numpy as np

    rng = np.random.default_rng(seed)
    scores = rng.random((n, m))
    forbidden = rng.random((n, m)) < 0.01
    return scores, forbidden


def assign_frames(scores, forbidden, capacity: float):
    """The DataFrames ``mm.assign`` takes for one matrix (the public API's inputs): mentee ids
    ``e0, e1, ...`` by row, mentor ids ``m0, m1, ...`` by column, every mentor's ``capacity``.
    Returns (mentee ids, mentor ids, scores, forbidden, capacity)."""
    import pandas as pd

    n, m = scores.shape
    mentees = [f"e{i}" for i in range(n)]
    mentors = [f"m{j}" for j in range(m)]
    return (mentees, mentors, pd.DataFrame(scores, index=mentees, columns=mentors),
            pd.DataFrame(forbidden, index=mentees, columns=mentors), pd.Series(float(capacity), index=mentors))


def sparse_problem(n: int, m: int, k: int, seed: int):
    """Each mentee gets k distinct random candidate mentors with uniform scores (a sparse
    candidate list, as a pre-filter would give at scale). Pairs sorted by mentee then mentor."""
    import numpy as np

    rng = np.random.default_rng(seed)
    mentor = np.sort(np.argsort(rng.random((n, m), dtype=np.float32), axis=1)[:, :k], axis=1) \
        if n * m <= 50_000_000 else _sample_rows(rng, n, m, k)
    mentee = np.repeat(np.arange(n, dtype=np.int64), k)
    return mentee, mentor.ravel().astype(np.int64), rng.random(n * k)


def _sample_rows(rng, n, m, k):
    import numpy as np

    out = np.empty((n, k), dtype=np.int64)
    for a in range(0, n, 10_000):  # blocks of rows: k distinct mentors per row, by rejection
        b = min(a + 10_000, n)
        rows = rng.integers(0, m, size=(b - a, k * 2))
        for r in range(b - a):
            u = np.unique(rows[r])
            while len(u) < k:
                u = np.unique(np.concatenate([u, rng.integers(0, m, size=k)]))
            out[a + r] = np.sort(rng.choice(u, size=k, replace=False))
    return out


def check_sparse(score, mentee, mentor, n, m, cap) -> dict:
    import numpy as np

    key = mentee * m + mentor
    v = {"capacity": int((np.bincount(mentor, minlength=m) > cap).sum()),
         "demand": int((np.bincount(mentee, minlength=n) > 1).sum()),
         "duplicate": int(len(key) - len(np.unique(key)))}
    return {"objective": float(score.sum()), "pairs": int(len(mentee)),
            "matched_mentees": int(len(np.unique(mentee))), "violations": sum(v.values()),
            "violation_detail": v}


def check_assignment(scores, forbidden, mentee, mentor, cap, demand=1) -> dict:
    """Objective recomputed on the score matrix, and any violated constraint counted."""
    import numpy as np

    mentee = np.asarray(mentee, dtype=np.int64)
    mentor = np.asarray(mentor, dtype=np.int64)
    n, m = scores.shape
    key = mentee * m + mentor
    violations = {
        "forbidden": int(forbidden[mentee, mentor].sum()) if forbidden is not None else 0,
        "capacity": int((np.bincount(mentor, minlength=m) > cap).sum()),
        "demand": int((np.bincount(mentee, minlength=n) > demand).sum()),
        "duplicate": int(len(key) - len(np.unique(key))),
    }
    return {"objective": float(scores[mentee, mentor].sum()), "pairs": int(len(mentee)),
            "matched_mentees": int(len(np.unique(mentee))),
            "violations": sum(violations.values()), "violation_detail": violations}


def answer_row(checked: dict, answer) -> dict:
    """A mentormatch answer's row: ``checked`` (its pairs checked on the scores, above) and what
    the answer says of itself: its solver's time, its status cell (``cells.status_cell``), its gap."""
    from cells import status_cell

    return dict(checked, solver_time=answer.wall_time, status=status_cell(answer), gap=answer.gap)


def parse_sizes(text: str) -> list[tuple[int, int, int, int]]:
    """``NxM:C`` dense, ``NxM:C/K`` sparse with K random candidate mentors per mentee."""
    out = []
    for part in text.split(","):
        dims, _, rest = part.strip().partition(":")
        c, _, k = (rest or "4").partition("/")
        n, m = dims.lower().split("x")
        out.append((int(n.replace("_", "")), int(m.replace("_", "")), int(c), int(k or 0)))
    return out


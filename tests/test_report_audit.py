"""The audit's own computations checked against an independent one."""
import numpy as np
import pytest

from mentormatch.pairs import Candidates
from mentormatch.report.audit import blocking_positions
from mentormatch.solvers.base import AssignmentProblem
from mentormatch.solvers.stable import blocking_pairs


@pytest.mark.parametrize("seed", range(30))
def test_blocking_positions_equal_the_stable_module(seed):
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(1, 9)), int(rng.integers(1, 6))
    cand = Candidates.complete(n, m).subset(rng.random(n * m) < 0.8)
    score = rng.integers(0, 4, len(cand)) / 4.0  # many ties
    cap = rng.integers(0, 3, m).astype(float)
    problem = AssignmentProblem(cand, score, cap)
    # any assignment within the capacities, one mentor per mentee
    load = np.zeros(m, int)
    chosen, used = [], set()
    for k in rng.permutation(len(cand)):
        i, j = int(cand.mentee[k]), int(cand.mentor[k])
        if i not in used and load[j] < cap[j] and rng.random() < 0.7:
            chosen.append(k)
            used.add(i)
            load[j] += 1
    chosen = np.array(sorted(chosen), dtype=np.int64)
    assert blocking_positions(problem, chosen).tolist() == blocking_pairs(problem, chosen).tolist()

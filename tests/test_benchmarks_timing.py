"""``benchmarks/timing.repeat``, the one loop that times the benchmarks' calls: with ``then``,
the second call (the ladder's ``assign()`` with its tables read) runs right after each first
call, alternately, and has figures of its own; the budget counts the first call's seconds."""
from __future__ import annotations

import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from timing import repeat  # noqa: E402


def test_the_second_call_alternates_with_the_first_and_has_its_own_figures():
    seen = []
    t = repeat(lambda: seen.append("call") or len(seen), 3, math.inf, then=lambda: seen.append("then"))
    assert seen == ["call", "then"] * 3
    assert t.out == 5  # the last first call's output
    assert len(t.walls) == len(t.cpus) == len(t.then.walls) == len(t.then.cpus) == 3
    assert t.then.out is None and t.then.then is None
    assert t.summary()["runs"] == t.then.summary()["runs"] == 3


def test_without_a_second_call_there_is_none_and_the_budget_stops_after_one():
    seen = []
    t = repeat(lambda: seen.append("call"), 20, 0.0)
    assert seen == ["call"] and t.then is None
    t = repeat(lambda: seen.append("call"), 20, 0.0, then=lambda: seen.append("then"))
    assert seen == ["call", "call", "then"] and len(t.then.walls) == 1

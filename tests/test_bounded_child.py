"""The forked child of the scale path (:mod:`mentormatch.solvers.bounded.child`): it returns
what its computation returns, raises what it raises, says when it dies, and the solve gives
the same pairs and certificate whether the sub-market runs beside the first pass or before it."""
from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from mentormatch.solvers.bounded import child, passes

forks = pytest.mark.skipif(not child.can_fork(), reason="fork needs Linux and two cores")


@pytest.mark.parametrize("fork", [pytest.param(True, marks=forks), False])
def test_a_child_returns_its_computations_value(fork):
    c = child.Child(np.add, np.arange(4), 10, fork=fork)
    assert c.running is fork
    out = c.result()
    assert out.tolist() == [10, 11, 12, 13]
    assert not c.running


@pytest.mark.parametrize("fork", [pytest.param(True, marks=forks), False])
def test_a_child_raises_its_computations_exception(fork):
    c = child.Child(int, "twelve", fork=fork)
    with pytest.raises(ValueError, match="twelve"):
        c.result()


@forks
def test_a_forked_child_runs_in_another_process_and_a_plain_one_here():
    assert child.Child(os.getpid, fork=True).result() != os.getpid()
    assert child.Child(os.getpid, fork=False).result() == os.getpid()


@forks
def test_a_child_that_dies_without_a_result_is_reported_with_its_exit_code():
    c = child.Child(os._exit, 3, fork=True)
    with pytest.raises(RuntimeError, match="exit code 3"):
        c.result()


def test_done_gives_its_value_without_running_anything():
    c = child.Child.done((1, "x"))
    assert not c.running and c.result() == (1, "x")


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="no thread priorities here")
def test_a_background_thread_lowers_only_its_own_priority():
    seen = {}

    def work():
        passes._yield_cpu()
        seen["tid"] = threading.get_native_id()
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, seen["tid"])

    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen["nice"] == max(passes.BACKGROUND_NICE, before)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before  # this thread unchanged


@forks
def test_a_cancelled_child_is_ended_and_says_so():
    import time

    c = child.Child(time.sleep, 60, fork=True)
    proc = c.proc
    c.cancel()
    assert not proc.is_alive() and not c.running
    with pytest.raises(RuntimeError, match="cancelled"):
        c.result()


@forks
def test_a_child_may_fork_its_own():
    def outer():
        return child.Child(os.getpid, fork=True).result(), os.getpid()

    inner_pid, outer_pid = child.Child(outer, fork=True).result()
    assert len({inner_pid, outer_pid, os.getpid()}) == 3


@forks
def test_a_first_pass_that_fails_ends_the_child_beside_it(monkeypatch):
    import time
    from types import SimpleNamespace

    import mentormatch.solvers.bounded as bounded
    from mentormatch.solvers.bounded import first

    def boom(*args, **kwargs):
        raise MemoryError("the pass ran out of memory")

    later = child.Child(time.sleep, 60, fork=True)
    proc = later.proc
    monkeypatch.setattr(first, "_scan", boom)
    one = np.ones(2, np.int64)
    e = np.zeros(0, np.int64)
    with pytest.raises(MemoryError, match="out of memory"):
        bounded._first_pass(SimpleNamespace(n=2, m=2), None, later, 2, 1, one, one, e, e, False)
    assert not proc.is_alive() and not later.running


def test_a_thread_child_returns_raises_and_cancels():
    import threading

    got = child.InThread(lambda a, b: (a + b, threading.current_thread().name), 2, 3)
    assert got.running
    value, name = got.result()
    assert value == 5 and name == "mentormatch sub-market" and not got.running

    def fail():
        raise KeyError("no prices")

    with pytest.raises(KeyError, match="no prices"):
        child.InThread(fail).result()
    gate = threading.Event()
    slow = child.InThread(gate.wait, 5)
    slow.cancel()  # left to finish, unwaited
    assert not slow.running
    with pytest.raises(RuntimeError, match="cancelled"):
        slow.result()
    gate.set()

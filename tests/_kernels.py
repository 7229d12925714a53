"""Set-ups of the compiled kernels' tests (``mentormatch._native``), stated once: an optional
kernel, or None where it was not built (:func:`native_kernel`); the compiled warm repair's
modes (:func:`kernel_mode`); ``pair()`` with a kernel and with its numpy twin, the same
answer (:func:`same_with_and_without`).
"""
from __future__ import annotations

import importlib
import os

import mentormatch as mm
from mentormatch import _native

from _support import on_source


def native_kernel(name: str):
    """The optional compiled kernel ``mentormatch._native.<name>``, or None where it was not
    built (no C compiler where this was installed); under ``CI``, where the build is part of
    the install (``make test``), its absence fails."""
    try:
        return importlib.import_module(f"mentormatch._native.{name}")
    except ImportError:
        if os.environ.get("CI"):
            raise
        return None


def kernel_mode(monkeypatch, mode: str) -> None:
    """The compiled warm repair (:mod:`mentormatch.solvers.warm`) for any number of violators and
    scans (tests of its answers; the route and the budget have their own tests), in ``mode``:
    ``"phases"`` (searches from every excess throughout), ``"one"`` (one search a unit
    throughout, from the excess only), ``"meet"`` (one search a unit throughout, from both
    ends), anything else as routed."""
    from mentormatch.solvers import warm

    monkeypatch.setattr(warm, "NATIVE_SHARE", 10 ** 9)
    monkeypatch.setattr(warm, "MAX_SCANS", 10 ** 6)
    if mode == "phases":
        monkeypatch.setattr(warm, "MIN_BATCH_PATHS", 0)
    if mode in ("one", "meet"):
        monkeypatch.setattr(warm, "BATCH_SHARE", 0.0)
        monkeypatch.setattr(warm, "MEET_UNITS", 0 if mode == "one" else 10 ** 9)


def same_with_and_without(monkeypatch, name: str, kernel, mentors, mentees) -> tuple:
    """``pair()`` on the bounds source (the scale path's certified rounds, forced small) with
    the compiled kernel ``name`` stood in by ``kernel`` (a wrapper of it that records its
    calls, so that the comparison is not of one path), then with none (its numpy twin): both
    proven optimal, the same pairs and objective. Returns the two results."""
    results = []
    for k in (kernel, None):
        monkeypatch.setitem(_native._chosen, name, k)
        with on_source("bounds"):
            results.append(mm.pair(mentors, mentees))
    a, b = results
    assert a.status == b.status == "optimal"
    pairs = lambda r: sorted(zip(r.pairs["mentee_id"], r.pairs["mentor_id"]))
    assert pairs(a) == pairs(b)
    assert a.objective == b.objective
    return a, b

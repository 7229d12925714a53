"""The settings a sub-market solved on a worker receives (:func:`market._settings`): every module
of the solvers and bounds that a sub-market's solve runs, traced, is among them, and the
solvers it never runs are not."""
from __future__ import annotations

import sys
import threading

import numpy as np

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.solvers.bounded import market


def _has_settings(name: str) -> bool:
    return any(k.isupper() and type(v) in (int, float, bool) for k, v in vars(sys.modules[name]).items())


def test_a_sub_markets_settings_cover_every_solver_module_it_runs(monkeypatch):
    import mentormatch.solvers.bounded as bounded
    import mentormatch.solvers.engine  # noqa: F401  (loaded, never run by a sub-market)

    monkeypatch.setattr(bounded, "POOL_PER_ROW", 2)  # rows scanned again and mentor re-checks
    monkeypatch.setattr(market, "GUIDE_PAIRS", 3000)  # a sub-market, not itself guided (no fork)
    monkeypatch.setattr(market, "GUIDE_STEP", 3)
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    monkeypatch.setattr(pl, "SCORE_CACHE_PAIRS", 2000)
    mentors, mentees = synthetic.organisation(n_mentees=160, n_mentors=40, seed=2)
    mentors["capacity"] = 4
    scorer = pl.prepare(mentors, mentees).scorer
    sub = market._market(scorer, np.full(scorer.m, 4), np.ones(scorer.n, np.int64))
    assert sub is not None and market._market(sub.scorer, sub.cap, sub.dem) is None
    seen = set()

    def profile(frame, event, arg):
        if event == "call":
            seen.add(frame.f_globals.get("__name__", ""))

    sys.setprofile(profile)
    threading.setprofile(profile)
    try:
        prices, info = market._guide(bounded._solve, sub, 0)
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    assert prices is not None and info["rounds"] >= 1
    ran = {name for name in seen if name.startswith(("mentormatch.solvers", "mentormatch.scale"))}
    assert {"mentormatch.solvers.bounded.check", "mentormatch.solvers.flow"} <= ran
    sent = {name for name, _ in market._settings(scorer)}
    assert {name for name in ran if _has_settings(name)} <= sent
    assert "mentormatch.solvers.engine" not in sent and _has_settings("mentormatch.solvers.engine")

"""The bounded solve's record of where its time went (``certificate["work"]``): the pairs its
passes bounded, recounted from the certificate's own counts, and each sub-market's record."""
from __future__ import annotations

import numpy as np

from mentormatch import pipeline as pl
from mentormatch import synthetic
from mentormatch.solvers import SolverOptions
from mentormatch.solvers.bounded import market, solve_bounded


def test_the_work_record_counts_the_passes_bound_pairs(monkeypatch):
    import mentormatch.solvers.bounded as bounded

    monkeypatch.setattr(bounded, "POOL_PER_ROW", 2)  # rows scanned again and mentor re-checks
    monkeypatch.setattr(market, "GUIDE_PAIRS", 0)  # and a sub-market
    monkeypatch.setattr(market, "GUIDE_STEP", 3)
    mentors, mentees = synthetic.organisation(n_mentees=160, n_mentors=40, seed=2)
    mentors["capacity"] = 4
    monkeypatch.setattr(pl, "LARGE_PAIRS", 1000)
    monkeypatch.setattr(pl, "SCORE_CACHE_PAIRS", 2000)
    scorer = pl.prepare(mentors, mentees).scorer
    n, m = scorer.n, scorer.m
    _, solution = solve_bounded(scorer, np.full(m, 4.0), options=SolverOptions(top_k=1))
    cert = solution.certificate
    work = cert["work"]
    assert cert["holds"] and work["first_pass_pairs"] == n * m
    # every row scanned again is a whole row; every mentor re-check a pair; crowded rows more
    assert work["check_bound_pairs"] >= cert["rows_scanned_again"] * m + cert["pairs_rechecked_by_mentor"]
    assert cert["rows_scanned_again"] + cert["pairs_rechecked_by_mentor"] > 0
    assert all(work[k] >= 0 for k in ("first_pass", "flows", "prices", "checks", "exact_scores"))
    # the sub-market's own record, with its own first pass over its rows
    sub = cert["first_prices"]
    assert sub["work"]["first_pass_pairs"] == sub["mentees"] * m

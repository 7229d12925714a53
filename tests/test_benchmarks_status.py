"""The status cell of BENCHMARKS.md's tables: an answer that the time limit stopped reads
"feasible (time limit)" (``benchmarks/cells.status_cell``, from ``certificate["timed_out"]``), so
that a reader sees why it is not proven optimal. Each script that prints a status takes it from
the result through that one function: run.py's quality and scale sections, ladder.py, scale.py,
rounds.py. Until session 33 they printed "feasible" alone (these tests fail on 6e42983, which
has no ``cells`` module and printed ``result.status``)."""
from __future__ import annotations

import queue
import sys
from pathlib import Path

import pytest

import mentormatch as mm
import mentormatch.pipeline as pl
from mentormatch import synthetic

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from cells import status_cell  # noqa: E402

#: A time limit that every solve passes before its first flow ends.
STOPPED = 1e-9


@pytest.fixture(scope="module")
def tables():
    return synthetic.organisation(n_mentees=60, n_mentors=20, seed=1)


@pytest.fixture
def stopped_pair(monkeypatch):
    """``mm.pair`` and ``pipeline.prepare`` with the programme's time limit at :data:`STOPPED`
    (the scripts call them without one)."""
    pair, prepare = pl.pair, pl.prepare

    def limited(programme):  # the scripts pass None or a dict
        return dict(programme or {}, time_limit=STOPPED)

    monkeypatch.setattr(mm, "pair", lambda mentors, mentees, programme=None:
                        pair(mentors, mentees, limited(programme)))
    monkeypatch.setattr(pl, "pair", lambda mentors, mentees, programme=None:
                        pair(mentors, mentees, limited(programme)))
    monkeypatch.setattr(pl, "prepare", lambda mentors, mentees, programme=None:
                        prepare(mentors, mentees, limited(programme)))


def test_a_timed_out_answer_reads_feasible_time_limit(tables):
    mentors, mentees = tables
    stopped = mm.pair(mentors, mentees, {"time_limit": STOPPED})
    assert stopped.status == "feasible" and stopped.certificate["timed_out"] is True
    assert status_cell(stopped) == "feasible (time limit)"
    done = mm.pair(mentors, mentees)
    assert not done.certificate.get("timed_out") and status_cell(done) == done.status == "optimal"


def test_run_scale_section_prints_it(tables, stopped_pair):
    """run.py's section 5 (and its headline line), from its worker's row."""
    import run_scale

    row = dict(run_scale.w_pair_scale({"n": 60, "m": 20, "c": 3, "seed": 1}), status_run="ok",
               peak_rss_mb=100.0, n=60, m=20, c=3)
    assert row["status"] == "feasible (time limit)"
    table = [x for x in run_scale.scale_section([row]) if x.startswith("| 60 x 20 (c=3) |")]
    assert len(table) == 1 and "| feasible (time limit) |" in table[0]
    assert "status feasible (time limit);" in run_scale.headline_scale([row])[0]


def test_run_quality_row_says_it(stopped_pair):
    """run.py's section 1 prints ``mm.pair``'s status from its worker's row."""
    import run_quality

    row = run_quality.w_quality({"n": 40, "m": 12, "seed": 1, "random_seeds": 2})
    assert row["status"] == "feasible (time limit)"


def test_the_ladder_prints_it(stopped_pair):
    """ladder.py's pair() row (its worker, in this process)."""
    import ladder

    out = queue.Queue()
    ladder._pair(60, 20, out)
    assert out.get_nowait()["status"] == "feasible (time limit)"


def test_scale_script_prints_it(monkeypatch):
    """benchmarks/scale.py's worker and its table row."""
    import scale

    monkeypatch.setattr(scale, "TIME_LIMIT", STOPPED)
    row = dict(scale.worker({"n": 60, "m": 20, "c": 3, "seed": 1}), status_run="ok", n=60, m=20, c=3)
    assert row["status"] == "feasible (time limit)"
    assert "| feasible (time limit) |" in scale.fmt_row(row)


def test_rounds_print_it():
    """benchmarks/rounds.py's rows (its table prints their status)."""
    import rounds

    rows = rounds.rounds(120, 30, 1, seed=1, bonuses=False, time_limit=STOPPED)
    assert rows[0]["status"] == "feasible (time limit)" and rows[0]["timed_out"] is True

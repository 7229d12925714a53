"""The benchmarks must keep running: a tiny ``benchmarks/run.py --smoke`` in a subprocess."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def test_benchmarks_smoke(tmp_path):
    out = tmp_path / "BENCH.md"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke",
                           "--write", str(out)], capture_output=True, text=True, timeout=180,
                          cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    for section in ("## Machine", "## 1. Quality on synthetic organisations",
                    "## 2. Speed and peak memory of solving", "## 3. Against mentor-match 7.0.1",
                    "## 4. Time against size", "## 5. End to end at scale"):
        assert section in text, section
    raw = json.loads(out.with_suffix(".json").read_text())
    # our own solver must run at every smoke size, find a valid assignment and agree with scipy
    ours = {(r["n"], r["m"], r["k"]): r for r in raw["speed"] if r["peer"] == "mentormatch solver(flow)"}
    scipy = {(r["n"], r["m"], r["k"]): r for r in raw["speed"] if r["peer"] == "scipy linear_sum_assignment"}
    assert ours and all(r["status_run"] == "ok" and r["violations"] == 0 for r in ours.values()), ours
    assert any(r["k"] for r in ours.values()), "the sparse variant ran"
    for size, r in ours.items():
        if ours[size]["k"]:  # sparse variant: scipy does not take it
            continue
        assert abs(r["objective"] - scipy[size]["objective"]) < 1e-6 * max(1.0, r["objective"])
    # the plain numpy reference of scoring ran and computed the same values as score_pairs
    refs = [r["reference"] for r in raw["scoring"]]
    assert refs and all(r["status_run"] == "ok" and r["max_abs_diff_values"] == 0.0 for r in refs), refs
    # the end-to-end run took the bounded scale path and proved its result optimal
    scale = raw["scale"][0]
    assert scale["status_run"] == "ok", scale
    assert scale["status"] == "optimal" and scale["holds"], scale
    assert scale["path"] == "sparse_min_cost_flow+dual_check_on_bounds"
    assert scale["matched"] + scale["unmatched"] == scale["n"]
    assert 0 < scale["random_matched"] <= scale["n"]
    assert "BENCHMARKS.md" not in {p.name for p in tmp_path.iterdir()}
    # every speed figure is the minimum of warm, repeated calls, with its median, on both clocks
    for r in raw["speed"]:
        if r["status_run"] == "ok":
            assert r["runs"] >= 1 and r["time"] <= r["time_median"] and r["cpu"] <= r["cpu_median"], r
    assert all(r["runs"] == 20 for r in raw["speed"] if r["status_run"] == "ok"
               and r["peer"] in ("mentormatch assign(flow)", "lap.lapjv"))
    # the headline's speed lines state assign() against the fastest exact peer from those figures
    head = text[text.index("## Headline"):text.index("## 1. Quality")]
    assert "- 30 x 10 (capacity 3, 1% forbidden): `assign()` " in head and "the fastest exact peer" in head
    _refresh_speed_only(out, text)


def _refresh_speed_only(out, before):
    """``--sections speed`` replaces section 2 and the headline's speed lines in place, and
    leaves every other section (run.py's and the other scripts') as it was."""
    from sections import markers

    def block(text, name):
        begin, end = markers(name)
        return text[text.index(begin):text.index(end)]

    out.write_text(before + "\n<!-- ladder: begin -->\nthe ladder\n<!-- ladder: end -->\n")
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--sections",
                           "speed", "--sizes", "20x6:3", "--write", str(out)],
                          capture_output=True, text=True, timeout=180, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-3000:]
    after = out.read_text()
    for name in ("run_machine", "run_headline_quality", "run_quality", "run_mentor_match", "run_scale",
                 "ladder"):
        assert block(after, name) == block(before + "<!-- ladder: begin -->\nthe ladder\n<!-- ladder: end -->",
                                           name), name
    assert "| 20 x 6 (c=3) |" in block(after, "run_speed") and "30 x 10" not in block(after, "run_speed")
    assert "--sections speed" in block(after, "run_speed")
    assert "- 20 x 6 (capacity 3" in block(after, "run_headline_speed")


def test_some_sections_are_written_only_into_a_report_that_has_them(tmp_path):
    """``sections.write_blocks``: a whole write puts every block in order and keeps the other
    scripts' sections; a partial one replaces its blocks in place, and refuses a file that
    lacks them rather than append half a report."""
    from sections import write_blocks

    path = tmp_path / "B.md"
    path.write_text("# old\n\n<!-- ladder: begin -->\nL\n<!-- ladder: end -->\n")
    write_blocks(path, ["# B", ""], ["a", "b"], {"a": ["A1"], "b": ["B1"]}, before={"b": ["## over b"]})
    assert path.read_text() == ("# B\n\n<!-- a: begin -->\nA1\n<!-- a: end -->\n## over b\n<!-- b: begin -->"
                                "\nB1\n<!-- b: end -->\n\n<!-- ladder: begin -->\nL\n<!-- ladder: end -->\n")
    write_blocks(path, ["# ignored"], ["a", "b"], {"b": ["B2"]})
    assert "B2" in path.read_text() and "B1" not in path.read_text() and "A1" in path.read_text()
    fresh = tmp_path / "C.md"
    fresh.write_text("# C\n")
    with pytest.raises(SystemExit, match="write the whole report once"):
        write_blocks(fresh, ["# C"], ["a", "b"], {"b": ["B2"]})
    assert fresh.read_text() == "# C\n"


def test_rounds_benchmark_smoke(tmp_path):
    """benchmarks/rounds.py runs (tiny size): every round accounted for, carried pairs from
    round 2, joiners and leavers each round; --write puts its section in (and replaces it)."""
    out = tmp_path / "BENCH.md"
    out.write_text("# Benchmarks\n\nearlier text\n")
    for _ in range(2):  # the second run replaces the section
        proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "rounds.py"), "--mentees",
                               "120", "--mentors", "30", "--rounds", "3", "--write", str(out)],
                              capture_output=True, text=True, timeout=180, cwd=str(ROOT))
    text = out.read_text()
    assert text.startswith("# Benchmarks\n\nearlier text\n") and text.count("rounds: begin") == 1
    assert "benchmarks/rounds.py --mentees 120 --mentors 30 --rounds 3" in text
    assert len([x for x in text.splitlines() if x.startswith("| 3 | 120 x 30 |")]) == 1
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [x for x in proc.stdout.splitlines() if x.startswith("round ")]
    assert len(lines) == 3 and "error" not in proc.stdout, proc.stdout
    assert all("leavers     12" in x for x in lines[1:]) and "carried      0" not in lines[2]


def test_scale_benchmark_smoke(tmp_path):
    """``benchmarks/scale.py`` on tiny organisations forced onto the scale path: it measures,
    writes its section and projects from what it measured."""
    out = tmp_path / "B.md"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "scale.py"), "300x80:5", "600x120:5",
                           "--force-scale", "--project", "2000x400:5", "--write", str(out),
                           "--json", str(tmp_path / "rows.json")],
                          capture_output=True, text=True, timeout=600, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = out.read_text()
    assert "<!-- scale: begin -->" in text and "Projection to 2,000 x 400" in text
    rows = json.loads((tmp_path / "rows.json").read_text())
    assert [r["status"] for r in rows] == ["optimal", "optimal"] and all(r["holds"] for r in rows)
    assert all(r["work"]["first_pass_pairs"] == r["n"] * r["m"] for r in rows)
    assert all(r["block_cost"]["seconds_per_million_pairs"] > 0 for r in rows)


def test_scoring_target_benchmark_smoke(tmp_path):
    """``benchmarks/scoring_target.py`` (the issue's scoring target) at a tiny size: both spans
    measured, both totals equal to ``score_pairs``'s at the check size, the section written
    with the ratio."""
    out = tmp_path / "B.md"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "scoring_target.py"), "--size", "60x20",
                           "--check", "30x10", "--repeats", "1", "--write", str(out)],
                          capture_output=True, text=True, timeout=600, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-2000:]
    check = next(x for x in proc.stdout.splitlines() if x.startswith("check at 30 x 10"))
    assert [float(v.split()[-1]) for v in check.split(": ", 1)[1].split(", ")] <= [1e-9, 1e-9], check
    text = out.read_text()
    assert "<!-- scoring_target: begin -->" in text and "<!-- scoring_target: end -->" in text
    assert "60 mentees x 20 mentors (1,200 pairs)" in text and "score_totals / numpy on tables:" in text


def _ladder(tmp_path, *flags):
    out = tmp_path / "B.md"
    out.write_text("# Benchmarks\n")
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "ladder.py"), "--skip-pair",
                           "--assign-sizes", "6x3", *flags, "--write", str(out)],
                          capture_output=True, text=True, timeout=600, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = out.read_text()
    assert text.count("<!-- ladder: begin -->") == 1 and text.startswith("# Benchmarks")
    return text[text.index("<!-- ladder: begin -->"):]


def test_the_ladder_writes_assign_on_uniform_and_on_tied_scores_as_two_tables(tmp_path):
    """``benchmarks/ladder.py``: by default one table on uniform scores and one on scores in
    4 levels (ties), in its one section, each row optimal with lap's objective; ``--ties``
    writes the ties table alone."""
    section = _ladder(tmp_path)
    titles = [x for x in section.splitlines() if x.startswith("### assign()")]
    assert len(titles) == 2 and "uniform scores" in titles[0] and "(ties)" in titles[1], titles
    rows = [x for x in section.splitlines() if x.startswith("| 6 x 3 ")]
    assert len(rows) == 2 and all("| optimal |" in x and "| yes |" in x for x in rows), rows
    ties_only = _ladder(tmp_path, "--ties")
    titles = [x for x in ties_only.splitlines() if x.startswith("### assign()")]
    assert len(titles) == 1 and "(ties)" in titles[0], titles

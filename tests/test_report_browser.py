"""The HTML report as a browser renders it: headless Chromium (Debian's ``chromium``) at 1400 and
420 px. Skipped with a message when chromium is missing, except under CI=true, where it fails.

Headless Chromium will not make a window narrower than 500 px, so the 420 px check loads the
report in a 420 px iframe; the page's own test hook (``?mm-test``) measures the width after
load and posts it to the frame's parent.
"""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

import mentormatch as mm


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed, and CI=true: install it with "
                        "`apt-get install -y chromium` (.ci/run does)")
        pytest.skip("chromium is not installed (apt-get install -y chromium); the rendered report "
                    "is not checked")
    return exe


def _dump(exe: str, url: str, width: int, height: int, profile) -> str:
    out = subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={profile}", f"--window-size={width},{height}",
         "--virtual-time-budget=8000", "--dump-dom", url],
        capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    exe = _chromium()
    d = tmp_path_factory.mktemp("browser")
    mentors, mentees = mm.synthetic.organisation(n_mentees=120, n_mentors=40, seed=3)
    result = mm.pair(mentors, mentees)
    result.to_html(d / "report.html", sensitivity=True)  # the opt-in sections too
    result.to_csv(d)  # pairs.csv, for `mentormatch revise` beside the people's tables
    mentors.to_csv(d / "mentors.csv", index=False)
    mentees.to_csv(d / "mentees.csv", index=False)
    frame = ('<!DOCTYPE html><html><body style="margin:0"><pre id="out"></pre>'
             '<iframe src="report.html?{q}" style="width:{w}px;height:2000px;border:0"></iframe>'
             "<script>window.addEventListener('message',function(e){{"
             "document.getElementById('out').textContent=e.data;}});</script></body></html>")
    for w in (420, 1400):
        (d / f"frame{w}.html").write_text(frame.format(w=w, q="mm-test"), encoding="utf-8")
    (d / "decide.html").write_text(frame.format(w=1400, q="mm-test-decide"), encoding="utf-8")
    # every collapsed section open (as when printed): the programme settings, the tables
    (d / "open420.html").write_text(frame.format(w=420, q="mm-test-open"), encoding="utf-8")
    out = {"dir": d, "result": result, "mentors": mentors, "mentees": mentees}
    out["page"] = _dump(exe, (d / "report.html").as_uri(), 1400, 2000, d / "profile")
    for name, w in (("frame420", 600), ("frame1400", 1500), ("decide", 1500), ("open420", 600)):
        dom = _dump(exe, (d / f"{name}.html").as_uri(), w, 2100, d / "profile")
        m = re.search(r'<pre id="out">([^<]*)</pre>', dom)
        assert m and m.group(1), f"the report's test hook did not report in {name}.html"
        out[name] = json.loads(html.unescape(m.group(1)))
    return out


def _text(dom: str) -> str:
    body = re.sub(r"<script.*?</script>|<style.*?</style>", " ", dom, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_every_mentee_and_mentor_is_named_on_the_rendered_page(rendered):
    text = _text(rendered["page"])
    missing = [n for n in pd.concat([rendered["mentees"]["name"], rendered["mentors"]["name"]])
               if n not in text]
    assert not missing, f"{len(missing)} names not on the page, e.g. {missing[:3]}"


def test_no_error_text_on_the_page(rendered):
    text = _text(rendered["page"])
    for bad in ("Traceback", "Error", "Exception", "no stable baseline", "problem, column", "nan ",
                "e+0"):
        assert bad not in text, bad


def test_the_plots_are_present_and_load(rendered):
    for key in ("frame420", "frame1400"):
        r = rendered[key]
        assert r["images"] >= 5 and r["imagesLoaded"] == r["images"], r


@pytest.mark.parametrize("key", ["frame420", "frame1400", "open420"])
def test_no_horizontal_overflow(rendered, key):
    r = rendered[key]
    assert r["scrollWidth"] <= r["clientWidth"], r
    if key.endswith("420"):
        assert r["clientWidth"] <= 420


def test_about_this_run_and_sensitivity_render(rendered):
    """The provenance ("About this run": inputs, rows, versions, settings) and the opt-in
    sensitivity section with its chart are on the rendered page."""
    text = _text(rendered["page"])
    about = text.split("About this run")[1].split("Glossary")[0]
    assert "a DataFrame (no file)" in about and "Programme settings" in about
    assert f"{len(rendered['mentees']):,}" in about and "mentormatch" in about
    assert '"seed": 0' in about  # the settings, collapsed
    sens = text.split("Sensitivity to the weights")[1].split("About this run")[0]
    assert "mentees changed (up)" in sens
    assert 'alt="sensitivity of the pairing to each weight"' in rendered["page"]


def test_the_page_decisions_csv_is_in_the_revise_format(rendered):
    text = rendered["decide"]["decisions"]
    lines = text.strip().splitlines()
    assert lines[0] == "mentee_id,mentor_id,decision"
    pairs = rendered["result"].pairs
    first = pairs.iloc[0]
    assert lines[1] == f"{first.mentee_id},{first.mentor_id},accept"
    assert lines[2].endswith(",decline") and len(lines) == 3
    assert rendered["decide"]["blob"] == text  # what the download button saves
    assert rendered["decide"]["counted"] == "2"


def test_the_cli_reads_back_the_decisions_the_page_wrote(rendered):
    d = rendered["dir"]
    (d / "decisions.csv").write_text(rendered["decide"]["decisions"], encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "mentormatch.cli", "revise", "--pairs", str(d / "pairs.csv"),
                          "--decisions", str(d / "decisions.csv"), "--out", str(d / "revised")],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "1 accepted, 1 declined" in run.stdout
    lines = rendered["decide"]["decisions"].strip().splitlines()[1:]
    (a_e, a_m, _), (d_e, d_m, _) = (line.split(",") for line in lines)
    new = pd.read_csv(d / "revised" / "pairs.csv", dtype=str)
    got = set(zip(new["mentee_id"], new["mentor_id"]))
    assert (a_e, a_m) in got and (d_e, d_m) not in got

"""The HTML report and the audit: parses, holds every pair and unmatched mentee, embeds its plots,
loads nothing from the network; the audit's tables hold the figures they claim."""
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import mentormatch as mm
from mentormatch.report.audit import Audit, audit
from mentormatch.report.html import repr_html, to_html

from report_people import people as _people


def people(prefix, n, mentor, rng):
    return _people(prefix, n, mentor, rng, stipends=True)


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(0)
    mentors, mentees = people("M", 8, True, rng), people("E", 20, False, rng)
    mentees.loc[3, "id"] = "=cmd|' /C calc'!A0"  # a formula-looking id must be escaped in CSV
    return mm.pair(mentors, mentees, programme={"weights": {"geography": 1.0, "experience": 1.0}})


@pytest.fixture(scope="module")
def report(result, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.html"
    text = to_html(result.data, result.pairs, result.unmatched, result.contributions, result.summary(),
                   result.objective, path)
    assert path.read_text(encoding="utf-8") == text
    return text


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.urls, self.text, self.stack = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for k, v in attrs:
            if k in ("src", "href") and v is not None:
                self.urls.append(v)

    def handle_data(self, data):
        self.text.append(data)


def test_report_parses_and_holds_every_pair_and_unmatched(report, result):
    p = _Collect()
    p.feed(report)
    p.close()
    text = "".join(p.text)
    assert p.tags.count("table") >= 3
    for row in result.pairs.itertuples():
        assert row.mentee_id in text and row.mentor_id in text
    assert len(result.unmatched)
    for row in result.unmatched.itertuples():
        assert row.mentee_id in text and row.reason in text
    n_rows = report.count('<div class="pair"')
    assert n_rows == len(result.pairs)


def test_report_embeds_its_plots_and_loads_nothing(report):
    p = _Collect()
    p.feed(report)
    imgs = [u for u in p.urls if u.startswith("data:image/png;base64,")]
    assert len(imgs) >= 4  # score vs random, contributions, load, distance
    assert not [u for u in p.urls if re.match(r"\s*(https?:)?//", u)]
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", report)
    assert "@import" not in report and "url(http" not in report


def test_report_escapes_text(report):
    assert "<script>alert" not in report
    assert "=cmd|&#x27; /C calc&#x27;!A0" in report


def test_repr_html_is_compact(result):
    text = repr_html(result.summary(), result.pairs, result.unmatched)
    p = _Collect()
    p.feed(text)
    assert "objective" in text and len(text) < 5000


def test_audit_tables(result, tmp_path):
    a = audit(result.data, result.pairs, result.unmatched, result.objective, seeds=20)
    assert isinstance(a, Audit)
    lift = a.lift.set_index("method")
    assert lift.loc["random", "runs"] == 20
    assert lift.loc["random", "total_mean"] <= result.objective + 1e-9
    assert lift.loc["greedy", "total_mean"] <= result.objective + 1e-9
    assert {"result", "random", "greedy"} <= set(lift.index)
    # random totals recomputed independently with the random solver
    from mentormatch.pipeline import baseline

    totals = [baseline(result, "random", seed=s).objective for s in range(20)]
    assert lift.loc["random", "total_mean"] == pytest.approx(np.mean(totals), rel=1e-9)
    assert lift.loc["random", "total_std"] == pytest.approx(np.std(totals, ddof=1), rel=1e-9)
    # histogram counts every pair once
    assert a.histogram["optimal"].sum() == len(result.pairs)
    # top-3 share from the pairs' ranks
    top3 = a.top_choice.set_index("top_k").loc[3, "share"]
    assert top3 == pytest.approx((result.pairs.groupby("mentee_id")["rank"].min() <= 3).sum() / result.n_mentees)
    # fairness by each of level, role, department, region and gender the mentees table has
    f = a.fairness
    mentees = result.data["mentees"]
    assert set(f["attribute"]) == {c for c in ("level", "role", "department", "gender", "region")
                                   if c in mentees.columns}
    # a group is flagged exactly when matched at under 0.8 x the overall rate
    overall = result.pairs["mentee_id"].nunique() / result.n_mentees
    assert (f["flag"] == (f["matched"] / f["mentees"] < 0.8 * overall)).all()
    mentees = result.data["mentees"]
    for row in f[f["attribute"] == "gender"].itertuples():
        ids = set(mentees.loc[mentees["gender"] == row.group, "id"])
        got = result.pairs[result.pairs["mentee_id"].isin(ids)]
        assert row.matched == got["mentee_id"].nunique()
        assert row.mean_score == pytest.approx(got["score"].mean())
        assert row.min_score == pytest.approx(got["score"].min())
    # load histogram and stipends
    assert a.load["mentors"].sum() == result.data["n_mentors"]
    load = result.pairs["mentor_id"].value_counts()
    paid = a.budget.set_index("metric").loc["stipends_paid", "value"]
    assert paid == pytest.approx(100.0 * len(load) + 50.0 * load.sum())
    assert "blocking_pairs" in set(a.blocking["metric"])
    files = a.to_csv(tmp_path)
    assert all(p.exists() for p in files.values())
    assert str(a)


# ---- the programme lead's report
def test_report_has_one_decision_control_per_pair(report, result):
    for row in result.pairs.itertuples():
        assert f'data-e="{html_escape(row.mentee_id)}" data-m="{html_escape(row.mentor_id)}"' in report
    assert report.count('class="mm-dec"') == len(result.pairs)
    assert "Download decisions.csv" in report and "Glossary" in report


def test_report_shows_no_internal_error_text_and_formats_numbers():
    mentors, mentees = mm.synthetic.organisation(n_mentees=40, n_mentors=12, seed=5)
    result = mm.pair(mentors, mentees, {"constraints": {"coverage_first": True, "budget": 105500.0}})
    a = result.audit(seeds=2)
    assert any("stable" in n for n in a.notes)  # the stable baseline cannot take coverage_first
    text = result.to_html(None) + to_html(result.data, result.pairs, result.unmatched,
                                          result.contributions, result.summary(), result.objective,
                                          audit=a)
    assert "no stable baseline" not in text and "problem, column" not in text
    assert not re.search(r"\d\.?\d*e[+-]\d", re.sub(r"data:image/png;base64,[^\"]+", "", text))
    assert "105,500" in text  # the budget, in money format


def html_escape(s):
    import html

    return html.escape(s, quote=True)


def test_scale_path_pairs_are_explained_in_words(monkeypatch, tmp_path):
    import mentormatch.pipeline as pl

    monkeypatch.setattr(pl, "LARGE_PAIRS", 100)
    mentors, mentees = mm.synthetic.organisation(n_mentees=40, n_mentors=12, seed=6)
    result = mm.pair(mentors, mentees)
    assert result.data.get("scale_path") and result.data.get("complete") is None
    pairs = pd.read_csv(result.to_csv(tmp_path)["pairs"])
    assert pairs["explanation"].str.contains("geography").all()
    assert "score supplied by the caller" not in result.to_html(None, seeds=1)


def test_report_shows_a_programmes_outcomes_by_cohort():
    mentors, mentees = mm.synthetic.organisation(n_mentees=30, n_mentors=10, seed=2)
    prog = mm.Programme()
    r1 = prog.run_round(mentors, mentees, date="2026-01-15")
    first = r1.pairs.iloc[0]
    prog.record_outcomes(pd.DataFrame({"mentee_id": [first.mentee_id], "mentor_id": [first.mentor_id],
                                       "promoted": ["2026-06-01"]}))
    text = r1.to_html(None, seeds=1, outcomes=prog.metrics())
    assert "Outcomes by cohort" in text and "100%" in text.split("Outcomes by cohort")[1]
    assert "Outcomes by cohort" not in r1.to_html(None, seeds=1)


def test_mentor_ids_in_reasons_get_their_names():
    from mentormatch.report.sections import named

    m = pd.DataFrame({"name": ["Ana Ruiz", "Bo Li"]}, index=["E00008", "M2"])
    out = named(pd.Series(["the best match, E00008 (score 4.5 with this mentee), is full; mentor M2 too",
                           "no M20 here"]), m)
    assert out == ["the best match, E00008 (Ana Ruiz; score 4.5 with this mentee), is full; mentor M2 (Bo Li) too",
                   "no M20 here"]


def _section(text: str, title: str) -> str:
    body = text.split(f"<h2>{title}</h2>")[1]
    return body.split("<h2>")[0]


def test_about_this_run_shows_the_provenance(tmp_path):
    """Inputs with the short SHA-256 of their files and their rows, versions, the date and,
    collapsed, every programme setting. (Regression: a report of tables read from files
    failed in the data-coverage section, on the arrays in the tables' attrs.)"""
    import hashlib
    import html as _html
    import json

    mentors, mentees = mm.synthetic.organisation(n_mentees=14, n_mentors=5, seed=6)
    mentors.to_csv(tmp_path / "mentors.csv", index=False)
    mentees.to_csv(tmp_path / "mentees.csv", index=False)
    result = mm.pair(tmp_path / "mentors.csv", tmp_path / "mentees.csv", {"seed": 7, "time_limit": 12.5})
    about = _section(result.to_html(None, seeds=1), "About this run")
    for table, rows in (("mentors", 5), ("mentees", 14)):
        digest = hashlib.sha256((tmp_path / f"{table}.csv").read_bytes()).hexdigest()
        row = [r for r in about.split("<tr>") if f">{table}<" in r]
        assert len(row) == 1, table
        assert digest[:12] + "…" in row[0] and digest not in about  # the short form
        assert _html.escape(str(tmp_path / f"{table}.csv")) in row[0] and f">{rows}<" in row[0]
    prov = result.provenance()
    assert f"mentormatch {prov.versions['mentormatch']}" in about
    assert prov.created[:10] in about  # the date
    settings = about.split('<pre class="settings">')[1].split("</pre>")[0]
    assert "<details>" in about.split('<pre class="settings">')[0].rsplit("<summary>", 1)[0][-200:]
    assert json.loads(_html.unescape(settings)) == json.loads(prov.to_json())["programme"]
    assert json.loads(_html.unescape(settings))["time_limit"] == 12.5


def test_about_this_run_for_dataframes_and_report_without_it(result):
    text = result.to_html(None, seeds=1)
    about = _section(text, "About this run")
    assert about.count("a DataFrame (no file)") == 2 and "–" in about
    # the report module alone (no provenance handed to it) has no such section
    bare = to_html(result.data, result.pairs, result.unmatched, result.contributions, result.summary(),
                   result.objective, audit=audit(result.data, result.pairs, result.unmatched,
                                                 result.objective, seeds=1))
    assert "About this run" not in bare


@pytest.fixture(scope="module")
def small():
    mentors, mentees = mm.synthetic.organisation(n_mentees=16, n_mentors=5, seed=8)
    return mm.pair(mentors, mentees)


def test_sensitivity_is_off_by_default_and_opt_in(small):
    from mentormatch.errors import ValidationError

    plain = small.to_html(None, seeds=1)
    assert "Sensitivity to the weights" not in plain
    text = small.to_html(None, seeds=1, sensitivity=True)
    sec = _section(text, "Sensitivity to the weights")
    assert text.count("<img") == plain.count("<img") + 1 and 'src="data:image/png;base64,' in sec
    table = small.sensitivity()  # the default step, as to_html runs it
    n = len(small.data["mentees"])
    for feature, r in table.iterrows():
        row = [x for x in sec.split("<tr>") if f">{feature}<" in x]
        assert len(row) == 1, feature
        for side in ("down", "up"):
            c = int(r[f"changed_{side}"])
            assert f">{c:,} ({c / n:.0%})<" in row[0], (feature, side)
    assert len([x for x in sec.split("<tr>")[2:]]) == len(table)  # one row per weighted feature
    # a table computed beforehand (another step) is shown as given, without re-solving
    other = small.sensitivity(step=0.5)
    fake = other.assign(changed_up=pd.array([n] * len(other), dtype="Int64"))
    sec2 = _section(small.to_html(None, seeds=1, sensitivity=fake), "Sensitivity to the weights")
    assert sec2.count(f">{n:,} (100%)<") == len(other)
    with pytest.raises(ValidationError) as info:
        small.to_html(None, seeds=1, sensitivity="yes")
    assert info.value.problems[0].column == "sensitivity"
    with pytest.raises(ValidationError) as info:
        small.to_html(None, seeds=1, sensitivity=pd.DataFrame({"weight": [1.0]}))
    assert info.value.problems[0].column == "weight_down"


def test_outcomes_in_the_report_match_the_programme_metrics():
    """The cohort table shows each round's promotion rate, median days to promotion and
    retention as Programme.metrics() computes them; by mentor it says so; a wrong type is
    refused naming the parameter."""
    from mentormatch.errors import ValidationError

    mentors, mentees = mm.synthetic.organisation(n_mentees=24, n_mentors=8, seed=5)
    prog = mm.Programme()
    r1 = prog.run_round(mentors, mentees, date="2026-01-15")
    ids = r1.pairs["mentee_id"].tolist()
    prog.record_outcomes(pd.DataFrame({
        "mentee_id": ids[:4], "mentor_id": r1.pairs["mentor_id"].tolist()[:4],
        "promoted": ["2026-03-16", "2026-05-15", "", ""], "left": ["", "", "", "2026-04-01"]}))
    metrics = prog.metrics()
    paired = metrics[metrics["group"] == "paired"].iloc[0]
    sec = _section(r1.to_html(None, seeds=1, outcomes=metrics), "Outcomes by cohort")
    row = [x for x in sec.split("<tr>") if ">paired<" in x][0]
    assert f">{paired.promotion_rate:.0%}<" in row and ">50%<" in row  # 2 of the 4 reported
    assert f">{paired.retention:.0%}<" in row and ">75%<" in row  # 1 of the 4 left
    assert f">{paired.median_days_to_promotion:g}<" in row  # 60 and 120 days: 90
    by_mentor = r1.to_html(None, seeds=1, outcomes=prog.metrics(by="mentor"))
    assert "Outcomes by mentor" in by_mentor and "Outcomes by cohort" not in by_mentor
    with pytest.raises(ValidationError) as info:
        r1.to_html(None, seeds=1, outcomes={"promotion_rate": 0.5})
    assert info.value.problems[0].column == "outcomes"

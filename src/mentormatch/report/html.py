"""A standalone HTML report for the programme lead (inline CSS, inline JS, plots as data: URIs;
loads nothing from the network) and the compact notebook summary. Works on the pieces of a
result; never imports the result class.

The page speaks of people, not ids: each person is shown by name, id, role and level. It holds
the headline figures, who is served (matched share and mean score by group, gaps flagged),
the pairs with their reasons, development plan and accept/decline controls (which download a
``decisions.csv`` that ``mentormatch revise`` reads), each mentor's roster, the mentees
without a mentor by reason and group, which features had data, the comparison with random
pairing, stability, budget, and a glossary. Long sections are collapsed and searchable, so a
2,000-mentee report stays navigable; the layout holds at 420 px and prints.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import plots
from .audit import FLAG_RATIO, Audit, audit as _audit
from .page import CSS, JS, capped_note, esc, fmt, labels, people, shown_of, table, who
from .phrases import protected_notes
from .plans import plans as _plans
from .partial import partial_reasons
from .words import random_rules
from .sections import (GLOSSARY, about_section, coverage, geo_values, named, outcomes_section,
                       pairs_section, roster, sensitivity_section, unmatched_section)

__all__ = ["to_html", "repr_html", "render", "DECISION_COLUMNS", "MAX_ROWS", "fmt", "people"]

#: The columns of the decisions.csv the page downloads (and ``mentormatch revise`` reads).
DECISION_COLUMNS = ["mentee_id", "mentor_id", "decision"]
#: At most this many pairs and unmatched mentees are listed (the rest are in the CSV files).
MAX_ROWS = 5000
#: Up to this many pairs the list of pairs is open when the page loads (collapsed above: search).
OPEN_PAIRS = 200


def render(data: dict, pairs: pd.DataFrame, unmatched: pd.DataFrame, contributions: pd.DataFrame,
           summary: dict, objective: float, audit: Audit | None = None, seeds: int = 3,
           title: str = "Mentoring pairs: programme report", max_rows: int | None = MAX_ROWS,
           outcomes: pd.DataFrame | None = None, sensitivity: pd.DataFrame | None = None,
           provenance: Mapping[str, Any] | None = None) -> str:
    """The report as one HTML string (see :func:`to_html`)."""
    a = audit if audit is not None else _audit(data, pairs, unmatched, objective, seeds=seeds,
                                               baselines=("random",))
    fw = data.get("framework")
    titles = dict(getattr(fw, "titles", {}) or {})
    e_info, m_info = people(data.get("mentees"), titles), people(data.get("mentors"), titles)
    n_e = int(summary.get("mentees") or 0)
    matched = int(summary.get("matched_mentees", pairs["mentee_id"].nunique() if len(pairs) else 0))
    figs = dict(a.summary.itertuples(index=False))

    # ---- headline
    cards = [(f"{matched:,} of {n_e:,}", "mentees with a mentor"),
             (f"{len(unmatched):,}", "without a mentor"),
             (f"{len(pairs):,}", "pairs"),
             (fmt(float(summary.get("mean_score", 0.0))), "mean match score")]
    lift = figs.get("lift_over_random")
    if lift is not None and np.isfinite(lift):
        cards.append((f"{lift - 1:+.0%}", "total match score vs random pairing"))
    if "share_top3" in figs:
        cards.append((f"{figs['share_top3']:.0%}", "got one of their 3 best-suited mentors"))
    status = summary.get("status")
    cards.append(({"optimal": "proven best", "feasible": "good, not proven best"}.get(status, str(status)),
                  "quality of this pairing"))
    card_html = "".join(f'<div class="card"><b>{esc(v)}</b><span>{esc(k)}</span></div>' for v, k in cards)
    fair = a.fairness
    if len(fair) and titles:  # roles by their titles
        is_role = (fair["attribute"] == "role").to_numpy()
        fair = fair.assign(group=[titles.get(g, g) if r else g for g, r in zip(fair["group"], is_role)])
    overall = matched / n_e if n_e else 1.0
    notes = [n[0].upper() + n[1:] + "." for n in protected_notes(data)]
    for r in fair.loc[fair["flag"]].itertuples() if len(fair) else []:
        notes.append(f"Flagged: {r.attribute} {r.group} has {r.matched:,} of {r.mentees:,} mentees matched "
                     f"({r.matched_share:.0%}), under {FLAG_RATIO:g} x the {overall:.0%} for everyone.")
    note_html = "".join(f'<p class="note">{esc(n)}</p>' for n in notes)

    # ---- groups
    group_img = plots.group_plot(fair, overall, FLAG_RATIO) if len(fair) else None
    if len(fair):
        ft = fair.assign(status=np.where(fair["flag"], "flagged", ""))[
            ["attribute", "group", "mentees", "matched", "matched_share", "mean_score", "status", "flag"]]
        ft = ft.rename(columns={"attribute": "group column"})
        group_html = ((f'<img class="plot" src="{group_img}" alt="matched share by group">' if group_img else "")
                      + "<details><summary>The figures by group</summary>"
                      + table(ft, flag="flag", pct=("matched_share",)) + "</details>")
    else:
        group_html = "<p>The mentees table has no group column (level, role, department, region, gender).</p>"

    # ---- plots
    imgs = [plots.score_distribution(a.histogram), plots.contributions_plot(contributions),
            plots.load_plot(a.mentors)]
    geo, key = geo_values(data, pairs)
    if geo is not None:
        imgs.append(plots.distance_plot(geo, key))
    alts = ["match scores: this pairing vs random pairing", "what the match scores are made of",
            "mentees per mentor", f"{key.replace('_', ' ')} of the pairs"]
    plot_html = "".join(f'<img src="{uri}" alt="{esc(alt)}">' for uri, alt in zip(imgs, alts) if uri)

    # ---- pairs, rosters, unmatched
    shown = pairs.head(max_rows) if max_rows is not None and max_rows >= 0 else pairs
    plan_frame = _plans(data, shown)
    pairs_html = pairs_section(data, shown, e_info, m_info, plan_frame)
    roster_html = roster(pairs, a, e_info, m_info)
    un_html = unmatched_section(unmatched, data, e_info, m_info, max_rows, titles)
    part = partial_reasons(data["problem"], data["solution"].chosen, data["mentee_ids"].ids,
                           data["mentor_ids"].ids) if "problem" in data and "solution" in data else None
    if part is not None and len(part):
        labs = labels(e_info, part["mentee_id"])
        items = "".join(f"<div class='roster'>{who(lab, str(r.mentee_id))}<br><span class='meta'>"
                        f"{esc(t)}</span></div>"
                        for r, lab, t in zip(part.itertuples(index=False), labs, named(part["reason"], m_info)))
        un_html += (f"<h3>Fewer mentors than they need ({len(part):,})</h3><details class='section'>"
                    f"<summary>Mentees who need several mentors and got fewer</summary>{items}</details>")

    # ---- data coverage, comparison, stability, budget
    cov = coverage(data)
    cov_html = ("<p>Each feature counts only where its data are present; for anyone without them it "
                "is neutral (0.5). Said here once, not on every pair.</p>"
                + table(cov, flag="gap")) if len(cov) else \
        "<p>The match scores were supplied by the caller; no feature data.</p>"
    lift_df = a.lift
    cmp_parts = []
    rnd = lift_df.loc[lift_df["method"] == "random"] if len(lift_df) else lift_df
    side_rules = data["problem"].side.active() if data.get("problem") is not None else []
    if len(rnd):
        r = rnd.iloc[0]
        cmp_parts.append(
            f"<p>This pairing's total match score is {fmt(objective)}. Pairing the same people at "
            f"random {esc(random_rules(side_rules))} gives {fmt(float(r.total_mean))} on average "
            f"(over {int(r.runs)} draws, spread {fmt(float(r.total_std))}), with "
            f"{fmt(float(r.matched))} mentees matched against {matched:,} here: this pairing is "
            f"{objective / r.total_mean - 1:+.0%} on the total.</p>" if r.total_mean > 0 else "")
    tops = a.top_choice
    if len(tops):
        cmp_parts.append("<p>" + "; ".join(
            f"{int(t.mentees):,} mentees ({t.share:.0%}) got one of their {int(t.top_k)} best-suited mentors"
            if t.top_k > 1 else f"{int(t.mentees):,} ({t.share:.0%}) got their best-suited mentor"
            for t in tops.itertuples()) + ".</p>")
    bl = dict(a.blocking.itertuples(index=False)) if len(a.blocking) else {}
    stab = ""
    if "blocking_pairs" in bl:
        n_bp = int(bl["blocking_pairs"])
        bp = a.blocking_pairs
        stab = (f"<p>{n_bp:,} blocking pairs: a mentee and a mentor, not paired together, who would each "
                f"rather be with the other (by match score) than with whom they have. The pairing "
                f"maximises the total, which may leave some.</p>")
        if len(bp):
            listed = bp.assign(mentee=labels(e_info, bp["mentee_id"]), mentor=labels(m_info, bp["mentor_id"]))[
                ["mentee", "mentor", "score", "mentee_current_score", "mentor_worst_score"]].rename(columns={
                    "score": "their match score", "mentee_current_score": "mentee's current",
                    "mentor_worst_score": "mentor's lowest current"})
            stab += (f"<details><summary>The blocking pairs ({len(bp):,}"
                     f"{'' if len(bp) == n_bp else f' listed of {n_bp:,}'})</summary>{table(listed)}</details>")
    budget_html = ""
    if len(a.budget):
        b = a.budget.copy()
        b["metric"] = b["metric"].str.replace("_", " ")
        b["value"] = [f"{v:.0%}" if m == "budget used share" else fmt(float(v), money=m != "active mentors")
                      for m, v in zip(b["metric"], b["value"])]
        budget_html = "<h3>Budget and incentives</h3>" + table(b)
    pof = a.price_of_fairness
    if len(pof) and str(pof["constraints"].iloc[0]) != "(none)":
        r = pof.iloc[0]
        budget_html += (f"<h3>Cost of the programme's side rules</h3><p>With {esc(r.constraints)} the total "
                        f"match score is {fmt(float(r.total_with))}; without them it would be "
                        f"{fmt(float(r.total_without))} ({fmt(float(r.price))} less, "
                        f"{float(r.price_share):.1%}).</p>")
    glossary = "".join(f"<dt>{esc(t)}</dt><dd>{esc(d)}</dd>" for t, d in GLOSSARY)
    sens_html = sensitivity_section(
        sensitivity, n_e, plots.sensitivity_plot(sensitivity, n_e or None)
        if sensitivity is not None and len(sensitivity) else None)

    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{esc(title)}</title><style>{CSS}</style><script>{JS}</script></head>
<body>
<h1>{esc(title)}</h1>
<p class="sub">{n_e:,} mentees and {int(summary.get('mentors') or 0):,} mentors; {matched:,} mentees have
a mentor and {len(unmatched):,} do not.</p>
<div class="cards">{card_html}</div>{note_html}
<h2>Who is served</h2>{group_html}
<h2>Pairs (<span id="mm-pairs-count">{len(shown):,}</span>{shown_of(len(shown), len(pairs))})</h2>
<p class="noprint">Mark each pair accept or decline, then download the decisions: run
<code>mentormatch revise --pairs pairs.csv --decisions decisions.csv --out DIR</code> to re-pair with
the fewest changes.</p>
<div class="controls noprint"><button type="button" onclick="mmDownload()">Download decisions.csv</button>
<span class="meta"><span id="mm-dec-count">0</span> decisions marked</span></div>
{capped_note(len(shown), len(pairs), "pairs", "pairs.csv")}
<input class="search noprint" type="search" placeholder="Search pairs by name, id, role…" oninput="mmFilter(this,'mm-pairs')">
<details class="section"{' open' if len(shown) <= OPEN_PAIRS else ''}><summary>The pairs, each with its reasons and development plan</summary>
<div id="mm-pairs">{pairs_html}</div></details>
<h2>Mentor rosters</h2>
<details class="section"><summary>Each mentor's mentees ({len(a.mentors):,} mentors)</summary>
<input class="search noprint" type="search" placeholder="Search mentors…" oninput="mmFilter(this,'mm-roster')">
<div id="mm-roster">{roster_html}</div></details>
<h2>Without a mentor ({len(unmatched):,})</h2>{un_html}
<h2>Charts</h2><div class="plots">{plot_html}</div>
<h2>Which data the match scores used</h2>{cov_html}
<h2>Compared with random pairing</h2>{''.join(cmp_parts) or '<p>No comparison available.</p>'}
<h2>Stability</h2>{stab or '<p>Not computed for this pairing.</p>'}
{budget_html}
{outcomes_section(outcomes)}
{sens_html}
{about_section(provenance)}
<h2>Glossary</h2><dl class="glossary">{glossary}</dl>
</body></html>
"""


def to_html(data: dict, pairs: pd.DataFrame, unmatched: pd.DataFrame, contributions: pd.DataFrame,
            summary: dict, objective: float, path: str | Path | None = None, audit: Audit | None = None,
            seeds: int = 3, max_rows: int | None = MAX_ROWS,
            outcomes: pd.DataFrame | None = None, sensitivity: pd.DataFrame | None = None,
            provenance: Mapping[str, Any] | None = None) -> str:
    """Write the standalone HTML report to ``path`` (if given) and return it.

    For the programme lead: people by name, role and level; who is served (matched share and
    mean score per group, groups under 0.8 x the overall share flagged); each pair with its
    reasons, development plan and accept/decline controls (a "Download decisions.csv" button
    writes ``mentee_id,mentor_id,decision`` for ``mentormatch revise``); mentor rosters; the
    mentees without a mentor by reason and group; charts; which features had data; the
    comparison with ``seeds`` random pairings; blocking pairs; budget; a glossary. Plots are
    inline PNG data URIs and the CSS/JS are inline: the file loads nothing. The pairs and
    unmatched lists hold at most ``max_rows`` entries each (the first in the order of
    pairs.csv and unmatched.csv, with a note giving how many more there are); None for all.
    ``outcomes``: a programme's ``Programme.metrics()`` (promotion rate, time to promotion,
    retention by cohort), shown when given. ``sensitivity``: a
    :func:`mentormatch.whatif.sensitivity` table, shown with its chart when given.
    ``provenance``: the result's provenance record as plain data
    (``json.loads(Provenance.to_json())``), shown as "About this run" when given.
    """
    text = render(data, pairs, unmatched, contributions, summary, objective, audit, seeds,
                  max_rows=max_rows, outcomes=outcomes, sensitivity=sensitivity,
                  provenance=provenance)
    if path is not None:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return text


def repr_html(summary: dict, pairs: pd.DataFrame, unmatched: pd.DataFrame, head: int = 5) -> str:
    """Compact notebook display: the headline figures, the first pairs, the unmatched reasons."""
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(fmt(v) if isinstance(v, (int, float)) else v)}</td></tr>"
                   for k, v in summary.items() if k != "unmatched_by_reason")
    by = summary.get("unmatched_by_reason") or {}
    if by:
        rows += "<tr><th>unmatched by reason</th><td>" + esc(", ".join(f"{k}: {v}" for k, v in by.items())) + "</td></tr>"
    cols = [c for c in ("mentee_id", "mentor_id", "score", "rank") if c in pairs.columns]
    sample = table(pairs[cols].head(head) if len(pairs) else pairs[cols])
    more = f"<p style='font-size:12px'>first {min(head, len(pairs))} of {len(pairs)} pairs</p>"
    return f"<div><b>Matching</b><table>{rows}</table>{sample}{more}</div>"

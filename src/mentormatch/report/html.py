"""A standalone HTML report (inline CSS, inline JS, plots as data: URIs; loads nothing from the
network) and the compact notebook summary. Works on the pieces of a result; never imports the
result class."""
from __future__ import annotations

import html as _html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import plots
from .audit import Audit, audit as _audit
from .explain import explain_all, protected_notes

__all__ = ["to_html", "repr_html", "render"]

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px auto;max-width:1250px;
color:#1a202c;padding:0 16px}
h1{font-size:24px;margin-bottom:4px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #e2e8f0;
padding-bottom:4px}.sub{color:#4a5568;margin-top:0}
table{border-collapse:collapse;font-size:13px;margin:8px 0}
th,td{border-bottom:1px solid #e2e8f0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f7fafc;position:sticky;top:0}
table.sortable th{cursor:pointer;user-select:none}table.sortable th:hover{background:#ebf4ff}
th.asc:after{content:" \\25B2"}th.desc:after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#f7fafc;border:1px solid #e2e8f0;
border-radius:6px;padding:10px 14px;min-width:130px}.card b{display:block;font-size:20px}
.card span{font-size:12px;color:#4a5568}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:12px}
.plots img{width:100%;border:1px solid #e2e8f0;border-radius:4px}
input.search{padding:6px 10px;width:360px;border:1px solid #cbd5e0;border-radius:4px;margin:6px 0}
.tables{display:flex;flex-wrap:wrap;gap:28px}.note{color:#744210;background:#fffff0;padding:6px 10px;
border-left:3px solid #d69e2e;margin:6px 0}td.expl{max-width:760px;font-size:12px;color:#2d3748;white-space:pre-line;line-height:1.45}
"""

_JS = """
function mmFilter(input, id){var q=input.value.toLowerCase();var rows=document.getElementById(id).tBodies[0].rows;
var n=0;for(var r=0;r<rows.length;r++){var show=rows[r].textContent.toLowerCase().indexOf(q)>=0;
rows[r].style.display=show?'':'none';if(show)n++;}var c=document.getElementById(id+'-count');if(c)c.textContent=n;}
function mmSort(th){var table=th.closest('table');var body=table.tBodies[0];var idx=Array.prototype.indexOf.call(th.parentNode.children,th);
var asc=!th.classList.contains('asc');Array.prototype.forEach.call(th.parentNode.children,function(h){h.classList.remove('asc','desc');});
th.classList.add(asc?'asc':'desc');var rows=Array.prototype.slice.call(body.rows);
rows.sort(function(a,b){var x=a.cells[idx].getAttribute('data-v')||a.cells[idx].textContent;
var y=b.cells[idx].getAttribute('data-v')||b.cells[idx].textContent;var fx=parseFloat(x),fy=parseFloat(y);
var c=(!isNaN(fx)&&!isNaN(fy))?fx-fy:x.localeCompare(y);return asc?c:-c;});
rows.forEach(function(r){body.appendChild(r);});}
document.addEventListener('DOMContentLoaded',function(){document.querySelectorAll('table.sortable th').forEach(
function(th){th.addEventListener('click',function(){mmSort(th);});});});
"""


def _e(x: Any) -> str:
    return _html.escape(str(x), quote=True)


def _cell(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return f"<td>{'yes' if v else 'no'}</td>"
    if isinstance(v, (int, np.integer)):
        return f'<td class="num" data-v="{int(v)}">{int(v)}</td>'
    if isinstance(v, (float, np.floating)):
        if np.isnan(v):
            return '<td class="num" data-v="">–</td>'
        return f'<td class="num" data-v="{float(v)!r}">{float(v):,.4g}</td>' if abs(v) >= 1e4 or v != round(v, 4) \
            else f'<td class="num" data-v="{float(v)!r}">{float(v):g}</td>'
    return f"<td>{_e(v)}</td>"


def _table(df: pd.DataFrame, table_id: str | None = None, sortable: bool = True,
           css: dict[str, str] | None = None) -> str:
    css = css or {}
    attrs = f' id="{_e(table_id)}"' if table_id else ""
    cls = ' class="sortable"' if sortable else ""
    head = "".join(f"<th>{_e(c)}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, row):
            cell = _cell(v)
            if c in css:
                cell = cell.replace("<td", f'<td class="{css[c]}"', 1)
            cells.append(cell)
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table{attrs}{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _geo_values(data: dict, pairs: pd.DataFrame) -> tuple[np.ndarray | None, str]:
    scores = data.get("scores")
    prep = getattr(scores, "prepared", {}).get("geography") if scores is not None else None
    if prep is None or not len(pairs):
        return None, ""
    e, m = data["mentee_ids"].index, data["mentor_ids"].index
    i = np.array([e[str(x)] for x in pairs["mentee_id"]], dtype=np.int64)
    j = np.array([m[str(x)] for x in pairs["mentor_id"]], dtype=np.int64)
    try:
        d = prep.details(i, j)
    except Exception:
        return None, ""
    mode = getattr(getattr(prep, "feature", None), "mode", "hybrid")
    for key in (("shared_hours", "distance_km") if mode == "remote" else ("distance_km", "shared_hours")):
        v = np.asarray(d.get(key, []), dtype=float)
        if len(v) and np.isfinite(v).any():
            return v, key
    return None, ""


MAX_ROWS = 5000


def _capped_note(shown: int, total: int, what: str, csv: str) -> str:
    """A visible note when a table shows only its first rows."""
    if shown >= total:
        return ""
    return (f'<p class="note">Showing the first {shown:,} of {total:,} {what}, in the order of {csv}; '
            f'the other {total - shown:,} are in {csv}. Search and sorting apply to the rows shown.</p>')


def _of(shown: int, total: int) -> str:
    return f" shown of {total:,}" if shown < total else ""


def render(data: dict, pairs: pd.DataFrame, unmatched: pd.DataFrame, contributions: pd.DataFrame,
           summary: dict, objective: float, audit: Audit | None = None, seeds: int = 20,
           title: str = "mentormatch pairing report", max_rows: int | None = MAX_ROWS) -> str:
    """The report as one HTML string (see :func:`to_html`). ``max_rows``: at most this many
    rows of the pairs and unmatched tables (the first ones, in their order), with a note
    saying how many more are in the CSV files; None for all."""
    a = audit if audit is not None else _audit(data, pairs, unmatched, objective, seeds=seeds)
    # ---- summary cards
    figs = dict(a.summary.itertuples(index=False))
    cards = [("mentees", summary.get("mentees")), ("pairs", summary.get("pairs")),
             ("unmatched", summary.get("unmatched")), ("total score", f"{objective:,.3f}"),
             ("mean pair score", f"{summary.get('mean_score', 0.0):.3f}"),
             ("status", summary.get("status")), ("solver", summary.get("solver"))]
    if "lift_over_random" in figs and np.isfinite(figs["lift_over_random"]):
        cards.append(("lift over random", f"x{figs['lift_over_random']:.2f}"))
    if "share_top3" in figs:
        cards.append(("with a top-3 mentor", f"{figs['share_top3']:.0%}"))
    if "blocking_pairs" in figs:
        cards.append(("blocking pairs", figs["blocking_pairs"]))
    cards = [(k, int(v) if isinstance(v, float) and v == int(v) and k == "blocking pairs" else v)
             for k, v in cards]
    card_html = "".join(f'<div class="card"><b>{_e(v)}</b><span>{_e(k)}</span></div>' for k, v in cards)
    notes = protected_notes(data) + list(a.notes)
    note_html = "".join(f'<p class="note">{_e(n)}</p>' for n in notes)

    # ---- plots
    imgs = [plots.score_distribution(a.histogram), plots.contributions_plot(contributions),
            plots.load_plot(a.mentors)]
    geo, key = _geo_values(data, pairs)
    if geo is not None:
        imgs.append(plots.distance_plot(geo, key))
    alts = ["score distribution vs random assignment", "contributions per feature", "mentor load",
            f"{key.replace('_', ' ')} of the pairs"]
    plot_html = "".join(f'<img src="{uri}" alt="{_e(alt)}">' for uri, alt in zip(imgs, alts) if uri)

    # ---- pairs with explanations: the first max_rows, in the order of the pairs (explained only
    # for the rows shown), so that a very large result stays openable
    shown = pairs.head(max_rows) if max_rows is not None and max_rows >= 0 else pairs
    table = shown.copy()
    if "score" in table:
        table["score"] = table["score"].astype(float).round(4)
    # one feature per line in the page (white-space: pre-line); pairs.csv keeps the " | " form
    table["explanation"] = (explain_all(data, shown).str.replace(" | ", "\n", regex=False).to_numpy()
                            if len(shown) else [])
    pairs_html = _capped_note(len(shown), len(pairs), "pairs", "pairs.csv") + \
        _table(table, "mm-pairs", css={"explanation": "expl"})
    un_shown = unmatched.head(max_rows) if max_rows is not None and max_rows >= 0 else unmatched
    un_html = (_capped_note(len(un_shown), len(unmatched), "unmatched mentees", "unmatched.csv")
               + _table(un_shown, "mm-unmatched")) if len(unmatched) else "<p>Every mentee has a mentor.</p>"

    sections = [("Lift over baselines", a.lift), ("Mentees with one of their top mentors", a.top_choice),
                ("Fairness by group", a.fairness), ("Price of fairness and side constraints", a.price_of_fairness),
                ("Budget and incentives", a.budget), ("Stability", a.blocking), ("Score distribution", a.scores)]
    audit_html = "".join(f"<div><h3>{_e(t)}</h3>{_table(df.round(4), sortable=False)}</div>"
                         for t, df in sections if len(df))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{_e(title)}</title><style>{_CSS}</style><script>{_JS}</script></head>
<body>
<h1>{_e(title)}</h1>
<p class="sub">{_e(summary.get('mentees'))} mentees, {_e(summary.get('mentors'))} mentors;
status {_e(summary.get('status'))} ({_e(summary.get('solver'))}).</p>
<h2>Summary</h2><div class="cards">{card_html}</div>{note_html}
<h2>Plots</h2><div class="plots">{plot_html}</div>
<h2>Pairs (<span id="mm-pairs-count">{len(shown)}</span>{_of(len(shown), len(pairs))})</h2>
<input class="search" type="search" placeholder="Search pairs, mentors, reasons…" oninput="mmFilter(this,'mm-pairs')">
{pairs_html}
<h2>Unmatched (<span id="mm-unmatched-count">{len(un_shown)}</span>{_of(len(un_shown), len(unmatched))})</h2>
{'<input class="search" type="search" placeholder="Search unmatched…" oninput="mmFilter(this,' + chr(39) + 'mm-unmatched' + chr(39) + ')">' if len(unmatched) else ''}
{un_html}
<h2>Audit</h2><div class="tables">{audit_html}</div>
</body></html>
"""


def to_html(data: dict, pairs: pd.DataFrame, unmatched: pd.DataFrame, contributions: pd.DataFrame,
            summary: dict, objective: float, path: str | Path | None = None, audit: Audit | None = None,
            seeds: int = 20, max_rows: int | None = MAX_ROWS) -> str:
    """Write the standalone HTML report to ``path`` (if given) and return it.

    Contents: summary figures, plots (score distribution vs random assignment, contributions
    per feature, mentor load, distance or shared hours), a searchable, sortable table of the
    pairs with their explanations, the unmatched mentees with reasons, and the audit tables.
    Plots are inline PNG data URIs and the CSS/JS are inline: the file loads nothing. The
    pairs and unmatched tables hold at most ``max_rows`` rows each (default 5,000, the first in
    the order of pairs.csv and unmatched.csv, with a note giving how many more there are), so
    that the report of a very large programme stays openable; None for every row.
    """
    text = render(data, pairs, unmatched, contributions, summary, objective, audit, seeds,
                  max_rows=max_rows)
    if path is not None:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return text


def repr_html(summary: dict, pairs: pd.DataFrame, unmatched: pd.DataFrame, head: int = 5) -> str:
    """Compact notebook display: the headline figures, the first pairs, the unmatched reasons."""
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(f'{v:.4g}' if isinstance(v, float) else v)}</td></tr>"
                   for k, v in summary.items() if k != "unmatched_by_reason")
    by = summary.get("unmatched_by_reason") or {}
    if by:
        rows += "<tr><th>unmatched by reason</th><td>" + _e(", ".join(f"{k}: {v}" for k, v in by.items())) + "</td></tr>"
    cols = [c for c in ("mentee_id", "mentor_id", "score", "rank") if c in pairs.columns]
    sample = _table(pairs[cols].head(head).round(4) if len(pairs) else pairs[cols], sortable=False)
    more = f"<p style='font-size:12px'>first {min(head, len(pairs))} of {len(pairs)} pairs</p>"
    return (f"<div><b>Matching</b><table>{rows}</table>{sample}{more}</div>")

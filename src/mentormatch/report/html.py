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

import html as _html
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import plots
from .audit import FLAG_RATIO, Audit, audit as _audit
from .explain import explain_all
from .phrases import FEATURE_COLUMNS, protected_notes
from .plans import plans as _plans
from .reasons import partial_reasons

__all__ = ["to_html", "repr_html", "render", "DECISION_COLUMNS"]

#: The columns of the decisions.csv the page downloads (and ``mentormatch revise`` reads).
DECISION_COLUMNS = ["mentee_id", "mentor_id", "decision"]

_CSS = """
*{box-sizing:border-box}
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:16px auto;max-width:1100px;
color:#1a202c;padding:0 12px;line-height:1.4;overflow-wrap:anywhere}
h1{font-size:24px;margin-bottom:4px}h2{font-size:19px;margin-top:30px;border-bottom:1px solid #e2e8f0;
padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}.sub{color:#4a5568;margin-top:0}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border-bottom:1px solid #e2e8f0;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f7fafc;white-space:nowrap;overflow-wrap:normal}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.flag td{background:#fffaf0}.flagtxt{color:#c05621;font-weight:600}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{background:#f7fafc;border:1px solid #e2e8f0;
border-radius:6px;padding:8px 12px;min-width:130px;flex:1 1 130px}.card b{display:block;font-size:20px}
.card span{font-size:12px;color:#4a5568}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,460px),1fr));gap:12px}
.plots img,img.plot{width:100%;height:auto;border:1px solid #e2e8f0;border-radius:4px}img.plot{max-width:760px}
input.search{padding:6px 10px;width:100%;max-width:420px;border:1px solid #cbd5e0;border-radius:4px;margin:6px 0}
.note{color:#744210;background:#fffff0;padding:6px 10px;border-left:3px solid #d69e2e;margin:6px 0}
.pair{border:1px solid #e2e8f0;border-radius:6px;padding:8px 10px;margin:8px 0}
.pair .head{display:flex;flex-wrap:wrap;gap:4px 14px;align-items:baseline}
.who{min-width:0}.who small,.meta{color:#4a5568;font-size:12px}
.pair ul{margin:4px 0 4px 18px;padding:0;font-size:13px}
details>summary{cursor:pointer;color:#2b6cb0;margin:4px 0}
details.section>summary{font-size:15px;font-weight:600}
.roster{font-size:13px;margin:4px 0}
.controls{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:6px 0}
button{padding:6px 12px;border:1px solid #2b6cb0;background:#ebf8ff;border-radius:4px;cursor:pointer}
dl.glossary dt{font-weight:600;margin-top:6px}dl.glossary dd{margin-left:14px}
td{overflow-wrap:normal}
@media (max-width:560px){table.stack thead{display:none}table.stack tr{display:block;border-bottom:1px solid #e2e8f0;
padding:4px 0}table.stack td{display:block;border:0;padding:1px 4px;text-align:left;white-space:normal;
overflow-wrap:anywhere}table.stack td[data-l]:before{content:attr(data-l) ": ";color:#4a5568;font-size:12px}
table.stack{width:100%}table.stack td:empty{display:none}}
@media print{details::details-content{content-visibility:visible;display:block}.noprint{display:none}body{max-width:none;margin:0}.pair{break-inside:avoid}}
"""

_JS = r"""
function mmFilter(input, id){var q=input.value.toLowerCase();var items=document.getElementById(id).children;
var n=0;for(var r=0;r<items.length;r++){var it=items[r];var s=it.getAttribute('data-s');if(s===null)continue;
var show=s.indexOf(q)>=0;it.style.display=show?'':'none';if(show)n++;}
var c=document.getElementById(id+'-count');if(c)c.textContent=n;}
function mmCsv(v){v=String(v);return /[",\n\r]/.test(v)?'"'+v.replace(/"/g,'""')+'"':v;}
function mmDecisions(){var rows=['mentee_id,mentor_id,decision'];var n=0;
document.querySelectorAll('select.mm-dec').forEach(function(s){if(s.value){rows.push([mmCsv(s.getAttribute('data-e')),
mmCsv(s.getAttribute('data-m')),s.value].join(','));n++;}});
return {text:rows.join('\n')+'\n',count:n};}
function mmDownload(){var d=mmDecisions();var blob=new Blob([d.text],{type:'text/csv'});
var a=document.createElement('a');a.href=URL.createObjectURL(blob);a.download='decisions.csv';
document.body.appendChild(a);a.click();setTimeout(function(){URL.revokeObjectURL(a.href);a.remove();},0);}
function mmCount(){var d=mmDecisions();var c=document.getElementById('mm-dec-count');if(c)c.textContent=d.count;}
window.addEventListener('beforeprint',function(){document.querySelectorAll('details').forEach(function(d){d.open=true;});});
document.addEventListener('DOMContentLoaded',function(){
document.querySelectorAll('select.mm-dec').forEach(function(s){s.addEventListener('change',mmCount);});});
// ?mm-test: write what an automated check needs into the page (and to a parent frame)
window.addEventListener('load',function(){if(location.search.indexOf('mm-test')<0)return;
var imgs=document.querySelectorAll('img');var ok=0;imgs.forEach(function(i){if(i.complete&&i.naturalWidth>0)ok++;});
if(location.search.indexOf('mm-test-decide')>=0){var all=document.querySelectorAll('select.mm-dec');
if(all.length)all[0].value='accept';if(all.length>1)all[1].value='decline';}
var r=JSON.stringify({scrollWidth:document.documentElement.scrollWidth,clientWidth:document.documentElement.clientWidth,
images:imgs.length,imagesLoaded:ok,decisions:mmDecisions().text});
var p=document.createElement('pre');p.id='mm-test';p.textContent=r;document.body.appendChild(p);
if(window.parent!==window)window.parent.postMessage(r,'*');});
"""


def _e(x: Any) -> str:
    return _html.escape(str(x), quote=True)


def fmt(v: Any, money: bool = False) -> str:
    """A number for people: thousands separated, no scientific notation; money to whole units.

    >>> fmt(105500.0), fmt(0.53219), fmt(3), fmt(105500.0, money=True), fmt(float("nan"))
    ('105,500', '0.532', '3', '105,500', '–')
    """
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if not np.isfinite(v):
            return "–"
        if money or abs(v) >= 1000:
            return f"{v:,.0f}"
        if v == round(v):
            return f"{int(round(v)):,}"
        return f"{v:,.3f}".rstrip("0").rstrip(".") if abs(v) < 10 else f"{v:,.1f}"
    return str(v)


def _table(df: pd.DataFrame, table_id: str | None = None, money: tuple[str, ...] = (),
           flag: str | None = None, pct: tuple[str, ...] = ()) -> str:
    attrs = f' id="{_e(table_id)}"' if table_id else ""
    labels = {c: str(c).replace("_", " ") for c in df.columns}
    head = "".join(f"<th>{_e(labels[c])}</th>" for c in df.columns if c != flag)
    body = []
    flags = df[flag].to_numpy(bool) if flag else np.zeros(len(df), bool)
    for fl, row in zip(flags, df.itertuples(index=False)):
        cells = []
        for c, v in zip(df.columns, row):
            if c == flag:
                continue
            num = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
            text = (f"{float(v):.0%}" if c in pct and num and np.isfinite(v) else fmt(v, c in money))
            lab = f' data-l="{_e(labels[c])}"'
            cells.append(f'<td class="num"{lab}>{_e(text)}</td>' if num else f"<td{lab}>{_e(text)}</td>")
        body.append(('<tr class="flag">' if fl else "<tr>") + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table{attrs} class="stack"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


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
    except Exception:  # a feature's details must never break a report
        return None, ""
    mode = getattr(getattr(prep, "feature", None), "mode", "hybrid")
    for key in (("shared_hours", "distance_km") if mode == "remote" else ("distance_km", "shared_hours")):
        v = np.asarray(d.get(key, []), dtype=float)
        if len(v) and np.isfinite(v).any():
            return v, key
    return None, ""


MAX_ROWS = 5000


def _capped_note(shown: int, total: int, what: str, csv: str) -> str:
    """A visible note when a list shows only its first rows."""
    if shown >= total:
        return ""
    return (f'<p class="note">Showing the first {shown:,} of {total:,} {what}, in the order of {csv}; '
            f'the other {total - shown:,} are in {csv}. Search applies to the ones shown.</p>')


def _of(shown: int, total: int) -> str:
    return f" shown of {total:,}" if shown < total else ""


# ---------------------------------------------------------------------------------------------
# people: name, role and level beside the id
# ---------------------------------------------------------------------------------------------
def people(frame: pd.DataFrame | None, titles: dict | None = None) -> pd.DataFrame:
    """Index id; columns name, role (the framework's title where known), level, label
    ("Name (id · Role · level 2)"), all text ("" where unknown)."""
    if frame is None or "id" not in frame.columns:
        return pd.DataFrame(columns=["name", "role", "level", "label"])
    titles = titles or {}
    ids = frame["id"].astype(str)

    def text(col):
        if col not in frame.columns:
            return pd.Series([""] * len(frame), index=frame.index)
        return frame[col].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                              else (f"{int(v)}" if isinstance(v, (float, np.floating)) and v == int(v)
                                    else str(v)).strip())

    name, role, level = text("name"), text("role"), text("level")
    role = role.map(lambda r: titles.get(r, r.replace("_", " ")))
    extra = [" · ".join(x for x in (i, r, f"level {lv}" if lv else "") if x)
             for i, r, lv in zip(ids, role, level)]
    label = [f"{n} ({x})" if n else x for n, x in zip(name, extra)]
    out = pd.DataFrame({"name": name.to_numpy(), "role": role.to_numpy(), "level": level.to_numpy(),
                        "label": label}, index=ids.to_numpy())
    return out[~out.index.duplicated()]


def _labels(info: pd.DataFrame, ids: pd.Series) -> list[str]:
    ids = ids.astype(str)
    if not len(info):
        return ids.tolist()
    return info["label"].reindex(ids.to_numpy()).fillna(pd.Series(ids.to_numpy(), index=ids.to_numpy())).tolist()


def _who(label: str, ident: str) -> str:
    """A person as HTML: the name in bold, the id, role and level in small print."""
    if label.endswith(")") and " (" in label and not label.startswith(ident + " "):
        name, rest = label.split(" (", 1)
        return f'<span class="who"><b>{_e(name)}</b> <small>({_e(rest)}</small></span>'
    return f'<span class="who"><b>{_e(label)}</b></span>'


# ---------------------------------------------------------------------------------------------
# sections
# ---------------------------------------------------------------------------------------------
def _coverage(data: dict) -> pd.DataFrame:
    """Per scored feature: how many mentees and mentors have any of the columns it reads."""
    scores = data.get("scores")
    mentees, mentors = data.get("mentees"), data.get("mentors")
    rows = []
    weights = dict(zip(getattr(scores, "features", []), getattr(scores, "weights", [])))
    for f in getattr(scores, "features", []) or []:
        cols = FEATURE_COLUMNS.get(f)
        if not cols:
            continue

        def have(frame):
            if frame is None:
                return 0, 0
            present = [c for c in frame.columns if c in cols or (f == "competency" and c.startswith("comp_"))]
            if not present:
                return 0, len(frame)
            block = frame[present]
            filled = block.notna() & (block.astype(str).apply(lambda s: s.str.strip().str.len() > 0))
            return int(filled.any(axis=1).sum()), len(frame)

        he, ne = have(mentees)
        hm, nm = have(mentors)
        rows.append((f, float(weights.get(f, np.nan)), f"{he:,} of {ne:,}", f"{hm:,} of {nm:,}",
                     he < ne or hm < nm))
    return pd.DataFrame(rows, columns=["feature", "weight", "mentees with data", "mentors with data", "gap"])


def _pairs_section(data: dict, pairs: pd.DataFrame, e_info, m_info, plan_frame: pd.DataFrame) -> str:
    if not len(pairs):
        return "<p>No pairs.</p>"
    lines = explain_all(data, pairs, known_only=True).tolist()
    e_lab = _labels(e_info, pairs["mentee_id"])
    m_lab = _labels(m_info, pairs["mentor_id"])
    plan_rows: dict[tuple[str, str], list[str]] = {}
    plan_target: dict[tuple[str, str], str] = {}
    if len(plan_frame):
        f = plan_frame
        for pe, pm, comp, cur, tgt, cov, due, act, title in zip(
                f["mentee_id"].tolist(), f["mentor_id"].tolist(), f["competency"].tolist(),
                f["current"].tolist(), f["target"].tolist(), f["mentor_covers"].tolist(),
                f["due"].tolist(), f["activity"].tolist(), f["target_title"].tolist()):
            plan_rows.setdefault((pe, pm), []).append(
                f"<tr><td data-l='competency'>{_e(comp.replace('_', ' '))}</td><td class='num' data-l='now → needed'>"
                f"{fmt(cur)} → {fmt(tgt)}</td><td data-l='mentor covers'>{'yes' if cov else 'no'}</td>"
                f"<td class='num' data-l='milestone'>{_e(due)}</td><td data-l='suggested activity'>{_e(act)}</td></tr>")
            plan_target[(pe, pm)] = title
    has_rank = "rank" in pairs.columns
    has_elig = "eligible_mentors" in pairs.columns
    out = []
    for k, row in enumerate(pairs.itertuples(index=False)):
        e, m = str(row.mentee_id), str(row.mentor_id)
        rank = ""
        if has_rank and pd.notna(row.rank):
            of = f" of {int(row.eligible_mentors):,}" if has_elig and pd.notna(row.eligible_mentors) else ""
            rank = f" · this mentor ranks {int(row.rank):,}{of} for the mentee"
        reasons = "".join(f"<li>{_e(p)}</li>" for p in lines[k].split(" | ") if p)
        if (e, m) in plan_rows:
            target = plan_target[(e, m)]
            prow = "".join(plan_rows[(e, m)])
            plan_html = (f"<p class='meta'>Toward {_e(target)}: the competencies where the mentee is "
                         f"below the required mastery, most important first.</p><div class='scroll'><table class='stack'>"
                         f"<thead><tr><th>competency</th><th>now → needed</th><th>mentor covers</th>"
                         f"<th>milestone</th><th>suggested activity</th></tr></thead><tbody>{prow}</tbody>"
                         f"</table></div>")
        else:
            plan_html = "<p class='meta'>No development plan: no target role with a gap on the career framework.</p>"
        search = _e(f"{e} {m} {e_lab[k]} {m_lab[k]}".lower())
        out.append(
            f'<div class="pair" data-s="{search}"><div class="head">{_who(e_lab[k], e)}<span>→</span>'
            f'{_who(m_lab[k], m)}</div><div class="meta">match score {fmt(float(row.score))}{_e(rank)}</div>'
            f'<div class="controls noprint"><label>decision <select class="mm-dec" data-e="{_e(e)}" '
            f'data-m="{_e(m)}"><option value="">pending</option><option value="accept">accept</option>'
            f'<option value="decline">decline</option></select></label></div>'
            f"<details><summary>Why this mentor</summary><ul>{reasons}</ul></details>"
            f"<details><summary>Development plan</summary>{plan_html}</details></div>")
    return "".join(out)


def _roster(pairs: pd.DataFrame, a: Audit, e_info, m_info) -> str:
    per = a.mentors
    if not len(per):
        return ""
    by = {}
    if len(pairs):
        labs = _labels(e_info, pairs["mentee_id"])
        for mid, lab in zip(pairs["mentor_id"].astype(str), labs):
            by.setdefault(mid, []).append(lab)
    ids = per["mentor_id"].astype(str)
    m_lab = _labels(m_info, ids)
    order = np.lexsort((ids.to_numpy(), -per["load"].to_numpy(float)))
    rows = []
    for k in order:
        mid = ids.iloc[k]
        mentees = by.get(mid, [])
        cap, load = per["capacity"].iloc[k], per["load"].iloc[k]
        text = "; ".join(mentees) if mentees else "no mentee this round"
        rows.append(f'<div class="roster" data-s="{_e((mid + " " + m_lab[k] + " " + text).lower())}">'
                    f"{_who(m_lab[k], mid)} <span class='meta'>{fmt(float(load))} of {fmt(float(cap))} places"
                    f"</span><br>{_e(text)}</div>")
    return "".join(rows)


def _named(texts: pd.Series, m_info: pd.DataFrame) -> list[str]:
    """Texts with each "mentor <id>" followed by the mentor's name: "mentor E00008 (Ana Ruiz)"."""
    if not len(m_info) or not len(texts) or not (m_info["name"] != "").any():
        return texts.astype(str).tolist()
    names = m_info["name"].to_dict()
    pat = re.compile(r"\bmentor '?([^\s,;:()']+)'?")

    def sub(m):
        name = names.get(m.group(1), "")
        return f"{m.group(0)} ({name})" if name else m.group(0)

    return [pat.sub(sub, t) for t in texts.astype(str)]


def _unmatched_section(unmatched: pd.DataFrame, data: dict, e_info, m_info, max_rows,
                       titles: dict | None = None) -> str:
    if not len(unmatched):
        return "<p>Every mentee has a mentor.</p>"
    unmatched = unmatched.assign(reason=_named(unmatched["reason"], m_info))
    by_reason = (unmatched.groupby("reason_code", sort=True)
                 .agg(mentees=("mentee_id", "size"), example=("reason", "first")).reset_index()
                 .rename(columns={"reason_code": "reason", "example": "for example"}))
    parts = [f"<h3>By reason</h3>{_table(by_reason)}"]
    mentees = data.get("mentees")
    if mentees is not None:
        cols = [c for c in ("level", "role", "department", "region") if c in mentees.columns]
        if cols:
            idx = mentees.set_index(mentees["id"].astype(str))
            u = unmatched.assign(_id=unmatched["mentee_id"].astype(str))
            rows = []
            for c in cols:
                raw = idx[c].reindex(u["_id"])
                if pd.api.types.is_float_dtype(raw) and (raw.dropna() == raw.dropna().round()).all():
                    raw = raw.astype("Int64")  # levels 1.0, 2.0 read as 1, 2
                vals = raw.astype(object).where(raw.notna(), "(missing)").astype(str)
                if c == "role" and titles:
                    vals = vals.map(lambda r: titles.get(r, r))
                vals = vals.to_numpy()
                t = pd.crosstab(vals, u["reason_code"].to_numpy())
                for g, r in t.iterrows():
                    rows.append((c, g, int(r.sum()), ", ".join(f"{k}: {int(v)}" for k, v in r.items() if v)))
            parts.append("<h3>By group</h3>" + _table(pd.DataFrame(
                rows, columns=["group column", "group", "mentees", "by reason"])))
    shown = unmatched.head(max_rows) if max_rows is not None and max_rows >= 0 else unmatched
    labs = _labels(e_info, shown["mentee_id"])
    items = "".join(
        f'<div class="roster" data-s="{_e((str(r.mentee_id) + " " + lab + " " + str(r.reason)).lower())}">'
        f"{_who(lab, str(r.mentee_id))}<br><span class='meta'>{_e(r.reason)}</span></div>"
        for r, lab in zip(shown.itertuples(index=False), labs))
    parts.append(
        f'<details class="section"><summary>Everyone without a mentor (<span id="mm-unmatched-count">'
        f'{len(shown):,}</span>{_of(len(shown), len(unmatched))})</summary>'
        f'{_capped_note(len(shown), len(unmatched), "unmatched mentees", "unmatched.csv")}'
        f'<input class="search noprint" type="search" placeholder="Search by name, id, reason…" '
        f'oninput="mmFilter(this,\'mm-unmatched\')"><div id="mm-unmatched">{items}</div></details>')
    return "".join(parts)


_GLOSSARY = [
    ("match score", "how well a mentor suits a mentee: the sum, over the features (distance, "
     "experience, personality, competencies, stated preferences, mentor readiness), of each "
     "feature's weight times how well the pair does on it (0 to 1). Higher is better."),
    ("rank", "where this mentor stands among all the mentors the mentee could have had, by match "
     "score (1 = the best for this mentee alone; sharing mentors means not everyone gets their 1st)."),
    ("proven best", "the solver proved that no other pairing under the same rules has a higher "
     "total match score."),
    ("compared with random", "how much higher the total match score is than pairing the same "
     "people at random under the same rules (mean of several random draws)."),
    ("matched share", "the share of a group's mentees who have a mentor."),
    ("flagged group", f"a group whose matched share is under {FLAG_RATIO:g} x the share for everyone."),
    ("blocking pair", "a mentee and a mentor, not paired, who would each rather be with the other "
     "than with whom they have (by match score). Optimising the total allows some of these."),
    ("neutral", "a feature without data for someone counts as a middling 0.5 for their pairs, so it "
     "neither helps nor hurts."),
    ("capacity / places", "how many mentees a mentor can take."),
    ("decision", "accept keeps a pair; decline rules it out. 'mentormatch revise' re-pairs with the "
     "fewest changes to the pending pairs."),
]


def _outcomes(metrics: pd.DataFrame | None) -> str:
    """The programme's outcomes by cohort (``Programme.metrics()``), in plain terms."""
    if metrics is None or not len(metrics):
        return ""
    m = metrics.copy()
    for c in ("promotion_rate", "retention"):
        if c in m:
            m[c] = [f"{v:.0%}" if pd.notna(v) else "–" for v in m[c]]
    m = m.rename(columns={"n": "people", "n_reported": "with outcomes reported",
                          "median_days_to_promotion": "median days to promotion",
                          "mean_satisfaction": "mean satisfaction (1-5)"})
    return ("<h2>Outcomes by cohort</h2><p>Per round: the people paired in it (and those left "
            "without a mentor), the share promoted, the median days to promotion, the share still "
            "with the organisation, and satisfaction, where outcomes were recorded.</p>" + _table(m))


def render(data: dict, pairs: pd.DataFrame, unmatched: pd.DataFrame, contributions: pd.DataFrame,
           summary: dict, objective: float, audit: Audit | None = None, seeds: int = 3,
           title: str = "Mentoring pairs: programme report", max_rows: int | None = MAX_ROWS,
           outcomes: pd.DataFrame | None = None) -> str:
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
    card_html = "".join(f'<div class="card"><b>{_e(v)}</b><span>{_e(k)}</span></div>' for v, k in cards)
    fair = a.fairness
    if len(fair) and titles:  # roles by their titles
        is_role = (fair["attribute"] == "role").to_numpy()
        fair = fair.assign(group=[titles.get(g, g) if r else g for g, r in zip(fair["group"], is_role)])
    overall = matched / n_e if n_e else 1.0
    notes = [n[0].upper() + n[1:] + "." for n in protected_notes(data)]
    for r in fair.loc[fair["flag"]].itertuples() if len(fair) else []:
        notes.append(f"Flagged: {r.attribute} {r.group} has {r.matched:,} of {r.mentees:,} mentees matched "
                     f"({r.matched_share:.0%}), under {FLAG_RATIO:g} x the {overall:.0%} for everyone.")
    note_html = "".join(f'<p class="note">{_e(n)}</p>' for n in notes)

    # ---- groups
    group_img = plots.group_plot(fair, overall, FLAG_RATIO) if len(fair) else None
    if len(fair):
        ft = fair.assign(status=np.where(fair["flag"], "flagged", ""))[
            ["attribute", "group", "mentees", "matched", "matched_share", "mean_score", "status", "flag"]]
        ft = ft.rename(columns={"attribute": "group column"})
        group_html = ((f'<img class="plot" src="{group_img}" alt="matched share by group">' if group_img else "")
                      + "<details><summary>The figures by group</summary>"
                      + _table(ft, flag="flag", pct=("matched_share",)) + "</details>")
    else:
        group_html = "<p>The mentees table has no group column (level, role, department, region, gender).</p>"

    # ---- plots
    imgs = [plots.score_distribution(a.histogram), plots.contributions_plot(contributions),
            plots.load_plot(a.mentors)]
    geo, key = _geo_values(data, pairs)
    if geo is not None:
        imgs.append(plots.distance_plot(geo, key))
    alts = ["match scores: this pairing vs random pairing", "what the match scores are made of",
            "mentees per mentor", f"{key.replace('_', ' ')} of the pairs"]
    plot_html = "".join(f'<img src="{uri}" alt="{_e(alt)}">' for uri, alt in zip(imgs, alts) if uri)

    # ---- pairs, rosters, unmatched
    shown = pairs.head(max_rows) if max_rows is not None and max_rows >= 0 else pairs
    plan_frame = _plans(data, shown)
    pairs_html = _pairs_section(data, shown, e_info, m_info, plan_frame)
    roster_html = _roster(pairs, a, e_info, m_info)
    un_html = _unmatched_section(unmatched, data, e_info, m_info, max_rows, titles)
    part = partial_reasons(data["problem"], data["solution"].chosen, data["mentee_ids"].ids,
                           data["mentor_ids"].ids) if "problem" in data and "solution" in data else None
    if part is not None and len(part):
        labs = _labels(e_info, part["mentee_id"])
        items = "".join(f"<div class='roster'>{_who(lab, str(r.mentee_id))}<br><span class='meta'>"
                        f"{_e(t)}</span></div>"
                        for r, lab, t in zip(part.itertuples(index=False), labs, _named(part["reason"], m_info)))
        un_html += (f"<h3>Fewer mentors than they need ({len(part):,})</h3><details class='section'>"
                    f"<summary>Mentees who need several mentors and got fewer</summary>{items}</details>")

    # ---- data coverage, comparison, stability, budget
    cov = _coverage(data)
    cov_html = ("<p>Each feature counts only where its data are present; for anyone without them it "
                "is neutral (0.5). Said here once, not on every pair.</p>"
                + _table(cov, flag="gap")) if len(cov) else \
        "<p>The match scores were supplied by the caller; no feature data.</p>"
    lift_df = a.lift
    cmp_parts = []
    rnd = lift_df.loc[lift_df["method"] == "random"] if len(lift_df) else lift_df
    if len(rnd):
        r = rnd.iloc[0]
        cmp_parts.append(
            f"<p>This pairing's total match score is {fmt(objective)}. Pairing the same people at "
            f"random under the same rules gives {fmt(float(r.total_mean))} on average "
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
            listed = bp.assign(mentee=_labels(e_info, bp["mentee_id"]), mentor=_labels(m_info, bp["mentor_id"]))[
                ["mentee", "mentor", "score", "mentee_current_score", "mentor_worst_score"]].rename(columns={
                    "score": "their match score", "mentee_current_score": "mentee's current",
                    "mentor_worst_score": "mentor's lowest current"})
            stab += (f"<details><summary>The blocking pairs ({len(bp):,}"
                     f"{'' if len(bp) == n_bp else f' listed of {n_bp:,}'})</summary>{_table(listed)}</details>")
    budget_html = ""
    if len(a.budget):
        b = a.budget.copy()
        b["metric"] = b["metric"].str.replace("_", " ")
        b["value"] = [f"{v:.0%}" if m == "budget used share" else fmt(float(v), money=m != "active mentors")
                      for m, v in zip(b["metric"], b["value"])]
        budget_html = "<h3>Budget and incentives</h3>" + _table(b)
    pof = a.price_of_fairness
    if len(pof) and str(pof["constraints"].iloc[0]) != "(none)":
        r = pof.iloc[0]
        budget_html += (f"<h3>Cost of the programme's side rules</h3><p>With {_e(r.constraints)} the total "
                        f"match score is {fmt(float(r.total_with))}; without them it would be "
                        f"{fmt(float(r.total_without))} ({fmt(float(r.price))} less, "
                        f"{float(r.price_share):.1%}).</p>")
    glossary = "".join(f"<dt>{_e(t)}</dt><dd>{_e(d)}</dd>" for t, d in _GLOSSARY)

    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{_e(title)}</title><style>{_CSS}</style><script>{_JS}</script></head>
<body>
<h1>{_e(title)}</h1>
<p class="sub">{n_e:,} mentees and {int(summary.get('mentors') or 0):,} mentors; {matched:,} mentees have
a mentor and {len(unmatched):,} do not.</p>
<div class="cards">{card_html}</div>{note_html}
<h2>Who is served</h2>{group_html}
<h2>Pairs (<span id="mm-pairs-count">{len(shown):,}</span>{_of(len(shown), len(pairs))})</h2>
<p class="noprint">Mark each pair accept or decline, then download the decisions: run
<code>mentormatch revise --pairs pairs.csv --decisions decisions.csv --out DIR</code> to re-pair with
the fewest changes.</p>
<div class="controls noprint"><button type="button" onclick="mmDownload()">Download decisions.csv</button>
<span class="meta"><span id="mm-dec-count">0</span> decisions marked</span></div>
{_capped_note(len(shown), len(pairs), "pairs", "pairs.csv")}
<input class="search noprint" type="search" placeholder="Search pairs by name, id, role…" oninput="mmFilter(this,'mm-pairs')">
<details class="section" open><summary>The pairs, each with its reasons and development plan</summary>
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
{_outcomes(outcomes)}
<h2>Glossary</h2><dl class="glossary">{glossary}</dl>
</body></html>
"""


def to_html(data: dict, pairs: pd.DataFrame, unmatched: pd.DataFrame, contributions: pd.DataFrame,
            summary: dict, objective: float, path: str | Path | None = None, audit: Audit | None = None,
            seeds: int = 3, max_rows: int | None = MAX_ROWS,
            outcomes: pd.DataFrame | None = None) -> str:
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
    retention by cohort), shown when given.
    """
    text = render(data, pairs, unmatched, contributions, summary, objective, audit, seeds,
                  max_rows=max_rows, outcomes=outcomes)
    if path is not None:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return text


def repr_html(summary: dict, pairs: pd.DataFrame, unmatched: pd.DataFrame, head: int = 5) -> str:
    """Compact notebook display: the headline figures, the first pairs, the unmatched reasons."""
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(fmt(v) if isinstance(v, (int, float)) else v)}</td></tr>"
                   for k, v in summary.items() if k != "unmatched_by_reason")
    by = summary.get("unmatched_by_reason") or {}
    if by:
        rows += "<tr><th>unmatched by reason</th><td>" + _e(", ".join(f"{k}: {v}" for k, v in by.items())) + "</td></tr>"
    cols = [c for c in ("mentee_id", "mentor_id", "score", "rank") if c in pairs.columns]
    sample = _table(pairs[cols].head(head) if len(pairs) else pairs[cols])
    more = f"<p style='font-size:12px'>first {min(head, len(pairs))} of {len(pairs)} pairs</p>"
    return f"<div><b>Matching</b><table>{rows}</table>{sample}{more}</div>"

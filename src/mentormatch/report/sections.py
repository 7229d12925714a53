"""The sections of the HTML report: pairs with reasons, plan and decision controls; mentor
rosters; the mentees without a mentor by reason and group; which features had data; outcomes;
sensitivity to the weights; about this run (provenance); the glossary. Each returns HTML (or
the frame it is built from)."""
from __future__ import annotations

import json
import re
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .audit import FLAG_RATIO, Audit
from .explain import explain_all
from .page import capped_note, esc, fmt, labels, shown_of, table, who
from .phrases import FEATURE_COLUMNS

__all__ = ["geo_values", "coverage", "pairs_section", "roster", "named", "unmatched_section",
           "GLOSSARY", "outcomes_section", "sensitivity_section", "about_section"]

def geo_values(data: dict, pairs: pd.DataFrame) -> tuple[np.ndarray | None, str]:
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



# ---------------------------------------------------------------------------------------------
# sections
# ---------------------------------------------------------------------------------------------
def coverage(data: dict) -> pd.DataFrame:
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
            # without the table's attrs: a file's attrs hold the line numbers as an array, which
            # pandas' attrs comparison in astype/concat cannot take
            block = pd.DataFrame({c: frame[c].to_numpy() for c in present})
            filled = block.notna() & (block.astype(str).apply(lambda s: s.str.strip().str.len() > 0))
            return int(filled.any(axis=1).sum()), len(frame)

        he, ne = have(mentees)
        hm, nm = have(mentors)
        rows.append((f, float(weights.get(f, np.nan)), f"{he:,} of {ne:,}", f"{hm:,} of {nm:,}",
                     he < ne or hm < nm))
    return pd.DataFrame(rows, columns=["feature", "weight", "mentees with data", "mentors with data", "gap"])


def pairs_section(data: dict, pairs: pd.DataFrame, e_info, m_info, plan_frame: pd.DataFrame) -> str:
    if not len(pairs):
        return "<p>No pairs.</p>"
    lines = explain_all(data, pairs, known_only=True).tolist()
    e_lab = labels(e_info, pairs["mentee_id"])
    m_lab = labels(m_info, pairs["mentor_id"])
    plan_rows: dict[tuple[str, str], list[str]] = {}
    plan_target: dict[tuple[str, str], str] = {}
    if len(plan_frame):
        f = plan_frame
        for pe, pm, comp, cur, tgt, cov, due, act, title in zip(
                f["mentee_id"].tolist(), f["mentor_id"].tolist(), f["competency"].tolist(),
                f["current"].tolist(), f["target"].tolist(), f["mentor_covers"].tolist(),
                f["due"].tolist(), f["activity"].tolist(), f["target_title"].tolist()):
            plan_rows.setdefault((pe, pm), []).append(
                f"<tr><td data-l='competency'>{esc(comp.replace('_', ' '))}</td><td class='num' data-l='now → needed'>"
                f"{fmt(cur)} → {fmt(tgt)}</td><td data-l='mentor covers'>{'yes' if cov else 'no'}</td>"
                f"<td class='num' data-l='milestone'>{esc(due)}</td><td data-l='suggested activity'>{esc(act)}</td></tr>")
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
        reasons = "".join(f"<li>{esc(p)}</li>" for p in lines[k].split(" | ") if p)
        if (e, m) in plan_rows:
            target = plan_target[(e, m)]
            prow = "".join(plan_rows[(e, m)])
            plan_html = (f"<p class='meta'>Toward {esc(target)}: the competencies where the mentee is "
                         f"below the required mastery, most important first.</p><div class='scroll'><table class='stack'>"
                         f"<thead><tr><th>competency</th><th>now → needed</th><th>mentor covers</th>"
                         f"<th>milestone</th><th>suggested activity</th></tr></thead><tbody>{prow}</tbody>"
                         f"</table></div>")
        else:
            plan_html = "<p class='meta'>No development plan: no target role with a gap on the career framework.</p>"
        search = esc(f"{e} {m} {e_lab[k]} {m_lab[k]}".lower())
        out.append(
            f'<div class="pair" data-s="{search}"><div class="head">{who(e_lab[k], e)}<span>→</span>'
            f'{who(m_lab[k], m)}</div><div class="meta">match score {fmt(float(row.score))}{esc(rank)}</div>'
            f'<div class="controls noprint"><label>decision <select class="mm-dec" data-e="{esc(e)}" '
            f'data-m="{esc(m)}"><option value="">pending</option><option value="accept">accept</option>'
            f'<option value="decline">decline</option></select></label></div>'
            f"<details><summary>Why this mentor</summary><ul>{reasons}</ul></details>"
            f"<details><summary>Development plan</summary>{plan_html}</details></div>")
    return "".join(out)


def roster(pairs: pd.DataFrame, a: Audit, e_info, m_info) -> str:
    per = a.mentors
    if not len(per):
        return ""
    by = {}
    if len(pairs):
        labs = labels(e_info, pairs["mentee_id"])
        for mid, lab in zip(pairs["mentor_id"].astype(str), labs):
            by.setdefault(mid, []).append(lab)
    ids = per["mentor_id"].astype(str)
    m_lab = labels(m_info, ids)
    order = np.lexsort((ids.to_numpy(), -per["load"].to_numpy(float)))
    rows = []
    for k in order:
        mid = ids.iloc[k]
        mentees = by.get(mid, [])
        cap, load = per["capacity"].iloc[k], per["load"].iloc[k]
        text = "; ".join(mentees) if mentees else "no mentee this round"
        items = ("<ul>" + "".join(f"<li>{esc(x)}</li>" for x in mentees) + "</ul>") if mentees \
            else f"<br><span class='meta'>{esc(text)}</span>"
        rows.append(f'<div class="roster" data-s="{esc((mid + " " + m_lab[k] + " " + text).lower())}">'
                    f"{who(m_lab[k], mid)} <span class='meta'>{fmt(float(load))} of {fmt(float(cap))} places"
                    f"</span>{items}</div>")
    return "".join(rows)


def named(texts: pd.Series, m_info: pd.DataFrame) -> list[str]:
    """Texts with each mentor id followed by the mentor's name: "E00008 (Ana Ruiz)" (an id
    already followed by a bracket keeps it, and gets the name inside: "E00008 (Ana Ruiz; score
    4.5 ...)")."""
    if not len(m_info) or not len(texts) or not (m_info["name"] != "").any():
        return texts.astype(str).tolist()
    names = {k: v for k, v in m_info["name"].to_dict().items() if v}
    pat = re.compile(r"(?<![\w.-])'?([\w.-]+)'?(?![\w.-])( \()?")

    def sub(m):
        name = names.get(m.group(1))
        if not name:
            return m.group(0)
        if m.group(2):
            return f"{m.group(0)}{name}; "
        return f"{m.group(0)} ({name})"

    return [pat.sub(sub, t) for t in texts.astype(str)]


def unmatched_section(unmatched: pd.DataFrame, data: dict, e_info, m_info, max_rows,
                       titles: dict | None = None) -> str:
    if not len(unmatched):
        return "<p>Every mentee has a mentor.</p>"
    unmatched = unmatched.assign(reason=named(unmatched["reason"], m_info))
    by_reason = (unmatched.groupby("reason_code", sort=True)
                 .agg(mentees=("mentee_id", "size"), example=("reason", "first")).reset_index()
                 .rename(columns={"reason_code": "reason", "example": "for example"}))
    parts = [f"<h3>By reason</h3>{table(by_reason)}"]
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
            parts.append("<h3>By group</h3>" + table(pd.DataFrame(
                rows, columns=["group column", "group", "mentees", "by reason"])))
    shown = unmatched.head(max_rows) if max_rows is not None and max_rows >= 0 else unmatched
    labs = labels(e_info, shown["mentee_id"])
    items = "".join(
        f'<div class="roster" data-s="{esc((str(r.mentee_id) + " " + lab + " " + str(r.reason)).lower())}">'
        f"{who(lab, str(r.mentee_id))}<br><span class='meta'>{esc(r.reason)}</span></div>"
        for r, lab in zip(shown.itertuples(index=False), labs))
    parts.append(
        f'<details class="section"><summary>Everyone without a mentor (<span id="mm-unmatched-count">'
        f'{len(shown):,}</span>{shown_of(len(shown), len(unmatched))})</summary>'
        f'{capped_note(len(shown), len(unmatched), "unmatched mentees", "unmatched.csv")}'
        f'<input class="search noprint" type="search" placeholder="Search by name, id, reason…" '
        f'oninput="mmFilter(this,\'mm-unmatched\')"><div id="mm-unmatched">{items}</div></details>')
    return "".join(parts)


GLOSSARY = [
    ("match score", "how well a mentor suits a mentee: the sum, over the features (distance, "
     "experience, personality, competencies, stated preferences, mentor readiness), of each "
     "feature's weight times how well the pair does on it (0 to 1). Higher is better."),
    ("rank", "where this mentor stands among all the mentors the mentee could have had, by match "
     "score (1 = the best for this mentee alone; sharing mentors means not everyone gets their 1st)."),
    ("proven best", "the solver proved that no other pairing under the same rules has a higher "
     "total match score."),
    ("compared with random", "how much higher the total match score is than pairing the same "
     "people at random under the same capacities and eligibility (mean of several random draws); "
     "a random pairing keeps no budget, floor, minimum load or reservation value."),
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


def outcomes_section(metrics: pd.DataFrame | None) -> str:
    """The programme's outcomes by cohort (``Programme.metrics()``), or by mentor
    (``Programme.metrics(by="mentor")``), in plain terms."""
    if metrics is None or not len(metrics):
        return ""
    m = metrics.copy()
    for c in ("promotion_rate", "retention"):
        if c in m:
            m[c] = [f"{v:.0%}" if pd.notna(v) else "–" for v in m[c]]
    m = m.rename(columns={"n": "people", "n_reported": "with outcomes reported",
                          "median_days_to_promotion": "median days to promotion",
                          "mean_satisfaction": "mean satisfaction (1-5)"})
    if "mentor_id" in m.columns:  # Programme.metrics(by="mentor")
        return ("<h2>Outcomes by mentor</h2><p>Per mentor: the mentees they have had, the share "
                "promoted, the median days to promotion, the share still with the organisation, "
                "and satisfaction, where outcomes were recorded.</p>" + table(m))
    return ("<h2>Outcomes by cohort</h2><p>Per round: the people paired in it (and those left "
            "without a mentor), the share promoted, the median days to promotion, the share still "
            "with the organisation, and satisfaction, where outcomes were recorded.</p>" + table(m))


def sensitivity_section(sens: pd.DataFrame | None, n_mentees: int, plot_uri: str | None) -> str:
    """How many mentees change mentor when each weight moves down or up (a
    :func:`mentormatch.whatif.sensitivity` table, indexed by feature), with its chart."""
    if sens is None:
        return ""
    if not len(sens):
        return ("<h2>Sensitivity to the weights</h2><p>No feature has a weight above 0: nothing "
                "to move.</p>")
    t = pd.DataFrame({"feature": [str(f) for f in sens.index],
                      "weight": sens["weight"].to_numpy(dtype=float)})
    for side in ("down", "up"):
        w = sens[f"weight_{side}"].to_numpy(dtype=float)
        changed = sens[f"changed_{side}"]
        t[f"weight {side}"] = [fmt(v) for v in w]
        t[f"mentees changed ({side})"] = [
            "–" if pd.isna(c) else f"{int(c):,} ({int(c) / n_mentees:.0%})" if n_mentees else f"{int(c):,}"
            for c in changed]
    img = (f'<img class="plot" src="{plot_uri}" alt="sensitivity of the pairing to each weight">'
           if plot_uri else "")
    return ("<h2>Sensitivity to the weights</h2><p>Each feature's weight was moved down and up and "
            "the round paired again: how many mentees would then have a different mentor. Small "
            "numbers mean the pairing does not hang on the exact weights chosen.</p>" + img
            + "<details><summary>The figures by feature</summary>" + table(t) + "</details>")


def about_section(prov: Mapping[str, Any] | None) -> str:
    """"About this run": the inputs (name, SHA-256 in short form, rows), the date, the software
    versions and, collapsed, the programme's settings, from a provenance record as plain data
    (``json.loads(Provenance.to_json())``; see :mod:`mentormatch.provenance`)."""
    if not prov:
        return ""
    inputs = pd.DataFrame(prov.get("inputs") or [])
    parts = []
    versions = dict(prov.get("versions") or {})
    created = str(prov.get("created") or "")
    when = created.replace("T", " ").replace("+00:00", " UTC") if created else "at an unrecorded time"
    parts.append(f"<p>Recorded on {esc(when)} with mentormatch {esc(versions.get('mentormatch', '?'))} "
                 f"(Python {esc(versions.get('python', '?'))}). <code>provenance.json</code>, written "
                 "beside the CSV exports, holds this record in full.</p>")
    if len(inputs):
        shown = pd.DataFrame({
            "table": inputs["table"].astype(str),
            "source": ["a DataFrame (no file)" if str(n) == "<DataFrame>" else str(n)
                       for n in inputs["name"]],
            "SHA-256 (first 12)": [str(h)[:12] + "…" if isinstance(h, str) and h else "–"
                                   for h in inputs.get("sha256", pd.Series([None] * len(inputs)))],
            "rows": inputs["rows"].astype(int).to_numpy()})
        if "columns" in inputs:
            shown["columns"] = ["" if pd.isna(c) else f"{int(c):,}" for c in inputs["columns"]]
        enc = inputs["encoding"] if "encoding" in inputs else pd.Series([None] * len(inputs))
        if enc.notna().any():
            shown["encoding"] = ["" if e is None or pd.isna(e) else str(e) for e in enc]
        parts.append(table(shown))
    notes = [str(n) for n in prov.get("notes") or []]
    if notes:
        parts.append("<ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
    if versions:
        v = pd.DataFrame({"software": list(versions), "version": [str(x) for x in versions.values()]})
        parts.append("<details><summary>Software versions</summary>" + table(v) + "</details>")
    settings = json.dumps(prov.get("programme") or {}, indent=2, ensure_ascii=False, default=str)
    parts.append("<details><summary>Programme settings (every setting, defaults included)</summary>"
                 f'<pre class="settings">{esc(settings)}</pre></details>')
    return "<h2>About this run</h2>" + "".join(parts)

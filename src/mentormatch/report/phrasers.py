"""One phraser per feature: the plain words for a feature's details on a pair (geography,
experience, personality, competency, preference, readiness), and :func:`generic` for any other
feature. Each is ``fn(details: dict of arrays, k: int, ctx: dict) -> str`` (``k`` the pair's
position in the details; ``ctx`` as :func:`~.phrases.pair_phrases` builds it);
:data:`~.phrases.PHRASERS` maps the feature names to them.
"""
from __future__ import annotations

import datetime as _dt

import numpy as np

from .words import cell_number, cell_text, column_of, finite, in_words, listing, ordinal, plural, short_number


def geography(d: dict, k: int, ctx: dict) -> str:
    prep = ctx["prepared"]
    mode = getattr(getattr(prep, "feature", None), "mode", "hybrid")
    parts = []
    ce, cm = ctx["mentee_city"], ctx["mentor_city"]
    dist = d.get("distance_km")
    if mode != "remote" and dist is not None and finite(dist[k]):
        km = float(dist[k])
        if km < 1 and ce and ce == cm:
            parts.append(f"both in {ce} (0 km)")
        elif km < 1:
            parts.append("same place (0 km)")
        elif ce and cm:
            parts.append(f"{km:,.0f} km apart ({ce}–{cm})")
        else:
            parts.append(f"{km:,.0f} km apart")
    hours = d.get("shared_hours")
    if mode != "in_person" and hours is not None and finite(hours[k]):
        h = float(hours[k])
        oe, om = d.get("mentee_utc_offset"), d.get("mentor_utc_offset")
        where = ""
        if oe is not None and om is not None and finite(oe[k]) and finite(om[k]) and oe[k] != om[k]:
            month = ""
            date = getattr(prep, "reference_date", None)
            try:
                month = _dt.date.fromisoformat(str(date)).strftime("%B")
            except (TypeError, ValueError):
                pass
            pair = f"{ce}–{cm}" if ce and cm else f"UTC{float(oe[k]):+g}–UTC{float(om[k]):+g}"
            where = f" ({pair}, {month})" if month else f" ({pair})"
        parts.append(f"{short_number(h)} h of shared working hours{where}")
    return "; ".join(parts)


def _spot(gap: float, lo: float, hi: float, unit: str) -> str:
    if lo <= gap <= hi:
        return f"inside the {short_number(lo)}–{short_number(hi)} {unit} sweet spot"
    return f"{'below' if gap < lo else 'above'} the {short_number(lo)}–{short_number(hi)} {unit} sweet spot"


def experience(d: dict, k: int, ctx: dict) -> str:
    feat = getattr(ctx["prepared"], "feature", None)
    yg, lg = d.get("years_gap"), d.get("level_gap")
    y = float(yg[k]) if yg is not None and finite(yg[k]) else None
    lv = float(lg[k]) if lg is not None and finite(lg[k]) else None
    bits = []
    if y is not None:
        bits.append(f"has {plural(y, 'more year')}" if y >= 0 else f"has {plural(y, 'year')} less")
    if lv is not None:
        if lv > 0:
            bits.append(f"is {plural(lv, 'level')} ahead")
        elif lv == 0:
            bits.append("is on the same level")
        else:
            bits.append(f"is {plural(lv, 'level')} below")
    text = ("mentor " + " and ".join(bits)) if bits else "experience gap unknown"
    if y is None and lv is not None:
        text += " (years of experience unknown)"
    junior = d.get("junior_mentor")
    if junior is not None and bool(junior[k]):
        return text + ": the mentor is junior to the mentee, which scores 0"
    spots = []
    if feat is not None and y is not None and hasattr(feat, "years_gap"):
        spots.append(_spot(y, *feat.years_gap, "year"))
    if feat is not None and lv is not None and hasattr(feat, "level_gap"):
        spots.append(_spot(lv, *feat.level_gap, "level"))
    if spots:
        text += ": " + " and ".join(spots)
    ag = d.get("age_gap")
    if ag is not None and finite(ag[k]):
        text += f"; age is used (a protected attribute): the mentor is {plural(ag[k], 'year')} " \
                f"{'older' if ag[k] >= 0 else 'younger'}"
    return text


def generic(d: dict, k: int, ctx: dict) -> str:
    """Any feature: its details, as 'name value' pairs in words."""
    out = []
    for key, arr in d.items():
        try:
            v = arr[k]
        except (TypeError, IndexError, KeyError):
            continue
        words = key.replace("_", " ")
        if isinstance(v, (bool, np.bool_)):
            if v:
                out.append(words)
        elif finite(v):
            out.append(f"{words} {short_number(float(v), 2)}")
        elif isinstance(v, (list, tuple, np.ndarray)):
            if len(v):
                out.append(f"{words}: {', '.join(map(str, v))}")
        elif v not in (None, "") and not (isinstance(v, float) and np.isnan(v)):
            out.append(f"{words}: {v}")
    return "; ".join(out)


# ---- competency
_SHOWN_UNCOVERED = 3


def _target_source(ctx: dict, target: str) -> str:
    """Where the mentee's target role came from: their stated ``target_role`` or the pathway."""
    prep, i = ctx["prepared"], ctx["i"]
    titles = getattr(prep, "titles", {}) or {}
    stated = cell_text(ctx, "mentees", "target_role", i)
    if stated and stated == target:
        return "the mentee's stated target"
    role = cell_text(ctx, "mentees", "role", i)
    if not role:
        return "target from the pathway"
    frm = titles.get(role, in_words(role))
    if getattr(getattr(prep, "feature", None), "target", "next_up") == "best_next":
        return f"target from the pathway (the best fit of the next steps from {frm})"
    kind = ""
    graph = getattr(getattr(prep, "framework", None), "graph", None)
    try:
        kind = graph.edges[role, target]["kind"]
    except Exception:
        pass
    step = "next step up" if kind == "up" else ("lateral move" if kind == "lateral" else "next step")
    return f"target from the pathway ({step} from {frm})"


def competency(d: dict, k: int, ctx: dict) -> str:
    prep = ctx["prepared"]
    comps = list(getattr(prep, "competencies", None) or [])
    titles = getattr(prep, "titles", {}) or {}
    if not comps:
        return "no career framework"
    target = str(d["target_role"][k]) if "target_role" in d else ""
    if not target:
        return "no target role on the career framework"
    title = titles.get(target, in_words(target))
    source = _target_source(ctx, target)
    gap = np.asarray(d["gap"][k], dtype=np.float64)
    if np.isnan(gap).all():
        return f"mentee's competency levels unknown for {title}; {source}"
    if not np.nansum(gap) > 0:
        return f"the mentee already meets what {title} requires; {source}"
    mask = int(d["covered"][k])
    j = ctx["j"]
    level = getattr(prep, "mentor_t", None)  # (competencies, mentors) mastery, NaN = unknown
    if level is None and getattr(prep, "mentor_level", None) is not None:
        level = prep.mentor_level.T
    cov, unc, unknown = [], [], []
    for c, name in enumerate(comps):
        g = gap[c]
        if not g > 0:  # no gap, or the mentee's level unknown
            continue
        if (mask >> c) & 1:
            cov.append((-g, c, name))
        elif level is not None and np.isnan(level[c, j]):
            unknown.append(in_words(name))
        else:
            unc.append((-g, c, name))
    shown = lambda rows: [f"{in_words(n)} (+{short_number(-g)})" for g, _, n in sorted(rows)]  # biggest gaps first
    if cov:
        text = f"covers {listing(shown(cov))} that {title} requires"
    else:
        text = f"covers none of the gaps {title} requires"
    if unc:
        if not cov:
            text += ": " + listing(shown(unc)[:_SHOWN_UNCOVERED])
        else:
            text += "; not " + listing(shown(unc)[:_SHOWN_UNCOVERED], "or")
        if len(unc) > _SHOWN_UNCOVERED:
            text += f" (+{len(unc) - _SHOWN_UNCOVERED} more)"
    if unknown:
        text += f"; mentor's level unknown in {listing(unknown)}"
    return f"{text}; {source}"


def competency_neutral(d: dict, k: int, ctx: dict, default: str, neutral: float) -> str:
    """A neutral competency value said with its cause: no gap to close is not missing data."""
    target = str(d["target_role"][k]) if "target_role" in d else ""
    if not target or "gap" not in d:
        return default
    gap = np.asarray(d["gap"][k], dtype=np.float64)
    if len(gap) and not np.isnan(gap).all() and not np.nansum(gap) > 0:
        titles = getattr(ctx["prepared"], "titles", {}) or {}
        return (f"the mentee already meets what {titles.get(target, in_words(target))} requires, "
                f"so any mentor would do: neutral {neutral:g}")
    return default


# ---- personality
_TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
_SIMILAR_WITHIN = 0.25  # |difference| on the [0, 1] scale (1 point on a 1-5 scale)


def personality(d: dict, k: int, ctx: dict) -> str:
    prep = ctx["prepared"]
    feat = getattr(prep, "feature", None)
    modes = getattr(feat, "modes", {}) or {}
    weights = getattr(feat, "trait_weights", {}) or {}
    traits = list(getattr(prep, "traits", None) or _TRAITS)
    known, unknown = [], []
    for order, t in enumerate(traits):
        v = d.get(f"{t}_diff")
        if v is None:
            continue
        if not finite(v[k]):
            unknown.append(t)
            continue
        diff = float(v[k])
        mode = modes.get(t, "similar")
        part = abs(diff) if mode == "complementary" else 1.0 - abs(diff)
        w = float(weights.get(t, 1.0))
        good = (abs(diff) <= _SIMILAR_WITHIN) != (mode == "complementary")
        # how telling a trait is: its weight times its part (lifting) or its shortfall (lowering)
        known.append((-w * (part if good else 1.0 - part), order, t, mode, diff, good))
    if not known:
        return "no trait known for both"
    # the two most telling traits that lift the pair and the most telling one that lowers it,
    # topped up to three from the rest; said in trait order
    ups = sorted(r for r in known if r[5])
    downs = sorted(r for r in known if not r[5])
    pick = ups[:2] + downs[:1]
    rest = sorted(r for r in known if r not in pick)
    pick = sorted(pick + rest[:max(0, 3 - len(pick))], key=lambda r: r[1])
    groups: dict[str, list[str]] = {"similar": [], "different": [], "complementary": [], "alike": []}
    for _, _, t, mode, diff, _ in pick:
        close = abs(diff) <= _SIMILAR_WITHIN
        side = f" (mentor {'higher' if diff > 0 else 'lower'})"
        if mode == "complementary":
            groups["alike" if close else "complementary"].append(t if close else t + side)
        else:
            groups["similar" if close else "different"].append(t if close else t + side)
    heads = {"similar": "similar on", "different": "different on", "complementary": "complementary on",
             "alike": "alike, where a contrast is sought, on"}
    text = ", ".join(f"{heads[g]} {listing(ts)}" for g, ts in groups.items() if ts)
    if unknown:
        text += f"; {listing(unknown)} unknown"
    return text


# ---- preference
def _rank(v) -> int | None:
    """A 1-based rank, or None when unranked (NaN, or 0 in older details)."""
    return int(round(float(v))) if finite(v) and float(v) > 0 else None


def _list_length(ctx: dict, side: str, idx: int) -> int | None:
    prep = ctx["prepared"]
    lengths = getattr(prep, f"{side}_lengths", None)
    if lengths is not None:
        return int(lengths[idx])
    col = column_of(ctx, f"{side}s", "preferences")
    if col is None:
        return None
    v = col[idx]
    if isinstance(v, (tuple, list, np.ndarray)):
        return len(v)
    return len([x for x in str(v).split(";") if x.strip()]) if isinstance(v, str) else 0


def preference(d: dict, k: int, ctx: dict) -> str:
    re_ = _rank(d["mentee_rank"][k]) if "mentee_rank" in d else None
    rm = _rank(d["mentor_rank"][k]) if "mentor_rank" in d else None
    key = "suggested" if "suggested" in d else "manager_suggested"
    suggested = key in d and bool(d[key][k])
    le = _list_length(ctx, "mentee", ctx["i"])
    lm = _list_length(ctx, "mentor", ctx["j"])

    def ranked(who: str, whom: str, r: int, n: int | None) -> str:
        if r == 1 and n == 1:
            return f"{who} ranked this {whom} 1st (the only choice)"
        return f"{who} ranked this {whom} {ordinal(r)}" + (f" of {n}" if n else "")

    if re_ is not None and rm is not None:
        if re_ == 1 and rm == 1:
            text = "mutual first choice"
        else:
            text = (f"mutual choice: {ranked('mentee', 'mentor', re_, le)}, "
                    f"{ranked('mentor', 'mentee', rm, lm)}")
    elif re_ is not None:
        text = ranked("mentee", "mentor", re_, le)
    elif rm is not None:
        text = ranked("mentor", "mentee", rm, lm)
    else:
        text = ""
    if suggested:
        return f"{text}; suggested by the mentee's manager" if text else "suggested by the mentee's manager"
    if text:
        return text
    if le:
        return f"not among the mentee's {plural(le, 'choice')} (neutral)"
    return "no stated preference (neutral)"


# ---- readiness
_CRITERIA = ("performance", "leadership_feedback", "tenure_years")


def readiness(d: dict, k: int, ctx: dict) -> str:
    prep = ctx["prepared"]
    feat = getattr(prep, "feature", None)
    weights = getattr(feat, "criteria_weights", None) or {c: 1.0 for c in _CRITERIA}
    cap = float(getattr(feat, "tenure_cap_years", 10.0))
    j = ctx["j"]
    parts, unknown = [], []
    for c in _CRITERIA:
        if float(weights.get(c, 0.0)) <= 0:
            continue
        raw = cell_number(ctx, "mentors", c, j)
        if raw is None and c in d and finite(d[c][k]):  # back from the [0, 1] criterion
            raw = float(d[c][k]) * cap if c == "tenure_years" else 1.0 + 4.0 * float(d[c][k])
        if raw is None:
            unknown.append("tenure" if c == "tenure_years" else in_words(c))
        elif c == "tenure_years":
            t = f"{short_number(raw)} year{'' if raw == 1 else 's'}' tenure"
            parts.append(t.replace("year' ", "year's ") + (f" (counts as {short_number(cap)})" if raw > cap else ""))
        else:
            parts.append(f"{in_words(c)} {raw:.1f}/5")
    r = d.get("readiness")
    value = f"{float(r[k]):.2f}" if r is not None and finite(r[k]) else "unknown"
    text = f"mentor readiness {value}"
    if parts:
        text += f" ({', '.join(parts)})"
    if unknown:
        text += f"; {listing(unknown)} unknown"
    return text


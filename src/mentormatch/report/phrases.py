"""Plain words for each feature's details on a pair: one phraser per feature (geography,
experience, personality, competency, preference, readiness, and a generic fallback), and
:func:`pair_phrases`, which phrases many pairs at once.

Works on the pieces of a result (its ``data`` dict); never imports the result class.
"""
from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd

__all__ = ["FEATURE_COLUMNS", "PHRASERS", "NEUTRAL_PHRASERS", "register_phraser", "pair_phrases",
           "protected_notes", "score_rows"]

# Columns each feature reads, to say whose data were missing when a feature fell back to neutral.
FEATURE_COLUMNS = {
    "geography": ("latitude", "longitude", "city", "timezone"),
    "experience": ("years_experience", "level", "age"),
    "personality": ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"),
    "competency": ("role", "target_role"),
    "preference": ("preferences", "manager_suggestions"),
    "readiness": ("performance", "leadership_feedback", "tenure_years"),
}



def _num(x) -> bool:
    try:
        return x is not None and np.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _g(x: float, digits: int = 1) -> str:
    x = float(x)
    if abs(x - round(x)) < 1e-9:
        return f"{int(round(x))}"
    return f"{x:.{digits}f}"


def _plural(n: float, word: str) -> str:
    return f"{_g(abs(n))} {word}{'' if abs(float(n)) == 1 else 's'}"


def _geography(d: dict, k: int, ctx: dict) -> str:
    prep = ctx["prepared"]
    mode = getattr(getattr(prep, "feature", None), "mode", "hybrid")
    parts = []
    ce, cm = ctx["mentee_city"], ctx["mentor_city"]
    dist = d.get("distance_km")
    if mode != "remote" and dist is not None and _num(dist[k]):
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
    if mode != "in_person" and hours is not None and _num(hours[k]):
        h = float(hours[k])
        oe, om = d.get("mentee_utc_offset"), d.get("mentor_utc_offset")
        where = ""
        if oe is not None and om is not None and _num(oe[k]) and _num(om[k]) and oe[k] != om[k]:
            month = ""
            date = getattr(prep, "reference_date", None)
            try:
                month = _dt.date.fromisoformat(str(date)).strftime("%B")
            except (TypeError, ValueError):
                pass
            pair = f"{ce}–{cm}" if ce and cm else f"UTC{float(oe[k]):+g}–UTC{float(om[k]):+g}"
            where = f" ({pair}, {month})" if month else f" ({pair})"
        parts.append(f"{_g(h)} h of shared working hours{where}")
    return "; ".join(parts)


def _spot(gap: float, lo: float, hi: float, unit: str) -> str:
    if lo <= gap <= hi:
        return f"inside the {_g(lo)}–{_g(hi)} {unit} sweet spot"
    return f"{'below' if gap < lo else 'above'} the {_g(lo)}–{_g(hi)} {unit} sweet spot"


def _experience(d: dict, k: int, ctx: dict) -> str:
    feat = getattr(ctx["prepared"], "feature", None)
    yg, lg = d.get("years_gap"), d.get("level_gap")
    y = float(yg[k]) if yg is not None and _num(yg[k]) else None
    lv = float(lg[k]) if lg is not None and _num(lg[k]) else None
    bits = []
    if y is not None:
        bits.append(f"has {_plural(y, 'more year')}" if y >= 0 else f"has {_plural(y, 'year')} less")
    if lv is not None:
        if lv > 0:
            bits.append(f"is {_plural(lv, 'level')} ahead")
        elif lv == 0:
            bits.append("is on the same level")
        else:
            bits.append(f"is {_plural(lv, 'level')} below")
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
    if ag is not None and _num(ag[k]):
        text += f"; age is used (a protected attribute): the mentor is {_plural(ag[k], 'year')} " \
                f"{'older' if ag[k] >= 0 else 'younger'}"
    return text


def _generic(d: dict, k: int, ctx: dict) -> str:
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
        elif _num(v):
            out.append(f"{words} {_g(float(v), 2)}")
        elif isinstance(v, (list, tuple, np.ndarray)):
            if len(v):
                out.append(f"{words}: {', '.join(map(str, v))}")
        elif v not in (None, "") and not (isinstance(v, float) and np.isnan(v)):
            out.append(f"{words}: {v}")
    return "; ".join(out)


def _words(name: str) -> str:
    """An identifier in words: underscores to spaces."""
    return str(name).replace("_", " ")


def _listing(parts: list[str], conj: str = "and") -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {conj} " + parts[-1]


def _column(ctx: dict, table: str, column: str) -> np.ndarray | None:
    """A column of the mentees or mentors table as an object array ("" where missing), taken
    once per :func:`pair_phrases` call (cached in ``ctx["cache"]``), never once per pair."""
    cache = ctx.setdefault("cache", {})
    key = (table, column)
    if key not in cache:
        frame = ctx.get(table)
        if frame is None or column not in frame.columns:
            cache[key] = None
        else:
            cache[key] = frame[column].to_numpy(dtype=object)
    return cache[key]


def _cell_text(ctx: dict, table: str, column: str, idx: int) -> str:
    col = _column(ctx, table, column)
    if col is None:
        return ""
    v = col[idx]
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()


def _cell_number(ctx: dict, table: str, column: str, idx: int) -> float | None:
    col = _column(ctx, table, column)
    if col is None or not _num(col[idx]):
        return None
    return float(col[idx])


# ---- competency
_SHOWN_UNCOVERED = 3


def _target_source(ctx: dict, target: str) -> str:
    """Where the mentee's target role came from: their stated ``target_role`` or the pathway."""
    prep, i = ctx["prepared"], ctx["i"]
    titles = getattr(prep, "titles", {}) or {}
    stated = _cell_text(ctx, "mentees", "target_role", i)
    if stated and stated == target:
        return "the mentee's stated target"
    role = _cell_text(ctx, "mentees", "role", i)
    if not role:
        return "target from the pathway"
    frm = titles.get(role, _words(role))
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


def _competency(d: dict, k: int, ctx: dict) -> str:
    prep = ctx["prepared"]
    comps = list(getattr(prep, "competencies", None) or [])
    titles = getattr(prep, "titles", {}) or {}
    if not comps:
        return "no career framework"
    target = str(d["target_role"][k]) if "target_role" in d else ""
    if not target:
        return "no target role on the career framework"
    title = titles.get(target, _words(target))
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
            unknown.append(_words(name))
        else:
            unc.append((-g, c, name))
    shown = lambda rows: [f"{_words(n)} (+{_g(-g)})" for g, _, n in sorted(rows)]  # biggest gaps first
    if cov:
        text = f"covers {_listing(shown(cov))} that {title} requires"
    else:
        text = f"covers none of the gaps {title} requires"
    if unc:
        if not cov:
            text += ": " + _listing(shown(unc)[:_SHOWN_UNCOVERED])
        else:
            text += "; not " + _listing(shown(unc)[:_SHOWN_UNCOVERED], "or")
        if len(unc) > _SHOWN_UNCOVERED:
            text += f" (+{len(unc) - _SHOWN_UNCOVERED} more)"
    if unknown:
        text += f"; mentor's level unknown in {_listing(unknown)}"
    return f"{text}; {source}"


def _competency_neutral(d: dict, k: int, ctx: dict, default: str, neutral: float) -> str:
    """A neutral competency value said with its cause: no gap to close is not missing data."""
    target = str(d["target_role"][k]) if "target_role" in d else ""
    if not target or "gap" not in d:
        return default
    gap = np.asarray(d["gap"][k], dtype=np.float64)
    if len(gap) and not np.isnan(gap).all() and not np.nansum(gap) > 0:
        titles = getattr(ctx["prepared"], "titles", {}) or {}
        return (f"the mentee already meets what {titles.get(target, _words(target))} requires, "
                f"so any mentor would do: neutral {neutral:g}")
    return default


# ---- personality
_TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
_SIMILAR_WITHIN = 0.25  # |difference| on the [0, 1] scale (1 point on a 1-5 scale)


def _personality(d: dict, k: int, ctx: dict) -> str:
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
        if not _num(v[k]):
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
    text = ", ".join(f"{heads[g]} {_listing(ts)}" for g, ts in groups.items() if ts)
    if unknown:
        text += f"; {_listing(unknown)} unknown"
    return text


# ---- preference
def _rank(v) -> int | None:
    """A 1-based rank, or None when unranked (NaN, or 0 in older details)."""
    return int(round(float(v))) if _num(v) and float(v) > 0 else None


def _list_length(ctx: dict, side: str, idx: int) -> int | None:
    prep = ctx["prepared"]
    lengths = getattr(prep, f"{side}_lengths", None)
    if lengths is not None:
        return int(lengths[idx])
    col = _column(ctx, f"{side}s", "preferences")
    if col is None:
        return None
    v = col[idx]
    if isinstance(v, (tuple, list, np.ndarray)):
        return len(v)
    return len([x for x in str(v).split(";") if x.strip()]) if isinstance(v, str) else 0


def _preference(d: dict, k: int, ctx: dict) -> str:
    re_ = _rank(d["mentee_rank"][k]) if "mentee_rank" in d else None
    rm = _rank(d["mentor_rank"][k]) if "mentor_rank" in d else None
    key = "suggested" if "suggested" in d else "manager_suggested"
    suggested = key in d and bool(d[key][k])
    le = _list_length(ctx, "mentee", ctx["i"])
    lm = _list_length(ctx, "mentor", ctx["j"])

    def ranked(who: str, whom: str, r: int, n: int | None) -> str:
        if r == 1 and n == 1:
            return f"{who} ranked this {whom} 1st (the only choice)"
        return f"{who} ranked this {whom} {_ordinal(r)}" + (f" of {n}" if n else "")

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
        return f"not among the mentee's {_plural(le, 'choice')} (neutral)"
    return "no stated preference (neutral)"


# ---- readiness
_CRITERIA = ("performance", "leadership_feedback", "tenure_years")


def _readiness(d: dict, k: int, ctx: dict) -> str:
    prep = ctx["prepared"]
    feat = getattr(prep, "feature", None)
    weights = getattr(feat, "criteria_weights", None) or {c: 1.0 for c in _CRITERIA}
    cap = float(getattr(feat, "tenure_cap_years", 10.0))
    j = ctx["j"]
    parts, unknown = [], []
    for c in _CRITERIA:
        if float(weights.get(c, 0.0)) <= 0:
            continue
        raw = _cell_number(ctx, "mentors", c, j)
        if raw is None and c in d and _num(d[c][k]):  # back from the [0, 1] criterion
            raw = float(d[c][k]) * cap if c == "tenure_years" else 1.0 + 4.0 * float(d[c][k])
        if raw is None:
            unknown.append("tenure" if c == "tenure_years" else _words(c))
        elif c == "tenure_years":
            t = f"{_g(raw)} year{'' if raw == 1 else 's'}' tenure"
            parts.append(t.replace("year' ", "year's ") + (f" (counts as {_g(cap)})" if raw > cap else ""))
        else:
            parts.append(f"{_words(c)} {raw:.1f}/5")
    r = d.get("readiness")
    value = f"{float(r[k]):.2f}" if r is not None and _num(r[k]) else "unknown"
    text = f"mentor readiness {value}"
    if parts:
        text += f" ({', '.join(parts)})"
    if unknown:
        text += f"; {_listing(unknown)} unknown"
    return text


PHRASERS = {"geography": _geography, "experience": _experience, "personality": _personality,
            "competency": _competency, "preference": _preference, "readiness": _readiness}

# Features whose neutral value may have a cause other than missing data:
# ``fn(details, k, ctx, default_text, neutral) -> str``.
NEUTRAL_PHRASERS = {"competency": _competency_neutral}


def register_phraser(feature: str, fn) -> None:
    """Phrase ``feature``'s details: ``fn(details: dict of arrays, k: int, ctx: dict) -> str``."""
    PHRASERS[feature] = fn


def _whose_missing(feature: str, mentees, mentors, i: int, j: int) -> str:
    cols = FEATURE_COLUMNS.get(feature)
    if not cols:
        return ""

    def known(frame, idx):
        if frame is None:
            return True
        present = [c for c in frame.columns if c in cols or (feature == "competency" and c.startswith("comp_"))]
        if not present:
            return False
        row = frame.iloc[idx][present]
        return bool(row.notna().any() and (row.astype(str).str.len() > 0).any())

    e, m = known(mentees, i), known(mentors, j)
    if not e and not m:
        return "both"
    if not e:
        return "the mentee"
    if not m:
        return "the mentor"
    return ""


def score_rows(data: dict, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray | None:
    """Rows of the result's score arrays (``data["scores"]``: total, values, contributions,
    missing) for the given pairs: over the complete set on the exact path, over the solver's
    pairs on the scale path (-1 where a pair is not among them). None without scores."""
    scores = data.get("scores")
    if scores is None or not hasattr(scores, "contributions"):
        return None
    mentee = np.asarray(mentee, dtype=np.int64)
    mentor = np.asarray(mentor, dtype=np.int64)
    complete = data.get("complete")
    if complete is not None:
        return mentee * complete.n_mentors + mentor
    problem = data.get("problem")
    if problem is not None and len(scores.contributions) == len(problem.pairs):
        return np.asarray(problem.pairs.locate(mentee, mentor), dtype=np.int64)
    return None


def pair_phrases(data: dict, mentee: np.ndarray, mentor: np.ndarray) -> pd.DataFrame:
    """Per pair and feature the plain-words phrase (one column per feature, aligned with the
    given index arrays). Details are fetched once per feature for all the pairs. Features
    without details (scores supplied by the caller) give an empty frame."""
    scores = data.get("scores")
    mentee = np.asarray(mentee, dtype=np.int64)
    mentor = np.asarray(mentor, dtype=np.int64)
    if scores is None or not hasattr(scores, "prepared"):
        return pd.DataFrame(index=range(len(mentee)))
    mentees, mentors = data.get("mentees"), data.get("mentors")
    pos = score_rows(data, mentee, mentor)
    out = {}
    for col, name in enumerate(scores.features):
        prep = scores.prepared.get(name)
        try:
            details = prep.details(mentee, mentor) if prep is not None else {}
        except Exception:  # a feature's details must never break a report
            details = {}
        fn = PHRASERS.get(name, _generic)
        neutral_fn = NEUTRAL_PHRASERS.get(name)
        cache: dict = {}  # per feature: columns read once for all the pairs
        texts = []
        for k in range(len(mentee)):
            i, j = int(mentee[k]), int(mentor[k])
            ctx = {"prepared": prep, "mentees": mentees, "mentors": mentors,
                   "i": i, "j": j, "data": data, "cache": cache}
            ctx["mentee_city"] = _cell_text(ctx, "mentees", "city", i)
            ctx["mentor_city"] = _cell_text(ctx, "mentors", "city", j)
            if pos is not None and pos[k] >= 0 and scores.missing[pos[k], col]:
                who = _whose_missing(name, mentees, mentors, i, j)
                whose = f" for {who}" if who and who != "both" else (" for both" if who else "")
                neutral = scores.values[pos[k], col]
                text = f"{name} unknown{whose}: neutral {neutral:g}"
                if neutral_fn is not None:
                    try:
                        text = neutral_fn(details, k, ctx, text, neutral) or text
                    except Exception:
                        pass
                texts.append(text)
                continue
            try:
                texts.append(fn(details, k, ctx) or "")
            except Exception:
                texts.append(_generic(details, k, ctx))
        out[name] = texts
    return pd.DataFrame(out, index=range(len(mentee)))


def protected_notes(data: dict) -> list[str]:
    """Sentences for every scored feature that uses a protected attribute (age)."""
    scores = data.get("scores")
    notes = []
    for name, prep in (getattr(scores, "prepared", None) or {}).items():
        if getattr(getattr(prep, "feature", None), "uses_protected_attribute", False):
            if name in getattr(scores, "features", []):
                notes.append(f"the {name} feature uses age, a protected attribute")
    return notes


def _ordinal(n: int) -> str:
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


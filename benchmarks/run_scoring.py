"""The scoring table of section 2: the pipeline's validation and scoring of a synthetic
organisation (no solving) against its yardstick, a plain numpy pass over lookup tables of the
distinct values that computes the same values (``scoring_target.py`` times the two alike)."""
from __future__ import annotations

import time

from cells import fmt_cell
from harness import measure, measure_logged, use_src
from rss import peak_rss_mb
from run_quality import mentors_for


def scoring_inputs(spec):
    """What both scoring timings start from: the organisation, then (timed from ``t``) the
    default rules, the validated tables and the complete pair set, and the feature context.
    Returns (rules, mentors, mentees, complete, context, t, validation seconds, rss before)."""
    use_src()
    from mentormatch import synthetic
    from mentormatch.features import Context
    from mentormatch.pairs import Candidates
    from mentormatch.pipeline import resolve_framework
    from mentormatch.rules import Rules
    from mentormatch.schema import validate_tables

    mentors, mentees = synthetic.organisation(n_mentees=spec["n"], n_mentors=spec["m"], seed=spec["seed"])
    before = peak_rss_mb()
    t = time.perf_counter()
    rules = Rules.coerce(None)
    mentors, mentees = validate_tables(mentors, mentees)
    t_valid = time.perf_counter() - t
    complete = Candidates.complete(len(mentees), len(mentors))
    context = Context(framework=resolve_framework(None, mentees, mentors))
    return rules, mentors, mentees, complete, context, t, t_valid, before


def w_scoring(spec):
    """The pipeline's validation + scoring time (no solving) on a synthetic organisation."""
    from mentormatch.scoring import score_pairs

    rules, mentors, mentees, complete, context, t, t_valid, before = scoring_inputs(spec)
    scores = score_pairs(mentees, mentors, complete, rules, context)
    elapsed = time.perf_counter() - t
    return {"time": elapsed, "validate_time": t_valid, "pairs": int(len(complete)),
            "features": list(scores.features), "rss_before_mb": before}


def w_scoring_reference(spec):
    """The yardstick of ``w_scoring``: the six default features' arithmetic in plain numpy on
    lookup tables of the distinct values (places, (years, level), trait values, (target role,
    gap weights) x the mentor's covered requirements, mentor readiness; stated preferences as
    a sparse matrix), then one whole-array gather per feature into the (pairs x features) values
    (neutral where unknown) and the weighted total. Same span timed as ``w_scoring``
    (validation, the complete pair set, reading the columns, the tables, the pass). With
    ``spec["check"]`` the result is compared with ``score_pairs`` (values and total)."""
    rules, mentors, mentees, complete, context, t, _, before = scoring_inputs(spec)
    import numpy as np

    from mentormatch.features.experience import sweet_spot
    from mentormatch.features.geography import haversine_km, shared_hours
    from mentormatch.scoring import prepare_features, score_pairs

    i, j = complete.mentee, complete.mentor
    prep = prepare_features(mentees, mentors, rules, context)  # the columns as arrays
    P, X = prep.prepared, prep.extractors
    features = [f for f, w in rules.weights.items() if w > 0]

    def codes(*cols):  # distinct rows (NaN equal to NaN) and each row's code
        a = np.column_stack([np.nan_to_num(np.asarray(c, dtype=float), nan=-1e300) for c in cols])
        u, inv = np.unique(a, axis=0, return_inverse=True)
        return np.where(u == -1e300, np.nan, u), inv.reshape(-1)

    tables = {}  # feature -> (table (Ke, Km), mentee code, mentor code)
    g, f = P["geography"], X["geography"]
    ue, ce = codes(g.mentee_lat, g.mentee_lon, g.mentee_offset)
    um, cm = codes(g.mentor_lat, g.mentor_lon, g.mentor_offset)
    near = np.exp(-haversine_km(ue[:, 0, None], ue[:, 1, None], um[None, :, 0], um[None, :, 1]) / f.distance_scale_km)
    overlap = shared_hours(ue[:, 2, None], um[None, :, 2], f.work_start, f.work_end) / (f.work_end - f.work_start)
    both = np.stack([near, overlap])
    with np.errstate(invalid="ignore"):
        tables["geography"] = (np.nansum(both, 0) / (~np.isnan(both)).sum(0), ce, cm)
    e, f = P["experience"], X["experience"]
    ue, ce = codes(e.years[0], e.level[0])
    um, cm = codes(e.years[1], e.level[1])
    yg, lg = um[None, :, 0] - ue[:, 0, None], um[None, :, 1] - ue[:, 1, None]
    parts = np.stack([sweet_spot(yg, *f.years_gap, f.years_decay), sweet_spot(lg, *f.level_gap, f.level_decay)])
    with np.errstate(invalid="ignore"):
        v = np.nansum(parts, 0) / (~np.isnan(parts)).sum(0)
        tables["experience"] = (np.where(np.where(np.isnan(lg), yg < 0, lg < 0), 0.0, v), ce, cm)
    c = P["competency"]
    w, req, lev = c.weight_t[0], c.required_t[0], c.mentor_t  # (C, n), (C, n), (C, m)
    ue, ce = codes(c.targets[0], *w)
    target_first = np.zeros(len(ue), dtype=np.int64)
    target_first[ce] = np.arange(len(ce))  # a mentee of each code: its required levels
    with np.errstate(invalid="ignore"):
        cover = lev[None, :, :] >= req[:, target_first].T[:, :, None]  # (Ke, C, m)
    num = np.einsum("kc,kcm->km", ue[:, 1:], cover.astype(float))
    den = ue[:, 1:].sum(1)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        tables["competency"] = (np.where(den > 0, num / den, np.nan), ce, np.arange(len(mentors)))
    p = P["personality"]
    tables["readiness"] = (P["readiness"].readiness[None, :], np.zeros(len(mentees), dtype=np.int64),
                           np.arange(len(mentors)))
    w_t = np.array([X["personality"].trait_weights[t] for t in p.traits])
    trait_codes = [codes(p.mentee_t[k]) + codes(p.mentor_t[k]) for k in range(len(p.traits))]
    pref = P["preference"]
    stated = (abs(pref.mentee_ranks) + abs(pref.mentor_ranks) + abs(pref.suggested)).tocoo()
    sv = pref.values(stated.row.astype(np.int64), stated.col.astype(np.int64))
    stated_key = stated.row.astype(np.int64) * len(mentors) + stated.col
    t_tables = time.perf_counter() - t

    # the pass over the pairs
    weights = np.array([rules.weights[f] for f in features])
    values = np.empty((len(i), len(features)))
    for col, name in enumerate(features):
        if name in tables:
            table, ce, cm = tables[name]
            v = table[ce[i], cm[j]]
        elif name == "personality":
            v = np.zeros(len(i))
            for (ue, ce, um, cm), wt in zip(trait_codes, w_t):
                v += (wt * (1.0 - np.abs(ue[:, 0, None] - um[None, :, 0])))[ce[i], cm[j]]
            v /= w_t.sum()
        else:  # preference: 0 except on the stated pairs
            v = np.zeros(len(i))
            v[np.searchsorted(i * len(mentors) + j, stated_key)] = sv
        values[:, col] = np.where(np.isnan(v), float(X[name].neutral), v)
    total = values @ weights
    elapsed = time.perf_counter() - t
    out = {"time": elapsed, "tables_time": t_tables, "pairs": int(len(i)), "features": features,
           "rss_before_mb": before}
    if spec.get("check"):
        s = score_pairs(mentees, mentors, complete, rules, context)
        out["max_abs_diff_values"] = float(np.abs(s.values - values).max())
        out["max_abs_diff_total"] = float(np.abs(s.total - total).max())
    return out


#: The workers of this table, by their ``kind``.
WORKERS = {"scoring": w_scoring, "scoring reference (numpy on tables)": w_scoring_reference}


def run(sizes, mem: int) -> list[dict]:
    """Both spans at each of the quality section's sizes (``n`` mentees, ``n / 3.3`` mentors),
    each in its own subprocess; the reference checked against ``score_pairs`` up to a million
    pairs."""
    scoring_rows = []
    for n in sizes:
        m = mentors_for(n)
        row = {"n": n, "m": m, **measure_logged(f"[scoring] {n} x {m}", {"kind": "scoring", "n": n, "m": m,
                                                                          "seed": 1}, timeout=600, mem_limit=mem)}
        row["reference"] = measure({"kind": "scoring reference (numpy on tables)", "n": n, "m": m, "seed": 1,
                                    "check": n * m <= 1_000_000},  # same values as score_pairs?
                                   timeout=600, mem_limit=mem)
        scoring_rows.append(row)
    return scoring_rows


def scoring_table(scoring_rows) -> list[str]:
    """The table's lines (none without rows)."""
    if not scoring_rows:
        return []
    lines = ["**The pipeline's scoring (validation + all features, no solving) on synthetic organisations**, "
             "against a plain numpy pass over lookup tables of the distinct values that computes the same "
             "values (`w_scoring_reference`: one whole-array gather per feature, then the weighted total)", "",
             "| mentees x mentors | pairs | time | peak MB | numpy on tables | ratio |",
             "|---|---|---|---|---|---|"]
    for r in scoring_rows:
        cell = fmt_cell(r)
        ref = r.get("reference") or {"status_run": "not run"}
        ratio = (f"{r['time'] / ref['time']:.2f}x" if r.get("status_run") == "ok" and ref.get("status_run") == "ok"
                 else "-")
        peak = f"{r['peak_rss_mb']:.0f}" if r.get("status_run") == "ok" else "-"
        lines.append(f"| {r['n']:,} x {r['m']:,} | {r['n'] * r['m']:,} | {cell} | {peak} | {fmt_cell(ref)} | {ratio} |")
    lines.append("")
    return lines

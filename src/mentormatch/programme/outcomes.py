"""Outcomes recorded for pairs (and for mentees left unpaired) and the programme's metrics per
cohort or per mentor."""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ..errors import Problem, ValidationError
from . import ledger
from .tables import METRIC_COLUMNS, OUTCOME_COLUMNS, as_date, days, typed

if TYPE_CHECKING:
    from .core import Programme


def record_outcomes(prog: "Programme", outcomes) -> None:
    """The body of :meth:`Programme.record_outcomes` (its docstring states the columns)."""
    frame = outcome_table(outcomes)
    problems: list[Problem] = []
    h = prog._history
    seen_mentees = set(h["mentee_id"])
    for r in prog._rounds:
        seen_mentees |= set(r.unmatched["mentee_id"])
    latest = (h.sort_values(["start", "instance"], kind="mergesort")
              .groupby(["mentee_id", "mentor_id"], sort=False).tail(1))
    inst = {(e, m): (int(i), s) for e, m, i, s in
            zip(latest["mentee_id"], latest["mentor_id"], latest["instance"], latest["start"])}
    rows = []
    keys = set()
    for n, r in enumerate(frame.itertuples(index=False), start=2):
        e, m = r.mentee_id, r.mentor_id
        if m:
            if (e, m) not in inst:
                problems.append(Problem("outcomes", "mentor_id", e, n, m,
                                        "a mentor this mentee was paired with in a round"))
                continue
            i, start = inst[(e, m)]
        else:
            if e not in seen_mentees:
                problems.append(Problem("outcomes", "mentee_id", e, n, e,
                                        "a mentee who took part in a round"))
                continue
            i, start = 0, ""
        if (e, m) in keys:
            problems.append(Problem("outcomes", "mentee_id", e, n, f"{e}, {m}",
                                    "one row per pair (this pair appears twice)"))
            continue
        keys.add((e, m))
        for col in ("ended", "promoted"):
            v = getattr(r, col)
            if v and start and v < start:
                problems.append(Problem("outcomes", col, e, n, v,
                                        f"a date on or after the pair's start ({start})"))
        rows.append({"mentee_id": e, "mentor_id": m, "instance": i, "ended": r.ended,
                     "promoted": r.promoted, "satisfaction": r.satisfaction, "left": r.left})
    if problems:
        raise ValidationError(problems)
    new = typed(pd.DataFrame(rows, columns=list(OUTCOME_COLUMNS)))
    merged = pd.concat([prog._outcomes, new], ignore_index=True)
    out = []
    for (_e, _m, _i), g in merged.groupby(["mentee_id", "mentor_id", "instance"], sort=True):
        row = g.iloc[0].to_dict()
        for _, later in g.iloc[1:].iterrows():
            for c in ("ended", "promoted", "left"):
                if later[c]:
                    row[c] = later[c]
            if not math.isnan(later["satisfaction"]):
                row["satisfaction"] = later["satisfaction"]
        out.append(row)
    prog._outcomes = typed(pd.DataFrame(out, columns=list(OUTCOME_COLUMNS)))
    ledger.apply_endings(prog._history, prog._outcomes)



def metrics(prog: "Programme", by: Literal["cohort", "mentor"] = "cohort") -> pd.DataFrame:
    """The body of :meth:`Programme.metrics` (its docstring states the columns)."""
    if by not in ("cohort", "mentor"):
        raise ValidationError(Problem("arguments", "by", None, None, by, "'cohort' or 'mentor'"))
    h, o = prog._history, prog._outcomes
    paired = h.merge(o[o["instance"] > 0][["instance", "promoted", "satisfaction", "left"]],
                     on="instance", how="left", indicator=True)
    paired["reported"] = paired["_merge"] == "both"
    paired = paired.drop(columns="_merge")
    for c in ("promoted", "left"):
        paired[c] = paired[c].fillna("")
    if by == "mentor":
        rows = []
        for mentor, g in paired.groupby("mentor_id", sort=True):
            rows.append({"mentor_id": mentor, **measures(g)})
        return pd.DataFrame(rows, columns=["mentor_id", *METRIC_COLUMNS])
    solo = o[o["instance"] == 0].set_index("mentee_id")
    rows = []
    for r in prog._rounds:
        g = paired[paired["round"] == r.number]
        rows.append({"round": r.number, "date": r.date, "group": "paired", **measures(g)})
        un = r.unmatched["mentee_id"]
        if len(un):
            u = pd.DataFrame({"mentee_id": un.to_numpy(), "start": r.date})
            u["reported"] = u["mentee_id"].isin(solo.index)
            get = lambda c: [solo.at[e, c] if e in solo.index else "" for e in u["mentee_id"]]
            u["promoted"] = [d if d and d >= r.date else "" for d in get("promoted")]
            u["left"] = get("left")
            u["satisfaction"] = [solo.at[e, "satisfaction"] if e in solo.index else math.nan
                                 for e in u["mentee_id"]]
            rows.append({"round": r.number, "date": r.date, "group": "unpaired", **measures(u)})
    return pd.DataFrame(rows, columns=["round", "date", "group", *METRIC_COLUMNS])



def outcome_table(outcomes) -> pd.DataFrame:
    """Validate an outcomes table: text ids, ISO dates or '', satisfaction 1-5 or NaN."""
    if isinstance(outcomes, (str, Path)):
        path = Path(outcomes)
        if not path.is_file():
            raise ValidationError(Problem("outcomes", None, None, None, str(path), "an existing CSV file"))
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    elif isinstance(outcomes, pd.DataFrame):
        frame = outcomes.copy()
    else:
        raise ValidationError(Problem("outcomes", None, None, None, type(outcomes).__name__,
                                      "a DataFrame or a CSV path"))
    allowed = ("mentee_id", "mentor_id", "ended", "promoted", "satisfaction", "left")
    problems = [Problem("outcomes", c, None, 1, None, "this column (required)")
                for c in ("mentee_id", "mentor_id") if c not in frame.columns]
    problems += [Problem("outcomes", str(c), None, 1, c, f"one of {', '.join(allowed)}")
                 for c in frame.columns if c not in allowed]
    if problems:
        raise ValidationError(problems)

    def text(v) -> str:
        return "" if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT else str(v).strip()

    out: dict[str, list] = {c: [] for c in allowed}
    for n, row in enumerate(frame.to_dict("records"), start=2):
        e = text(row["mentee_id"])
        if not e:
            problems.append(Problem("outcomes", "mentee_id", None, n, row["mentee_id"], "a mentee id"))
        out["mentee_id"].append(e)
        out["mentor_id"].append(text(row["mentor_id"]))
        for c in ("ended", "promoted", "left"):
            try:
                out[c].append(as_date(row.get(c), c, table="outcomes", row_id=e, line=n, optional=True))
            except ValidationError as exc:
                problems += exc.problems
                out[c].append("")
        s = row.get("satisfaction")
        s = text(s)
        try:
            v = float(s) if s else math.nan
            if s and not 1 <= v <= 5:
                raise ValueError
        except ValueError:
            problems.append(Problem("outcomes", "satisfaction", e, n, row.get("satisfaction"),
                                    "a number from 1 to 5, or empty"))
            v = math.nan
        out["satisfaction"].append(v)
    if problems:
        raise ValidationError(problems)
    return pd.DataFrame(out)


def measures(g: pd.DataFrame) -> dict[str, Any]:
    """The metric columns over one group of instances (columns reported, start, promoted, left,
    satisfaction)."""
    rep = g[g["reported"]] if len(g) else g
    n, k = len(g), len(rep)
    promoted = rep["promoted"] != "" if k else pd.Series(dtype=bool)
    waits = [days(s, p) for s, p in zip(rep["start"][promoted], rep["promoted"][promoted])] if k else []
    sat = rep["satisfaction"].dropna() if k else pd.Series(dtype=float)
    return {
        "n": n, "n_reported": k,
        "promotion_rate": float(promoted.mean()) if k else math.nan,
        "median_days_to_promotion": float(np.median(waits)) if waits else math.nan,
        "retention": float((rep["left"] == "").mean()) if k else math.nan,
        "mean_satisfaction": float(sat.mean()) if len(sat) else math.nan,
    }


"""How a figure reads in a table cell of BENCHMARKS.md: times, ratios, a measurement that did
not run (its reason, in italics), a result's status, and its pairs' digest."""
from __future__ import annotations


def size_label(n, m, c, k=0) -> str:
    return f"{n:,} x {m:,} (c={c})" + (f", sparse: {k} random candidates per mentee" if k else "")


def fmt_t(x):
    if x is None:
        return "-"
    if x < 0.01:
        return f"{x * 1000:.2f} ms"
    return f"{x * 1000:.0f} ms" if x < 1 else f"{x:.2f} s" if x < 100 else f"{x:.0f} s"


def is_ok(row) -> bool:
    """The measurement ran to its end (``harness.measure``'s ``status_run``)."""
    return bool(row) and row.get("status_run") == "ok"


def fmt_cell(row, key="time"):
    if row.get("status_run") != "ok":
        return f"*{row.get('error', row.get('status_run'))}*"
    return fmt_t(row.get(key))


def fmt_timing(row, key="time") -> str:
    """``min (median)`` of one clock over the row's repeated calls, or why it has none."""
    if not is_ok(row):
        return f"*{row.get('error', row.get('status_run'))}*"
    med = row.get(f"{key}_median")
    return fmt_t(row[key]) + (f" ({fmt_t(med)})" if med is not None and row.get("runs", 1) > 1 else "")


def fmt_x(ratio: float) -> str:
    return f"{ratio:,.0f}x" if ratio >= 100 else f"{ratio:.3g}x"


def ms(values, digits=3):
    """Mean ± standard deviation (the value alone when there is one)."""
    import statistics as st

    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{st.mean(values):.{digits}f} ± {st.stdev(values):.{digits}f}"


def status_cell(result) -> str:
    """``result.status`` as the tables print it (``result``: a ``Matching`` or a solver's
    ``Solution``): with " (time limit)" where the time limit stopped the solve
    (``certificate["timed_out"]``), so that a reader sees why an answer is "feasible" and not
    proven optimal, rather than guess at a gap or an infeasible constraint."""
    if (result.certificate or {}).get("timed_out"):
        return f"{result.status} (time limit)"
    return result.status


def certified_status(row) -> str:
    """A measured row's status cell (its ``status``, from :func:`status_cell`) with
    " (certificate holds)" where the row's certificate was checked to hold (``holds``)."""
    return f"{row['status']}{' (certificate holds)' if row.get('holds') else ''}"


def pairs_digest(pairs) -> str:
    """SHA-256 of the pairs (``mentee_id``, ``mentor_id``), sorted: equal answers, equal digests
    (the first 12 hex digits are the "pairs sha" the reports compare)."""
    import hashlib

    rows = sorted(zip(pairs["mentee_id"].astype(str), pairs["mentor_id"].astype(str)))
    return hashlib.sha256("\n".join(f"{a}\t{b}" for a, b in rows).encode()).hexdigest()

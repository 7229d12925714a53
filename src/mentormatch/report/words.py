"""Numbers, lists and table cells in plain words: the small pieces every phrase is made of
(:mod:`.phrasers`, :mod:`.phrases`, :mod:`.explain`, :mod:`.pricing`)."""
from __future__ import annotations

import numpy as np


def finite(x) -> bool:
    """True when ``x`` reads as a finite number."""
    try:
        return x is not None and np.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def short_number(x: float, digits: int = 1) -> str:
    """``x`` with ``digits`` decimals, or none when it is whole: 3, 2.5."""
    x = float(x)
    if abs(x - round(x)) < 1e-9:
        return f"{int(round(x))}"
    return f"{x:.{digits}f}"


def plural(n: float, word: str) -> str:
    """``|n|`` and ``word``, with an s unless ``|n|`` is 1: "1 year", "2.5 years"."""
    return f"{short_number(abs(n))} {word}{'' if abs(float(n)) == 1 else 's'}"


def in_words(name: str) -> str:
    """An identifier in words: underscores to spaces."""
    return str(name).replace("_", " ")


def listing(parts: list[str], conj: str = "and") -> str:
    """The parts joined: "a", "a and b", "a, b and c" (``conj`` in place of "and")."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {conj} " + parts[-1]


def random_rules(active: list[str]) -> str:
    """Which rules a random baseline pairing keeps, in words: baselines run on the same people,
    capacities, eligible pairs and locks, never under the side constraints (``active``, the
    names of ``SideConstraints.active()``; :func:`mentormatch.pipeline.baseline`).

    >>> random_rules([])
    'under the same rules'
    >>> random_rules(["budget", "share_floor"])
    'under the same capacities and eligibility, without the budget and share floor rules this pairing keeps'
    """
    if not active:
        return "under the same rules"
    return (f"under the same capacities and eligibility, without the {listing([in_words(a) for a in active])} "
            f"rule{'s' if len(active) > 1 else ''} this pairing keeps")


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st."""
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def column_of(ctx: dict, table: str, column: str) -> np.ndarray | None:
    """A column of the mentees or mentors table as an object array ("" where missing), taken
    once per :func:`~.phrases.pair_phrases` call (cached in ``ctx["cache"]``), never once per pair."""
    cache = ctx.setdefault("cache", {})
    key = (table, column)
    if key not in cache:
        frame = ctx.get(table)
        if frame is None or column not in frame.columns:
            cache[key] = None
        else:
            cache[key] = frame[column].to_numpy(dtype=object)
    return cache[key]


def cell_text(ctx: dict, table: str, column: str, idx: int) -> str:
    """The cell as stripped text; "" where missing."""
    col = column_of(ctx, table, column)
    if col is None:
        return ""
    v = col[idx]
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip()


def cell_number(ctx: dict, table: str, column: str, idx: int) -> float | None:
    """The cell as a float; None where missing or not a number."""
    col = column_of(ctx, table, column)
    if col is None or not finite(col[idx]):
        return None
    return float(col[idx])

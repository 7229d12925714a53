"""Ids that are one id to a reader but two to a computer: one id in two Unicode forms ('Zoë'
composed, and 'Zoe' + a combining diaeresis, as some exports write it), or in two cases
('E00001' and 'e00001', which an HR export may mean as one person or as two). The rule is
stated here once; the tables (``table._check_ids``, the org chart's too) and
:func:`mentormatch.assign`'s labels (``scores.check_assign_inputs``) apply it."""
from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

#: the words of each clash, after "'x' and the id on ... ": what they are, and the fix
FORMS_WORDS = "are one id written in two Unicode forms (normalise the ids to NFC)"


def case_words(fix: str) -> str:
    """The words of a case clash, ending with ``fix``: how the caller says that the two ids are
    two people (the tables' setting, or :func:`mentormatch.assign`'s keyword).

    >>> case_words("pass case_sensitive_ids=True")[-52:]
    'if they are two people, pass case_sensitive_ids=True'
    """
    return ("differ only in case: write one person's id alike everywhere, or, if they are two "
            f"people, {fix}")


#: the tables' case clash (their setting ``input.case_sensitive_ids``)
CASE_WORDS = case_words("set input.case_sensitive_ids = true")


def unicode_forms(ids: pd.Series) -> dict[int, list[int]]:
    """Positions of the ids that are another present id in another Unicode form, each mapped
    to the positions of the others (exact repeats and missing ids are left to the caller's own
    checks). An ASCII id is its own normal form, so only the non-ASCII ids are normalised (NFC)
    and compared.

    >>> unicode_forms(pd.Series(["Zoë", "Zoe\\u0308", "José"], dtype=object))
    {0: [1], 1: [0]}
    """
    if "".join(ids.dropna().tolist()).isascii():  # (one pass in C: the usual case)
        return {}
    cells = ids.to_numpy(dtype=object)
    skip = ids.isna().to_numpy() | ids.duplicated(keep=False).to_numpy()
    wide = np.flatnonzero(~skip & ~ids.fillna("").str.isascii().to_numpy(dtype=bool))
    forms = np.array([unicodedata.normalize("NFC", c) for c in cells[wide]], dtype=object)
    return _sharing(wide, forms)


def case_only(ids: "pd.Series | list[str]") -> dict[int, list[int]]:
    """Positions of the ids that differ from another present id only in case, each mapped to
    the positions of the others: of each id written the same way more than once only its first
    row counts (the repeats are the caller's), and ids one Unicode form apart are
    :func:`unicode_forms`' (the case is compared on the NFC form, by ``str.lower``).

    >>> case_only(pd.Series(["E00001", "e00001", "E00002", "E00001"], dtype=object))
    {0: [1], 1: [0]}
    """
    cells = ids if isinstance(ids, list) else ids.tolist()
    try:
        joined = "".join(cells)  # (one pass in C; a missing id raises)
    except TypeError:
        joined = None
    if joined is not None and joined.isascii() and (joined == joined.upper() or joined == joined.lower()):
        return {}  # every id in one case (the usual export): none differs only in case
    if joined is not None and joined.isascii() and "\0" not in joined:
        folded = "\0".join(cells).lower().split("\0")  # (one pass in C, as str.lower per id)
        if len(set(folded)) == len(set(cells)):
            return {}  # no two distinct ids fold alike
    # the clashes by dictionaries over the ids (a few hundred labels of assign() in a quarter
    # of pandas' string methods' time)
    first: dict[str, int] = {}  # each id (NFC) at its first row
    for k, c in enumerate(cells):
        if isinstance(c, str):
            first.setdefault(c if c.isascii() else unicodedata.normalize("NFC", c), k)
    folded: dict[str, list[int]] = {}
    for text, k in first.items():
        folded.setdefault(text.lower(), []).append(k)
    out: dict[int, list[int]] = {}
    for rows in folded.values():
        if len(rows) > 1:
            for k in rows:
                out[k] = [o for o in rows if o != k]
    return dict(sorted(out.items()))


def _sharing(rows: np.ndarray, keys: np.ndarray) -> dict[int, list[int]]:
    """``rows`` whose key another row shares, each mapped to the other rows of that key."""
    hit = pd.Series(keys, dtype=object).duplicated(keep=False).to_numpy()
    if not hit.any():
        return {}
    groups = pd.Series(rows[hit]).groupby(keys[hit], sort=False).indices
    out: dict[int, list[int]] = {}
    for members in groups.values():
        mine = rows[hit][members].tolist()
        for k in mine:
            out[int(k)] = [int(o) for o in mine if o != k]
    return dict(sorted(out.items()))

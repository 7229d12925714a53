"""Checks of what :func:`mentormatch.assign` is given: a score matrix (mentees x mentors), the
mentors' capacities and an optional forbidden matrix. Each wrong input is a ValidationError
naming the table, the mentee (row id), the mentor (column), the value and what was expected."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._native import assign_kernel
from ..errors import Problem, ValidationError
from .columns import MAX_CAPACITY, MAX_PROBLEMS
from .ids import FORMS_WORDS, case_only, case_words, unicode_forms

#: solver "hungarian" gives each slot of a mentor a column of the matrix it solves: past this many
#: slots in all, the matrix no longer fits in memory
HUNGARIAN_SLOTS = 10_000_000


def _missing_labels(labels: pd.Index, table: str, axis: str) -> list[Problem]:
    if not labels.hasnans:  # cached on the index: no pass on a second call
        return []
    missing = np.flatnonzero(pd.isna(labels))
    return [Problem(table, None, None, None, None,
                    f"a {axis} id at position {int(k)} (counting from 0), not a missing label "
                    "(NaN or None would become the id 'nan')") for k in missing[:MAX_PROBLEMS]]


#: how assign()'s caller says that labels differing only in case are two people
ASSIGN_CASE_WORDS = case_words("pass case_sensitive_ids=True")


def label_texts(labels: pd.Index) -> list[str] | None:
    """The labels as a list when every one is a str and none is missing (both cached on the
    index), else None. Read once per ``assign()`` call and given to the checks, the ids and the
    forbidden labels' comparison: a list costs 2.6 us at 200 labels (pandas 3's str Index),
    and it was taken four times."""
    return labels.tolist() if labels.inferred_type == "string" and not labels.hasnans else None


def _alike(labels: pd.Index, table: str, axis: str, case_sensitive: bool,
           texts: list[str] | None = None) -> list[Problem]:
    """The labels that are another label to a reader (:mod:`.ids`, the rule the tables' ids
    follow): in another Unicode form, always; differing only in case, unless ``case_sensitive``
    (``assign(case_sensitive_ids=True)``) says they are two people. ``texts``:
    :func:`label_texts` of ``labels`` when not None."""
    if texts is None:
        texts = [str(x) for x in labels.tolist()]
    column = axis.startswith("mentor")
    ascii_only = "".join(texts).isascii()
    # (a Series only where unicode_forms needs one: building it took half of this check on
    # 200 labels; case_only reads the ids' list, given as it is)
    ids = texts if ascii_only else pd.Series(texts, dtype=object)
    clashes = [] if ascii_only else [(unicode_forms(ids), FORMS_WORDS)]
    if not case_sensitive:
        clashes.append((case_only(ids), ASSIGN_CASE_WORDS))
    return [Problem(table, texts[k] if column else None, None if column else texts[k], None, texts[k],
                    f"unique {axis} ids; {texts[k]!r} and the id at position "
                    + ", ".join(f"{o} ({texts[o]!r})" for o in others[:5])
                    + f" (counting from 0) {words}")
            for found, words in clashes for k, others in list(found.items())[:MAX_PROBLEMS]]


#: Up to this many cells (:data:`mentormatch.solvers.flow.SPARSE_THRESHOLD`'s figure)
#: the scores' dtypes are read from the frame as one array (:func:`_numbers_only`).
ONE_ARRAY_CELLS = 20_000


def _numbers_only(scores: pd.DataFrame) -> bool:
    """Whether every column of a small frame holds numbers or bools: its values read as one
    array (a view of the usual single float block; a copy of at most :data:`ONE_ARRAY_CELLS`
    cells otherwise) have a numeric dtype only then (a date or time column makes it datetime or
    object). At 200 x 50 a tenth of ``scores.dtypes``' time (1.3 us against 13: it builds a
    Series); larger frames, whose copy would cost more, are read by ``dtypes``."""
    # (the shape's product: ``size`` took 3.9 us, as np.prod)
    return scores.shape[0] * scores.shape[1] <= ONE_ARRAY_CELLS and scores.to_numpy().dtype.kind in "fiub"


def _dates(dtype) -> bool:
    """Whether a column of this dtype holds dates or times (read as nanoseconds if taken)."""
    return dtype.kind in "mM" or isinstance(dtype, pd.DatetimeTZDtype)


def check_assign_inputs(scores, capacity, forbidden=None, solver: str = "flow",
                        case_sensitive_ids: bool = False, texts: tuple | None = None) -> bool | None:
    """Raise a ValidationError for inputs of :func:`mentormatch.assign` that would otherwise be
    misread: a missing label, one label in two Unicode forms or (unless ``case_sensitive_ids``)
    in two cases, date or time scores, a forbidden cell that is not True/False, forbidden labels
    that differ from the scores', or a capacity no solver should take.

    Parameters
    ----------
    scores : DataFrame
        Mentees x mentors (index = mentee ids, columns = mentor ids).
    capacity : Series
        Indexed by mentor id.
    forbidden : DataFrame, optional
        Labelled like ``scores``; True = the pair may not be made.
    solver : str
        The solver's name: ``"hungarian"`` gives each slot a column, so capacities summing to
        more than ``HUNGARIAN_SLOTS`` are refused there.
    case_sensitive_ids : bool
        Whether labels that differ only in case ("E001", "e001") are two people (else refused,
        as the tables' ids are without ``input.case_sensitive_ids``).
    texts : (list or None, list or None), optional
        :func:`label_texts` of the scores' index and columns, when the caller has them.

    Returns
    -------
    Whether ``forbidden``'s labels are the scores' in the same order, when it was checked (a
    DataFrame shaped like ``scores``), else None: ``assign()`` reads it instead of comparing
    the labels again (a tenth of its input checks at 200 x 50).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame([[0.5]], index=["e1"], columns=["m1"])
    >>> check_assign_inputs(s, pd.Series({"m1": 1}))
    >>> try:
    ...     check_assign_inputs(s, pd.Series({"m1": 1}), pd.DataFrame([["yes"]], index=["e1"], columns=["m1"]))
    ... except ValidationError as exc:
    ...     print(exc.problems[0].expected)
    True or False (a bool DataFrame; True = the pair may not be made)
    """
    if not isinstance(scores, pd.DataFrame):
        return  # assign() names the wrong type itself
    problems = _missing_labels(scores.index, "scores", "mentee (index)")
    problems += _missing_labels(scores.columns, "scores", "mentor (column)")
    rows, cols = texts if texts is not None else (label_texts(scores.index), label_texts(scores.columns))
    problems += _alike(scores.index, "scores", "mentee (index)", case_sensitive_ids, rows)
    problems += _alike(scores.columns, "scores", "mentor (column)", case_sensitive_ids, cols)
    # each distinct dtype checked once (a frame of 2,500 float columns has one); the columns
    # are walked only when one of them is a date or time
    dtypes = () if _numbers_only(scores) else scores.dtypes
    for k, dtype in enumerate(dtypes if any(map(_dates, set(list(dtypes)))) else ()):
        if _dates(dtype):
            col = scores.columns[k]
            problems.append(Problem("scores", str(col), str(scores.index[0]) if len(scores) else None,
                                    None, str(scores.iat[0, k]) if len(scores) else str(dtype),
                                    f"a number (or -inf for ineligible); column {col!r} holds dates "
                                    f"or times ({dtype}), which would be read as nanoseconds"))
    if isinstance(capacity, pd.Series):
        if capacity.index.hasnans:  # (cached on the index)
            problems.append(Problem("capacity", "capacity", None, None, None,
                                    "a mentor id for every capacity (the index has a missing label)"))
        if isinstance(capacity.dtype, np.dtype) and capacity.dtype.kind in "iuf":  # numbers already
            num = capacity.to_numpy(dtype=np.float64)
        else:
            num = pd.to_numeric(capacity, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        absurd = num > MAX_CAPACITY  # (NaN compares False)
        n_mentees = len(scores)
        total = float(num[np.isfinite(num) & (num > 0)].sum()) if solver == "hungarian" else 0.0
        if solver == "hungarian" and total > HUNGARIAN_SLOTS and not absurd.any():
            absurd = num == np.nanmax(num)  # name the largest
        for k in np.flatnonzero(absurd)[:MAX_PROBLEMS].tolist():  # (by position: labels may repeat)
            limit = (f"capacities summing to at most {HUNGARIAN_SLOTS:,} slots with solver "
                     f"'hungarian', which gives each slot its own column (they sum to {total:,.0f}; "
                     f"a capacity of {n_mentees}, the number of mentees, already means 'no limit'; "
                     "or use solver='flow')"
                     if num[k] <= MAX_CAPACITY else
                     f"at most {MAX_CAPACITY:,}; any capacity >= the number of mentees ({n_mentees}) "
                     "already means 'no limit'")
            problems.append(Problem("capacity", "capacity", str(capacity.index[k]), None,
                                    capacity.iloc[k], limit))
    if problems:
        raise ValidationError(problems)
    if isinstance(forbidden, pd.DataFrame) and forbidden.shape == scores.shape:
        return _check_forbidden(scores, forbidden, (rows, cols))
    return None


def _same_labels(mine: pd.Index, theirs: pd.Index, texts: list[str] | None) -> bool:
    """``mine.equals(theirs)``; ``texts`` (:func:`label_texts` of ``theirs``, or None). Two
    indexes of str compare as lists (``equals`` took 6.8 us at 200 labels, the list 2.6 and its
    comparison 0.5); an index that is not all str is compared by ``equals``, which also
    answers when the lists differ (it may see equal labels of other types)."""
    if texts is not None and mine.inferred_type == "string" and mine.tolist() == texts:
        return True
    return mine.equals(theirs)


def _check_forbidden(scores: pd.DataFrame, forbidden: pd.DataFrame, texts=(None, None)) -> bool:
    """Raise for forbidden labels or cells :func:`check_assign_inputs` refuses; else whether
    the labels are the scores' in the same order (``texts``: :func:`label_texts` of the
    scores' index and columns)."""
    problems = _missing_labels(forbidden.index, "forbidden", "mentee (index)")
    problems += _missing_labels(forbidden.columns, "forbidden", "mentor (column)")
    if problems:
        raise ValidationError(problems)
    same = True
    for mine, theirs, text, axis in ((forbidden.index, scores.index, texts[0], "mentee (index)"),
                                     (forbidden.columns, scores.columns, texts[1], "mentor (column)")):
        if _same_labels(mine, theirs, text):  # the usual case: the same labels in the same order
            continue
        same = False
        extra = pd.Index(mine).difference(pd.Index(theirs))
        absent = pd.Index(theirs).difference(pd.Index(mine))
        if len(extra) or len(absent):
            raise ValidationError(Problem(
                "forbidden", None, None, None, [str(x) for x in extra[:5]],
                f"the same {axis} labels as scores: these are not in scores"
                + (f", and scores' {[str(x) for x in absent[:5]]} are missing" if len(absent) else "")))
    # every column bool exactly when the columns read as one array are bool (pandas reads bool
    # with any other dtype as object): then a view of the usual single bool block, where
    # ``dtypes`` built a Series (half of this check at 200 x 50)
    if forbidden.shape[1] == 0 or forbidden.to_numpy().dtype == np.dtype(bool):
        return same  # True and False only, whatever the order of the labels
    f = forbidden.reindex(index=scores.index, columns=scores.columns)
    ok = f.isin([True, False]).to_numpy(dtype=bool)  # 1 and 0 count, as they equal True and False
    bad = np.argwhere(~ok)
    cells = f.to_numpy(dtype=object)
    if len(bad):
        raise ValidationError([
            Problem("forbidden", str(scores.columns[j]), str(scores.index[i]), None,
                    None if pd.isna(cells[i, j]) else cells[i, j],
                    "True or False (a bool DataFrame; True = the pair may not be made)")
            for i, j in bad[:MAX_PROBLEMS]])
    return same


def plain_inputs(scores: pd.DataFrame, capacity, forbidden, case_sensitive_ids: bool,
                 check_scores: bool = True):
    """``assign()``'s inputs read in a few compiled passes when they are the usual ones, else
    None: then the full checks run (:func:`check_assign_inputs` and ``pipeline.matrix``'s),
    which name what is wrong, so every message is theirs. The usual inputs: labels that are
    ``str`` of ASCII characters in a plain ``pd.Index``, unique, none two that differ only in
    case (unless ``case_sensitive_ids``); float64 scores, none NaN or ``+inf`` (not read when
    ``check_scores`` is False: the dense path's first pass checks them on a large matrix); a
    numeric capacity Series indexed by the mentor ids in column order, whole numbers from 0 to
    ``MAX_CAPACITY``; ``forbidden`` None or a bool DataFrame labelled as the scores, in the
    same order. Then every check above passes, and this returns what they would: the mentee
    and mentor ids (object arrays of str, fresh), the scores (``scores.to_numpy()``), whether
    one is ``-inf`` (None unless ``check_scores``), the capacities (float64) and the forbidden
    mask (``forbidden.to_numpy()``, or None). In ``assign()`` at 200 x 50 (min CPU in the call)
    the checks and reads took 64 us on frames seen before (pandas' caches on their indexes
    full) and 141 on new frames; this takes 28 and 34 (s32h1)."""
    kernel = assign_kernel()
    if kernel is None or not hasattr(kernel, "label_scan"):
        return None
    n, m = scores.shape
    if not n or not m:
        return None
    mentees = _plain_labels(kernel, scores.index, case_sensitive_ids)
    mentors = None if mentees is None else _plain_labels(kernel, scores.columns, case_sensitive_ids)
    if mentors is None:
        return None
    # float64 throughout: one array, a view of the usual single block (a large frame's dtypes
    # are read first, so that a frame of mixed columns is not copied as objects here)
    if n * m > ONE_ARRAY_CELLS and (scores.dtypes != np.float64).any():
        return None
    values = scores.to_numpy()
    if values.dtype != np.float64:
        return None
    has_neginf = None
    if check_scores:
        found = kernel.score_scan(values.ravel(order="K"))
        if found == 2:
            return None
        has_neginf = found == 1
    if not isinstance(capacity, pd.Series) or not isinstance(capacity.dtype, np.dtype) \
            or capacity.dtype.kind not in "iuf" or not _labelled(kernel, capacity.index, mentors):
        return None
    cap = np.ascontiguousarray(capacity.to_numpy(dtype=np.float64))
    if not kernel.capacity_scan(cap, float(MAX_CAPACITY)):
        return None
    forbid = None
    if forbidden is not None:
        if not isinstance(forbidden, pd.DataFrame) or forbidden.shape != scores.shape:
            return None
        if not (_labelled(kernel, forbidden.index, mentees) and _labelled(kernel, forbidden.columns, mentors)):
            return None
        forbid = forbidden.to_numpy()
        if forbid.dtype != np.dtype(bool):
            return None
    return mentees, mentors, values, has_neginf, cap, forbid


def _plain_labels(kernel, labels: pd.Index, case_sensitive: bool) -> np.ndarray | None:
    """:func:`plain_inputs`' ids of one axis (a fresh object array of str), or None."""
    if type(labels) is not pd.Index:  # (not a MultiIndex, RangeIndex, CategoricalIndex ...)
        return None
    ids = np.array(labels, dtype=object)  # (a copy: the encoder's own)
    bits = kernel.label_scan(ids)
    if bits < 0 or not bits & kernel.LABELS_UNIQUE:
        return None
    if not case_sensitive and bits & kernel.LABELS_LOWER and bits & kernel.LABELS_UPPER \
            and case_only(ids.tolist()):
        return None
    return ids


def _labelled(kernel, labels, ids: np.ndarray) -> bool:
    """Whether ``labels`` (a plain Index) holds exactly the str ``ids``, in their order."""
    return type(labels) is pd.Index and kernel.same_texts(np.asarray(labels, dtype=object), ids)

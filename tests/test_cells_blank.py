"""schema.cells._as_text's blank test: a cell is blank (read as missing) exactly where its text
strips to "" (the test it replaced), on every kind of whitespace, missing cells and dtypes."""
import sys

import numpy as np
import pandas as pd
import pytest

from mentormatch.schema.cells import _as_text, _blank


def _stripped_blank(out: pd.Series) -> np.ndarray:
    """The former test: ``Series.str.strip() == ""``, missing cells not blank."""
    return (out.str.strip() == "").fillna(False).to_numpy(dtype=bool)


def test_every_single_character_is_blank_exactly_where_it_strips_away():
    chars = np.array([chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF],
                     dtype=object)
    got = _blank(chars)
    want = np.array([c.strip() == "" for c in chars])
    np.testing.assert_array_equal(got, want)
    assert 20 < got.sum() < 40  # Unicode's whitespace (tab, NBSP, ideographic space, ...)


WHITESPACE = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x85",
              "\xa0", "\u1680", "\u2000", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"]
NOT_WHITESPACE = ["\u200b", "\ufeff", "\u180e", "\x00", "a", "0", "-", "."]


def _cells(seed: int, n: int = 400) -> list:
    """Cells of every kind: blank runs of mixed whitespace, text padded with it, text with
    zero-width characters, empty strings, None, NaN, pd.NA, numbers."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        kind = rng.integers(7)
        ws = "".join(rng.choice(WHITESPACE, size=rng.integers(1, 4)))
        if kind == 0:
            out.append(ws)
        elif kind == 1:
            out.append(ws + "E" + str(rng.integers(100)) + ws[::-1])
        elif kind == 2:
            out.append("".join(rng.choice(NOT_WHITESPACE + WHITESPACE, size=rng.integers(1, 4))))
        elif kind == 3:
            out.append("")
        elif kind == 4:
            out.append([None, np.nan, pd.NA][rng.integers(3)])
        elif kind == 5:
            out.append(float(rng.integers(-5, 5)) / 2)
        else:
            out.append(int(rng.integers(-5, 5)))
    return out


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("dtype", [object, "str", "string", "category"])
def test_as_text_masks_the_cells_that_strip_to_nothing(seed, dtype):
    cells = _cells(seed)
    if dtype != object:  # text dtypes: every cell as text or missing, as a file reads them
        cells = [c if isinstance(c, str) or c is None else (None if pd.isna(c) else str(c)) for c in cells]
    raw = pd.Series(cells, dtype=dtype)
    got = _as_text(raw)
    # the text before the blank cells are masked: str() of each present cell
    text = pd.Series([str(c) if not pd.isna(c) else np.nan for c in raw.astype(object)], dtype="str")
    blank = _stripped_blank(text)
    assert blank.any() and (~blank & text.notna().to_numpy()).any()
    np.testing.assert_array_equal(got.isna().to_numpy(), blank | text.isna().to_numpy())
    keep = ~got.isna().to_numpy()
    assert got[keep].tolist() == text[keep].tolist()  # the other cells as they were, unstripped


@pytest.mark.parametrize("values", [[1.0, np.nan, 2.5, -0.0, 1e20], [1, 2, 3], [True, False, True]])
def test_numbers_are_never_blank(values):
    got = _as_text(pd.Series(values))
    assert got.isna().tolist() == [isinstance(v, float) and np.isnan(v) for v in values]
    assert not _blank(pd.Series(values).to_numpy(dtype=object)).any()


# ---------------------------------------------------------------------------------------------
# the joined test: columns of text alone are told "no blank cell" by one pass over them joined
# (cells._may_be_blank); it may only send a column to the cell-by-cell test, never miss a blank

from hypothesis import given, strategies as st  # noqa: E402

from mentormatch.schema.cells import _joined, _may_be_blank, _spaceless  # noqa: E402

SPACES = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]


@pytest.mark.parametrize("at", [0, 1, 3])
@pytest.mark.parametrize("width", [1, 2])
def test_a_blank_cell_of_any_whitespace_anywhere_in_a_text_column_is_found(at, width):
    for w in SPACES + [""]:
        cells = ["E001", "Zoë Smith", "a b", "E004"]
        cells[at] = w * width
        got = _blank(np.array(cells, dtype=object))
        assert got.tolist() == [c.strip() == "" for c in cells], repr(w)


def test_text_columns_without_a_blank_cell_are_told_so_by_the_joined_test():
    cells = np.array([chr(c) + s for c in range(1, sys.maxunicode + 1, 7) if not 0xD800 <= c <= 0xDFFF
                      and not chr(c).isspace() for s in ("", " x", "\u3000")], dtype=object)
    assert not _may_be_blank(_joined(cells))  # (the fast answer is taken)
    assert not _blank(cells).any()
    assert _may_be_blank(_joined(np.array(["a", "\0b"], dtype=object)))  # NUL: the exact test decides
    assert not _blank(np.array(["a", "\0b", "\0"], dtype=object)).any()


TEXT = st.text(alphabet=st.sampled_from(["a", "Z", "ë", "\0", "\u200b", " ", "\t", "\xa0", "\u3000",
                                         "\x1c", "\n"]), max_size=4)


@given(st.lists(st.one_of(TEXT, TEXT, st.none()), max_size=12))
def test_blank_equals_strip_on_any_cells(cells):
    arr = np.array(cells, dtype=object) if cells else np.zeros(0, dtype=object)
    want = [isinstance(c, str) and c.strip() == "" for c in cells]
    assert _blank(arr).tolist() == want


@given(st.lists(st.one_of(TEXT, TEXT, TEXT, st.none()), max_size=12))
def test_spaceless_only_where_no_cell_holds_whitespace(cells):
    arr = np.array(cells, dtype=object) if cells else np.zeros(0, dtype=object)
    got = _spaceless(_joined(arr))
    texts = all(isinstance(c, str) for c in cells)
    # (no cells, or one empty one, join to nothing: then the answer is False, the slow test runs)
    want = texts and "\0".join(cells) != "" and not any(ch.isspace() for c in cells for ch in c)
    assert got == want
    if got:  # what _check_ids takes from it: no id has spaces around it
        assert all(c == c.strip() for c in cells)

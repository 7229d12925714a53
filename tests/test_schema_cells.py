"""schema.cells: the id lists flattened (``_exploded``) exactly as ``Series.explode`` less the
missing, on the validated tuples (the fast path) and on every other kind of cell."""
import numpy as np
import pandas as pd
import pytest

from mentormatch.schema.cells import _exploded, _idlist


def _by_explode(lists: pd.Series) -> pd.Series:
    flat = lists.explode()
    return flat[flat.notna()]


@pytest.mark.parametrize("cells, index", [
    ([("a", "b"), (), ("c", None, "a")], None),           # a missing id inside a list
    ([("a",), ("b", "c")], [5, 2]),                       # owners out of order
    ([(), ()], None),
    ([(1, "a"), (2.5,)], None),                           # ids that are not text
    ([("x",), "y;z", None, ["a", "b"]], None),            # not all tuples: explode itself
])
def test_exploded_equals_explode_less_the_missing(cells, index):
    lists = pd.Series(cells, index=index, name="preferences", dtype=object)
    pd.testing.assert_series_equal(_exploded(lists), _by_explode(lists))


def test_exploded_of_a_validated_column():
    raw = pd.Series(["M2; M1", "", None, "M3", " M1 ;M1"])
    lists = _idlist(raw)
    got = _exploded(lists)
    pd.testing.assert_series_equal(got, _by_explode(lists))
    assert got.index.tolist() == [0, 0, 3, 4, 4] and got.tolist() == ["M2", "M1", "M3", "M1", "M1"]
    assert np.array_equal(_exploded(lists.iloc[:0]).to_numpy(), np.zeros(0, object))

"""The id <-> index encoder."""
import numpy as np

from mentormatch.pairs import Encoder


def test_encoder_index_is_built_once_and_maps_ids_to_rows():
    enc = Encoder.from_ids(["b", "a", "c"])
    assert enc.index is enc.index  # cached: a lookup does not rebuild the dict
    assert enc.index == {"b": 0, "a": 1, "c": 2}
    assert enc.encode(["c", "b"]).tolist() == [2, 0]
    assert enc.decode(np.array([1, 2])).tolist() == ["a", "c"]

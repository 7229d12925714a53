"""scale_codes.keyed_table: the groups x mentors table of the keyed terms is the float64 sum of
each group's rows of the terms, rounded to float32 once, whatever the number of entries summed
at a time (TABLE_STEP); its largest size is that of the largest eligible entry."""
import numpy as np
import pytest

import mentormatch.scale as S
import mentormatch.scale_codes as SC


def _direct(tabs, groups):
    total = np.zeros((len(groups), tabs[0].shape[1]))
    for t, tab in enumerate(tabs):
        total += tab[groups[:, t]]
    table = total.astype(np.float32)
    ok = total > -S.BIG / 2
    largest = float(np.abs(table[ok].astype(np.float64)).max(initial=0.0))
    return table, largest


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("step", [1, 7, 64, 1 << 17, 1 << 20])
def test_keyed_table_is_the_sum_rounded_once_at_every_step(monkeypatch, seed, step):
    rng = np.random.default_rng(seed)
    m = int(rng.integers(1, 40))
    keys = [int(rng.integers(1, 6)) for _ in range(int(rng.integers(1, 4)))]
    tabs = [rng.normal(size=(k, m)) * 10.0 ** rng.integers(-3, 4) for k in keys]
    tabs[0][rng.random(tabs[0].shape) < 0.2] = -S.BIG  # removed pairs (a rule's -BIG term)
    tabs[0][0, 0] = -0.0  # (0.0 + -0.0 is +0.0: the sign of a zero compared too)
    g = int(rng.integers(1, 30))
    groups = np.column_stack([rng.integers(0, k, size=g) for k in keys])
    monkeypatch.setattr(SC, "TABLE_STEP", step)
    table, largest = SC.keyed_table(tabs, groups, m, S.BIG)
    want, want_largest = _direct(tabs, groups)
    assert table.dtype == np.float32 and table.shape == (len(groups), m)
    np.testing.assert_array_equal(table.view(np.uint32), want.view(np.uint32))  # bit for bit
    assert largest == want_largest

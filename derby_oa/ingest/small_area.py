"""Derby's LSOAs (2011 and 2021) with their populations, MSOA and ward in both ward vintages.

Shared by the small-area adapters (not an adapter itself); see `derby_oa.ingest.bestfit`.

* LSOA 2011 (151): mid-2015 population and children aged 0-15 (IoD 2019 File 6); ward
  2003-2023 from the ONS LSOA11-WD19 lookup (exact nesting), ward 2023 by centroid (as in `iod`).
* LSOA 2021 (152): Census 2021 usual residents and residents aged 15 and under; both wards by
  the geometric centroid of the LSOA 2021 polygon in the ward polygons (a best fit for both).
* MSOA: the LSOA name without its final letter ("Derby 013A" -> "Derby 013"); MSOA codes from the
  MSOA 2011 boundary file (Derby's MSOA codes are the same in 2011 and 2021).
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from derby_oa import config
from derby_oa.ingest import bestfit as wards_bestfit
from derby_oa.errors import InputError
from derby_oa.ingest import Context, iod, rda

F6 = "iod2019/File_6_-_IoD2019_Population_Denominators.csv.gz"
LOOKUP = "ons_lookups/csv/135.csv"
LSOA11_GEO = "geo_lookups/lsoa11/E06000015.geojson"
LSOA21_GEO = "geo_lookups/lsoa/E06000015.geojson"
WARDS_2003 = "uk_geojson/wards_by_lad/E06000015.json"
WARDS_2023 = "geo_lookups/ward/E06000015.geojson"
MSOA_GEO = "uk_geojson/msoa_by_lad/E06000015.json"
CENSUS_POP = "census2021/census21_pop.rda"
LSOA11_FILES = (F6, LOOKUP, LSOA11_GEO, WARDS_2023, MSOA_GEO)
LSOA21_FILES = (LSOA21_GEO, WARDS_2003, WARDS_2023, MSOA_GEO, CENSUS_POP)
CHILD_BAND = "Aged 15 years and under"
PLAN, CURRENT = config.WARD_VINTAGE_PLAN, config.WARD_VINTAGE_CURRENT
METHOD_LOOKUP = iod.LOOKUP_METHOD
METHOD_CENTROID = iod.PIP_METHOD


def ward_codes(ctx: Context, vintage: str) -> tuple[str, ...]:
    a = ctx.areas
    sel = a[(a["area_type"] == "ward") & (a["vintage"] == vintage) & (a["parent_code"] == config.DERBY)]
    return tuple(sorted(sel["area_code"]))


def msoa_codes(path: Path) -> dict[str, str]:
    """MSOA name -> code from the MSOA 2011 boundary file's properties."""
    try:
        feats = json.loads(Path(path).read_text(encoding="utf-8"))["features"]
        return {f["properties"]["MSOA11NM"]: f["properties"]["MSOA11CD"] for f in feats}
    except Exception as exc:
        raise InputError(Path(path).name, f"no MSOA11CD/MSOA11NM properties ({type(exc).__name__})") from None


def msoa_of(lsoa_names: pd.Series) -> pd.Series:
    """MSOA name of an LSOA name: "Derby 013A" -> "Derby 013"."""
    return lsoa_names.str.strip().str[:-1].str.strip()


@functools.lru_cache(maxsize=4)
def _lsoa11(paths: tuple, plan: tuple, current: tuple) -> pd.DataFrame:
    p = dict(paths)
    pop = iod.read_iod_csv(Path(p[F6]), iod.FILE6_COLUMNS)
    derby = pop[pop["lad_code"] == config.DERBY].reset_index(drop=True)
    codes = set(derby["lsoa_code"])
    plan_lookup = iod.lookup_2003_2023(Path(p[LOOKUP]), codes, set(plan)).set_index("lsoa_code")["ward_code"]
    points = iod.read_centroids(Path(p[LSOA11_GEO]), codes)
    polygons = iod.read_ward_polygons(Path(p[WARDS_2023]), set(current))
    current_codes, _ = iod.point_in_polygon(points, polygons, Path(p[LSOA11_GEO]).name)
    current_of = pd.Series(current_codes.to_numpy(), index=points["lsoa_code"])
    msoas = msoa_codes(Path(p[MSOA_GEO]))
    out = pd.DataFrame({
        "lsoa_code": derby["lsoa_code"], "lsoa_name": derby["lsoa_name"],
        "msoa_name": msoa_of(derby["lsoa_name"]),
        "pop_total": derby["population_total"].astype(float), "pop_0_15": derby["population_0_15"].astype(float),
        f"ward_{PLAN}": derby["lsoa_code"].map(plan_lookup), f"ward_{CURRENT}": derby["lsoa_code"].map(current_of)})
    out["msoa_code"] = out["msoa_name"].map(msoas)
    if out["msoa_code"].isna().any():
        bad = out.loc[out["msoa_code"].isna(), "lsoa_name"].iloc[0]
        raise InputError(Path(p[MSOA_GEO]).name, f"no MSOA for LSOA '{bad}'", field="MSOA11NM")
    return out


def lsoa11(paths: dict, ctx: Context) -> pd.DataFrame:
    """Derby's 151 LSOAs (2011): lsoa_code, lsoa_name, msoa_name, msoa_code, pop_total, pop_0_15
    (mid-2015), ward_2003-2023 (ONS lookup), ward_2023 (centroid)."""
    key = tuple(sorted((k, str(paths[k])) for k in LSOA11_FILES))
    return _lsoa11(key, ward_codes(ctx, PLAN), ward_codes(ctx, CURRENT)).copy()


def census_population(path: Path, lsoas: set[str] | None = None) -> pd.DataFrame:
    """lsoa_code, residents, children_0_15 (Census 2021) for every LSOA (or those in `lsoas`)."""
    file = Path(path).name
    df = rda.read_frame(path)
    rda.require(df, file, ["lsoa21_code", "age_group", "usual_residents"])
    if lsoas is not None:
        df = df[df["lsoa21_code"].isin(lsoas)]
    if not (df["age_group"] == CHILD_BAND).any():
        raise InputError(file, f"no '{CHILD_BAND}' rows", field="age_group")
    total = df.groupby("lsoa21_code")["usual_residents"].sum()
    kids = df[df["age_group"] == CHILD_BAND].groupby("lsoa21_code")["usual_residents"].sum()
    out = pd.DataFrame({"residents": total, "children_0_15": kids.reindex(total.index)})
    return out.rename_axis("lsoa_code").reset_index()


@functools.lru_cache(maxsize=4)
def _lsoa21(paths: tuple, plan: tuple, current: tuple) -> pd.DataFrame:
    p = dict(paths)
    geo = Path(p[LSOA21_GEO])
    try:
        gdf = gpd.read_file(geo)
    except Exception as exc:
        raise InputError(geo.name, f"cannot be read as GeoJSON ({type(exc).__name__}: {exc})") from None
    iod_missing = [c for c in ("LSOA21CD", "LSOA21NM") if c not in gdf.columns]
    if iod_missing:
        raise InputError(geo.name, f"missing property {iod_missing[0]}", field=iod_missing[0])
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    pts = wards_bestfit.centroids(shapely.make_valid(gdf.geometry.values))
    points = pd.DataFrame({"lsoa_code": gdf["LSOA21CD"].astype(str), "lon": pts["lon"], "lat": pts["lat"]})
    out = pd.DataFrame({"lsoa_code": points["lsoa_code"], "lsoa_name": gdf["LSOA21NM"].astype(str),
                        "lon": points["lon"], "lat": points["lat"]})
    for vintage, name, codes in ((PLAN, WARDS_2003, plan), (CURRENT, WARDS_2023, current)):
        polygons = iod.read_ward_polygons(Path(p[name]), set(codes))
        assigned, _ = iod.point_in_polygon(points, polygons, geo.name)
        out[f"ward_{vintage}"] = assigned.to_numpy()
    out["msoa_name"] = msoa_of(out["lsoa_name"])
    out["msoa_code"] = out["msoa_name"].map(msoa_codes(Path(p[MSOA_GEO])))
    pop = census_population(Path(p[CENSUS_POP]), set(out["lsoa_code"]))
    out = out.merge(pop, on="lsoa_code", how="left")
    if out["residents"].isna().any():
        bad = out.loc[out["residents"].isna(), "lsoa_code"].iloc[0]
        raise InputError(Path(p[CENSUS_POP]).name, f"no Census 2021 population for Derby LSOA {bad}", field="lsoa21_code")
    return out


def lsoa21(paths: dict, ctx: Context) -> pd.DataFrame:
    """Derby's 152 LSOAs (2021): lsoa_code, lsoa_name, lon, lat (centroid), ward_2003-2023,
    ward_2023 (both by centroid), msoa_name, msoa_code, residents, children_0_15 (Census 2021)."""
    key = tuple(sorted((k, str(paths[k])) for k in LSOA21_FILES))
    return _lsoa21(key, ward_codes(ctx, PLAN), ward_codes(ctx, CURRENT)).copy()


def members(lsoas: pd.DataFrame, vintage: str, unit: str, weight: str) -> pd.DataFrame:
    """The `members` frame of wards_bestfit.best_fit: lsoa_code, unit_code, ward_code, weight."""
    return pd.DataFrame({"lsoa_code": lsoas["lsoa_code"], "unit_code": lsoas[unit],
                         "ward_code": lsoas[f"ward_{vintage}"], "weight": lsoas[weight]})


def fit_rows(fit: pd.DataFrame, *, indicator_id: str, period: str, year: int, source_id: str, vintage: str,
             geography: str, method: str, best_fit: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Observation rows and ward_fit rows for one best_fit result."""
    obs = pd.DataFrame({"indicator_id": indicator_id, "area_code": fit["ward_code"], "period": period, "year": year,
                        "breakdown": "all", "value": fit["value"], "status": fit["status"],
                        "numerator": fit["numerator"], "denominator": fit["denominator"],
                        "lower_ci": fit["lower_ci"], "upper_ci": fit["upper_ci"], "source_id": source_id})
    meta = pd.DataFrame({"indicator_id": indicator_id, "area_code": fit["ward_code"], "period": period,
                         "source_id": source_id, "ward_vintage": vintage, "geography": geography, "method": method,
                         "best_fit": best_fit, "coverage": fit["coverage"], "units": fit["units"],
                         "units_with_data": fit["units_with_data"]})
    return obs, meta


def fit_both(lsoas: pd.DataFrame, data: pd.DataFrame, how: str, ctx: Context, *, unit: str, weight: str,
             indicator_id: str, period: str, year: int, source_id: str, geography: str,
             lsoa_vintage: str = "2011", decimals: int = 6, wilson: bool = True) -> tuple[list, list]:
    """best_fit on both ward vintages; returns lists of observation and ward_fit frames."""
    obs, meta = [], []
    for vintage in (PLAN, CURRENT):
        fit = wards_bestfit.best_fit(members(lsoas, vintage, unit, weight), data, how,
                                     wards=list(ward_codes(ctx, vintage)), decimals=decimals, wilson=wilson)
        exact = lsoa_vintage == "2011" and vintage == PLAN
        method = (METHOD_LOOKUP if exact else f"LSOA {lsoa_vintage} {METHOD_CENTROID}")
        if unit == "msoa_code":
            method = f"MSOA carried by its LSOAs (shares by {weight}); " + method
        o, m = fit_rows(fit, indicator_id=indicator_id, period=period, year=year, source_id=source_id,
                        vintage=vintage, geography=geography, method=method,
                        best_fit=not (exact and unit == "lsoa_code"))
        obs.append(o)
        meta.append(m)
    return obs, meta

"""English Indices of Deprivation 2019 (Files 1, 2 and 6) and Derby's LSOA -> ward lookups.

Areas: every English LSOA (2011) from File 1 (area_type `lsoa`, vintage `2011`). A Derby LSOA's
parent is its 2003-2023 ward; any other LSOA's parent is its LAD19 code when that LAD is a
reference area, else empty.

LSOA -> ward (`lsoa_ward`), one ward per LSOA and vintage:
* `2003-2023`: the ONS LSOA (2011) to Ward (2019) lookup. Derby's 17 wards did not change between
  2003 and May 2023, and the LSOAs nest exactly in them.
* `2023`: best fit by point in polygon: the LSOA centroid (`LONG`/`LAT` in the ONS LSOA 2011
  boundary file) in the May 2023 ward polygons. A centroid on a shared edge goes to the lowest ward
  code; one outside every ward (none in the 2019 data) goes to the nearest ward within 100 m. LSOAs
  do not nest in the 2023 wards, so figures for those wards are approximations.

Observations (source `mhclg_iod2019`, breakdown `all`):
* Every English LSOA: `imd_rank`, `imd_decile` (period `2019`).
* Derby LSOAs: `population_total`, `population_0_15` (File 6, period `mid-2015`) and, when the
  ids are in the indicator catalogue, the seven domain deciles `iod_*_decile` (File 2).
* Wards (both vintages) from their LSOAs: populations are sums; `imd_rank`, `imd_decile` and
  the domain deciles are means of the LSOA values weighted by total mid-2015 population;
  `imd_most_deprived_decile_share` is 100 x (LSOAs in IMD decile 1) / (LSOAs), with the counts
  as numerator and denominator.
* Derby and England: population sums and the decile-1 share (England's share is 10% by
  construction). There is no LA-level rank or decile here, because MHCLG's official LA summaries
  use a different method.
"""
from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from derby_oa import config
from derby_oa.errors import InputError
from derby_oa.storage.schema import conform_observations
from derby_oa.ingest import Bundle, Context

SOURCE_ID = "mhclg_iod2019"
FILES = (
    "iod2019/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
    "iod2019/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz",
    "iod2019/File_6_-_IoD2019_Population_Denominators.csv.gz",
    "ons_lookups/csv/135.csv",
    "geo_lookups/lsoa11/E06000015.geojson",
    "geo_lookups/ward/E06000015.geojson",
)
LOOKUP_METHOD = "ONS LSOA11-WD19 lookup"
PIP_METHOD = "centroid point-in-polygon"
LSOA_VINTAGE = "2011"
IMD_PERIOD, IMD_YEAR = "2019", 2019
POP_PERIOD, POP_YEAR = "mid-2015", 2015
MAX_NEAREST_DEG = 0.001  # about 100 m: how far outside every ward a centroid may fall

# Column-name prefixes (File 2 appends "(where 1 is most deprived ...)") -> short names.
KEY_COLUMNS = {
    "LSOA code (2011)": "lsoa_code",
    "LSOA name (2011)": "lsoa_name",
    "Local Authority District code (2019)": "lad_code",
}
FILE1_COLUMNS = {
    "Index of Multiple Deprivation (IMD) Rank": "imd_rank",
    "Index of Multiple Deprivation (IMD) Decile": "imd_decile",
}
DOMAINS = {  # File 2 column prefix -> indicator id
    "Income Decile": "iod_income_decile",
    "Employment Decile": "iod_employment_decile",
    "Education, Skills and Training Decile": "iod_education_decile",
    "Health Deprivation and Disability Decile": "iod_health_decile",
    "Crime Decile": "iod_crime_decile",
    "Barriers to Housing and Services Decile": "iod_housing_decile",
    "Living Environment Decile": "iod_living_env_decile",
}
FILE6_COLUMNS = {
    "Total population: mid 2015": "population_total",
    "Dependent Children aged 0-15: mid 2015": "population_0_15",
}


def read_iod_csv(path: Path, columns: dict[str, str]) -> pd.DataFrame:
    """An IoD CSV (gzip, BOM, quoted thousands separators) with `columns` renamed and numeric.

    Keys of `columns` are header prefixes; the LSOA code, name and LAD code are always kept.
    """
    file = Path(path).name
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except Exception as exc:
        raise InputError(file, f"cannot be read as CSV ({type(exc).__name__}: {exc})") from None
    wanted = {**KEY_COLUMNS, **columns}
    rename = {}
    for prefix, short in wanted.items():
        match = [c for c in raw.columns if c.strip().startswith(prefix)]
        if not match:
            raise InputError(file, f"missing column '{prefix}'", field=prefix)
        rename[match[0]] = short
    df = raw[list(rename)].rename(columns=rename)
    for original, short in rename.items():
        if short in KEY_COLUMNS.values():
            df[short] = df[short].str.strip()
            continue
        text = df[short].str.replace(",", "", regex=False).str.strip()
        num = pd.to_numeric(text, errors="coerce")
        if num.isna().any():
            i = int(num.isna().to_numpy().nonzero()[0][0])
            raise InputError(file, f"'{df[short].iloc[i]}' is not a number", row=i + 1, field=original)
        df[short] = num.astype("int64")
    dup = df["lsoa_code"].duplicated()
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        raise InputError(file, f"duplicate LSOA '{df['lsoa_code'].iloc[i]}'", row=i + 1, field="LSOA code (2011)")
    for short in [s for s in columns.values() if s.endswith("decile")]:
        bad = ~df[short].between(1, 10)
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(file, f"decile {df[short].iloc[i]} is not 1-10", row=i + 1,
                             field=next(k for k, v in rename.items() if v == short))
    return df


def _wards(ctx: Context, vintage: str) -> pd.DataFrame:
    a = ctx.areas
    return a[(a["area_type"] == "ward") & (a["vintage"] == vintage) & (a["parent_code"] == config.DERBY)]


def lookup_2003_2023(path: Path, derby_lsoas: set[str], ward_codes: set[str]) -> pd.DataFrame:
    """Derby LSOA -> 2003-2023 ward from the ONS LSOA11-WD19 lookup; checks the codes."""
    file = Path(path).name
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in ("LSOA11CD", "WD19CD", "LAD19CD") if c not in df.columns]
    if missing:
        raise InputError(file, f"missing column(s) {', '.join(missing)}", field=missing[0])
    sel = df[df["LAD19CD"] == config.DERBY]
    got = set(sel["LSOA11CD"])
    if got != derby_lsoas or sel["LSOA11CD"].duplicated().any():
        diff = sorted(got ^ derby_lsoas)[:3] or sorted(sel.loc[sel["LSOA11CD"].duplicated(), "LSOA11CD"])[:3]
        raise InputError(file, f"Derby LSOAs do not match IoD File 1 one-to-one (e.g. {', '.join(diff)})", field="LSOA11CD")
    unknown = ~sel["WD19CD"].isin(ward_codes)
    if unknown.any():
        i = int(sel.index[unknown.to_numpy()][0])
        raise InputError(file, f"ward '{df.at[i, 'WD19CD']}' is not a 2003-2023 Derby ward in areas.csv", row=i + 1, field="WD19CD")
    empty = sorted(ward_codes - set(sel["WD19CD"]))
    if empty:
        raise InputError(file, f"no LSOA maps to ward(s) {', '.join(empty)}", field="WD19CD")
    return pd.DataFrame({"lsoa_code": sel["LSOA11CD"].to_numpy(), "ward_code": sel["WD19CD"].to_numpy(),
                         "vintage": config.WARD_VINTAGE_PLAN, "method": LOOKUP_METHOD})


def read_centroids(path: Path, derby_lsoas: set[str]) -> pd.DataFrame:
    """LSOA code, lon, lat from the properties of the ONS LSOA 2011 boundary GeoJSON."""
    file = Path(path).name
    try:
        features = json.loads(Path(path).read_text(encoding="utf-8"))["features"]
    except Exception as exc:
        raise InputError(file, f"cannot be read as GeoJSON ({type(exc).__name__}: {exc})") from None
    rows = []
    for i, f in enumerate(features, start=1):
        p = f.get("properties") or {}
        try:
            rows.append((str(p["LSOA11CD"]), float(p["LONG"]), float(p["LAT"])))
        except (KeyError, TypeError, ValueError):
            field = next((k for k in ("LSOA11CD", "LONG", "LAT") if k not in p), "LONG")
            raise InputError(file, "feature lacks a LSOA11CD code or numeric LONG/LAT", row=i, field=field) from None
    df = pd.DataFrame(rows, columns=["lsoa_code", "lon", "lat"])
    if set(df["lsoa_code"]) != derby_lsoas or df["lsoa_code"].duplicated().any():
        raise InputError(file, "LSOA centroids do not match Derby's LSOAs in IoD File 1 one-to-one", field="LSOA11CD")
    return df


def read_ward_polygons(path: Path, ward_codes: set[str]) -> gpd.GeoDataFrame:
    """Ward code and polygon (WGS84) from a ward boundary GeoJSON (`WDxxCD` property)."""
    file = Path(path).name
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:
        raise InputError(file, f"cannot be read as GeoJSON ({type(exc).__name__}: {exc})") from None
    code_cols = [c for c in gdf.columns if len(c) == 6 and c.startswith("WD") and c.endswith("CD")]
    if not code_cols:
        raise InputError(file, "no ward code property (WDxxCD)", field="WDxxCD")
    col = code_cols[0]
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    unknown = ~gdf[col].isin(ward_codes)
    if unknown.any():
        i = int(unknown.to_numpy().nonzero()[0][0])
        raise InputError(file, f"ward '{gdf[col].iloc[i]}' is not a Derby ward of this vintage in areas.csv", row=i + 1, field=col)
    out = gpd.GeoDataFrame({"ward_code": gdf[col].astype(str)}, geometry=shapely.make_valid(gdf.geometry.values), crs=4326)
    return out.sort_values("ward_code").reset_index(drop=True)


def point_in_polygon(points: pd.DataFrame, wards: gpd.GeoDataFrame, file: str) -> tuple[pd.Series, list[str]]:
    """Ward code for each point (lon, lat): containing ward, lowest code on a shared edge,
    else nearest ward within MAX_NEAREST_DEG. Returns the codes and notes on fallbacks."""
    geoms = shapely.points(points["lon"].to_numpy(), points["lat"].to_numpy())
    tree = shapely.STRtree(wards.geometry.values)
    pt_idx, ward_idx = tree.query(geoms, predicate="intersects")
    hits = pd.DataFrame({"pt": pt_idx, "ward": wards["ward_code"].to_numpy()[ward_idx]}).sort_values(["pt", "ward"])
    notes = []
    ties = hits["pt"].duplicated()
    for pt in sorted(set(hits.loc[ties, "pt"])):
        notes.append(f"{points['lsoa_code'].iloc[pt]}: centroid on a ward boundary, assigned to the lowest ward code")
    codes = pd.Series(hits.drop_duplicates("pt").set_index("pt")["ward"], index=range(len(points)))
    for pt in np.flatnonzero(codes.isna().to_numpy()):
        dist = shapely.distance(geoms[pt], wards.geometry.values)
        j = int(np.argmin(dist))
        if dist[j] > MAX_NEAREST_DEG:
            raise InputError(file, f"centroid of {points['lsoa_code'].iloc[pt]} is outside every ward", row=int(pt) + 1, field="LONG")
        codes.iloc[pt] = wards["ward_code"].iloc[j]
        notes.append(f"{points['lsoa_code'].iloc[pt]}: centroid outside every ward, assigned to the nearest")
    return pd.Series(codes.to_numpy(), index=points.index, dtype=object), notes


def weighted_mean(values: pd.Series, weights: pd.Series) -> float:
    """Mean of `values` weighted by `weights` (NaN when the weights sum to zero)."""
    total = float(weights.sum())
    return float((values * weights).sum() / total) if total > 0 else float("nan")


def _obs(indicator: str, area: str, period: str, year: int, value: float,
         numerator: float | None = None, denominator: float | None = None) -> dict:
    return {"indicator_id": indicator, "area_code": area, "period": period, "year": year,
            "breakdown": "all", "value": value, "status": "published",
            "numerator": numerator, "denominator": denominator, "source_id": SOURCE_ID}


def summarise(lsoas: pd.DataFrame, area: str, weighted: list[str], with_populations: bool = True) -> list[dict]:
    """Observation rows for one area from its LSOAs (rows of the merged IoD frame).

    `weighted` lists indicator ids (columns) summarised as population-weighted means.
    """
    rows = []
    if with_populations:
        for ind in FILE6_COLUMNS.values():
            rows.append(_obs(ind, area, POP_PERIOD, POP_YEAR, float(lsoas[ind].sum())))
    n, n1 = len(lsoas), int((lsoas["imd_decile"] == 1).sum())
    rows.append(_obs("imd_most_deprived_decile_share", area, IMD_PERIOD, IMD_YEAR, round(100 * n1 / n, 6), n1, n))
    for ind in weighted:
        rows.append(_obs(ind, area, IMD_PERIOD, IMD_YEAR, round(weighted_mean(lsoas[ind], lsoas["population_total"]), 4)))
    return rows


def _missing_rows(area: str, indicators: list[str]) -> list[dict]:
    period = {i: (POP_PERIOD, POP_YEAR) if i in FILE6_COLUMNS.values() else (IMD_PERIOD, IMD_YEAR) for i in indicators}
    return [{**_obs(i, area, *period[i], None), "status": "x"} for i in indicators]


def load(paths: dict[str, Path], ctx: Context) -> Bundle:
    """Areas (English LSOAs), LSOA -> ward lookups and IMD/population observations."""
    f1, f2, f6, lookup, centroids, wards23 = (Path(paths[name]) for name in FILES)
    known_indicators = set(ctx.indicators["indicator_id"])
    domains = {k: v for k, v in DOMAINS.items() if v in known_indicators}

    imd = read_iod_csv(f1, FILE1_COLUMNS)
    dom = read_iod_csv(f2, domains)
    pop = read_iod_csv(f6, FILE6_COLUMNS)
    for other, df in ((f2, dom), (f6, pop)):
        if set(df["lsoa_code"]) != set(imd["lsoa_code"]):
            raise InputError(other.name, f"LSOAs differ from {f1.name}", field="LSOA code (2011)")
    data = (imd.merge(dom[["lsoa_code", *domains.values()]], on="lsoa_code")
               .merge(pop[["lsoa_code", *FILE6_COLUMNS.values()]], on="lsoa_code"))
    derby = data[data["lad_code"] == config.DERBY].reset_index(drop=True)
    if derby.empty:
        raise InputError(f1.name, f"no LSOAs in {config.DERBY}", field="Local Authority District code (2019)")
    derby_lsoas = set(derby["lsoa_code"])

    plan_wards, current_wards = _wards(ctx, config.WARD_VINTAGE_PLAN), _wards(ctx, config.WARD_VINTAGE_CURRENT)
    plan_lookup = lookup_2003_2023(lookup, derby_lsoas, set(plan_wards["area_code"]))
    points = read_centroids(centroids, derby_lsoas)
    polygons = read_ward_polygons(wards23, set(current_wards["area_code"]))
    codes, notes = point_in_polygon(points, polygons, centroids.name)
    current_lookup = pd.DataFrame({"lsoa_code": points["lsoa_code"], "ward_code": codes,
                                   "vintage": config.WARD_VINTAGE_CURRENT, "method": PIP_METHOD})
    lsoa_ward = pd.concat([plan_lookup, current_lookup], ignore_index=True)

    # Areas: every English LSOA.
    parent = data["lad_code"].where(data["lad_code"].isin(set(ctx.areas["area_code"])), "")
    parent = parent.where(~data["lsoa_code"].isin(derby_lsoas),
                          data["lsoa_code"].map(plan_lookup.set_index("lsoa_code")["ward_code"]))
    areas = pd.DataFrame({"area_code": data["lsoa_code"], "area_name": data["lsoa_name"], "area_type": "lsoa",
                          "parent_code": parent, "vintage": LSOA_VINTAGE,
                          "la_number": pd.array([pd.NA] * len(data), dtype="Int64")})

    # Observations.
    weighted = ["imd_rank", "imd_decile", *domains.values()]
    lsoa_obs = []
    for ind in FILE1_COLUMNS.values():
        lsoa_obs.append(pd.DataFrame({"indicator_id": ind, "area_code": data["lsoa_code"], "period": IMD_PERIOD,
                                      "year": IMD_YEAR, "breakdown": "all", "value": data[ind].astype(float),
                                      "status": "published", "source_id": SOURCE_ID}))
    for ind, (period, year) in [(i, (POP_PERIOD, POP_YEAR)) for i in FILE6_COLUMNS.values()] + \
                               [(i, (IMD_PERIOD, IMD_YEAR)) for i in domains.values()]:
        lsoa_obs.append(pd.DataFrame({"indicator_id": ind, "area_code": derby["lsoa_code"], "period": period,
                                      "year": year, "breakdown": "all", "value": derby[ind].astype(float),
                                      "status": "published", "source_id": SOURCE_ID}))
    rows = []
    for wards, mapping in ((plan_wards, plan_lookup), (current_wards, current_lookup)):
        members = derby.merge(mapping[["lsoa_code", "ward_code"]], on="lsoa_code")
        for ward in sorted(wards["area_code"]):
            part = members[members["ward_code"] == ward]
            if part.empty:
                notes.append(f"{ward}: no LSOA centroid falls in this ward; its figures are marked x")
                rows += _missing_rows(ward, [*FILE6_COLUMNS.values(), "imd_most_deprived_decile_share", *weighted])
            else:
                rows += summarise(part, ward, weighted)
    rows += summarise(derby, config.DERBY, [])
    rows += summarise(data, config.ENGLAND, [])
    obs = conform_observations(pd.concat([*lsoa_obs, pd.DataFrame(rows)], ignore_index=True))
    return Bundle(SOURCE_ID, observations=obs, areas=areas, lsoa_ward=lsoa_ward, notes=notes)

"""Schools with their location and results: DfE Get Information About Schools (open schools,
May 2025; `.rda`, Latin-1 strings) and the 2018/19 performance tables (KS2 progress in reading,
writing and maths; KS4 Progress 8, Attainment 8 and % grade 5+ in English and maths; CSV).

A school is kept when it is in Derby's local authority (GIAS LA 831) or its point falls inside
one of Derby's wards. Each is placed in the ward (both vintages) that holds its point; a school
outside Derby's boundary gets no ward. Results are joined by URN; a school in the results but not
open in GIAS 2025 (closed, or re-opened under a new URN) is kept with its 2018/19 name and
location (`in_gias` false). These are figures **by school location, not by where pupils live**.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from derby_oa import config
from derby_oa.ingest import bestfit as wards_bestfit
from derby_oa.errors import InputError
from derby_oa.ingest import Bundle, Context, iod, rda, small_area
from derby_oa.ingest.csvfile import read_strict

SOURCE_ID = "dfe_gias"
RESULTS_SOURCE = "dfe_performance_2019"
GIAS = "schools/gias.rda"
KS2 = "schools/england_ks2final.csv"
KS4 = "schools/england_ks4final.csv"
FILES = (GIAS, KS2, KS4, small_area.WARDS_2003, small_area.WARDS_2023)
KS2_COLUMNS = {"READPROG": "ks2_reading_progress", "WRITPROG": "ks2_writing_progress", "MATPROG": "ks2_maths_progress"}
KS4_COLUMNS = {"P8MEA": "ks4_progress8", "ATT8SCR": "ks4_attainment8", "PTL2BASICS_95": "ks4_basics_95"}
MEASURES = {**{v: k for k, v in KS2_COLUMNS.items()}, **{v: k for k, v in KS4_COLUMNS.items()}}
COLUMNS = ["urn", "school_name", "phase", "school_type", "la_code", "in_gias", "pupils", "fsm_pct", "lsoa_code",
           "lon", "lat", "ward_2003_2023", "ward_2023", *KS2_COLUMNS.values(), *KS4_COLUMNS.values(), "source_ids"]


def place(lon, lat, polygons: dict[str, "gpd.GeoDataFrame"]) -> dict[str, np.ndarray]:  # noqa: F821
    """Ward code per point for each vintage (None outside every ward)."""
    return {v: wards_bestfit.ward_of_points(lon, lat, p) for v, p in polygons.items()}


def _numbers(series: pd.Series) -> pd.Series:
    """Numeric results; DfE markers (NP, SUPP, NE, LOWCOV, ...) and blanks become NaN."""
    return pd.to_numeric(series.str.strip().str.rstrip("%"), errors="coerce")


def read_results(path: Path, columns: dict[str, str]) -> pd.DataFrame:
    """urn, school_name, phase, school_type, lon, lat and the result columns of a performance CSV."""
    file = "/".join(Path(path).parts[-2:])
    raw = read_strict(path, ["URN", "SCHNAME", "LATITUDE", "LONGITUDE", "PHASE", "SCHTYPE", *columns], name=file)
    urn = pd.to_numeric(raw["URN"], errors="coerce")
    if urn.isna().any():
        i = int(urn.isna().to_numpy().nonzero()[0][0])
        raise InputError(file, f"URN '{raw['URN'].iloc[i]}' is not a number", row=i + 1, field="URN")
    out = pd.DataFrame({"urn": urn.astype("int64"), "school_name": raw["SCHNAME"].str.strip(),
                        "phase": raw["PHASE"].str.strip(), "school_type": raw["SCHTYPE"].str.strip(),
                        "lon": pd.to_numeric(raw["LONGITUDE"], errors="coerce"),
                        "lat": pd.to_numeric(raw["LATITUDE"], errors="coerce")})
    for src, dst in columns.items():
        out[dst] = _numbers(raw[src])
    return out.drop_duplicates("urn")


def read_gias(path: Path) -> pd.DataFrame:
    df = rda.read_frame(path, encoding="latin1")
    rda.require(df, Path(path).name, ["urn", "la_code", "establishment_name", "establishment_type", "education_phase",
                                      "number_of_pupils", "percentage_fsm", "lsoa_code", "longitude", "latitude"])
    return pd.DataFrame({"urn": df["urn"].astype("int64"), "school_name": df["establishment_name"],
                         "phase": df["education_phase"], "school_type": df["establishment_type"],
                         "la_code": df["la_code"], "pupils": df["number_of_pupils"], "fsm_pct": df["percentage_fsm"],
                         "lsoa_code": df["lsoa_code"], "lon": df["longitude"], "lat": df["latitude"]})


def select(gias: pd.DataFrame, results: pd.DataFrame, polygons: dict) -> pd.DataFrame:
    """Derby's schools (LA 831 or inside a ward) with wards and results, in COLUMNS order."""
    plan, current = config.WARD_VINTAGE_PLAN, config.WARD_VINTAGE_CURRENT
    g = gias.copy()
    g[["lon", "lat"]] = g[["lon", "lat"]].astype(float)
    for v, codes in place(g["lon"].fillna(0), g["lat"].fillna(0), polygons).items():
        g[f"ward_{v}"] = np.where(g["lon"].notna() & g["lat"].notna(), codes, None)
    g = g[(g["la_code"] == str(config.DERBY_LA_NUMBER)) | g[f"ward_{plan}"].notna() | g[f"ward_{current}"].notna()]
    g = g.assign(in_gias=True)
    r = results.copy()
    placed = place(r["lon"].fillna(0), r["lat"].fillna(0), polygons)
    for v, codes in placed.items():
        r[f"ward_{v}"] = np.where(r["lon"].notna() & r["lat"].notna(), codes, None)
    inside = r[r[f"ward_{plan}"].notna() | r[f"ward_{current}"].notna()]
    measures = list(MEASURES)
    merged = g.merge(r[["urn", *measures]], on="urn", how="left")
    extra = inside[~inside["urn"].isin(g["urn"])].assign(in_gias=False, la_code=None, pupils=np.nan, fsm_pct=np.nan,
                                                         lsoa_code=None)
    out = pd.concat([merged, extra], ignore_index=True)
    has_results = out[measures].notna().any(axis=1)
    out["source_ids"] = [";".join(x for x in (SOURCE_ID if a else "", RESULTS_SOURCE if b else "") if x)
                         for a, b in zip(out["in_gias"], has_results)]
    out = out.rename(columns={f"ward_{plan}": "ward_2003_2023", f"ward_{current}": "ward_2023"})
    return out[COLUMNS].sort_values("urn").reset_index(drop=True)


def polygons_of(paths: dict, ctx: Context) -> dict:
    return {v: iod.read_ward_polygons(Path(paths[f]), set(small_area.ward_codes(ctx, v)))
            for v, f in ((config.WARD_VINTAGE_PLAN, small_area.WARDS_2003),
                         (config.WARD_VINTAGE_CURRENT, small_area.WARDS_2023))}


def load(paths: dict[str, Path], ctx: Context) -> Bundle:
    """The schools table (no observations)."""
    ks2, ks4 = read_results(Path(paths[KS2]), KS2_COLUMNS), read_results(Path(paths[KS4]), KS4_COLUMNS)
    base = pd.concat([ks2, ks4], ignore_index=True).drop_duplicates("urn")  # name, phase, location
    results = (base[["urn", "school_name", "phase", "school_type", "lon", "lat"]]
               .merge(ks2[["urn", *KS2_COLUMNS.values()]], on="urn", how="left")
               .merge(ks4[["urn", *KS4_COLUMNS.values()]], on="urn", how="left"))
    schools = select(read_gias(Path(paths[GIAS])), results, polygons_of(paths, ctx))
    outside = int((schools["ward_2003_2023"].isna() & schools["ward_2023"].isna()).sum())
    notes = [f"{len(schools)} schools ({int(schools['in_gias'].sum())} open in GIAS 2025); "
             f"{outside} in LA 831 but outside Derby's wards (no ward)"]
    return Bundle(SOURCE_ID, schools=schools, notes=notes)

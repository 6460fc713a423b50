"""Reference tables committed in `data/`: sources, indicators, areas, source code mappings."""
from __future__ import annotations

import pandas as pd

from derby_oa import config
from derby_oa.errors import InputError
from derby_oa.ingest.csvfile import read_strict
from derby_oa.storage.schema import AREA_TYPES, POLARITIES, THEMES, UNITS


def _read(name: str, required: list[str]) -> pd.DataFrame:
    return read_strict(config.DATA_DIR / name, required)


def _check_in(df: pd.DataFrame, file: str, field: str, allowed) -> None:
    bad = ~df[field].isin(allowed)
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(file, f"'{df.iloc[i][field]}' is not one of {', '.join(allowed)}", row=i + 1, field=field)


def sources() -> pd.DataFrame:
    """Publications with licence and attribution (`data/sources.csv`)."""
    df = _read("sources.csv", ["source_id", "title", "publisher", "url", "licence", "attribution", "retrieved"])
    for col in ("licence", "attribution"):
        empty = df[col].str.strip() == ""
        if empty.any():
            raise InputError("sources.csv", "licence and attribution are required", row=int(empty.idxmax()) + 1, field=col)
    return df


def indicators() -> pd.DataFrame:
    """The curated indicator catalogue (`data/indicators.csv`)."""
    df = _read("indicators.csv", ["indicator_id", "title", "short_title", "theme", "unit", "polarity",
                                  "decimals", "definition", "series_breaks", "not_collected", "series_notes"])
    _check_in(df, "indicators.csv", "theme", THEMES)
    _check_in(df, "indicators.csv", "unit", UNITS)
    _check_in(df, "indicators.csv", "polarity", POLARITIES)
    dup = df["indicator_id"].duplicated()
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        raise InputError("indicators.csv", f"duplicate indicator_id '{df.iloc[i].indicator_id}'", row=i + 1, field="indicator_id")
    df["decimals"] = pd.to_numeric(df["decimals"]).astype("int64")
    df["source_id"] = None
    return df


def areas() -> pd.DataFrame:
    """Country, regions, local authorities and Derby's wards in both vintages (`data/areas.csv`)."""
    df = _read("areas.csv", ["area_code", "area_name", "area_type", "parent_code", "vintage", "la_number"])
    _check_in(df, "areas.csv", "area_type", AREA_TYPES)
    df["la_number"] = pd.to_numeric(df["la_number"].replace("", None)).astype("Int64")
    return df


def source_codes() -> pd.DataFrame:
    """Which published measure codes feed which (indicator, breakdown) (`data/source_codes.csv`)."""
    return _read("source_codes.csv", ["source_id", "source_code", "indicator_id", "breakdown"])

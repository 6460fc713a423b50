"""The explorer's pure core: URL list parsing, the tidy table, the pivot (areas by years) and the chart.

No Streamlit and no SQL: frames come from `derby_oa.queries.explore`.
"""
from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from derby_oa import formatting, vocabulary

BREAKDOWN_LABELS = vocabulary.PUPIL_GROUPS
VIEWS = ("table", "pivot", "chart")
CHART_KINDS = ("line", "bar")
MAX_LINE_SERIES = 6  # one colour, shape and dash each (theme.CATEGORICAL)
MAX_INDICATORS = 6
TIDY_COLUMNS = {
    "indicator_id": "Indicator id", "indicator": "Indicator", "area_code": "Area code", "area_name": "Area",
    "area_type": "Area type", "period": "Period", "year": "Year ending", "breakdown": "Breakdown",
    "value": "Value", "unit": "Unit", "status": "Status", "numerator": "Numerator", "denominator": "Denominator",
    "lower_ci": "Lower 95% limit", "upper_ci": "Upper 95% limit", "source": "Source",
}


def split_list(value: str | None) -> list[str]:
    """Items of a comma-separated URL value, stripped, without blanks."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def parse_list(value: str | None, valid: Iterable[str]) -> tuple[list[str], list[str]]:
    """Comma-separated URL value -> (valid items in order without repeats, rejected items)."""
    allowed = set(valid)
    kept, rejected = [], []
    for item in split_list(value):
        if item in allowed:
            if item not in kept:
                kept.append(item)
        elif item not in rejected:
            rejected.append(item)
    return kept, rejected


def join_list(items: Iterable[str]) -> str:
    """The URL form of a list."""
    return ",".join(items)


def parse_year(value: str | None, years: list[int]) -> int | None:
    """A year from the URL: one of `years`, or the nearest of them for a plausible year (1900-2100) that
    the current indicators lack (e.g. after choosing another indicator); None when it is not a year."""
    try:
        year = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    if year in years:
        return year
    if years and 1900 <= year <= 2100:
        return min(years, key=lambda y: (abs(y - year), y))
    return None


AREA_TYPE_LABELS = {"country": "country", "region": "region", "la": "local authority", "ward": "ward", "lsoa": "LSOA"}


def area_labels(areas: pd.DataFrame) -> dict[str, str]:
    """Area code -> "Name (type)" for pickers; wards carry their boundary vintage."""
    return {r.area_code: f"{r.area_name} ({AREA_TYPE_LABELS.get(r.area_type, r.area_type)}"
                         + (f" {r.vintage}" if r.area_type == "ward" else "") + ")"
            for r in areas.itertuples()}


def series_label(area_name: str, breakdown: str, indicator: str | None = None, several_breakdowns: bool = False) -> str:
    """Legend label of one line: area, and the group when several are shown."""
    label = area_name if not several_breakdowns else f"{area_name} ({BREAKDOWN_LABELS.get(breakdown, breakdown)})"
    return f"{indicator}: {label}" if indicator else label


def tidy_table(df: pd.DataFrame) -> pd.DataFrame:
    """The tidy table shown and downloaded: one row per observation, readable column names."""
    cols = [c for c in TIDY_COLUMNS if c in df.columns]
    out = df[cols].copy()
    if "breakdown" in out:
        out["breakdown"] = out["breakdown"].map(lambda b: BREAKDOWN_LABELS.get(b, b))
    return out.rename(columns=TIDY_COLUMNS).reset_index(drop=True)


def _cell(value, status, decimals: int = 1) -> str:
    """A pivot cell: the value at its published precision, or the DfE symbol when there is none."""
    if status == "published" and pd.notna(value):
        return formatting.number(value, decimals)
    return status if status in ("c", "x", "z") else "x"


def pivot(df: pd.DataFrame) -> pd.DataFrame:
    """Areas by years: one row per indicator, area and breakdown; one column per period in time order.

    Missing values show their DfE symbol (c, x, z); periods an area has no row for are blank.
    """
    if df.empty:
        return pd.DataFrame(columns=["Indicator", "Area code", "Area", "Breakdown"])
    # one precision per indicator and period, as its source published it (48 beside 55, never 48.0)
    meta_dec = df["decimals"] if "decimals" in df.columns else pd.Series(1, index=df.index)
    dec = {}
    for (ind, period), grp in df.assign(_d=meta_dec).groupby(["indicator_id", "period"]):
        src = grp["source_id"].mode().iat[0] if "source_id" in grp and grp["source_id"].notna().any() else None
        d0 = grp["_d"].iat[0]
        dec[(ind, period)] = formatting.shown_decimals(grp.loc[grp["status"] == "published", "value"],
                                                       None if pd.isna(d0) else int(d0), src)
    data = df.assign(cell=[_cell(v, s, dec.get((i, p), 1))
                           for v, s, i, p in zip(df["value"], df["status"], df["indicator_id"], df["period"])])
    order = data[["period", "year"]].drop_duplicates().sort_values(["year", "period"])["period"].tolist()
    keys = ["indicator_id", "indicator", "area_code", "area_name", "breakdown"]
    rows = data[keys].drop_duplicates()
    wide = data.pivot(index=keys, columns="period", values="cell")
    wide = wide.reindex(pd.MultiIndex.from_frame(rows)).reindex(columns=order).fillna("")
    out = wide.reset_index().drop(columns="indicator_id")
    out["breakdown"] = out["breakdown"].map(lambda b: BREAKDOWN_LABELS.get(b, b))
    out.columns.name = None
    return out.rename(columns={"indicator": "Indicator", "area_code": "Area code", "area_name": "Area",
                               "breakdown": "Breakdown"})


def line_frame(df: pd.DataFrame) -> pd.DataFrame:
    """One indicator's rows as chart series (series, year, period, value), missing years kept as NaN."""
    several = df["breakdown"].nunique() > 1
    out = df.assign(series=[series_label(a, b, several_breakdowns=several)
                            for a, b in zip(df["area_name"], df["breakdown"])])
    out["value"] = out["value"].where(out["status"].eq("published"))
    return out[["series", "year", "period", "value", "status"]]


def definitions_sheet(defs: pd.DataFrame) -> pd.DataFrame:
    """The XLSX's second sheet: definition, source, licence and attribution per indicator and source."""
    cols = {"indicator_id": "Indicator id", "title": "Indicator", "unit": "Unit", "definition": "Definition",
            "series_notes": "Series notes", "source": "Source", "publisher": "Publisher", "licence": "Licence",
            "attribution": "Attribution", "url": "Source address"}
    return defs.reindex(columns=list(cols)).rename(columns=cols)


def workbook_sheets(data: pd.DataFrame, defs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The explorer's XLSX: the tidy data, then each indicator's definition, source, licence and
    attribution (the second sheet), then the pivot."""
    return {"Data": tidy_table(data), "Definitions and sources": definitions_sheet(defs), "Pivot": pivot(data)}

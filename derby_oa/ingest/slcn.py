"""Year 1 pupils with SLCN as primary SEN need, by LA (DfE SEN in England, BBC Shared Data Unit merge).

One row per LA (`old_la_code`) plus `ZZ_TOTAL` (England), with `<yyyyyy>_language` (SLCN count)
and `<yyyyyy>_pupils` (all Year 1 pupils) for 201516..202122. The value is recomputed as
100 * language / pupils to 1 dp (the file's `_senperc` is rounded to whole per cent).

A year with no pupil count gives no row: the LA did not exist that year (Poole, Bournemouth and
old Dorset after 2019; Northamptonshire in 2021/22). The BBC merge joined on LA name, so the
2019 Dorsets carry each other's SLCN counts in those years; such counts are dropped and noted.
A pupil count with no SLCN count is status `x`. The unnamed last row (averages of the
percentages only) is skipped.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from derby_oa.config import ENGLAND
from derby_oa.errors import InputError
from derby_oa.storage.schema import OBS_COLUMNS
from derby_oa.ingest import Bundle, Context, periods

SOURCE_ID = "dfe_sen_slcn"
FILES = ("bbc_child_speech/merged_sen_data_withperc.csv",)
INDICATOR = "slcn_year1_primary_need"
ENGLAND_ROW = "ZZ_TOTAL"
MISSING = {"", "NA"}


def count(text: pd.Series, file: str, field: str) -> pd.Series:
    """Whole counts (NaN for NA/blank); raises on anything else."""
    text = text.str.strip()
    numbers = pd.to_numeric(text.where(~text.isin(MISSING)), errors="coerce").astype("float64")
    bad = (numbers.isna() & ~text.isin(MISSING)) | (numbers < 0)
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(file, f"'{text.iloc[i]}' is not a count", row=i + 1, field=field)
    return numbers


def area_codes(df: pd.DataFrame, file: str, areas: pd.DataFrame) -> pd.Series:
    """GSS code per row (England for ZZ_TOTAL, NaN for the unnamed summary row)."""
    la_codes = areas.dropna(subset=["la_number"]).set_index("la_number")["area_code"]
    name, la = df["la_name"].str.strip(), df["old_la_code"].str.strip()
    code = pd.to_numeric(la, errors="coerce").map(la_codes).where(name != ENGLAND_ROW, ENGLAND)
    bad = code.isna() & ~((name == "") & (la == ""))
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(file, f"unknown LA code '{la.iloc[i]}' ({name.iloc[i]})", row=i + 1, field="old_la_code")
    dup = code.notna() & code.duplicated()
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        raise InputError(file, f"second row for LA code '{la.iloc[i]}' ({name.iloc[i]})",
                         row=i + 1, field="old_la_code")
    return code


def read_slcn(path: Path, areas: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Observations for every year in the file, and notes on dropped counts."""
    file = Path(path).name
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    years = sorted(m.group(1) for c in df.columns if (m := re.fullmatch(r"(\d{6})_language", c)))
    if not years:
        raise InputError(file, "no <yyyyyy>_language columns", field="201516_language")
    required = ["la_name", "old_la_code"] + [f"{y}_{k}" for y in years for k in ("language", "pupils")]
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(file, f"missing column(s) {', '.join(missing)}", field=missing[0])
    code = area_codes(df, file, areas)
    frames, orphans = [], 0
    for y in years:
        lang = count(df[f"{y}_language"], file, f"{y}_language")
        pupils = count(df[f"{y}_pupils"], file, f"{y}_pupils")
        over = lang > pupils
        if over.any():
            i = int(over.to_numpy().nonzero()[0][0])
            raise InputError(file, "more SLCN pupils than Year 1 pupils", row=i + 1, field=f"{y}_language")
        keep = code.notna() & pupils.notna()
        orphans += int((code.notna() & pupils.isna() & lang.notna()).sum())
        end = periods.end_year(y)
        frames.append(pd.DataFrame({
            "indicator_id": INDICATOR, "area_code": code[keep], "period": periods.academic(end), "year": end,
            "breakdown": "all", "value": (100 * lang / pupils)[keep].round(1),
            "status": lang[keep].notna().map({True: "published", False: "x"}),
            "numerator": lang[keep], "denominator": pupils[keep], "source_id": SOURCE_ID,
        }))
    notes = [f"{file}: dropped {orphans} SLCN counts with no Year 1 pupil count (LA-name merge artefacts)"
             ] if orphans else []
    return pd.concat(frames, ignore_index=True).reindex(columns=OBS_COLUMNS), notes


def load(paths: dict[str, Path], ctx: Context) -> Bundle:
    """Year 1 SLCN as primary need, England and LAs, 2015/16-2021/22."""
    obs, notes = read_slcn(paths[FILES[0]], ctx.areas)
    return Bundle(SOURCE_ID, observations=obs, notes=notes)

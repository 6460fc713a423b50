"""DfE EYFSP results 2012/13-2018/19 in Explore Education Statistics (EES) format (Nesta copies).

* `APS_GLD_ELG_EXP_2013_2019.csv` -> `gld` by gender (breakdowns all/boys/girls).
* `EYFSP_LA_2_com_lit_maths_additional_tables_2013_2019.xlsx`, Communication and Language rows
  only -> `eyfsp_comm_lang_expected` by FSM (all/fsm/non_fsm). Its percentages are published as
  whole numbers; the numerator and denominator give the exact rate.

Areas: National rows -> England, Regional rows -> `region_code` (Inner and Outer London; there
is no London row), LA rows -> `old_la_code` via the area list's DfE LA numbers (the files'
`new_la_code` mixes old and new GSS codes for Gateshead and Northumberland). EES symbols become
statuses (`SYMBOLS`); `.` (not applicable, e.g. no FSM pupils in the Isles of Scilly) is `z`.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from derby_oa.errors import InputError
from derby_oa.storage.schema import OBS_COLUMNS
from derby_oa.ingest import Bundle, Context, periods

SOURCE_ID = "dfe_eyfsp_2013_2019"
FILES = ("nesta_afs/APS_GLD_ELG_EXP_2013_2019.csv",
         "nesta_afs/EYFSP_LA_2_com_lit_maths_additional_tables_2013_2019.xlsx")
GEO = ["time_period", "geographic_level", "country_code", "region_code", "old_la_code"]
SYMBOLS = {"c": "c", "x": "x", "z": "z", ".": "z", ":": "x", "..": "x", "-": "x", "": "x", "low": "x", "~": "x"}
GENDER = {"Total": "all", "Boys": "boys", "Girls": "girls"}
FSM = {"Total": "all", "FSM": "fsm", "All other pupils": "non_fsm"}
COMM_LANG = "Communication and Language"
LEVEL_FIELD = {"National": "country_code", "Regional": "region_code", "Local Authority": "old_la_code"}


def _first(mask: pd.Series) -> int:
    """Index label of the first True in `mask` (labels are file data rows - 1)."""
    return int(mask.index[mask.to_numpy().nonzero()[0][0]])


def require(df: pd.DataFrame, file: str, columns: list[str]) -> None:
    """Raise naming the first missing column."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(file, f"missing column(s) {', '.join(missing)}", field=missing[0])


def parse_numbers(text: pd.Series, file: str, field: str) -> tuple[pd.Series, pd.Series]:
    """Numbers and statuses from EES cells; raises on text that is neither a number nor a symbol."""
    text = text.astype(str).str.strip()
    symbol = text.str.lower().map(SYMBOLS)
    numbers = pd.to_numeric(text.where(symbol.isna()), errors="coerce").astype("float64")
    bad = numbers.isna() & symbol.isna()
    if bad.any():
        i = _first(bad)
        raise InputError(file, f"'{text[i]}' is neither a number nor an EES symbol ({', '.join(SYMBOLS)})",
                         row=i + 1, field=field)
    return numbers, symbol.where(numbers.isna(), "published")


def area_codes(df: pd.DataFrame, file: str, areas: pd.DataFrame) -> pd.Series:
    """GSS code per row from the EES geography columns; raises for codes not in `areas`."""
    level = df["geographic_level"].str.strip()
    bad = ~level.isin(LEVEL_FIELD)
    if bad.any():
        i = _first(bad)
        raise InputError(file, f"unexpected geographic_level '{level[i]}'", row=i + 1, field="geographic_level")
    la_codes = areas.dropna(subset=["la_number"]).set_index("la_number")["area_code"]
    la_number = pd.to_numeric(df["old_la_code"].str.strip(), errors="coerce")
    code = df["country_code"].str.strip().where(level == "National", df["region_code"].str.strip())
    code = code.where(level != "Local Authority", la_number.map(la_codes))
    bad = ~code.isin(set(areas["area_code"]))
    if bad.any():
        i = _first(bad)
        field = LEVEL_FIELD[level[i]]
        raise InputError(file, f"unknown area code '{df.at[i, field].strip()}'", row=i + 1, field=field)
    return code


def ees_periods(labels: pd.Series, file: str) -> tuple[pd.Series, pd.Series]:
    """Academic labels and end years from EES `time_period` (`201516` -> `2015/16`, 2016)."""
    labels = labels.astype(str).str.strip()
    bad = ~labels.str.fullmatch(r"\d{6}")
    if bad.any():
        i = _first(bad)
        raise InputError(file, f"time_period '{labels[i]}' is not like 201516", row=i + 1, field="time_period")
    years = labels.str[:4].astype("int64") + 1
    return years.map(periods.academic), years


def breakdowns(values: pd.Series, mapping: dict[str, str], file: str, field: str) -> pd.Series:
    """Breakdown ids for a split column; raises on an unexpected category."""
    out = values.str.strip().map(mapping)
    if out.isna().any():
        i = _first(out.isna())
        raise InputError(file, f"unexpected {field} '{values[i]}' (expected {', '.join(mapping)})",
                         row=i + 1, field=field)
    return out


def observations(df: pd.DataFrame, file: str, areas: pd.DataFrame, indicator_id: str, split: str,
                 mapping: dict[str, str], percent: str, numerator: str, denominator: str) -> pd.DataFrame:
    """Canonical observations from EES rows (index labels are file data rows - 1)."""
    period, year = ees_periods(df["time_period"], file)
    value, status = parse_numbers(df[percent], file, percent)
    obs = pd.DataFrame({
        "indicator_id": indicator_id, "area_code": area_codes(df, file, areas), "period": period, "year": year,
        "breakdown": breakdowns(df[split], mapping, file, split), "value": value, "status": status,
        "numerator": parse_numbers(df[numerator], file, numerator)[0],
        "denominator": parse_numbers(df[denominator], file, denominator)[0], "source_id": SOURCE_ID,
    }).reindex(columns=OBS_COLUMNS)
    dup = obs.duplicated(["indicator_id", "area_code", "period", "breakdown"])
    if dup.any():
        i = _first(dup)
        raise InputError(file, f"duplicate row for {obs.at[i, 'area_code']} {obs.at[i, 'period']}",
                         row=i + 1, field="time_period")
    return obs.reset_index(drop=True)


def read_gld(path: Path, areas: pd.DataFrame) -> pd.DataFrame:
    """`gld` by gender from the headline CSV."""
    file = Path(path).name
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    require(df, file, GEO + ["gender", "number_of_children", "gld_number", "gld_percent"])
    return observations(df, file, areas, "gld", "gender", GENDER, "gld_percent", "gld_number", "number_of_children")


def read_comm_lang(path: Path, areas: pd.DataFrame) -> pd.DataFrame:
    """`eyfsp_comm_lang_expected` by FSM from the areas-of-learning workbook."""
    file = Path(path).name
    df = pd.read_excel(path, dtype=str, keep_default_na=False).fillna("")
    require(df, file, GEO + ["fsm", "area_of_learning", "number_of_pupils", "at_least_expected_number",
                             "at_least_expected_percent"])
    df = df[df["area_of_learning"].str.strip() == COMM_LANG]
    return observations(df, file, areas, "eyfsp_comm_lang_expected", "fsm", FSM,
                        "at_least_expected_percent", "at_least_expected_number", "number_of_pupils")


def load(paths: dict[str, Path], ctx: Context) -> Bundle:
    """GLD by gender and communication-and-language by FSM, England, regions and LAs, 2012/13-2018/19."""
    gld = read_gld(paths[FILES[0]], ctx.areas)
    comm = read_comm_lang(paths[FILES[1]], ctx.areas)
    return Bundle(SOURCE_ID, observations=pd.concat([gld, comm], ignore_index=True))

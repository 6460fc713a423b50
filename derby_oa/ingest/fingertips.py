"""OHID/PHE Fingertips extracts in Trafford Data Lab format (`area_code, area_name, period, value, indicator, ...`).

`read_fingertips_csv` turns one extract into canonical observations; `load` is the adapter for the
six `trafford_dashboard/` extracts (source `phe_fingertips`). `value` `NA` becomes status `x`;
the `significance` column (comparison with England) is not stored.

Periods: academic and calendar labels are kept (`2015/16`, `2016`); indicators counted by
financial year (hospital admissions) get the project's financial label (`2015/16` -> `2015-16`).

Areas: older extracts use superseded GSS codes for five LAs that `data/areas.csv` holds under
their current code (see `GSS_ALIASES`); those are mapped. Rows for
geographies outside the area list are skipped and counted in the notes, but only for these:
non-metropolitan district councils (E07), combined authorities such as Greater Manchester
(E47000001) and electoral wards of other LAs (E05, Trafford's wards). Any other unknown code is an error.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import pandas as pd

from derby_oa.errors import InputError
from derby_oa.storage.schema import OBS_COLUMNS
from derby_oa.ingest import Bundle, Context, periods

SOURCE_ID = "phe_fingertips"
REQUIRED = ["area_code", "area_name", "period", "value", "indicator"]
MISSING = {"NA", ""}

# Code in the extracts -> code in data/areas.csv (same authority, same DfE LA number).
GSS_ALIASES = {  # older GSS code in the files -> the current code used in areas.csv
    "E06000048": "E06000057",  # Northumberland, recoded 2013
    "E08000020": "E08000037",  # Gateshead, recoded 2013
    "E10000002": "E06000060",  # Buckinghamshire: county became a unitary authority in 2020
    "E10000023": "E06000065",  # North Yorkshire: county became a unitary authority in 2023
    "E10000027": "E06000066",  # Somerset: county became a unitary authority in 2023
}
OUT_OF_SCOPE = {"E07": "non-metropolitan districts (E07)", "E47": "combined authorities (E47)",
                "E05": "wards of other LAs (E05)"}

# file -> (indicator_id, breakdown, counted by financial year)
DASHBOARD = {
    "trafford_dashboard/excess_weight_reception.csv": ("excess_weight_reception", "all", False),
    "trafford_dashboard/excess_weight_year6.csv": ("excess_weight_year6", "all", False),
    "trafford_dashboard/school_readiness_fsm.csv": ("gld", "fsm", False),
    "trafford_dashboard/low_income_families.csv": ("low_income_children", "all", False),
    "trafford_dashboard/neets.csv": ("neet_or_not_known_16_17", "all", False),
    "trafford_dashboard/admissions_self_harm_young_people.csv": ("self_harm_admissions_10_24", "all", True),
}
FILES = tuple(DASHBOARD)


def read_table(path: Path, required: list[str] = REQUIRED) -> pd.DataFrame:
    """The CSV as text (nothing read as NA), after checking the required columns."""
    file = Path(path).name
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise InputError(file, f"cannot be read as CSV ({type(exc).__name__}: {exc})") from None
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise InputError(file, f"missing column(s) {', '.join(missing)}", field=missing[0])
    return raw


def _first(mask: pd.Series) -> int:
    """Index label of the first True in `mask`."""
    return mask.index[mask.to_numpy().nonzero()[0][0]]


def map_areas(raw: pd.DataFrame, file: str, areas: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """Area codes mapped to `areas` (NaN for skipped rows) and a note of what was skipped."""
    known = set(areas["area_code"])
    code = raw["area_code"].str.strip()
    alias = code.map(GSS_ALIASES)
    code = code.where(code.isin(known) | ~alias.isin(known), alias)
    unknown = ~code.isin(known)
    scope = code.str[:3].map(OUT_OF_SCOPE)
    bad = unknown & scope.isna()
    if bad.any():
        i = _first(bad)
        raise InputError(file, f"unknown area code '{raw.at[i, 'area_code']}' ({raw.at[i, 'area_name']})",
                         row=i + 1, field="area_code")
    counts = scope[unknown].value_counts()
    notes = [f"{file}: skipped {int(counts.sum())} rows outside the area list: "
             + ", ".join(f"{n} {what}" for what, n in counts.items())] if len(counts) else []
    return code.where(~unknown), notes


def parse_values(text: pd.Series, file: str, field: str = "value") -> tuple[pd.Series, pd.Series]:
    """Numbers and statuses (`published`, or `x` for NA/blank); raises on any other text."""
    text = text.str.strip()
    numbers = pd.to_numeric(text.where(~text.isin(MISSING)), errors="coerce")
    bad = numbers.isna() & ~text.isin(MISSING)
    if bad.any():
        i = _first(bad)
        raise InputError(file, f"'{text[i]}' is not a number or NA", row=i + 1, field=field)
    return numbers.astype("float64"), pd.Series("published", index=text.index).where(numbers.notna(), "x")


def fingertips_period(label: str, financial: bool = False) -> tuple[str, int]:
    """(`period`, end year) for `2015/16` or `2016`; `2015/16` -> `2015-16` for financial years."""
    label = label.strip()
    if not re.fullmatch(r"\d{4}(/\d{2})?", label):
        raise ValueError(label)
    year = periods.end_year(label)
    if "/" in label:
        return (periods.financial(year) if financial else periods.academic(year)), year
    return label, year


def check_unique(obs: pd.DataFrame, file: str) -> None:
    """Raise for the first repeated (indicator, area, period, breakdown); rows named by file row."""
    dup = obs.duplicated(["indicator_id", "area_code", "period", "breakdown"])
    if dup.any():
        i = _first(dup)
        raise InputError(file, f"duplicate row for {obs.at[i, 'area_code']} {obs.at[i, 'period']}",
                         row=i + 1, field="period")


def to_observations(raw: pd.DataFrame, file: str, indicator_id: str, source_id: str, areas: pd.DataFrame,
                    breakdown: str = "all",
                    period: Callable[[str], tuple[str, int]] = fingertips_period) -> tuple[pd.DataFrame, list[str]]:
    """Canonical observations from rows with `area_code, area_name, period, value` (index = file row - 1)."""
    code, notes = map_areas(raw, file, areas)
    rows = raw[code.notna()]
    parsed = {}
    for i, label in rows["period"].drop_duplicates().items():
        try:
            parsed[label] = period(label)
        except ValueError:
            raise InputError(file, f"unrecognised period '{label}'", row=i + 1, field="period") from None
    value, status = parse_values(rows["value"], file)
    obs = pd.DataFrame({
        "indicator_id": indicator_id, "area_code": code[rows.index],
        "period": rows["period"].map(lambda p: parsed[p][0]), "year": rows["period"].map(lambda p: parsed[p][1]),
        "breakdown": breakdown, "value": value, "status": status, "source_id": source_id,
    }, index=rows.index).reindex(columns=OBS_COLUMNS)
    obs["year"] = obs["year"].astype("int64")
    check_unique(obs, file)
    return obs, notes


def read_fingertips_csv(path: Path, indicator_id: str, source_id: str, areas: pd.DataFrame,
                        breakdown: str = "all", financial: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """Observations (and skip notes) from one single-indicator Fingertips extract."""
    file = Path(path).name
    raw = read_table(path)
    texts = raw["indicator"].unique()
    if len(texts) > 1:
        row = int(_first(raw["indicator"] != texts[0])) + 1
        raise InputError(file, f"expected one indicator, found {len(texts)}", row=row, field="indicator")
    return to_observations(raw, file, indicator_id, source_id, areas, breakdown,
                           lambda label: fingertips_period(label, financial))


def load(paths: dict[str, Path], ctx: Context) -> Bundle:
    """Excess weight, GLD (FSM), low income, NEET and self-harm observations from the dashboard extracts."""
    frames, notes = [], []
    for name, (indicator_id, breakdown, financial) in DASHBOARD.items():
        obs, skipped = read_fingertips_csv(paths[name], indicator_id, SOURCE_ID, ctx.areas, breakdown, financial)
        frames.append(obs)
        notes += skipped
    return Bundle(SOURCE_ID, observations=pd.concat(frames, ignore_index=True), notes=notes)

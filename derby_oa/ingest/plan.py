"""The delivery plan's own figures, activity counts and targets, transcribed into `data/`."""
from __future__ import annotations

import pandas as pd

from derby_oa import config
from derby_oa.errors import InputError
from derby_oa.storage.schema import TARGET_KINDS
from derby_oa.ingest import Bundle
from derby_oa.ingest.csvfile import read_strict

SOURCE_ID = "plan_2017"
FIGURE_COLUMNS = ["figure_id", "indicator_id", "area_code", "period", "year", "breakdown", "value",
                  "plan_section", "plan_quote", "note"]
ACTIVITY_COLUMNS = ["activity_id", "priority", "label", "value", "unit", "period", "plan_section", "plan_quote", "note"]
TARGET_COLUMNS = ["target_id", "priority", "indicator_id", "breakdown", "area_code", "baseline_period",
                  "baseline_year", "baseline_value", "target_period", "target_year", "kind",
                  "comparator_area_code", "comparator_breakdown", "target_value", "plan_section", "plan_words"]


def _read(name: str, columns: list[str]) -> pd.DataFrame:
    return read_strict(config.DATA_DIR / name, columns)[columns]


def _numeric(df: pd.DataFrame, file: str, fields: list[str], required: bool) -> pd.DataFrame:
    out = df.copy()
    for field in fields:
        text = out[field].str.replace(",", "", regex=False).str.strip()
        num = pd.to_numeric(text.replace("", None), errors="coerce")
        bad = (text != "") & num.isna()
        if required:
            bad |= text == ""
        if bad.any():
            i = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(file, f"'{df.iloc[i][field]}' is not a number", row=i + 1, field=field)
        out[field] = num.astype("float64")
    return out


def figures() -> pd.DataFrame:
    """Every indicator figure quoted in the plan, with its section and words."""
    df = _numeric(_read("plan_figures.csv", FIGURE_COLUMNS), "plan_figures.csv", ["value"], True)
    df = _numeric(df, "plan_figures.csv", ["year"], False)  # undated figures stay baseline cards only
    df["year"] = df["year"].astype("Int64")
    return df


def activity() -> pd.DataFrame:
    """Programme activity counts and other figures of the plan that are not indicator values."""
    return _numeric(_read("plan_activity.csv", ACTIVITY_COLUMNS), "plan_activity.csv", ["value"], False)


def targets() -> pd.DataFrame:
    """The plan's 2020/21 targets as data (origin `plan`)."""
    df = _read("plan_targets.csv", TARGET_COLUMNS)
    bad = ~df["kind"].isin(TARGET_KINDS)
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise InputError("plan_targets.csv", f"kind '{df.iloc[i].kind}' is not one of {', '.join(TARGET_KINDS)}", row=i + 1, field="kind")
    df = _numeric(df, "plan_targets.csv", ["baseline_year", "baseline_value", "target_year", "target_value"], False)
    for col in ("baseline_year", "target_year"):
        df[col] = df[col].astype("Int64")
    df.insert(1, "origin", "plan")
    return df


def load() -> Bundle:
    """Plan figures as observations (source `plan_2017`); the build lets published data win."""
    f = figures().dropna(subset=["year"])
    f = f[f["period"] != ""]
    obs = f.assign(status="published", source_id=SOURCE_ID)[
        ["indicator_id", "area_code", "period", "year", "breakdown", "value", "status", "source_id"]]
    return Bundle(SOURCE_ID, observations=obs)

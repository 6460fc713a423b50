"""The canonical tables: DuckDB DDL, column lists and validation of tidy frames."""
from __future__ import annotations

import pandas as pd

from derby_oa.errors import InputError

STATUSES = ("published", "c", "x", "z")
AREA_TYPES = ("country", "region", "la", "ward", "lsoa")
THEMES = ("early_years", "schools", "horizons", "wellbeing", "context")
UNITS = ("%", "score", "per 100,000", "rank", "count")
POLARITIES = ("higher_is_better", "lower_is_better", "no_judgement")
TARGET_KINDS = ("exceed_comparator", "close_gap", "absolute", "commitment", "qualitative")

DDL = {
    "sources": """CREATE TABLE sources (
        source_id VARCHAR PRIMARY KEY, title VARCHAR NOT NULL, publisher VARCHAR, url VARCHAR,
        licence VARCHAR NOT NULL, attribution VARCHAR NOT NULL, retrieved VARCHAR)""",
    "areas": """CREATE TABLE areas (
        area_code VARCHAR PRIMARY KEY, area_name VARCHAR NOT NULL, area_type VARCHAR NOT NULL,
        parent_code VARCHAR, vintage VARCHAR, la_number INTEGER)""",
    "area_groups": """CREATE TABLE area_groups (
        group_id VARCHAR, group_name VARCHAR, area_code VARCHAR, member_order INTEGER,
        closeness VARCHAR, source_id VARCHAR, PRIMARY KEY (group_id, area_code))""",
    "indicators": """CREATE TABLE indicators (
        indicator_id VARCHAR PRIMARY KEY, title VARCHAR NOT NULL, short_title VARCHAR,
        theme VARCHAR, unit VARCHAR, polarity VARCHAR, definition VARCHAR, decimals INTEGER,
        source_id VARCHAR, series_breaks VARCHAR, not_collected VARCHAR, series_notes VARCHAR)""",
    "observations": """CREATE TABLE observations (
        indicator_id VARCHAR NOT NULL, area_code VARCHAR NOT NULL, period VARCHAR NOT NULL,
        year INTEGER NOT NULL, breakdown VARCHAR NOT NULL, value DOUBLE, status VARCHAR NOT NULL,
        numerator DOUBLE, denominator DOUBLE, lower_ci DOUBLE, upper_ci DOUBLE,
        source_id VARCHAR NOT NULL)""",  # unique on OBS_KEY: checked by the build and the loader
    "plan_figures": """CREATE TABLE plan_figures (
        figure_id VARCHAR PRIMARY KEY, indicator_id VARCHAR, area_code VARCHAR, period VARCHAR,
        year INTEGER, breakdown VARCHAR, value DOUBLE, plan_section VARCHAR, plan_quote VARCHAR,
        note VARCHAR)""",
    "plan_activity": """CREATE TABLE plan_activity (
        activity_id VARCHAR PRIMARY KEY, priority VARCHAR, label VARCHAR, value DOUBLE,
        unit VARCHAR, period VARCHAR, plan_section VARCHAR, plan_quote VARCHAR, note VARCHAR)""",
    "targets": """CREATE TABLE targets (
        target_id VARCHAR PRIMARY KEY, origin VARCHAR NOT NULL, priority VARCHAR,
        indicator_id VARCHAR, breakdown VARCHAR, area_code VARCHAR, baseline_period VARCHAR,
        baseline_year INTEGER, baseline_value DOUBLE, target_period VARCHAR, target_year INTEGER,
        kind VARCHAR NOT NULL, comparator_area_code VARCHAR, comparator_breakdown VARCHAR,
        target_value DOUBLE, plan_section VARCHAR, plan_words VARCHAR)""",
    "lsoa_ward": """CREATE TABLE lsoa_ward (
        lsoa_code VARCHAR, ward_code VARCHAR, vintage VARCHAR, method VARCHAR,
        PRIMARY KEY (lsoa_code, vintage))""",
    "ward_fit": """CREATE TABLE ward_fit (
        indicator_id VARCHAR, area_code VARCHAR, period VARCHAR, source_id VARCHAR, ward_vintage VARCHAR,
        geography VARCHAR, method VARCHAR, best_fit BOOLEAN, coverage DOUBLE, units INTEGER,
        units_with_data INTEGER, PRIMARY KEY (indicator_id, area_code, period))""",
    "schools": """CREATE TABLE schools (
        urn INTEGER PRIMARY KEY, school_name VARCHAR NOT NULL, phase VARCHAR, school_type VARCHAR,
        la_code VARCHAR, in_gias BOOLEAN, pupils DOUBLE, fsm_pct DOUBLE, lsoa_code VARCHAR, lon DOUBLE, lat DOUBLE,
        ward_2003_2023 VARCHAR, ward_2023 VARCHAR, ks2_reading_progress DOUBLE, ks2_writing_progress DOUBLE,
        ks2_maths_progress DOUBLE, ks4_progress8 DOUBLE, ks4_attainment8 DOUBLE, ks4_basics_95 DOUBLE,
        source_ids VARCHAR)""",
    "boundaries": """CREATE TABLE boundaries (
        area_code VARCHAR, vintage VARCHAR, layer VARCHAR, area_name VARCHAR, geometry_wkb BLOB,
        PRIMARY KEY (area_code, vintage))""",
    "uploads": """CREATE TABLE uploads (
        upload_id INTEGER PRIMARY KEY, file_name VARCHAR, sha256 VARCHAR, loaded_at VARCHAR,
        rows_added INTEGER, rows_changed INTEGER, format VARCHAR, undone BOOLEAN DEFAULT FALSE,
        published BOOLEAN)""",  # false: a draft only officers see; NULL (made before drafts existed): published
    "upload_rows": """CREATE TABLE upload_rows (
        upload_id INTEGER, indicator_id VARCHAR, area_code VARCHAR, period VARCHAR,
        breakdown VARCHAR, previous_value DOUBLE, previous_status VARCHAR,
        previous_source_id VARCHAR, was_new BOOLEAN, previous_numerator DOUBLE, previous_denominator DOUBLE,
        previous_lower_ci DOUBLE, previous_upper_ci DOUBLE)""",
    "build_log": """CREATE TABLE build_log (step VARCHAR, source VARCHAR, status VARCHAR, detail VARCHAR)""",
}

OBS_COLUMNS = [
    "indicator_id", "area_code", "period", "year", "breakdown", "value", "status",
    "numerator", "denominator", "lower_ci", "upper_ci", "source_id",
]
OBS_KEY = ["indicator_id", "area_code", "period", "breakdown"]


NUMERIC_OBS = ("value", "numerator", "denominator", "lower_ci", "upper_ci")


def conform_observations(df: pd.DataFrame) -> pd.DataFrame:
    """Return `df` with exactly the canonical observation columns and dtypes."""
    out = df.copy()
    for col in OBS_COLUMNS:
        if col not in out:
            out[col] = None
    out = out[OBS_COLUMNS]
    for col in NUMERIC_OBS:
        out[col] = pd.to_numeric(out[col], errors="raise").astype("float64")
    out["year"] = out["year"].astype("int64")
    return out


def check_observations(df: pd.DataFrame, file: str, indicators: set[str], areas: set[str],
                       row_offset: int = 0) -> None:
    """Raise InputError naming file, row and field for the first invalid observation.

    Rows are numbered from 1 as data rows of `df` (plus `row_offset`).
    """
    def fail(mask, field, message):
        idx = int(mask.to_numpy().nonzero()[0][0])
        raise InputError(file, message.format(value=df.iloc[idx][field]), row=idx + 1 + row_offset, field=field)

    for field, allowed, message in (("indicator_id", indicators, "unknown indicator '{value}'"),
                                    ("area_code", areas, "unknown area code '{value}'"),
                                    ("status", STATUSES, "status '{value}' is not one of published, c, x, z")):
        unknown = set(df[field].unique()) - set(allowed)  # check distinct values: fast on large frames
        if unknown:
            fail(df[field].isin(unknown), field, message)
    bad = (df["status"] == "published") & df["value"].isna()
    if bad.any():
        fail(bad, "value", "a published row needs a numeric value")
    bad = (df["status"] != "published") & df["value"].notna()
    if bad.any():
        fail(bad, "value", "a suppressed or missing row (status c, x or z) must not carry a value")
    dup = df.duplicated(OBS_KEY, keep="first")
    if dup.any():
        idx = int(dup.to_numpy().nonzero()[0][0])
        key = ", ".join(f"{k}={df.iloc[idx][k]}" for k in OBS_KEY)
        raise InputError(file, f"duplicate key ({key})", row=idx + 1 + row_offset, field="period")

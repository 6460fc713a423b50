"""Target statuses, rule texts and small helpers shared by the target modules."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from derby_oa import formatting, vocabulary



MET, NOT_MET, ON_TRACK, OFF_TRACK, NOT_ASSESSABLE = "met", "not met", "on track", "off track", "not assessable"

STATUSES = (MET, NOT_MET, ON_TRACK, OFF_TRACK, NOT_ASSESSABLE)  # met / not met once the date has passed

STATUS_SYMBOLS = {MET: "\u2714", NOT_MET: "\u2718", ON_TRACK: "\u2197", OFF_TRACK: "\u2718", NOT_ASSESSABLE: "\u2013"}

# Where a group's pupil count is not published with its percentage, the cohort (pupils assessed in that group,
# area and year) may be published in the same collection for another measure: EYFSP assesses every child on
# every early learning goal, so the FSM cohort of the communication and language table is the GLD FSM cohort.
COHORT_FROM = {"gld": "eyfsp_comm_lang_expected"}

UNTESTED = "met on the published figure; significance cannot be tested (no pupil counts or cohort size published)"

MEASURABLE_KINDS = ("exceed_comparator", "close_gap", "absolute")

RELATIVE_KINDS = ("exceed_comparator", "close_gap")

LOCAL_KINDS = MEASURABLE_KINDS

BREAKDOWNS = ("all", "fsm", "non_fsm", "disadvantaged", "non_disadvantaged", "boys", "girls")

BREAKDOWN_LABELS = vocabulary.PUPIL_GROUPS_IN_SENTENCE

UNIT_RANGES = {"%": (0.0, 100.0), "rank": (1.0, None), "count": (0.0, None), "per 100,000": (0.0, None),
               "score": (None, None)}

NO_OUTCOME = "no outcome data published"

RECENT_POINTS = 5  # the projection fits at most the last five published years of the latest series

PROJECTION_YEARS = 3  # how far past the latest year the chart projects when the target date has passed

LOCAL_FILE = "New local target"

GENERAL_RULE = (
    "A target is judged at its target year. If that year was not collected (the EYFSP and key stage 2 "
    "assessments were not held in 2019/20 and 2020/21) or has no published value, it is judged at the last "
    "year before and the first year after that have comparable data, and it is met only if it is met in both; "
    "the page says which years were used. A target whose date has passed is met or not met; on track and off "
    "track are only for targets still ahead. One rule decides \"met\" for every target: where pupil counts or "
    "the cohort size are published, Derby's 95% Wilson interval must clear the line (an interval that includes it "
    "is similar, not met); where they are not, the target is met on the published figure and the page says that "
    "significance cannot be tested. Before "
    "the target year the status comes from the recent trend (a straight line through at most the last five "
    "published years of the latest series, not reaching back across a pause in collection): on track if the "
    "projection reaches the target line by the target "
    "year, off track if not. With fewer than two years to make a trend, no comparator or no data, the target "
    "is not assessable. Polarity counts: where lower is better, beating a line means being below it. Years "
    "either side of a series break are never joined or differenced.")

RULES = {
    "exceed_comparator": (
        "Met if Derby is better than the comparator (England's own figure for the same year and pupil group) "
        "in the judgement year(s). Where pupil counts, or the cohort size, are published the 95% Wilson interval "
        "decides: better only if the whole interval clears England's value, worse if it falls wholly short, "
        "otherwise similar (which does not count as exceeding). Without them the target is met on the published "
        "figure only, and the page says significance cannot be tested. Derby and England are always compared within the same year, so "
        "a comparison after a series break is still valid within the new series."),
    "close_gap": (
        "The gap is how far Derby is behind the comparator (in the direction of better). 'Significantly "
        "closed' means the gap in the judgement year is smaller than the baseline gap by at least half of the "
        "baseline gap; where pupil counts are published for Derby and the comparator in both years, by more "
        "than 1.96 combined standard errors instead. Only years in the same series as the baseline count: a "
        "gap after a series break is not compared with one before it."),
    "absolute": (
        "Met if Derby's value reaches the target value in the judgement year(s), within the baseline's series; "
        "where pupil counts are published, only if the whole 95% interval clears it."),
    "commitment": (
        "A programme commitment (activity, not an outcome): no outcome data has been published, so it is not "
        "assessable. The plan's own numbers are shown."),
    "qualitative": (
        "Worded qualitatively in the plan with no measure: no outcome data has been published, so it is not "
        "assessable. The plan's measurable commitments for the priority are shown beside it."),
}

CHANGE_RULE = (
    "Required change a year = (target line in the target year \u2212 baseline) \u00f7 (target year \u2212 "
    "baseline year). The target line is the comparator's value in the target year, or its baseline value when "
    "the target year was not collected (before the target year: its projected value from its own recent "
    "trend); for a gap target it is the value at which the gap is half its baseline "
    "size; for an absolute target the target value. Achieved change a year = (latest value in the same series "
    "as the baseline \u2212 baseline) \u00f7 years elapsed; it is never measured across a series break.")

SCENARIO_RULE = (
    "The scenario assumes Derby improves by the chosen amount every year from its latest published value, and "
    "holds the comparator at its latest published value (or the target value for an absolute target); the gap "
    "closes in the first year Derby reaches that line.")

_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
         11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093,
         20: 2.086, 25: 2.060, 30: 2.042}

def period_label(year: int) -> str:
    """Academic-year label of an end year: 2016 -> '2015/16'."""
    return f"{int(year) - 1}/{str(int(year))[-2:]}"

def parse_year(value) -> int:
    """An end year from 2016, '2016' or '2015/16'; ValueError otherwise."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    if re.fullmatch(r"\d{4}", text):
        return int(text)
    m = re.fullmatch(r"(\d{4})\s*[/-]\s*(\d{2}|\d{4})", text)
    if m:
        start, end = int(m.group(1)), m.group(2)
        year = int(end) if len(end) == 4 else (start // 100) * 100 + int(end) + (100 if int(end) < start % 100 else 0)
        if year == start + 1:
            return year
    raise ValueError(f"'{value}' is not a year (use e.g. 2016 or 2015/16)")

def direction(polarity: str) -> int:
    """+1 when higher is better, -1 when lower is better, 0 when no judgement is made."""
    return {"higher_is_better": 1, "lower_is_better": -1}.get(polarity, 0)

def series_index(year: int, breaks: list[int]) -> int:
    """Which series a year belongs to: the number of series breaks at or before it."""
    return sum(1 for b in breaks if b <= year)

def fmt_value(value, unit: str, decimals: int = 1, adapt: bool = True) -> str:
    """A value with its unit for sentences: 66.4%, −0.17, 89,000 (the app's one formatter).

    With `adapt`, a value is shown with the decimals it carries, up to one more than the indicator's
    (a plan figure such as 48.4 for a measure published to whole numbers), and never padded beyond them.
    """
    if value is None or pd.isna(value):
        return "no data"
    d = int(decimals) if decimals is not None and not pd.isna(decimals) else 1
    if adapt:
        d = formatting.decimals_of(value, d + 1)
    return formatting.value(value, unit, d)

def fmt_change(value, unit: str, decimals: int = 1) -> str:
    """A signed change a year: '+0.58 percentage points a year'."""
    if value is None or pd.isna(value):
        return "no data"
    d = max(int(decimals) if decimals is not None and not pd.isna(decimals) else 1, 1) + 1
    words = {"%": "percentage points", "score": "points", "rank": "places", "per 100,000": "per 100,000"}.get(unit, "")
    return f"{value:+,.{d}f} {words} a year".replace("  ", " ")

def _num(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)

def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)

def published(df: pd.DataFrame | None) -> pd.DataFrame:
    """Rows with a published value, one per year (first period), sorted by year."""
    cols = ["year", "period", "value", "numerator", "denominator"]
    if df is None or df.empty:
        return pd.DataFrame(columns=cols)
    out = df[(df.get("status", "published") == "published") & df["value"].notna()].copy()
    for col in ("numerator", "denominator"):
        if col not in out:
            out[col] = np.nan
    if "cohort_from" in out:
        cols = cols + ["cohort_from"]
    out["year"] = out["year"].astype(int)
    return out.sort_values(["year", "period"]).drop_duplicates("year")[cols].reset_index(drop=True)

def with_cohorts(obs: pd.DataFrame, cohort_obs: pd.DataFrame, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Give rows without pupil counts the cohort published for the same group in the same collection.

    For each indicator in COHORT_FROM, a row with a percentage but no denominator takes the denominator of the
    cohort indicator (same area, pupil group and year) and a numerator of value x cohort / 100, so a Wilson
    interval can be drawn; `cohort_from` names where the cohort came from. Other rows are unchanged.
    """
    out = obs.copy()
    out["cohort_from"] = None
    if cohort_obs is None or cohort_obs.empty:
        return out
    for ind, src in COHORT_FROM.items():
        c = cohort_obs[(cohort_obs["indicator_id"] == src) & cohort_obs["denominator"].notna()]
        look = {(r.area_code, r.breakdown, int(r.year)): float(r.denominator) for r in c.itertuples()}
        for i in out.index[(out["indicator_id"] == ind) & out["denominator"].isna() & out["value"].notna()]:
            n = look.get((out.at[i, "area_code"], out.at[i, "breakdown"], int(out.at[i, "year"])))
            if n:
                out.at[i, "denominator"] = n
                out.at[i, "numerator"] = float(out.at[i, "value"]) * n / 100
                out.at[i, "cohort_from"] = (labels or {}).get(src, src)
    return out

def _by_year(df: pd.DataFrame | None) -> dict[int, dict]:
    """Rows of a one-row-per-year frame keyed by year."""
    if df is None or df.empty:
        return {}
    return {int(r["year"]): r for r in df.to_dict("records")}

def _counts(row: dict | None) -> tuple[float, float] | None:
    if row is None:
        return None
    n, d = _num(row.get("numerator")), _num(row.get("denominator"))
    if n is None or d is None or d <= 0 or not 0 <= n <= d:
        return None
    return n, d

def _variance(row: dict | None) -> float | None:
    """Variance (in percentage points squared) of a percentage from its counts."""
    c = _counts(row)
    if c is None:
        return None
    p = c[0] / c[1]
    return p * (1 - p) / c[1] * 1e4

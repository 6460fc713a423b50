"""The plan's targets and officers' local targets: status, trajectories, required change and scenarios.

Pure logic on tidy frames; `assess_all(con)` and `assess_target(con, target_id)` gather the data
through `queries.targets`. Statuses are exactly "met", "on track", "off track" or "not assessable",
and the rule that decides each is written in words (`RULES`, `GENERAL_RULE`) for the page to show.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import config, queries, stats
from .errors import InputError

MET, ON_TRACK, OFF_TRACK, NOT_ASSESSABLE = "met", "on track", "off track", "not assessable"
STATUSES = (MET, ON_TRACK, OFF_TRACK, NOT_ASSESSABLE)
STATUS_SYMBOLS = {MET: "\u2714", ON_TRACK: "\u2197", OFF_TRACK: "\u2718", NOT_ASSESSABLE: "\u2013"}
MEASURABLE_KINDS = ("exceed_comparator", "close_gap", "absolute")
RELATIVE_KINDS = ("exceed_comparator", "close_gap")
LOCAL_KINDS = MEASURABLE_KINDS
BREAKDOWNS = ("all", "fsm", "non_fsm", "disadvantaged", "non_disadvantaged", "boys", "girls")
BREAKDOWN_LABELS = {"all": "all pupils", "fsm": "FSM pupils", "non_fsm": "non-FSM pupils",
                    "disadvantaged": "disadvantaged pupils", "non_disadvantaged": "other pupils",
                    "boys": "boys", "girls": "girls"}
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
    "the page says which years were used. A target whose date has passed and was not met is off track. Before "
    "the target year the status comes from the recent trend (a straight line through at most the last five "
    "published years of the latest series, not reaching back across a pause in collection): on track if the "
    "projection reaches the target line by the target "
    "year, off track if not. With fewer than two years to make a trend, no comparator or no data, the target "
    "is not assessable. Polarity counts: where lower is better, beating a line means being below it. Years "
    "either side of a series break are never joined or differenced.")
RULES = {
    "exceed_comparator": (
        "Met if Derby is better than the comparator (England's own figure for the same year and pupil group) "
        "in the judgement year(s). Where pupil counts are published the 95% Wilson interval decides: better "
        "only if the whole interval clears England's value, worse if it falls wholly short, otherwise similar "
        "(which does not count as exceeding). Derby and England are always compared within the same year, so "
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

# Two-sided 95% Student t quantiles by degrees of freedom (no scipy dependency).
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
         11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093,
         20: 2.086, 25: 2.060, 30: 2.042}


# ---------------------------------------------------------------- small helpers

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
    """A value with its unit for sentences: 66.4%, -0.17, 89,000.

    With `adapt`, one more decimal is shown when the value has it (a plan figure such as 48.4 for a
    measure published to whole numbers).
    """
    if value is None or pd.isna(value):
        return "no data"
    d = int(decimals) if decimals is not None and not pd.isna(decimals) else 1
    if adapt and abs(round(value, d) - value) > 1e-9:
        d += 1
    text = f"{value:,.{d}f}"
    return text + "%" if unit == "%" else (text + " per 100,000" if unit == "per 100,000" else text)


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
    out["year"] = out["year"].astype(int)
    return out.sort_values(["year", "period"]).drop_duplicates("year")[cols].reset_index(drop=True)


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


# ---------------------------------------------------------------- arithmetic

def required_change(baseline_value: float, baseline_year: int, line_value: float, target_year: int) -> float:
    """Change a year needed to move from the baseline to the target line by the target year."""
    if target_year <= baseline_year:
        raise ValueError("the target year must be after the baseline year")
    return (line_value - baseline_value) / (target_year - baseline_year)


def achieved_change(series: pd.DataFrame, baseline_year: int, baseline_value: float,
                    breaks: list[int]) -> tuple[float, int, float] | None:
    """(change a year, latest year, latest value) from the baseline within the baseline's series."""
    pub = published(series)
    same = pub[(pub["year"] > baseline_year)
               & (pub["year"].map(lambda y: series_index(y, breaks)) == series_index(baseline_year, breaks))]
    if same.empty:
        return None
    last = same.iloc[-1]
    year, value = int(last["year"]), float(last["value"])
    return (value - baseline_value) / (year - baseline_year), year, value


def t_quantile(df: int) -> float:
    """Two-sided 95% Student t quantile for `df` degrees of freedom."""
    if df <= 0:
        return float("nan")
    if df in _T975:
        return _T975[df]
    below = max(k for k in _T975 if k <= df)
    return _T975[below] if df <= 30 else stats.Z95


def projection(years, values, to_year: int, recent: int = RECENT_POINTS) -> pd.DataFrame:
    """Straight-line projection of the last `recent` points from the last year to `to_year`.

    Columns year, value, lower, upper (a 95% prediction interval; NaN with two points only).
    Empty when fewer than two points are given.
    """
    pts = pd.DataFrame({"year": list(years), "value": list(values)}).dropna().sort_values("year").tail(recent)
    fit = stats.linear_trend(pts["year"].tolist(), pts["value"].tolist()) if len(pts) >= 2 else None
    if fit is None:
        return pd.DataFrame(columns=["year", "value", "lower", "upper"])
    slope, intercept, se = fit
    n = len(pts)
    last = int(pts["year"].max())
    xs = np.arange(last, max(last, int(to_year)) + 1)
    x = pts["year"].to_numpy(float)
    sxx = float(((x - x.mean()) ** 2).sum())
    value = slope * xs + intercept
    if n > 2 and not math.isnan(se):
        half = t_quantile(n - 2) * se * np.sqrt(1 + 1 / n + (xs - x.mean()) ** 2 / sxx)
    else:
        half = np.full(len(xs), np.nan)
    return pd.DataFrame({"year": xs.astype(int), "value": value, "lower": value - half, "upper": value + half})


def closing_year(start_year: int, start_value: float, line_value: float, improvement: float, polarity: str,
                 line_change: float = 0.0) -> int | None:
    """First year Derby reaches the line, improving by `improvement` a year (in the good direction).

    `line_change` is the line's own change a year (0 = held). Returns `start_year` when Derby is already
    level or better, None when the gap would never close at this rate.
    """
    sign = direction(polarity)
    if sign == 0:
        return None
    shortfall = sign * (line_value - start_value)
    if shortfall <= 0:
        return int(start_year)
    rate = improvement - sign * line_change
    if rate <= 0:
        return None
    return int(start_year) + int(math.ceil(shortfall / rate - 1e-9))


def compare_at(value: float, numerator, denominator, line: float, polarity: str, unit: str,
               reach: bool = False) -> tuple[str, tuple[float, float] | None]:
    """Better/similar/worse than a line; the Wilson interval rule when counts are published.

    Without counts the point value decides; being exactly on the line counts as better only when `reach`.
    """
    if unit == "%" and _counts({"numerator": numerator, "denominator": denominator}) is not None:
        return stats.significance(numerator, denominator, line, polarity)
    diff = value - line
    if diff == 0:
        return (stats.BETTER if reach else stats.SIMILAR), None
    good = stats.good_direction(polarity, diff)
    return (stats.BETTER if good > 0 else stats.WORSE if good < 0 else stats.NOT_JUDGED), None


# ---------------------------------------------------------------- assessment

@dataclass
class Assessment:
    """A target's status with the figures behind it (for the page, the chart and the overview)."""

    target: dict
    status: str
    rule: str
    detail: str
    meta: dict = field(default_factory=dict)
    area_label: str = "Derby"
    comparator_label: str | None = None
    baseline_year: int | None = None
    baseline_value: float | None = None
    baseline_note: str = ""
    comparator_baseline_year: int | None = None
    comparator_baseline: float | None = None
    line_value: float | None = None
    required_change: float | None = None
    achieved_change: float | None = None
    achieved_to: int | None = None
    comparator_change: float | None = None
    judged_years: list[int] = field(default_factory=list)
    judgements: list[dict] = field(default_factory=list)
    latest_year: int | None = None
    latest_value: float | None = None
    latest_comparator: float | None = None
    derby: pd.DataFrame | None = None
    comparator: pd.DataFrame | None = None
    projection: pd.DataFrame | None = None
    comparator_projection: pd.DataFrame | None = None

    @property
    def measurable(self) -> bool:
        return self.target.get("kind") in MEASURABLE_KINDS and bool(self.target.get("indicator_id"))

    def summary(self) -> dict:
        """Scalar columns for the overview table."""
        t = self.target
        return {
            "target_id": t["target_id"], "origin": t.get("origin"), "priority": t.get("priority"),
            "indicator_id": t.get("indicator_id") or None, "breakdown": t.get("breakdown") or None,
            "kind": t["kind"], "status": self.status, "rule": self.rule, "detail": self.detail,
            "title": t.get("title"), "plan_words": t.get("plan_words"),
            "baseline_year": self.baseline_year, "baseline_value": self.baseline_value,
            "target_year": _int(t.get("target_year")), "line_value": self.line_value,
            "required_change": self.required_change, "achieved_change": self.achieved_change,
            "judged_years": ", ".join(period_label(y) for y in self.judged_years),
        }


def _ci_text(ci: tuple[float, float] | None, unit: str, dec) -> str:
    if not ci:
        return ""
    return f" (95% interval {fmt_value(ci[0], unit, dec, False)} to {fmt_value(ci[1], unit, dec, False)})"


def _labels(target: dict, area_name: str, comparator_name: str | None) -> tuple[str, str | None]:
    bd = target.get("breakdown") or "all"
    area = area_name if bd == "all" else f"{area_name} ({BREAKDOWN_LABELS.get(bd, bd)})"
    if comparator_name is None:
        return area, None
    cbd = target.get("comparator_breakdown") or bd
    comp = comparator_name if cbd == "all" else f"{comparator_name} ({BREAKDOWN_LABELS.get(cbd, cbd)})"
    return area, comp


def assess(target: dict, meta: dict, derby: pd.DataFrame, comparator: pd.DataFrame | None = None,
           comparator_plan_baseline: float | None = None, area_name: str = "Derby",
           comparator_name: str | None = None) -> Assessment:
    """Status, trajectory and change figures of one target from its indicator's series.

    `derby` and `comparator` hold year, period, value, status and optional numerator/denominator;
    `comparator_plan_baseline` is the plan's own figure for the comparator in the baseline year, if any.
    """
    target = dict(target)
    kind = target["kind"]
    if kind not in MEASURABLE_KINDS or not target.get("indicator_id"):
        return _unmeasured(target, meta)
    unit, dec = meta.get("unit", ""), meta.get("decimals", 1)
    polarity = meta.get("polarity", "no_judgement")
    breaks, not_collected = list(meta.get("series_breaks", [])), list(meta.get("not_collected", []))
    area, comp_label = _labels(target, area_name, comparator_name if kind in RELATIVE_KINDS else None)
    a = Assessment(target, NOT_ASSESSABLE, RULES[kind], "", meta=meta, area_label=area, comparator_label=comp_label)
    d = published(derby)
    c = published(comparator) if kind in RELATIVE_KINDS else published(None)
    a.derby, a.comparator = d, c
    drows, crows = _by_year(d), _by_year(c)
    ty = _int(target.get("target_year"))
    if direction(polarity) == 0 or ty is None:
        a.detail = "Not assessable: this indicator carries no better-or-worse judgement." if ty else \
            "Not assessable: the target has no target year."
        return a
    fv = lambda v: fmt_value(v, unit, dec)  # noqa: E731
    sidx = lambda y: series_index(y, breaks)  # noqa: E731
    sign = direction(polarity)

    if d.empty:
        a.detail = f"Not assessable: no published data for {area} is loaded for this indicator."
        return a
    a.latest_year, a.latest_value = int(d["year"].iloc[-1]), float(d["value"].iloc[-1])

    # Baseline: the plan's; without one, the first published year of the target year's series stands in.
    by, bv = _int(target.get("baseline_year")), _num(target.get("baseline_value"))
    a.baseline_note = "the plan's baseline" if target.get("origin") == "plan" else "the officer's baseline"
    if by is None or bv is None:
        cand = d[(d["year"] <= ty) & (d["year"].map(sidx) == sidx(ty))]
        cand = cand if len(cand) else d
        first = cand.iloc[0]
        by, bv = int(first["year"]), float(first["value"])
        a.baseline_note = (f"no baseline is given for this measure, so its first published year "
                           f"({first['period']}, {fv(bv)}) stands in")
    a.baseline_year, a.baseline_value = by, bv
    base_row = drows.get(by)

    # The comparator's baseline: the plan's figure, else its published value, else its first value after.
    cb_row = None
    if kind in RELATIVE_KINDS:
        if c.empty:
            a.detail = f"Not assessable: no published data for the comparator ({comp_label}) is loaded."
            return a
        cby, cb = by, comparator_plan_baseline
        cb_row = crows.get(by)
        if cb is None and cb_row is not None:
            cb = float(cb_row["value"])
        if cb is None:
            later = c[(c["year"] > by) & (c["year"].map(sidx) == sidx(by))]
            if later.empty:
                a.detail = (f"Not assessable: {comp_label} has no published value in {period_label(by)} or later "
                            f"in the same series.")
                return a
            cby, cb = int(later["year"].iloc[0]), float(later["value"].iloc[0])
            a.baseline_note += (f"; {comp_label}'s {period_label(by)} figure is not published, so its first "
                                f"published value in the same series ({period_label(cby)}, {fv(cb)}) stands in")
        a.comparator_baseline_year, a.comparator_baseline = cby, cb

    # The target line in the target year.
    comp_t_row = crows.get(ty) if kind in RELATIVE_KINDS else None
    comp_t = float(comp_t_row["value"]) if comp_t_row else a.comparator_baseline
    gap0 = half = None
    if kind == "exceed_comparator":
        a.line_value = comp_t
    elif kind == "close_gap":
        gap0 = sign * (a.comparator_baseline - bv)
        if gap0 <= 0:
            a.detail = (f"Not assessable: {area} was level with or better than {comp_label} at the baseline "
                        f"({fv(bv)} against {fv(a.comparator_baseline)}), so there is no gap to close.")
            return a
        half = gap0 / 2
        a.line_value = comp_t - sign * (gap0 - half)
    else:
        a.line_value = _num(target.get("target_value"))
        if a.line_value is None:
            a.detail = "Not assessable: an absolute target needs a target value."
            return a
    if ty > by:
        a.required_change = required_change(bv, by, a.line_value, ty)
    ach = achieved_change(d, by, bv, breaks)
    if ach:
        a.achieved_change, a.achieved_to, _ = ach
        comp_then = crows.get(a.achieved_to) if kind in RELATIVE_KINDS else None
        if comp_then and a.achieved_to > a.comparator_baseline_year:
            a.comparator_change = (float(comp_then["value"]) - a.comparator_baseline) / (
                a.achieved_to - a.comparator_baseline_year)
    latest_c = crows.get(a.latest_year) if kind in RELATIVE_KINDS else None
    a.latest_comparator = float(latest_c["value"]) if latest_c else (
        float(c["value"].iloc[-1]) if kind in RELATIVE_KINDS and len(c) else None)

    def judge(year: int) -> dict | None:
        """Whether the target is met in one year, with a sentence; None if that year cannot be judged."""
        row = drows.get(year)
        if row is None:
            return None
        value, per = float(row["value"]), row["period"]
        if kind == "exceed_comparator":
            crow = crows.get(year)
            if crow is None:
                return None
            verdict, ci = compare_at(value, row["numerator"], row["denominator"], float(crow["value"]), polarity, unit)
            ci_text = _ci_text(ci, unit, dec)
            words = {stats.BETTER: "better than", stats.WORSE: "worse than",
                     stats.SIMILAR: "similar to"}.get(verdict, "not comparable with")
            return {"year": year, "met": verdict == stats.BETTER,
                    "text": f"{per}: {area} {fv(value)}{ci_text}, {words} {comp_label} {fv(crow['value'])}",
                    "short": f"{per}: {fv(value)} vs {fv(crow['value'])} ({verdict})"}
        if sidx(year) != sidx(by):
            return None
        if kind == "absolute":
            verdict, ci = compare_at(value, row["numerator"], row["denominator"], a.line_value, polarity, unit,
                                     reach=True)
            ci_text = _ci_text(ci, unit, dec)
            reached = "reached" if verdict == stats.BETTER else "not reached"
            return {"year": year, "met": verdict == stats.BETTER,
                    "text": f"{per}: {area} {fv(value)}{ci_text} against the target {fv(a.line_value)}: {reached}",
                    "short": f"{per}: {fv(value)} vs target {fv(a.line_value)} ({reached})"}
        crow = crows.get(year)
        if crow is None:
            return None
        gap = sign * (float(crow["value"]) - value)
        variances = [_variance(base_row), _variance(cb_row), _variance(row), _variance(crow)]
        if unit == "%" and all(v is not None for v in variances) and a.comparator_baseline_year == by:
            need = stats.Z95 * math.sqrt(sum(variances))
            rule = f"a narrowing of more than {need:.2f}, 1.96 combined standard errors, was needed"
            met = gap0 - gap > need
        else:
            need = half
            rule = f"a narrowing of at least {need:,.{max(int(dec), 1) + 1}f}, half the baseline gap, was needed"
            met = gap0 - gap >= need - 1e-9
        closed, g = gap0 - gap, max(int(dec), 1) + 1
        moved = (f"narrowed by {closed:,.{g}f}" if closed > 0
                 else "unchanged" if closed == 0 else f"widened by {-closed:,.{g}f}")
        return {"year": year, "met": met,
                "text": f"{per}: gap {gap:,.{g}f} against {gap0:,.{g}f} at the baseline, {moved} ({rule}): "
                        f"{'significantly closed' if met else 'not significantly closed'}",
                "short": f"{per}: gap {gap:,.{g}f} vs {gap0:,.{g}f} at baseline ({moved.split(' by ')[0]})"}

    judged = {int(y): j for y in d["year"] if (j := judge(int(y))) is not None}
    before = max((y for y in judged if by < y < ty), default=None)
    after = min((y for y in judged if y > ty), default=None)
    why = "was not collected" if ty in not_collected else "has no comparable published value"
    reason = ""
    years: list[int] = []
    if ty in judged:
        years, reason = [ty], f"Judged at the target year ({period_label(ty)})."
    elif after is not None:
        years = [y for y in (before, after) if y is not None]
        reason = (f"{period_label(ty)} {why}, so the target is judged at "
                  + (f"the last year before ({period_label(before)}) and " if before else "")
                  + f"the first year after ({period_label(after)}).")
    elif a.latest_year > ty and before is not None:
        later = "a new series begins" if any(ty < b <= a.latest_year for b in breaks) else "no comparable value"
        years = [before]
        reason = (f"{period_label(ty)} {why} and the years after are not comparable ({later}), so the target is "
                  f"judged at the last year before ({period_label(before)}) only.")
    a.projection, a.comparator_projection = _projections(a, d, c, kind, ty, sidx)
    if years:
        a.judged_years = years
        a.judgements = [judged[y] for y in years]
        ok = all(j["met"] for j in a.judgements)
        a.status = MET if ok else OFF_TRACK
        verdict = "Met." if ok else ("Not met by the target date." if a.latest_year >= ty else "Not met.")
        a.detail = f"{verdict} {reason} " + "; ".join(j["text"] for j in a.judgements) + "."
        return a
    if a.latest_year >= ty or (kind in ("close_gap", "absolute") and sidx(a.latest_year) != sidx(by)):
        a.detail = (f"Not assessable: no comparable year around {period_label(ty)}"
                    + (" (a new series began after the baseline)" if sidx(a.latest_year) != sidx(by) else "") + ".")
        return a
    return _trend_status(a, d, kind, ty, sign, gap0, half, fv, sidx)


def _projections(a: Assessment, d: pd.DataFrame, c: pd.DataFrame, kind: str, ty: int, sidx):
    """Derby's recent-trend projection (and the comparator's, used only before the target year)."""
    latest_series = recent_run(d, a.latest_year, a.meta, sidx)
    to_year = max(ty, a.latest_year + PROJECTION_YEARS)
    stop = [y for y in a.meta.get("not_collected", []) if y > a.latest_year]
    if stop:  # a measure known not to be collected after the latest year is not projected into those years
        to_year = min(to_year, min(stop) - 1)
    proj = projection(latest_series["year"], latest_series["value"], to_year)
    proj = proj if len(proj) > 1 else proj.iloc[0:0]
    cproj = None
    if kind in RELATIVE_KINDS and a.latest_year < ty and len(c):
        cs = recent_run(c, a.latest_year, a.meta, sidx)
        cproj = projection(cs["year"], cs["value"], max(to_year, ty))
    if a.latest_year < ty and len(proj) and int(proj["year"].max()) < ty:
        proj = proj.iloc[0:0]  # the target year itself is known not to be collected: no trend judgement
    return proj, cproj


def recent_run(d: pd.DataFrame, latest_year: int, meta: dict, sidx) -> pd.DataFrame:
    """Published years the trend is fitted to: the latest series, after the last not-collected pause."""
    run = d[d["year"].map(sidx) == sidx(latest_year)]
    pauses = [y for y in meta.get("not_collected", []) if y < latest_year and y not in set(d["year"])]
    if pauses:
        run = run[run["year"] > max(pauses)]
    return run


def _trend_status(a: Assessment, d, kind, ty, sign, gap0, half, fv, sidx) -> Assessment:
    """Before the target year: on track if the recent trend reaches the line by then."""
    proj = a.projection
    fx = lambda v: fmt_value(v, a.meta.get("unit", ""), a.meta.get("decimals", 1), adapt=False)  # noqa: E731
    if proj is None or proj.empty:
        a.detail = (f"Not assessable: the target year {period_label(ty)} is after the latest data "
                    f"({period_label(a.latest_year)}) and there are fewer than two years in the latest series to "
                    f"make a trend.")
        return a
    at = proj[proj["year"] == ty].iloc[0]
    if kind == "absolute":
        line = a.line_value
        line_text = f"the target {fv(line)}"
    else:
        cproj = a.comparator_projection
        if cproj is not None and len(cproj):
            comp = float(cproj[cproj["year"] == ty]["value"].iloc[0])
            ctext = f"{a.comparator_label}'s own trend ({fx(comp)})"
        else:
            comp = a.latest_comparator
            ctext = f"{a.comparator_label}'s latest value ({fv(comp)})"
        line = comp if kind == "exceed_comparator" else comp - sign * (gap0 - half)
        line_text = ctext if kind == "exceed_comparator" else f"the half-gap line {fx(line)} from {ctext}"
        a.line_value = line
        a.required_change = required_change(a.baseline_value, a.baseline_year, line, ty)
    margin = sign * (float(at["value"]) - line)  # exceeding needs to beat the line; the others may reach it
    reaches = margin > 0 or (kind != "exceed_comparator" and margin == 0)
    a.status = ON_TRACK if reaches else OFF_TRACK
    n = int(min(len(recent_run(d, a.latest_year, a.meta, sidx)), RECENT_POINTS))
    interval = "" if pd.isna(at["lower"]) else f" (95% prediction interval {fx(at['lower'])} to {fx(at['upper'])})"
    a.detail = (f"{'On track' if reaches else 'Off track'}: the target year {period_label(ty)} is after the latest "
                f"data ({period_label(a.latest_year)}). On the trend of the last {n} published years, {a.area_label} "
                f"would be at {fx(at['value'])}{interval} in {period_label(ty)} against {line_text}.")
    return a


def commitment_phrase(target: dict, title: str | None = None) -> str:
    """A commitment in words: '89,000 employer encounters generated for pupils (2017/18-2019/20)'."""
    what = (title or target.get("title") or target.get("indicator_id") or "").replace(" (commitment)", "")
    value = _num(target.get("target_value"))
    amount = f"{value:,.0f} " if value is not None else ""
    period = target.get("target_period")
    return f"{amount}{what[:1].lower() + what[1:]}" + (f" ({period})" if period else "")


def _unmeasured(target: dict, meta: dict, commitments: list[str] | None = None) -> Assessment:
    """Commitments and qualitative targets: not assessable, with the plan's numbers."""
    kind = target["kind"]
    if kind == "commitment":
        detail = (f"Not assessable: {NO_OUTCOME}. The plan commits to "
                  f"{commitment_phrase(target, meta.get('title'))}.")
    else:
        detail = f"Not assessable: {NO_OUTCOME}. The plan words this target qualitatively"
        detail += (f"; its measurable commitments for the priority are {'; '.join(commitments)}." if commitments
                   else " and makes no measurable commitment for it.")
    return Assessment(target, NOT_ASSESSABLE, RULES.get(kind, RULES["qualitative"]), detail, meta=meta)


# ---------------------------------------------------------------- scenario and chart data

def scenario(a: Assessment, improvement: float) -> dict:
    """The year the gap would close at an assumed yearly improvement (see SCENARIO_RULE)."""
    unit, dec = a.meta.get("unit", ""), a.meta.get("decimals", 1)
    if a.latest_year is None:
        return {"year": None, "line": None, "text": "No published data: the scenario needs a latest value."}
    if a.target["kind"] == "absolute":
        line, line_text = a.line_value, f"the target {fmt_value(a.line_value, unit, dec)}"
        breaks = a.meta.get("series_breaks", [])
        if series_index(a.latest_year, breaks) != series_index(a.baseline_year, breaks):
            line_text += " (set in an earlier series)"
    else:
        line = a.latest_comparator
        line_text = f"{a.comparator_label}'s latest value {fmt_value(line, unit, dec)} (held at that level)"
    if line is None:
        return {"year": None, "line": None, "text": "No comparator value: the scenario cannot be worked out."}
    year = closing_year(a.latest_year, a.latest_value, line, improvement, a.meta.get("polarity", ""))
    start = f"from {period_label(a.latest_year)} ({fmt_value(a.latest_value, unit, dec)})"
    if year == a.latest_year:
        text = f"{a.area_label} is already level with or better than {line_text}."
    elif year is None:
        text = (f"At {fmt_change(improvement, unit, dec)} {start}, {a.area_label} would never reach {line_text}.")
    else:
        text = (f"At {fmt_change(improvement, unit, dec)} {start}, {a.area_label} would reach {line_text} "
                f"in {period_label(year)}.")
    stopped = [y for y in a.meta.get("not_collected", []) if y > a.latest_year]
    if stopped and year is not None and year > a.latest_year:
        text += f" (The measure is not collected from {period_label(min(stopped))}, so this could not be observed.)"
    return {"year": year, "line": line, "text": text}


def chart_frame(a: Assessment) -> pd.DataFrame:
    """Long frame for the target chart: series, role, year, period, value, lower, upper.

    Roles: actual (Derby, with Wilson interval where counts exist), comparator, trajectory (baseline to
    target line), projection (with its prediction interval) and comparator_projection. Missing years are
    kept as NaN rows so lines break at them.
    """
    cols = ["series", "role", "year", "period", "value", "lower", "upper"]
    if not a.measurable or a.derby is None:
        return pd.DataFrame(columns=cols)
    ty = int(a.target["target_year"])
    rows = []
    years = sorted(set(a.derby["year"]) | set(a.comparator["year"] if a.comparator is not None else []))
    span = range(min(years + [a.baseline_year or ty]), max(years + [ty]) + 1) if years else range(0)
    drows, crows = _by_year(a.derby), _by_year(a.comparator)
    for y in span:
        r = drows.get(y)
        lo = hi = np.nan
        if r is not None and _counts(r) and a.meta.get("unit") == "%":
            lo, hi = stats.wilson(*_counts(r))
        rows.append({"series": a.area_label, "role": "actual", "year": y,
                     "period": period_label(y) if r is None else r["period"],
                     "value": np.nan if r is None else float(r["value"]), "lower": lo, "upper": hi})
        if a.comparator_label and a.comparator is not None:
            r = crows.get(y)
            rows.append({"series": a.comparator_label, "role": "comparator", "year": y,
                         "period": period_label(y) if r is None else r["period"],
                         "value": np.nan if r is None else float(r["value"]), "lower": np.nan, "upper": np.nan})
    if a.baseline_year is not None and a.line_value is not None and ty > a.baseline_year:
        label = "Straight-line trajectory to the target"
        for y, v in ((a.baseline_year, a.baseline_value), (ty, a.line_value)):
            rows.append({"series": label, "role": "trajectory", "year": y, "period": period_label(y), "value": v,
                         "lower": np.nan, "upper": np.nan})
    for frame, role, label in ((a.projection, "projection", f"{a.area_label} projection (shaded: 95% interval)"),
                               (a.comparator_projection, "comparator_projection", f"{a.comparator_label} projection")):
        if frame is not None and len(frame):
            for r in frame.itertuples():
                rows.append({"series": label, "role": role, "year": int(r.year), "period": period_label(r.year),
                             "value": r.value, "lower": r.lower, "upper": r.upper})
    return pd.DataFrame(rows, columns=cols)


def chart_events(a: Assessment, years: list[int]) -> pd.DataFrame:
    """Not-collected years (with no published value) and series breaks within the chart's years."""
    if not years:
        return pd.DataFrame(columns=["year", "label"])
    lo, hi = min(years), max(years)
    have = set(a.derby["year"]) if a.derby is not None else set()
    rows = [{"year": y, "label": "not collected"} for y in a.meta.get("not_collected", [])
            if lo <= y <= hi and y not in have]
    rows += [{"year": b - 0.5, "label": "series break"} for b in a.meta.get("series_breaks", []) if lo < b <= hi]
    return pd.DataFrame(rows, columns=["year", "label"])


# ---------------------------------------------------------------- local targets

def _text(fields: dict, key: str) -> str:
    value = fields.get(key)
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()


def _number(fields: dict, key: str, label: str, required: bool) -> float | None:
    text = _text(fields, key).replace(",", "")
    if text == "":
        if required:
            raise InputError(LOCAL_FILE, f"{label} is required", field=key)
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(LOCAL_FILE, f"{label} '{fields.get(key)}' is not a number", field=key) from None
    if not math.isfinite(value):
        raise InputError(LOCAL_FILE, f"{label} must be a finite number", field=key)
    return value


def _check_range(value: float, unit: str, key: str, label: str) -> None:
    lo, hi = UNIT_RANGES.get(unit, (None, None))
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        span = f"between {lo:g} and {hi:g}" if hi is not None else f"at least {lo:g}"
        raise InputError(LOCAL_FILE, f"{label} {value:g} is outside the range for unit '{unit}' "
                                     f"(must be {span})", field=key)


def validate_local_target(fields: dict, lookups: dict) -> dict:
    """A complete `targets` row for an officer's target, or InputError naming the first bad field.

    `lookups` (from queries.targets.validation_lookups): units {indicator: unit}, areas {codes},
    target_ids {id: origin}, periods {(indicator, year): period label}.
    """
    def fail(key, message):
        raise InputError(LOCAL_FILE, message, field=key)

    units = lookups["units"]
    indicator_id = _text(fields, "indicator_id")
    if indicator_id not in units:
        fail("indicator_id", f"unknown indicator '{indicator_id}'" if indicator_id else "an indicator is required")
    unit = units[indicator_id]
    kind = _text(fields, "kind")
    if kind not in LOCAL_KINDS:
        fail("kind", f"kind '{kind}' is not allowed for a local target: use one of {', '.join(LOCAL_KINDS)}")
    breakdown = _text(fields, "breakdown") or "all"
    if breakdown not in BREAKDOWNS:
        fail("breakdown", f"unknown breakdown '{breakdown}': use one of {', '.join(BREAKDOWNS)}")
    area_code = _text(fields, "area_code") or config.DERBY
    if area_code not in lookups["areas"]:
        fail("area_code", f"unknown area code '{area_code}'")
    years = {}
    for key, label in (("baseline_year", "the baseline year"), ("target_year", "the target year")):
        text = _text(fields, key)
        if not text:
            fail(key, f"{label} is required")
        try:
            years[key] = parse_year(fields[key])
        except ValueError as exc:
            fail(key, str(exc))
        if not 1990 <= years[key] <= 2100:
            fail(key, f"{label} {years[key]} is outside 1990 to 2100")
    by, ty = years["baseline_year"], years["target_year"]
    if ty <= by:
        fail("target_year",
             f"the target year ({period_label(ty)}) must be after the baseline year ({period_label(by)})")
    baseline_value = _number(fields, "baseline_value", "the baseline value", True)
    _check_range(baseline_value, unit, "baseline_value", "the baseline value")
    target_value = _number(fields, "target_value", "the target value", kind == "absolute")
    if target_value is not None:
        if kind != "absolute":
            fail("target_value", "a target value is used only by 'absolute' targets; leave it empty for "
                                 f"'{kind}' (the comparator's own value is the line)")
        _check_range(target_value, unit, "target_value", "the target value")
    comp_area = comp_bd = None
    if kind in RELATIVE_KINDS:
        comp_area = _text(fields, "comparator_area_code") or config.ENGLAND
        if comp_area not in lookups["areas"]:
            fail("comparator_area_code", f"unknown comparator area code '{comp_area}'")
        comp_bd = _text(fields, "comparator_breakdown") or breakdown
        if comp_bd not in BREAKDOWNS:
            fail("comparator_breakdown", f"unknown comparator breakdown '{comp_bd}'")
        if (comp_area, comp_bd) == (area_code, breakdown):
            fail("comparator_area_code", "the comparator must differ from the target's own area and breakdown")
    target_id = _text(fields, "target_id") or f"local_{indicator_id}_{breakdown}_{kind}_{ty}"
    if not re.fullmatch(r"[A-Za-z0-9_\-]{1,80}", target_id):
        fail("target_id", f"target id '{target_id}' may use only letters, digits, '_' and '-' (at most 80)")
    if target_id in lookups["target_ids"]:
        whose = "one of the plan's own targets" if lookups["target_ids"][target_id] == "plan" else "a local target"
        fail("target_id", f"a target with id '{target_id}' already exists ({whose})")
    words = _text(fields, "plan_words")
    if len(words) > 500:
        fail("plan_words", "the description is longer than 500 characters")
    priority = _text(fields, "priority")
    if len(priority) > 20:
        fail("priority", "the priority is longer than 20 characters")
    periods = lookups.get("periods", {})
    return {
        "target_id": target_id, "origin": "local", "priority": priority or None, "indicator_id": indicator_id,
        "breakdown": breakdown, "area_code": area_code,
        "baseline_period": periods.get((indicator_id, by), period_label(by)), "baseline_year": by,
        "baseline_value": baseline_value,
        "target_period": periods.get((indicator_id, ty), period_label(ty)), "target_year": ty, "kind": kind,
        "comparator_area_code": comp_area, "comparator_breakdown": comp_bd, "target_value": target_value,
        "plan_section": "Local target (added by an officer)", "plan_words": words or None,
    }


# ---------------------------------------------------------------- database entry points

def assess_many(con, rows: list[dict] | None = None) -> list[Assessment]:
    """Assess targets (all of them by default) with the data fetched once for all."""
    from .queries import target_data as target_queries

    every = target_queries.target_rows(con)
    rows = [_clean(r) for r in (every.to_dict("records") if rows is None else rows)]
    if not rows:
        return []
    inds = sorted({r["indicator_id"] for r in rows if r.get("indicator_id")})
    known = set(queries.indicators(con)["indicator_id"]) if inds else set()
    metas = {i: queries.indicator(con, i) for i in inds if i in known}
    codes = sorted({c for r in rows for c in (r.get("area_code") or config.DERBY,
                                              r.get("comparator_area_code") or config.ENGLAND)})
    obs = target_queries.observations_for(con, list(metas), codes)
    groups = {key: grp for key, grp in obs.groupby(["indicator_id", "area_code", "breakdown"], sort=False)}
    plan = target_queries.plan_values(con, list(metas))
    plan_lookup = {(r.indicator_id, r.area_code, r.breakdown, int(r.year)): float(r.value) for r in plan.itertuples()}
    names = target_queries.area_names(con, codes)
    commitments = {}
    for r in every.to_dict("records"):
        if r["kind"] == "commitment":
            commitments.setdefault(r.get("priority"), []).append(commitment_phrase(_clean(r)))
    empty = obs.iloc[0:0]
    out = []
    for t in rows:
        ind = t.get("indicator_id") or None
        meta = metas.get(ind, {}) if ind else {}
        if t["kind"] not in MEASURABLE_KINDS:
            out.append(_unmeasured(t, meta, commitments.get(t.get("priority"), [])))
            continue
        if not ind or not meta:
            out.append(Assessment(t, NOT_ASSESSABLE, RULES[t["kind"]], f"Not assessable: unknown indicator '{ind}'.",
                                  meta=meta))
            continue
        area, bd = t.get("area_code") or config.DERBY, t.get("breakdown") or "all"
        derby = groups.get((ind, area, bd), empty)
        comp = comp_plan = comp_name = None
        if t["kind"] in RELATIVE_KINDS:
            carea, cbd = t.get("comparator_area_code") or config.ENGLAND, t.get("comparator_breakdown") or bd
            comp = groups.get((ind, carea, cbd), empty)
            if t.get("baseline_year") is not None and t.get("origin") == "plan":
                comp_plan = plan_lookup.get((ind, carea, cbd, int(t["baseline_year"])))
            comp_name = names.get(carea, carea)
        out.append(assess(t, meta, derby, comp, comp_plan, names.get(area, area), comp_name))
    return out


def _clean(row: dict) -> dict:
    return {k: (None if not isinstance(v, (list, dict)) and pd.isna(v) else v) for k, v in row.items()}


def assess_target(con, target: dict | str) -> Assessment:
    """Assess one target (a row dict or a target id) against the data in the database."""
    from .queries import target_data as target_queries

    if isinstance(target, str):
        row = target_queries.target_row(con, target)
        if row is None:
            raise KeyError(target)
        target = row
    return assess_many(con, [target])[0]


def assess_all(con) -> pd.DataFrame:
    """Every target's status: target_id, indicator_id, breakdown, kind, status, rule, detail and more.

    `status` is exactly one of "met", "on track", "off track", "not assessable".
    """
    rows = [a.summary() for a in assess_many(con)]
    cols = list(Assessment({"target_id": "", "kind": ""}, "", "", "").summary())
    return pd.DataFrame(rows, columns=cols)


def chart_table(frame: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """The chart's data, one row per year: each series' value (and interval) plus notes on missing years."""
    if frame.empty:
        return pd.DataFrame(columns=["Year", "Period", "Note"])
    wide = frame.pivot_table(index="year", columns="series", values="value", aggfunc="first", dropna=False, sort=False)
    order = list(dict.fromkeys(frame["series"]))
    wide = wide.reindex(columns=order)
    for role, name in (("actual", "95% interval"), ("projection", "projection 95% interval")):
        part = frame[(frame["role"] == role) & frame["lower"].notna()]
        if len(part):
            label = part["series"].iloc[0] if role == "actual" else ""
            wide[f"{label} {name} from".strip()] = part.set_index("year")["lower"]
            wide[f"{label} {name} to".strip()] = part.set_index("year")["upper"]
    wide = wide.reset_index().sort_values("year")
    notes = {}
    for r in events.itertuples():
        notes.setdefault(int(r.year + 0.5) if r.label == "series break" else int(r.year), []).append(
            "new series begins" if r.label == "series break" else "not collected")
    wide.insert(1, "Period", wide["year"].map(period_label))
    wide["Note"] = wide["year"].map(lambda y: "; ".join(notes.get(int(y), [])))
    return wide.rename(columns={"year": "Year"}).reset_index(drop=True).rename_axis(None, axis=1)


AREA_SHORT = {config.ENGLAND: "England", config.EAST_MIDLANDS: "East Midlands", config.DERBY: "Derby"}


def target_label(target: dict) -> str:
    """A short name for a target: 'GLD (FSM pupils): exceed England by 2020/21'."""
    kind = target.get("kind")
    if kind not in MEASURABLE_KINDS:
        words = str(target.get("plan_words") or target.get("target_id"))
        return words if len(words) <= 90 else words[:87].rstrip() + "..."
    name = target.get("short_title") or target.get("title") or target.get("indicator_id")
    bd = target.get("breakdown") or "all"
    if bd != "all":
        name += f" ({BREAKDOWN_LABELS.get(bd, bd)})"
    if target.get("area_code") not in (None, config.DERBY):
        name += f", {AREA_SHORT.get(target['area_code'], target['area_code'])}"
    by = target.get("target_period") or (period_label(target["target_year"]) if target.get("target_year") else "")
    comp = AREA_SHORT.get(target.get("comparator_area_code"), target.get("comparator_area_code") or "")
    cbd = target.get("comparator_breakdown")
    if cbd and cbd != bd:
        comp += f" {BREAKDOWN_LABELS.get(cbd, cbd)}"
    if kind == "exceed_comparator":
        aim = f"exceed {comp}"
    elif kind == "close_gap":
        aim = f"close the gap to {comp}"
    else:
        aim = f"reach {fmt_value(target.get('target_value'), target.get('unit') or '', target.get('decimals') or 1)}"
    return f"{name}: {aim} by {by}"


def headline(a: Assessment) -> str:
    """One line of evidence for a tile: the last judgement, else the latest values."""
    if a.judgements:
        return "; ".join(j["short"] for j in a.judgements)
    if a.latest_year is None or not a.measurable:
        return a.detail
    unit, dec = a.meta.get("unit", ""), a.meta.get("decimals", 1)
    text = f"{period_label(a.latest_year)}: {a.area_label} {fmt_value(a.latest_value, unit, dec)}"
    if a.comparator_label and a.latest_comparator is not None:
        text += f", {a.comparator_label} {fmt_value(a.latest_comparator, unit, dec)}"
    return text

"""Scenario and chart data for a target: frames, events and the chart table."""
from __future__ import annotations

import numpy as np
import pandas as pd

from derby_oa import stats
from derby_oa.analysis.targets.common import _by_year, _counts, fmt_change, fmt_value, period_label, series_index
from derby_oa.analysis.targets.arithmetic import closing_year
from derby_oa.analysis.targets.assessment import Assessment


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
    rows += [{"year": y, "label": "teacher-assessed"} for y in a.meta.get("not_comparable", []) if lo <= y <= hi]
    return pd.DataFrame(rows, columns=["year", "label"])

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
            "new series begins" if r.label == "series break" else
            "teacher-assessed grades: not comparable" if r.label == "teacher-assessed" else "not collected")
    wide.insert(1, "Period", wide["year"].map(period_label))
    wide["Note"] = wide["year"].map(lambda y: "; ".join(notes.get(int(y), [])))
    return wide.rename(columns={"year": "Year"}).reset_index(drop=True).rename_axis(None, axis=1)

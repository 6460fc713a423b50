"""Target arithmetic: required and achieved change, projections, closing year, comparisons."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from derby_oa import stats
from derby_oa.analysis.targets.common import RECENT_POINTS, _T975, _counts, direction, published, series_index


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

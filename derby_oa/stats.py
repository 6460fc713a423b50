"""Statistics by the field's conventions: Wilson intervals, polarity-aware comparison, ranks."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

Z95 = 1.959963984540054

BETTER, SIMILAR, WORSE, NOT_JUDGED = "better", "similar", "worse", "cannot be judged"
IMPROVING, WORSENING, NO_CLEAR_CHANGE = "improving", "worsening", "no clear change"


def wilson(numerator: float, denominator: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion, returned as percentages (lower, upper)."""
    if denominator is None or denominator <= 0 or numerator is None or not 0 <= numerator <= denominator:
        raise ValueError(f"need 0 <= numerator <= denominator > 0, got {numerator}/{denominator}")
    p = numerator / denominator
    z2 = z * z
    centre = (p + z2 / (2 * denominator)) / (1 + z2 / denominator)
    half = z * math.sqrt(p * (1 - p) / denominator + z2 / (4 * denominator ** 2)) / (1 + z2 / denominator)
    return 100 * max(0.0, centre - half), 100 * min(1.0, centre + half)


def good_direction(polarity: str, difference: float) -> int:
    """+1 if a positive difference is good under this polarity, -1 if bad, 0 if no judgement."""
    if polarity == "higher_is_better":
        return int(np.sign(difference))
    if polarity == "lower_is_better":
        return -int(np.sign(difference))
    return 0


def compare_interval(lower: float | None, upper: float | None, benchmark: float | None, polarity: str) -> str:
    """Better/similar/worse than a benchmark using a 95% interval (the Fingertips rule)."""
    if polarity == "no_judgement" or benchmark is None or lower is None or upper is None \
            or any(pd.isna(x) for x in (lower, upper, benchmark)):
        return NOT_JUDGED
    if lower > benchmark:
        return BETTER if polarity == "higher_is_better" else WORSE
    if upper < benchmark:
        return WORSE if polarity == "higher_is_better" else BETTER
    return SIMILAR


def significance(numerator, denominator, benchmark, polarity: str) -> tuple[str, tuple[float, float] | None]:
    """Compare a proportion with a benchmark %; NOT_JUDGED when counts are unknown."""
    if numerator is None or denominator is None or pd.isna(numerator) or pd.isna(denominator) or denominator <= 0:
        return NOT_JUDGED, None
    lo, hi = wilson(float(numerator), float(denominator))
    return compare_interval(lo, hi, benchmark, polarity), (lo, hi)


def direction_of_travel(baseline: float | None, latest: float | None, polarity: str, threshold: float = 0.0) -> str:
    """Improving, worsening or no clear change between two values, judged by polarity.

    A change no larger than `threshold` (in the indicator's unit) counts as no clear change.
    """
    if baseline is None or latest is None or pd.isna(baseline) or pd.isna(latest) or polarity == "no_judgement":
        return NO_CLEAR_CHANGE
    change = latest - baseline
    if abs(change) <= threshold:
        return NO_CLEAR_CHANGE
    return IMPROVING if good_direction(polarity, change) > 0 else WORSENING


@dataclass(frozen=True)
class Position:
    """Where an area sits among others for one indicator and period."""

    rank: int | None  # 1 = best by polarity
    of: int
    quartile: str | None  # "A" (best) .. "D" (worst), the LAIT convention


def quartile_cutoffs(values: pd.Series) -> tuple[float, float, float]:
    """The 25th, 50th and 75th percentiles of `values` by linear interpolation (R's default, type 7)."""
    q = np.quantile(np.asarray(values.dropna(), float), [0.25, 0.5, 0.75], method="linear")
    return float(q[0]), float(q[1]), float(q[2])


def quartile_band(value: float | None, values: pd.Series, polarity: str) -> str | None:
    """LAIT's quartile band of `value` among all local authorities' `values` in the same year.

    As in LAIT's `calculate_quartile_band` (R/fn_analysis.R, dfe-analytical-services/local-authority-interactive-tool):
    bands are cut by value at the type-7 quartiles; a value equal to a cut-off falls in the lower band
    ([min, Q1], (Q1, Q2], (Q2, Q3], (Q3, max]). Where lower is better the lowest band is A; where higher is
    better the letters are reversed, so the highest band is A. No band without polarity.
    """
    vals = values.dropna()
    if value is None or pd.isna(value) or polarity == "no_judgement" or vals.empty:
        return None
    q1, q2, q3 = quartile_cutoffs(vals)
    v = float(value)
    band = 0 if v <= q1 else 1 if v <= q2 else 2 if v <= q3 else 3  # by value, lowest first
    if polarity == "higher_is_better":
        band = 3 - band
    return "ABCD"[band]


def position(values: pd.Series, area: str, polarity: str) -> Position:
    """Rank (1 = best) and LAIT quartile band of `area` among `values` (indexed by area code).

    Ties share the best rank. The quartile band is cut by value (see `quartile_band`), not by rank.
    """
    vals = values.dropna()
    n = len(vals)
    if area not in vals.index or polarity == "no_judgement" or n == 0:
        return Position(None, n, None)
    ascending = polarity == "lower_is_better"
    ranks = vals.rank(ascending=ascending, method="min")
    rank = int(ranks[area])
    return Position(rank, n, quartile_band(vals[area], vals, polarity))


def linear_trend(years: list[int], values: list[float]) -> tuple[float, float, float] | None:
    """Least-squares slope, intercept and residual standard error; None with fewer than 2 points."""
    x, y = np.asarray(years, float), np.asarray(values, float)
    mask = ~np.isnan(y)
    x, y = x[mask], y[mask]
    if len(x) < 2:
        return None
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    se = float(np.sqrt((resid ** 2).sum() / (len(x) - 2))) if len(x) > 2 else float("nan")
    return float(slope), float(intercept), se


def difference_interval(num1: float, den1: float, num2: float, den2: float, z: float = Z95) -> tuple[float, float]:
    """95% interval for the difference p2 - p1 in percentage points (Newcombe 1998, method 10).

    Built from the two Wilson intervals, so it agrees with the intervals shown for each year.
    """
    p1, p2 = num1 / den1, num2 / den2
    l1, u1 = (x / 100 for x in wilson(num1, den1, z))
    l2, u2 = (x / 100 for x in wilson(num2, den2, z))
    d = p2 - p1
    lower = d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    upper = d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return 100 * lower, 100 * upper


def unjudged_change(baseline: float, latest: float, decimals: int) -> str:
    """A change in an indicator without polarity, in plain words: 'rose', 'fell' or 'unchanged' (not judged)."""
    b, l = round(float(baseline), int(decimals)), round(float(latest), int(decimals))
    word = "rose" if l > b else "fell" if l < b else "unchanged"
    return f"{word} (not judged)"


NOT_JUDGED_WORDS = ("rose (not judged)", "fell (not judged)", "unchanged (not judged)")

# Fingertips recent trend (OHID, "Public Health Outcomes Framework: recent trends" method): a chi-square test
# for trend in proportions over the last five points, at the 99.8% level (chi-square with 1 df > 9.5495).
TREND_POINTS = 5
CHI2_998 = 9.549535
TREND_UP_BETTER, TREND_UP_WORSE = "increasing and getting better", "increasing and getting worse"
TREND_DOWN_BETTER, TREND_DOWN_WORSE = "decreasing and getting better", "decreasing and getting worse"
TREND_UP, TREND_DOWN = "increasing", "decreasing"
TREND_NONE = "no significant change"


def chi2_trend(numerators, denominators, scores=None) -> float:
    """Chi-square statistic (1 df) for a linear trend in proportions (Cochran-Armitage; R's prop.trend.test)."""
    x, n = np.asarray(numerators, float), np.asarray(denominators, float)
    s = np.arange(len(x), dtype=float) if scores is None else np.asarray(scores, float)
    total_n, total_x = n.sum(), x.sum()
    p = total_x / total_n
    if p <= 0 or p >= 1:
        return 0.0
    s_bar = (n * s).sum() / total_n
    t = (x * (s - s_bar)).sum()
    var = p * (1 - p) * (n * (s - s_bar) ** 2).sum()
    return float(t * t / var) if var > 0 else 0.0


def recent_trend(years, numerators, denominators, polarity: str) -> tuple[str, float] | None:
    """Fingertips recent trend over the last five consecutive points with counts; None when it cannot be tested.

    Returns (label, chi-square). Significant at 99.8% when chi-square > 9.5495; the label then says the
    direction and, by polarity, whether that is getting better or worse.
    """
    pts = [(int(y), float(a), float(b)) for y, a, b in zip(years, numerators, denominators)
           if not (pd.isna(a) or pd.isna(b)) and b > 0]
    pts.sort()
    if len(pts) < TREND_POINTS:
        return None
    last = pts[-TREND_POINTS:]
    if last[-1][0] - last[0][0] != TREND_POINTS - 1:  # five consecutive years only
        return None
    ys, xs, ns = zip(*last)
    chi2 = chi2_trend(xs, ns, ys)
    if chi2 <= CHI2_998:
        return TREND_NONE, chi2
    rising = xs[-1] / ns[-1] > xs[0] / ns[0]
    if polarity == "higher_is_better":
        return (TREND_UP_BETTER if rising else TREND_DOWN_WORSE), chi2
    if polarity == "lower_is_better":
        return (TREND_UP_WORSE if rising else TREND_DOWN_BETTER), chi2
    return (TREND_UP if rising else TREND_DOWN), chi2


def shown_precision(decimals: int) -> float:
    """Half a unit of the last decimal shown: changes below this are invisible in the published figures."""
    return 0.5 * 10 ** -int(decimals)


def change_direction(baseline: float | None, latest: float | None, polarity: str, decimals: int,
                     counts: tuple | None = None) -> tuple[str, str]:
    """Direction of travel and the rule used: ('improving'|'worsening'|'no clear change', basis).

    With counts (num0, den0, num1, den1) for both years the change is clear only when the 95% interval
    of the difference excludes 0; without counts a change is clear when it is visible at the published
    precision (the two values differ once rounded to `decimals`).
    """
    if baseline is None or latest is None or pd.isna(baseline) or pd.isna(latest):
        return NO_CLEAR_CHANGE, "no comparison"
    if polarity == "no_judgement":
        return unjudged_change(baseline, latest, decimals), "no polarity: change not judged"
    if counts is not None and all(c is not None and not pd.isna(c) for c in counts) and counts[1] > 0 \
            and counts[3] > 0:
        lo, hi = difference_interval(*counts)
        if lo <= 0 <= hi:
            return NO_CLEAR_CHANGE, "95% interval of the change includes 0"
        return (IMPROVING if good_direction(polarity, lo if lo > 0 else hi) > 0 else WORSENING,
                "95% interval of the change excludes 0")
    b, l = round(float(baseline), int(decimals)), round(float(latest), int(decimals))
    return direction_of_travel(b, l, polarity, threshold=shown_precision(decimals)), "change visible at published precision"

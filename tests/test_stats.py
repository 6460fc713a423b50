"""Statistics: Wilson intervals against published values, significance, direction of travel, rank and quartile."""
from __future__ import annotations

import pandas as pd
import pytest

from derby_oa import stats


@pytest.mark.parametrize("num, den, lower, upper", [
    # Newcombe (1998) "Two-sided confidence intervals for the single proportion", Statistics in Medicine 17,
    # 857-872, Table II, method 3 (Wilson score, no continuity correction).
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0000, 0.1611),
    (1, 29, 0.0061, 0.1718),
    (29, 29, 0.8830, 1.0000),
])
def test_wilson_matches_newcombe_published_values(num, den, lower, upper):
    lo, hi = stats.wilson(num, den)
    assert round(lo / 100, 4) == lower
    assert round(hi / 100, 4) == upper


def test_wilson_rejects_impossible_counts():
    with pytest.raises(ValueError):
        stats.wilson(5, 0)
    with pytest.raises(ValueError):
        stats.wilson(6, 5)


def test_difference_interval_matches_newcombe_method_10():
    # Newcombe (1998) "Interval estimation for the difference between independent proportions", Statistics in
    # Medicine 17, 873-890, example (a): 56/70 - 48/80, method 10 gives +0.0524 to +0.3339.
    lo, hi = stats.difference_interval(48, 80, 56, 70)
    assert (round(lo / 100, 4), round(hi / 100, 4)) == (0.0524, 0.3339)


def test_significance_gld_against_england_published_counts():
    # Derby GLD from the published EYFSP counts; England's published percentage as the benchmark.
    verdict, (lo, hi) = stats.significance(2228, 3355, 69.3, "higher_is_better")  # 2015/16: 66.4%
    assert verdict == stats.WORSE and hi < 69.3
    verdict, (lo, hi) = stats.significance(2303, 3259, 71.8, "higher_is_better")  # 2018/19: 70.7%
    assert verdict == stats.SIMILAR and lo < 71.8 < hi
    assert stats.significance(None, None, 71.8, "higher_is_better") == (stats.NOT_JUDGED, None)
    # lower is better: the same interval above the benchmark is worse
    assert stats.significance(2303, 3259, 60.0, "lower_is_better")[0] == stats.WORSE
    assert stats.significance(2303, 3259, 60.0, "higher_is_better")[0] == stats.BETTER


def test_change_direction_polarity_flips_for_absence():
    # Unauthorised absence (lower is better) rising from 1.2% to 1.9% is worsening; the same rise in an
    # attainment measure would be improving.
    assert stats.change_direction(1.24, 1.90, "lower_is_better", 1) == (
        stats.WORSENING, "change visible at published precision")
    assert stats.change_direction(1.24, 1.90, "higher_is_better", 1)[0] == stats.IMPROVING
    assert stats.change_direction(1.90, 1.24, "lower_is_better", 1)[0] == stats.IMPROVING


def test_change_direction_precision_and_counts():
    # 1.24 and 1.21 both show as 1.2: no visible change
    assert stats.change_direction(1.24, 1.21, "lower_is_better", 1)[0] == stats.NO_CLEAR_CHANGE
    # counts decide when both years have them: GLD 66.4% -> 70.7% is a real improvement
    assert stats.change_direction(66.4, 70.7, "higher_is_better", 1, (2228, 3355, 2303, 3259)) == (
        stats.IMPROVING, "95% interval of the change excludes 0")
    # a visible change that is within chance for small counts is no clear change
    assert stats.change_direction(50.0, 55.0, "higher_is_better", 1, (10, 20, 11, 20))[0] == stats.NO_CLEAR_CHANGE
    assert stats.change_direction(None, 55.0, "higher_is_better", 1)[0] == stats.NO_CLEAR_CHANGE
    # no polarity: the move is said in plain words, never "no clear change" (issue 11, item 8)
    assert stats.change_direction(16.6, 36.3, "no_judgement", 1)[0] == "rose (not judged)"
    assert stats.change_direction(36.3, 16.6, "no_judgement", 1)[0] == "fell (not judged)"


def test_position_hand_checked():
    values = pd.Series({"A": 70.0, "B": 68.0, "DERBY": 66.4, "C": 66.4, "D": 60.0, "E": None, "F": 55.0, "G": 71.0,
                        "H": 50.0})
    # 8 areas with values; higher is better: G 71, A 70, B 68, then Derby and C tie at 66.4 -> both rank 4
    p = stats.position(values, "DERBY", "higher_is_better")
    assert (p.rank, p.of) == (4, 8)
    # type-7 quartiles of 50, 55, 60, 66.4, 66.4, 68, 70, 71: 58.75, 66.4, 68.5. 66.4 equals the median and
    # falls in the lower band (Q1, Q2], which is C where higher is better and B where lower is better
    assert stats.quartile_cutoffs(values) == pytest.approx((58.75, 66.4, 68.5))
    assert p.quartile == "C"
    assert stats.position(values, "DERBY", "lower_is_better") == stats.Position(4, 8, "B")
    assert stats.position(values, "G", "lower_is_better") == stats.Position(8, 8, "D")
    assert stats.position(values, "G", "higher_is_better") == stats.Position(1, 8, "A")
    assert stats.position(values, "E", "higher_is_better").rank is None
    assert stats.position(values, "DERBY", "no_judgement").quartile is None


@pytest.mark.parametrize("value, low, high", [(0, "A", "D"), (10, "A", "D"), (25, "A", "D"), (30, "B", "C"),
                                              (50, "B", "C"), (60, "C", "B"), (75, "C", "B"), (80, "D", "A"),
                                              (100, "D", "A")])
def test_quartile_band_as_lait(value, low, high):
    # LAIT's own cases (tests of calculate_quartile_band, R/fn_analysis.R): cut-offs 25/50/75 of 0..100,
    # a value on a cut-off in the lower band, letters reversed where higher is better.
    values = pd.Series([0.0, 25.0, 50.0, 75.0, 100.0])
    assert stats.quartile_cutoffs(values) == (25.0, 50.0, 75.0)
    assert stats.quartile_band(value, values, "lower_is_better") == low
    assert stats.quartile_band(value, values, "higher_is_better") == high


def test_recent_trend_chi_square_as_prop_trend_test():
    # R: prop.trend.test(c(83, 90, 129, 70), c(86, 93, 136, 82)) gives X-squared = 8.2249 (1 df)
    assert stats.chi2_trend([83, 90, 129, 70], [86, 93, 136, 82]) == pytest.approx(8.2249, abs=1e-4)
    # Derby GLD 2014/15 to 2018/19 from the published EYFSP counts: a significant rise at 99.8%
    years = [2015, 2016, 2017, 2018, 2019]
    label, chi2 = stats.recent_trend(years, [2042, 2228, 2383, 2348, 2303], [3383, 3355, 3504, 3376, 3259],
                                     "higher_is_better")
    assert label == stats.TREND_UP_BETTER and chi2 > stats.CHI2_998
    # fewer than five consecutive years with counts: not tested
    assert stats.recent_trend(years[:4], [1, 2, 3, 4], [10, 10, 10, 10], "higher_is_better") is None
    assert stats.recent_trend([2015, 2016, 2017, 2019, 2020], [5] * 5, [10] * 5, "higher_is_better") is None
    # flat proportions are no significant change
    assert stats.recent_trend(years, [50, 51, 50, 49, 50], [100] * 5, "higher_is_better")[0] == stats.TREND_NONE

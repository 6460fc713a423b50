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
    assert stats.change_direction(50.0, 55.0, "no_judgement", 1)[0] == stats.NO_CLEAR_CHANGE


def test_position_hand_checked():
    values = pd.Series({"A": 70.0, "B": 68.0, "DERBY": 66.4, "C": 66.4, "D": 60.0, "E": None, "F": 55.0, "G": 71.0,
                        "H": 50.0})
    # 8 areas with values; higher is better: G 71, A 70, B 68, then Derby and C tie at 66.4 -> both rank 4
    p = stats.position(values, "DERBY", "higher_is_better")
    assert (p.rank, p.of) == (4, 8)
    assert p.quartile == "B"  # ranks 1-2 A, 3-4 B, 5-6 C, 7-8 D
    # lower is better: H 50, F 55, D 60, then Derby and C tie -> rank 4 again, quartile B
    assert stats.position(values, "DERBY", "lower_is_better").rank == 4
    assert stats.position(values, "G", "lower_is_better") == stats.Position(8, 8, "D")
    assert stats.position(values, "G", "higher_is_better") == stats.Position(1, 8, "A")
    assert stats.position(values, "E", "higher_is_better").rank is None
    assert stats.position(values, "DERBY", "no_judgement").quartile is None


@pytest.mark.parametrize("rank, band", [(1, "A"), (38, "A"), (39, "B"), (76, "B"), (77, "C"), (112, "C"),
                                        (114, "C"), (115, "D"), (152, "D")])
def test_quartile_bands_among_152_las(rank, band):
    values = pd.Series({f"LA{i:03d}": float(1000 - i) for i in range(1, 153)})
    p = stats.position(values, f"LA{rank:03d}", "higher_is_better")
    assert (p.rank, p.of, p.quartile) == (rank, 152, band)

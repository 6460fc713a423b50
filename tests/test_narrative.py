"""Generated sentences and headline tiles: the words must say what the numbers mean."""
from __future__ import annotations

import pandas as pd
import pytest

from derby_oa import config, queries, stats
from derby_oa.analysis import headlines, narrative
from derby_oa.queries import overview as overview_queries

MINUS = "\u2212"


def _obs(rows, breakdown="all", indicator="absence_unauth_primary"):
    """Tidy observations from (area, year, value[, numerator, denominator]) tuples; academic periods."""
    out = []
    for r in rows:
        area, year, value = r[:3]
        num, den = (r[3], r[4]) if len(r) > 3 else (None, None)
        out.append({"indicator_id": indicator, "area_code": area, "period": f"{year - 1}/{year % 100:02d}",
                    "year": year, "breakdown": breakdown, "value": value,
                    "status": "published" if value is not None else "x", "numerator": num, "denominator": den,
                    "lower_ci": None, "upper_ci": None, "source_id": "test"})
    return pd.DataFrame(out)


D, E = config.DERBY, config.ENGLAND
GLD_META = {"indicator_id": "gld", "title": "GLD", "short_title": "GLD", "unit": "%", "decimals": 1,
            "polarity": "higher_is_better", "series_breaks": [2022], "not_collected": [2020, 2021], "theme": "early_years"}
ABSENCE_META = {"indicator_id": "absence_unauth_primary", "title": "Unauthorised absence", "short_title": "UA",
                "unit": "%", "decimals": 1, "polarity": "lower_is_better", "series_breaks": [], "not_collected": [],
                "theme": "schools"}
GLD_ROWS = [(D, 2016, 66.4, 2228, 3355), (D, 2017, 68.0, 2383, 3504), (D, 2018, 69.5, 2348, 3376),
            (D, 2019, 70.7, 2303, 3259), (E, 2016, 69.3), (E, 2017, 70.7), (E, 2018, 71.5), (E, 2019, 71.8)]


def test_known_series_sentence():
    """The issue's example: GLD to 2018/19 against the plan's 2015/16 baseline."""
    tile = headlines.compute_tile(GLD_META, _obs(GLD_ROWS, indicator="gld"), headlines.Headline("gld"))
    assert tile.sentence == "Derby 70.7%, England 71.8% in 2018/19: gap narrowed from 2.9 to 1.1 points since 2015/16."
    assert tile.short_sentence == "Gap narrowed from 2.9 to 1.1 points since 2015/16."
    assert (tile.derby, tile.england, round(tile.gap, 1), tile.period) == (70.7, 71.8, -1.1, "2018/19")
    assert tile.since.from_period == "2015/16" and round(tile.since.change, 1) == 4.3
    # both years have pupil counts, so the direction is judged by the interval of the change
    assert (tile.direction, tile.since.basis) == (stats.IMPROVING, "95% interval of the change excludes 0")
    # 2018/19: Derby's Wilson interval (69.1 to 72.2) contains England's 71.8
    assert tile.vs_england == stats.SIMILAR and tile.interval[0] < 71.8 < tile.interval[1]


def test_series_break_compares_within_series_never_across():
    rows = GLD_ROWS + [(D, 2020, None), (D, 2021, None), (D, 2022, 62.9), (D, 2025, 64.6),
                       (E, 2022, 65.2), (E, 2025, 68.3)]
    tile = headlines.compute_tile(GLD_META, _obs(rows, indicator="gld"), headlines.Headline("gld"))
    assert tile.since.from_year == 2022 and tile.since.to_year == 2025
    assert tile.sentence.startswith(
        "Derby 64.6%, England 68.3% in 2024/25: gap widened from 2.3 to 3.7 points since 2021/22 (the first year of "
        "the current series; earlier years, including 2015/16, are not comparable).")
    # the plan baseline is compared only within the old series, up to its last year
    assert (tile.earlier.from_year, tile.earlier.to_year) == (2016, 2019)
    assert "from the plan's 2015/16 baseline to 2018/19: gap narrowed from 2.9 to 1.1 points" in tile.sentence
    assert "2015/16 to 2018/19 (old series): gap narrowed from 2.9 to 1.1 points." in tile.short_sentence
    # no counts after the reform: a visible change, and England comparison cannot be judged
    assert tile.since.basis == "change visible at published precision"
    assert tile.vs_england == stats.NOT_JUDGED


def test_polarity_flips_direction_for_absence():
    rows = [(D, 2016, 1.24), (E, 2016, 0.91), (D, 2025, 1.90), (E, 2025, 1.51)]
    tile = headlines.compute_tile(ABSENCE_META, _obs(rows), headlines.Headline("absence_unauth_primary"))
    assert tile.direction == stats.WORSENING
    assert tile.sentence == "Derby 1.9%, England 1.5% in 2024/25: gap widened from 0.3 to 0.4 points since 2015/16."
    flipped = headlines.compute_tile({**ABSENCE_META, "polarity": "higher_is_better"}, _obs(rows),
                                     headlines.Headline("absence_unauth_primary"))
    assert flipped.direction == stats.IMPROVING
    # higher is better and Derby above England: a lead, not a gap
    assert "lead over England grew from 0.3 to 0.4 points since 2015/16" in flipped.sentence


def test_gap_uses_values_as_shown():
    # 1.86 shows as 1.9 and 1.54 as 1.5: the gap must read 0.4 (as the reader would work out), not 0.3
    rows = [(D, 2025, 1.86), (E, 2025, 1.54)]
    tile = headlines.compute_tile(ABSENCE_META, _obs(rows), headlines.Headline("absence_unauth_primary"))
    assert round(tile.gap, 1) == 0.4
    assert tile.sentence == ("Derby 1.9%, England 1.5% in 2024/25: 0.4 points above England; no earlier comparable "
                             "year to compare with.")


def test_first_year_available_is_said():
    rows = [(D, 2018, 5.04), (E, 2018, 2.71), (D, 2025, 7.6), (E, 2025, 3.4)]
    meta = {**ABSENCE_META, "indicator_id": "neet_16_17"}
    tile = headlines.compute_tile(meta, _obs(rows, indicator="neet_16_17"), headlines.Headline("neet_16_17"))
    assert tile.sentence == ("Derby 7.6%, England 3.4% in 2024/25: gap widened from 2.3 to 4.2 points since 2017/18 "
                             "(the first year available).")
    assert tile.baseline_note == "the first year available"


def test_no_england_and_no_data():
    tile = headlines.compute_tile(ABSENCE_META, _obs([(D, 2016, 1.2), (D, 2019, 1.4)]),
                                  headlines.Headline("absence_unauth_primary"))
    assert tile.sentence == ("Derby 1.4% in 2018/19; no England figure for that year; up 0.2 points since 2015/16 "
                             "(worsening).")
    empty = headlines.compute_tile(ABSENCE_META, _obs([(E, 2016, 1.2)]), headlines.Headline("absence_unauth_primary"))
    assert not empty.has_data and empty.sentence.startswith("No data")


@pytest.mark.parametrize("gap_from, gap_to, polarity, expected", [
    (-2.9, -1.1, "higher_is_better", "gap narrowed from 2.9 to 1.1 points since 2015/16"),
    (-2.3, -3.7, "higher_is_better", "gap widened from 2.3 to 3.7 points since 2015/16"),
    (-6.0, -6.0, "higher_is_better", "gap unchanged at 6.0 points since 2015/16"),
    (0.1, 3.0, "higher_is_better", "lead over England grew from 0.1 to 3.0 points since 2015/16"),
    (1.7, 0.8, "higher_is_better", "lead over England shrank from 1.7 to 0.8 points since 2015/16"),
    (-2.9, 1.1, "higher_is_better", "moved from 2.9 points worse than England in 2015/16 to 1.1 points better"),
    (0.3, 0.4, "lower_is_better", "gap widened from 0.3 to 0.4 points since 2015/16"),
    (0.3, -0.2, "lower_is_better", "moved from 0.3 points worse than England in 2015/16 to 0.2 points better"),
    (-1.0, 0.0, "higher_is_better", "now level with England, from 1.0 points worse in 2015/16"),
    (0.0, 0.0, "higher_is_better", "level with England, as in 2015/16"),
    (0.5, 0.9, "no_judgement", "difference from England grew from 0.5 to 0.9 points since 2015/16"),
])
def test_gap_change_phrases(gap_from, gap_to, polarity, expected):
    assert narrative.gap_change_phrase(gap_from, gap_to, "2015/16", "%", 1, polarity) == expected


def test_units_and_formats():
    assert narrative.format_value(58.28, "per 100,000", 1) == "58.3 per 100,000"
    assert narrative.format_value(-0.21, "score", 2) == f"{MINUS}0.21"
    assert narrative.format_value(None, "%", 1) == "no data"
    assert narrative.format_signed(-3.74, "%", 1) == f"{MINUS}3.7 points"
    assert narrative.format_signed(1, "%", 0) == "+1 point"
    assert narrative.gap_change_phrase(26.6, 21.9, "2015-16", "per 100,000", 1, "lower_is_better") == \
        "gap narrowed from 26.6 to 21.9 per 100,000 since 2015-16"
    assert narrative.period_label(2016, "2015/16") == "2015/16"
    assert narrative.period_label(2016, "2015-16") == "2015-16"
    assert narrative.period_label(2016, "2016") == "2016"


def test_gaps_note_names_missing_years_and_breaks():
    labels = {y: f"{y - 1}/{y % 100:02d}" for y in range(2013, 2026)}
    note = narrative.gaps_note(GLD_META, labels, list(range(2013, 2026)))
    assert note == ("Gaps in the lines: no data collected or published for 2019/20 and 2020/21, so no line crosses "
                    "those years; a new series starts in 2021/22 and is not joined to earlier years.")
    assert narrative.gaps_note(ABSENCE_META, labels, [2016, 2017]) == ""


def test_headline_set_covers_the_issue():
    keys = {h.key for h in headlines.HEADLINES}
    assert {"gld:all", "gld:fsm", "ks2_rwm_expected:all", "ks2_rwm_expected:disadvantaged", "ks4_attainment8:all",
            "ks4_progress8:all", "ks4_eng_maths_94:all", "absence_unauth_primary:all", "absence_unauth_secondary:all",
            "absence_persistent_primary:all", "absence_persistent_secondary:all", "excess_weight_year6:all",
            "neet_16_17:all", "mh_admissions_0_17:all"} <= keys


def _tiles(con):
    items = headlines.HEADLINES
    metas = {h.indicator_id: queries.indicator(con, h.indicator_id) for h in items}
    obs = overview_queries.observations_for(con, headlines.headline_pairs(items), [D, E])
    return {t.indicator_id + ":" + t.breakdown: t for t in headlines.compute_tiles(metas, obs, items)}


def test_tiles_from_the_full_build(con_full):
    tiles = _tiles(con_full)
    assert len(tiles) == 14 and all(t.has_data for t in tiles.values())
    gld = tiles["gld:all"]
    assert (gld.derby, gld.england, gld.period) == (64.6, 68.3, "2024/25")
    assert gld.sentence.startswith("Derby 64.6%, England 68.3% in 2024/25: gap widened from 2.3 to 3.7 points "
                                   "since 2021/22")
    assert "from the plan's 2015/16 baseline to 2018/19: gap narrowed from 2.9 to 1.1 points" in gld.sentence
    # mental health admissions: the plan's '2016' figure never displaces the published 2015-16 value
    mh = tiles["mh_admissions_0_17:all"]
    assert mh.since.from_period == "2015-16" and mh.since.derby_from == 59.9
    assert mh.sources == ("dfe_lait",)
    # absence is lower-is-better: a rise is worsening
    ua = tiles["absence_unauth_primary:all"]
    assert ua.since.change > 0 and ua.direction == stats.WORSENING


def test_tiles_from_the_embedded_default(con_default):
    tiles = _tiles(con_default)
    gld = tiles["gld:all"]
    assert gld.sentence == ("Derby 66.4%, England 69.3% in 2015/16: 2.9 points below England; no earlier comparable "
                            "year to compare with.")
    assert gld.sources == ("plan_2017",)
    assert not tiles["ks4_eng_maths_94:all"].has_data

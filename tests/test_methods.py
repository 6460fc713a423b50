"""Methods the board relies on, each pinned on the real data (issue 11 items 1-10; issue 12 items 4, 5, 7, 8, 11).

References for each method are in docs/methods.md.
"""
from __future__ import annotations

import pandas as pd
import pytest

from apptest_support import run_page
from derby_oa.viz import charts
from derby_oa.analysis import comparisons, headlines, targets
from derby_oa import config, formatting, queries, stats
from derby_oa.queries import collection
from derby_oa.ui import tiles as tiles_view
from test_priorities import chart_specs, point_data


def _tiles(con) -> dict[str, headlines.Tile]:
    return {t.indicator_id + ":" + t.breakdown: t for t in headlines.tiles_for(con)}


# ---------------------------------------------------------------- 1. quartile bands as LAIT computes them

def test_quartiles_as_lait_on_real_data(con_full):
    gld = comparisons.positions_frame(con_full, "gld", "all").set_index("year")
    # GLD 2021/22: Derby 62.9 equals the 25th percentile of all LAs; LAIT puts it in the lower band -> D
    las = con_full.execute("""SELECT o.value FROM observations o JOIN areas a USING (area_code) WHERE a.area_type = 'la'
        AND indicator_id = 'gld' AND breakdown = 'all' AND year = 2022 AND value IS NOT NULL""").df()["value"]
    assert stats.quartile_cutoffs(las)[0] == pytest.approx(62.9)
    assert gld.loc[2022, "quartile"] == "D"
    # primary unauthorised absence 2017/18: 1.38 is above the 75th percentile 1.375 (lower is better) -> D
    ua = comparisons.positions_frame(con_full, "absence_unauth_primary", "all").set_index("year")
    las = con_full.execute("""SELECT o.value FROM observations o JOIN areas a USING (area_code) WHERE a.area_type = 'la'
        AND indicator_id = 'absence_unauth_primary' AND breakdown = 'all' AND year = 2018
        AND value IS NOT NULL""").df()["value"]
    assert stats.quartile_cutoffs(las)[2] == pytest.approx(1.375)
    assert ua.loc[2018, "value"] == pytest.approx(1.38) and ua.loc[2018, "quartile"] == "D"


# ---------------------------------------------------------------- 2. KS4 teacher-assessed years

def test_every_graded_ks4_measure_has_the_assessed_years_and_destinations_do_not(con_full):
    graded = ["ks4_attainment8", "ks4_progress8", "ks4_eng_maths_94", "lait_avg_attain8_score_asian",
              "lait_fsm_avg_prog8_score", "lait_engbac9_4", "lait_engmaths9_5", "lait_cin_engmaths9_4",
              "lait_lac_ks4_avg_attain8"]
    for ind in graded:
        assert queries.indicator(con_full, ind)["not_comparable"] == [2020, 2021], ind
    for ind in ["lait_ks4_des_apprentice", "lait_ks4_des_notsus", "lait_ks4_sen_des_incspec", "gld",
                "ks2_rwm_expected"]:
        assert queries.indicator(con_full, ind)["not_comparable"] == [], ind


def test_attainment8_teacher_assessed_years_stand_alone(con_full):
    meta = queries.indicator(con_full, "ks4_attainment8")
    assert meta["not_comparable"] == [2020, 2021]
    frame = comparisons.comparison_frame(con_full, "ks4_attainment8", "all", neighbours="none")
    spec = charts.trend_chart(frame, meta).to_dict()
    segments = charts.line_segments(spec)
    assert segments, "the chart draws lines"
    for years in segments:
        assert not (2019 in years and 2022 in years)  # no line between 2018/19 and 2021/22
        if 2020 in years or 2021 in years:
            assert len(years) == 1  # each teacher-assessed year stands alone
    notes = charts.gap_notes(meta, frame["year"].astype(int).tolist())
    assert set(notes.loc[notes["kind"] == "not comparable", "start"] + 0.5) == {2020, 2021}


def test_no_target_judged_on_teacher_assessed_grades(con_full):
    a = targets.assess_target(con_full, "p2_ks4_eng_maths_94_close_gap_2021")
    assert a.judged_years == [2019, 2022]  # the nearest exam years either side of 2020/21
    assert "teacher-assessed grades, not exams" in a.detail


# ---------------------------------------------------------------- 3. comparators that are what they say

def test_partial_sources_get_no_la_quartile_and_few_neighbours_no_average(con_full):
    pos = comparisons.positions_frame(con_full, "claimant_rate", "all")
    assert len(pos) and pos["la_rank"].isna().all() and not pos["quartile"].map(lambda q: isinstance(q, str)).any()
    assert (pos["la_of"] < comparisons.ALL_LA_MIN).all()
    frame = comparisons.comparison_frame(con_full, "claimant_rate", "all")
    sn = frame[frame["series"] == comparisons.SN_AVERAGE]
    # one of ten neighbours has claimant data: no "average", that neighbour is shown by name instead
    assert sn["value"].isna().all() and (sn["n"] < comparisons.SN_MIN).all() and (sn["of"] == 10).all()
    assert "Peterborough" in set(frame["series"])
    # GLD has all ten neighbours: a real average, and the table says of how many
    gld = comparisons.comparison_frame(con_full, "gld", "all")
    avg = gld[(gld["series"] == comparisons.SN_AVERAGE) & gld["value"].notna()]
    assert len(avg) and (avg["n"] >= comparisons.SN_MIN).all()
    from derby_oa.ui.priority import trend_table
    table = trend_table(gld, queries.indicator(con_full, "gld"))
    assert "Neighbours with a value" in table.columns and "10 of 10" in set(table["Neighbours with a value"])


# ---------------------------------------------------------------- 4. not-collected years from the data

def test_not_collected_years_match_the_data(con_full):
    derived = collection.missing_years(con_full)
    metas = {i: queries.indicator(con_full, i) for i in set(derived["indicator_id"])}
    for r in derived[~derived["indicator_id"].str.startswith("lait_")].itertuples():  # the curated indicators
        found = set(r.years if isinstance(r.years, (list, tuple)) or hasattr(r.years, "__len__") else [])
        curated = set(metas[r.indicator_id]["not_collected"])
        inside = {y for y in curated if r.first_year <= y <= r.last_year}
        assert found == inside, (r.indicator_id, r.breakdown, sorted(found), sorted(inside))
    # Year 6 excess weight: 2020/21 is the missing year (2019/20 was published), and Reception likewise
    assert queries.indicator(con_full, "excess_weight_year6")["not_collected"] == [2021]
    assert queries.indicator(con_full, "excess_weight_reception")["not_collected"] == [2021]
    meta = queries.indicator(con_full, "excess_weight_year6")
    frame = comparisons.comparison_frame(con_full, "excess_weight_year6", "all", neighbours="none")
    notes = charts.gap_notes(meta, frame["year"].astype(int).tolist())
    band = notes[notes["kind"] == "not collected"]
    assert list(zip(band["start"], band["end"])) == [(2020.5, 2021.5)]


# ---------------------------------------------------------------- 5. decimals as published

def test_ks2_reading_progress_shown_as_published(con_full, full_db):
    meta = queries.indicator(con_full, "ks2_progress_reading")
    frame = comparisons.comparison_frame(con_full, "ks2_progress_reading", "all", neighbours="none")
    tile = headlines.compute_tile(meta, frame.assign(breakdown="all", indicator_id="ks2_progress_reading"))
    assert tile.derby == -0.95 and tile.value_text() == "\u22120.95" and "Derby \u22120.95" in tile.sentence
    at = run_page(full_db, "pages/schools.py", {"ind": "ks2_progress_reading"})
    assert not at.exception
    years = next(df.value for df in at.table if "Quartile among local authorities (A = best)" in df.value.columns)
    assert years.set_index("Period").loc["2022/23", "Derby"] == "\u22120.95"
    # no raw missing markers leak into the table (issue 12, item 11)
    text = years.astype(str).to_numpy().ravel().tolist()
    assert not {"None", "nan", "NaN", "<NA>"} & set(text)
    assert years.set_index("Period").loc["2019/20", "Derby"] == "x"


def test_formatter_never_pads_whole_numbers():
    # LAIT's whole-number years stay whole; a source's own decimals are kept
    assert formatting.shown_decimals([60.0, 57.0], 1, "dfe_lait") == 0
    assert formatting.shown_decimals([62.9, 65.2], 1, "dfe_lait") == 1
    assert formatting.shown_decimals([48.4], 0, "plan_2017") == 1
    assert formatting.value(60.0, "%", 0) == "60%" and formatting.value(None, "%", 1, "c") == "c"
    assert formatting.value(float("nan"), "%", 1) == "x"


def test_fsm_gld_2018_19_not_padded(con_full):
    tile = _tiles(con_full)["gld:fsm"]
    assert "Derby 54.5% to 60.0%" not in tile.sentence and "Derby 54.5% to 60%" in tile.sentence


# ---------------------------------------------------------------- 6. gap charts say what they compare

def test_gap_defaults_to_dfe_disadvantage_gap_and_flags_mixed_rounding(con_full):
    assert comparisons.GAP_PAIRS["ks2_rwm_expected"] == ("disadvantaged", "non_disadvantaged")
    assert "DfE disadvantage gap" in comparisons.GAP_LABELS[("disadvantaged", "non_disadvantaged")]
    gaps = comparisons.gap_frame(con_full, "gld", "fsm", "non_fsm").set_index(["series", "year"])
    # 2015/16: FSM from Fingertips (54.5), non-FSM from LAIT in whole numbers (68): mixed rounding, said so
    assert gaps.loc[("Derby gap", 2016), "mixed"] and gaps.loc[("Derby gap", 2016), "value"] == pytest.approx(-13.5)


# ---------------------------------------------------------------- 7. one standard for "met" (and 12.5)

def test_fsm_gld_target_not_met_by_point_comparison(con_full):
    a = targets.assess_target(con_full, "p1_gld_fsm_exceed_2021")
    assert a.status == targets.NOT_MET
    j2019 = next(j for j in a.judgements if j["year"] == 2019)
    assert not j2019["met"] and "similar to England" in j2019["text"] and "56.1% to 63.8%" in j2019["text"]
    statuses = targets.assess_all(con_full)
    assert "off track" not in set(statuses["status"])  # every plan target's date has passed: met or not met


# ---------------------------------------------------------------- 8. wording; 12.4 one baseline per target

def test_unjudged_indicator_says_how_it_moved(con_full):
    meta = queries.indicator(con_full, "fsm_primary")
    obs = comparisons.comparison_frame(con_full, "fsm_primary", "all", neighbours="none")
    derby = obs[obs["area_code"] == config.DERBY].dropna(subset=["value"]).sort_values("year")
    tile = headlines.compute_tile(meta, obs.assign(breakdown="all", indicator_id="fsm_primary"))
    first = derby[derby["year"] >= 2016].iloc[0]["value"]
    assert tile.direction_text.startswith("rose from ") and tile.direction_text.endswith("(not judged)")
    assert formatting.number(first, 1) in tile.direction_text
    assert "no clear change" not in tile.direction_text


def test_one_baseline_per_target_on_overview(con_full, con_default):
    ks2 = _tiles(con_full)["ks2_rwm_expected:all"]
    # the plan's own 48.4 against 53.8 (the Targets page's baseline), with LAIT's 48 beside it
    assert (ks2.since.derby_from, ks2.since.england_from) == (48.4, 53.8)
    assert "gap widened from 5.4 to 6.0 points since 2015/16" in ks2.sentence
    assert "published 48%" in ks2.sentence
    a = targets.assess_target(con_full, "p2_ks2_rwm_close_gap_2021")
    assert a.baseline_value == ks2.since.derby_from
    # mental health admissions: the published figure is the baseline; the plan's own 56 is shown beside it
    mh = _tiles(con_full)["mh_admissions_0_17:all"]
    assert mh.since.derby_from == pytest.approx(59.9) and "the plan quotes 56 per 100,000" in mh.sentence
    # the embedded default shows the plan's figures as printed, not rounded to LAIT's whole numbers
    default = _tiles(con_default)["ks2_rwm_expected:all"]
    assert tiles_view.tile_html(default).count("48.4%") >= 1 and "53.8%" in tiles_view.tile_html(default)


def test_overview_help_says_which_baseline():
    assert "plan's own figure" in tiles_view.RULES_MARKDOWN and "48.4%" in tiles_view.RULES_MARKDOWN
    assert "59.9 published, 56 in the plan" in tiles_view.RULES_MARKDOWN


# ---------------------------------------------------------------- 9. Fingertips recent trend

def test_recent_trend_where_counts_exist(con_full):
    meta = queries.indicator(con_full, "eyfsp_comm_lang_expected")
    frame = comparisons.comparison_frame(con_full, "eyfsp_comm_lang_expected", "all", neighbours="none")
    tile = headlines.compute_tile(meta, frame.assign(breakdown="all", indicator_id="eyfsp_comm_lang_expected"))
    assert tile.trend_basis is not None
    if tile.year <= 2019:  # the counted EYFSP years are the latest: the Fingertips test runs
        assert tile.recent_trend in (stats.TREND_UP_BETTER, stats.TREND_DOWN_WORSE, stats.TREND_NONE)
        assert "chi-square test for trend" in tile.trend_basis
    gld = _tiles(con_full)["gld:all"]  # 2021/22 onwards have no counts: the current rule, labelled
    assert gld.recent_trend is None and "cannot be run" in gld.trend_basis


# ---------------------------------------------------------------- 10. significance badge only where tested

def test_badge_only_where_tested(con_full):
    tiles = _tiles(con_full)
    for t in tiles.values():
        html = tiles_view.tile_html(t)
        assert "cannot be judged" not in html
        assert (any(w in html for w in ("better than England", "similar to England", "worse than England"))
                == t.tested)
    assert tiles["gld:all"].vs_basis  # the reason is kept in the details


# ---------------------------------------------------------------- 12.7 early-years gap chart on the default

def test_early_years_gap_chart_draws_on_the_embedded_default(default_db):
    at = run_page(default_db, "pages/early_years.py")
    assert not at.exception
    gap = next(s for s in chart_specs(at) if "Gap" in str(s))
    pts = point_data(gap).set_index("series")["value"]
    assert round(pts["Derby gap"], 1) == -11.9 and round(pts["England gap"], 1) == -14.9


# ---------------------------------------------------------------- 12.8 plan figures are their own series

def test_mental_health_plan_figure_not_joined(con_full):
    meta = queries.indicator(con_full, "mh_admissions_0_17")
    frame = comparisons.comparison_frame(con_full, "mh_admissions_0_17", "all", neighbours="none")
    plan = frame[frame["series"] == "Derby" + comparisons.PLAN_SERIES_SUFFIX]
    assert plan["year"].tolist() == [2013] and plan["value"].tolist() == [43.0]
    assert 2013 not in frame.loc[frame["series"] == "Derby", "year"].tolist()
    spec = charts.trend_chart(frame, meta).to_dict()
    derby_segments = [s for s in charts.line_segments(spec) if 2016 in s]
    assert derby_segments and all(2013 not in s for s in derby_segments)


# ---------------------------------------------------------------- 12.11 raw values never leak

def test_data_sources_page_shows_no_raw_values(full_db):
    at = run_page(full_db, "pages/data_sources.py")
    assert not at.exception
    cells = set()
    for df in at.dataframe:
        cells |= set(df.value.astype(str).to_numpy().ravel().tolist())
    assert not {"None", "nan", "NaN", "<NA>"} & cells
    assert "\u00a32,000,000" in cells and "2000000" not in cells and "2000000.0" not in cells
    assert not any(c.startswith("commit ") for c in cells)  # a commit hash is not a retrieval date
    shown = " ".join(m.value for m in at.markdown)  # the sources table is drawn as HTML (fits 1366 px)
    assert "pinned published file of 2026-04-08" in shown
    sources = next(df.value for df in at.dataframe if "source" in df.value.columns and "definition" in df.value.columns)
    assert "mhclg_iod2019" not in set(sources["source"])
    log = next(df.value for df in at.dataframe if "detail" in df.value.columns)
    assert not log["detail"].astype(str).str.startswith("0 observations").any()

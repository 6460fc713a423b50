"""The explorer: search, area groups, the tidy table, the pivot, the charts and the page."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from apptest_support import run_page
from derby_oa.analysis import explore
from derby_oa.viz import explore as explore_chart
from derby_oa import queries
from derby_oa.queries import explore as xq

DERBY, ENGLAND = "E06000015", "E92000001"


def test_parse_list_keeps_valid_items_in_order():
    assert explore.parse_list("b, a,,b,zz,a", ["a", "b"]) == (["b", "a"], ["zz"])
    assert explore.parse_list(None, ["a"]) == ([], [])
    assert explore.join_list(["a", "b"]) == "a,b"


def test_parse_year():
    assert explore.parse_year("2019", [2018, 2019]) == 2019
    assert explore.parse_year("2030", [2018, 2019]) == 2019  # nearest held year
    assert explore.parse_year("2016", [2018, 2019]) == 2018
    assert explore.parse_year("1066", [2018, 2019]) is None
    assert explore.parse_year("soon", [2018]) is None


def test_search_by_title_and_by_definition(con_full):
    by_title = xq.search_indicators(con_full, "good level of development")
    assert "gld" in set(by_title["indicator_id"])
    by_definition = xq.search_indicators(con_full, "early learning goals")  # only in gld's definition
    assert "gld" in set(by_definition["indicator_id"])
    assert "early learning goals" not in queries.indicator(con_full, "gld")["title"].lower()
    assert xq.search_indicators(con_full, "no such words anywhere").empty
    every = xq.search_indicators(con_full, "")
    curated = every[~every["indicator_id"].str.startswith("lait_")]
    assert every["indicator_id"].tolist()[:len(curated)] == curated["indicator_id"].tolist()  # curated first


def test_area_choices_and_groups(con_full):
    choices = xq.area_choices(con_full)
    counts = choices["area_type"].value_counts().to_dict()
    assert counts["country"] == 1 and counts["region"] >= 9 and counts["la"] >= 153
    assert counts["ward"] == 35 and counts["lsoa"] == 151  # Derby's LSOAs only
    assert choices["area_code"].iloc[:2].tolist() == [ENGLAND, DERBY]
    assert len(xq.group_codes(con_full, "sn_2025")) == 10
    assert len(xq.group_codes(con_full, "wards_2023")) == 18
    assert len(xq.group_codes(con_full, "wards_2003-2023")) == 17
    assert len(xq.group_codes(con_full, "derby_lsoas")) == 151
    other_lsoa = "E01000001"
    assert other_lsoa in set(xq.area_choices(con_full, include=[other_lsoa])["area_code"])


def test_observations_filter_by_breakdown_and_year(con_full):
    df = xq.observations(con_full, ["gld"], [DERBY, ENGLAND], ["fsm"], 2016, 2019)
    assert set(df["breakdown"]) == {"fsm"} and df["year"].between(2016, 2019).all()
    assert df["area_code"].tolist()[:4] == [DERBY] * 4  # areas in the order asked
    assert df["source"].notna().all()


@pytest.fixture
def gld(con_full) -> pd.DataFrame:
    return xq.observations(con_full, ["gld"], [DERBY, ENGLAND], ["all"])


def test_tidy_table(gld):
    table = explore.tidy_table(gld)
    assert list(table.columns)[:6] == ["Indicator id", "Indicator", "Area code", "Area", "Area type", "Period"]
    row = table[(table["Area code"] == DERBY) & (table["Period"] == "2018/19")].iloc[0]
    assert (row["Value"], row["Status"], row["Breakdown"], row["Numerator"]) == (70.7, "published", "All pupils", 2303)


def test_pivot_is_areas_by_years_with_symbols(gld):
    pivot = explore.pivot(gld)
    assert pivot["Area"].tolist() == ["Derby", "England"]
    periods = [c for c in pivot.columns if "/" in c]
    assert periods == sorted(periods) and periods[0] == "2012/13" and periods[-1] == "2024/25"
    derby = pivot.set_index("Area").loc["Derby"]
    # cells are text at the published precision (issue 12, item 11: never "48.0" beside "55")
    assert derby["2018/19"] == "70.7" and derby["2019/20"] == "x" and derby["2012/13"] == "40.9"


def test_pivot_keeps_whole_numbers_whole(con_full):
    df = xq.observations(con_full, ["ks2_rwm_expected"], [DERBY], ["all"])
    derby = explore.pivot(df).set_index("Area").loc["Derby"]
    assert derby["2015/16"] == "48" and derby["2024/25"] == "57"


def _datasets(chart) -> list[pd.DataFrame]:
    spec = chart.to_dict()
    return [pd.DataFrame(v) for v in spec.get("datasets", {}).values()]


def test_line_chart_leaves_gaps_and_breaks(con_full, gld):
    meta = queries.indicator(con_full, "gld")
    chart, caption, table = explore_chart.chart(gld, meta, "line")
    drawn = max(_datasets(chart), key=len)
    assert set(drawn["series"]) == {"Derby", "England"}
    derby = drawn[drawn["series"] == "Derby"]
    assert not set(derby["year"]) & {2020, 2021}  # not collected: nothing drawn
    assert derby.loc[derby["year"] == 2019, "value"].iloc[0] == 70.7
    # the series break (2022) starts a new segment: the line does not join 2019 to 2022
    assert derby.loc[derby["year"] == 2019, "segment"].iloc[0] != derby.loc[derby["year"] == 2022, "segment"].iloc[0]
    assert "Lines break at missing years" in caption
    assert {"Series", "Period", "%"} <= set(table.columns)


def test_bar_chart_ranks_one_year(con_full):
    df = xq.observations(con_full, ["gld"], [DERBY, ENGLAND, "E12000004"], ["all"], 2019, 2019)
    chart, caption, table = explore_chart.chart(df, queries.indicator(con_full, "gld"), "bar", year=2019)
    assert "2018/19" in caption
    assert dict(zip(table["Area"], table["%"])) == {"Derby": 70.7, "England": 71.8, "East Midlands": 70.3}


def test_line_chart_caps_series(con_full):
    codes = xq.group_codes(con_full, "sn_2025")
    df = xq.observations(con_full, ["gld"], codes, ["all"])
    chart, caption, table = explore_chart.chart(df, queries.indicator(con_full, "gld"), "line")
    assert table["Series"].nunique() == explore.MAX_LINE_SERIES
    assert f"first {explore.MAX_LINE_SERIES} of 10 series" in caption


def _marks(spec: dict):
    if "mark" in spec:
        yield spec["mark"]
    for layer in spec.get("layer", []):
        yield from _marks(layer)


def test_explorer_page_chart_view(full_db):
    at = run_page(full_db, "pages/explore.py", {"ind": "gld", "area": f"{DERBY},{ENGLAND}", "bd": "all"})
    assert not at.exception
    charts = at.get("vega_lite_chart")
    assert len(charts) == 1
    spec = json.loads(charts[0].proto.spec)
    marks = {m["type"] if isinstance(m, dict) else m for m in _marks(spec)}
    assert {"line", "point"} <= marks
    assert [b.label for b in at.get("download_button")][-2:] == [
        "Download CSV (tidy)", "Download XLSX (data, definitions and sources, pivot)"]


def test_explorer_page_with_a_group_and_bar_chart(full_db):
    at = run_page(full_db, "pages/explore.py", {"ind": "ks2_rwm_expected", "area": DERBY, "group": "sn_2025",
                                                "view": "chart", "chart": "bar", "to": "2019", "from": "2017"})
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == 1
    table = at.table[0].value  # the table behind the chart (plain HTML: a small table loads no data grid)
    assert len(table) == 11  # Derby and its ten neighbours


def test_explorer_page_works_on_the_embedded_default(default_db):
    at = run_page(default_db, "pages/explore.py")
    assert not at.exception
    assert at.multiselect(key="ex-ind").value == ["gld"]

"""Every ward indicator at once: the ward profile, the two-ward comparison across all indicators,
where children are worst off, the outcome-against-deprivation scatter and small-number suppression
of officer-loaded ward rows (pure functions, and the Wards page under AppTest)."""
from __future__ import annotations

import json
import shutil

import duckdb
import numpy as np
import pandas as pd
import pyarrow.ipc as pa_ipc
import pytest
from apptest_support import run_page

from derby_oa.viz import charts
from derby_oa import config
from derby_oa.analysis.wards import need as ward_need, profiles as ward_profiles, ranking as wards
from derby_oa.queries import wards as wq

PAGE = "pages/wards.py"
PLAN, CURRENT = config.WARD_VINTAGE_PLAN, config.WARD_VINTAGE_CURRENT
SMALL_AREA_SOURCES = ("dwp_cilif", "dwp_cilif_msoa", "mhclg_iod2019_indicators", "mhclg_iod2025", "phe_ncmp_msoa",
                      "ons_census2021")
ARBORETUM, ALLESTREE, NORMANTON, DARLEY, SPONDON = "E05001770", "E05001768", "E05001780", "E05001775", "E05001783"


def frames(el) -> list[pd.DataFrame]:
    return [pa_ipc.open_stream(ds.data.data).read_all().to_pandas() for ds in el.proto.datasets]


def table_with(at, *columns: str) -> pd.DataFrame:
    return next(df.value for df in [*at.dataframe, *at.table] if set(columns) <= set(df.value.columns))


def deck_layer(at, layer_id: str) -> list[dict]:
    for deck in at.get("deck_gl_json_chart"):
        for layer in json.loads(deck.proto.json)["layers"]:
            if layer["id"] == layer_id:
                data = layer["data"]
                return [f.get("properties", f) for f in (data["features"] if isinstance(data, dict) else data)]
    raise AssertionError(f"no layer {layer_id}")


# --- synthetic ward indicators in a copy of the full database -------------------------------------

def add_indicator(con, indicator_id: str, title: str, theme: str, unit: str, polarity: str, values: dict,
                  period: str = "2019", year: int = 2019, source_id: str = "test_source", counts: dict | None = None,
                  definition: str = "") -> None:
    con.execute("INSERT INTO indicators (indicator_id, title, short_title, theme, unit, polarity, definition, decimals, "
                "source_id) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)",
                [indicator_id, title, title, theme, unit, polarity, definition, source_id])
    for code, value in values.items():
        num, den = (counts or {}).get(code, (None, None))
        con.execute("INSERT INTO observations (indicator_id, area_code, period, year, breakdown, value, status, "
                    "numerator, denominator, source_id) VALUES (?, ?, ?, ?, 'all', ?, 'published', ?, ?, ?)",
                    [indicator_id, code, period, year, value, num, den, source_id])


@pytest.fixture(scope="module")
def wards_db(full_db, tmp_path_factory):
    """The full build with only the plan's and IoD 2019 ward figures kept, plus child poverty, IDACI
    and an obesity outcome for the 17 wards (made-up numbers for the test, shaped like the published
    ones), one ward left without each: the expected ranks and fits are known exactly."""
    path = tmp_path_factory.mktemp("wards") / "derby_oa.duckdb"
    shutil.copy(full_db, path)
    con = duckdb.connect(str(path))
    # The made-up world replaces the published small-area ward data of issue 15 (same indicator ids).
    con.execute("DELETE FROM observations WHERE list_contains(?, source_id)", [list(SMALL_AREA_SOURCES)])
    con.execute("DELETE FROM indicators WHERE indicator_id = 'cilif_ahc'")
    con.execute("DELETE FROM schools")
    con.execute("DELETE FROM ward_fit")
    codes = [r[0] for r in con.execute("SELECT area_code FROM areas WHERE area_type = 'ward' AND vintage = ? "
                                       "ORDER BY area_code", [PLAN]).fetchall()]
    con.execute("""DELETE FROM observations WHERE area_code IN (SELECT area_code FROM areas WHERE area_type = 'ward')
                   AND NOT (indicator_id = 'gld' OR indicator_id LIKE 'imd_%' OR indicator_id LIKE 'iod_%_decile'
                            OR indicator_id LIKE 'population_%')""")
    income = dict(con.execute("SELECT area_code, value FROM observations WHERE indicator_id = 'iod_income_decile' "
                              "AND list_contains(?, area_code)", [codes]).fetchall())
    poverty = {c: round(65 - 6 * income[c], 1) for c in codes if c != DARLEY}  # no figure for Darley
    idaci = {c: round(45 - 4 * income[c] + (3 if c == NORMANTON else 0), 1) for c in codes}
    obesity = {c: round(12 + 1.5 * (10 - income[c]), 1) for c in codes if c != SPONDON}
    obesity[ALLESTREE] = 30.0  # far above what its deprivation predicts
    add_indicator(con, "test_cilif", "Test: children in low-income families (after housing costs)", "context", "%",
                  "lower_is_better", poverty, period="FYE 2024", year=2024)
    add_indicator(con, "test_idaci_rate", "Test: Income Deprivation Affecting Children Index (IDACI) rate", "context",
                  "%", "lower_is_better", idaci)
    add_indicator(con, "test_obesity_y6", "Test: Year 6 obesity", "wellbeing", "%", "lower_is_better", obesity,
                  period="2015/16-2017/18", year=2018)
    con.close()
    return path


@pytest.fixture
def latest(wards_db):
    con = duckdb.connect(str(wards_db), read_only=True)
    yield wq.latest_ward_values(con, PLAN), wq.latest_reference_values(con, PLAN)
    con.close()


# --- pure functions -------------------------------------------------------------------------------

def test_profile_every_indicator_with_rank(latest):
    values, ref = latest
    table = ward_profiles.profile(values, ref, ARBORETUM).set_index("key")
    assert {"gld", "imd_decile", "test_cilif", "test_idaci_rate", "test_obesity_y6", "population_0_15"} <= set(table.index)
    assert list(table.index[:2]) == ["gld", "test_obesity_y6"] or table.index[0] == "gld"  # outcomes before context
    assert table.loc["gld", "Value"] == "47.2%" and table.loc["gld", "Rank among wards"] == "2nd of 2 (1 = highest)"
    assert table.loc["gld", "Derby"] == "66.4%" and table.loc["gld", "England"] == "69.3%"
    assert table.loc["imd_decile", "Rank among wards"] == "17th of 17 (1 = highest)"
    assert table.loc["imd_decile", "Better when"] == "higher" and table.loc["test_cilif", "Better when"] == "lower"
    assert table.loc["population_0_15", "Derby"] == ""  # a ward's count is not set against Derby's total
    darley = ward_profiles.profile(values, ref, DARLEY).set_index("key")
    assert darley.loc["test_cilif", "Value"] == "no data"
    assert darley.loc["test_cilif", "Rank among wards"] == "not ranked (no data)"
    assert darley.loc["gld", "Value"] == "no data" and darley.loc["gld", "Status"] == "no row"


def test_compare_all_table_and_dots(latest):
    values, ref = latest
    cmp = ward_profiles.compare_all(values, ref, ARBORETUM, SPONDON).set_index("key")
    assert cmp.loc["gld", "a"] == 47.2 and np.isnan(cmp.loc["gld", "b"]) and np.isnan(cmp.loc["gld", "gap"])
    assert cmp.loc["gld", "derby"] == 66.4 and cmp.loc["gld", "england"] == 69.3
    assert np.isnan(cmp.loc["population_total", "derby"])  # counts: no Derby or England
    table = ward_profiles.compare_all_table(cmp.reset_index(), "Arboretum", "Spondon").set_index("Indicator")
    gld = table.loc["Good level of development at the end of the Early Years Foundation Stage"]
    assert gld["Spondon"] == "no data" and gld["Gap (Arboretum minus Spondon)"] == "no data"
    assert table.loc["Test: Year 6 obesity", "Spondon"] == "no data"
    dots = ward_profiles.dot_frame(cmp.reset_index(), "Arboretum", "Spondon")
    gld_dots = dots[dots["measure"].str.startswith("Good level")].set_index("area")
    assert set(gld_dots.index) == {"Arboretum", "Derby", "England"}  # Spondon: no dot, never a dot at zero
    # GLD: wards range 47.2 (Arboretum) to 85.8 (Allestree); Derby 66.4 sits at 49.7
    assert gld_dots.loc["Arboretum", "position"] == 0 and gld_dots.loc["Derby", "position"] == 49.7
    assert ward_profiles.position(5, 5, 5) == 50 and ward_profiles.position(None, 0, 1) is None
    spec = charts.ward_dot_chart(dots, ("Arboretum", "Spondon")).to_dict()
    rows = next(v for v in spec["datasets"].values() if v and "position" in v[0])
    assert {r["area"] for r in rows} == {"Arboretum", "Spondon", "Derby", "England"}
    enc = spec["layer"][1]["encoding"]
    assert enc["color"]["field"] == enc["shape"]["field"] == "area"  # never colour alone


def test_worst_off_rule(latest):
    values, _ = latest
    parts, fallback = ward_need.need_parts(values)
    assert parts == ["test_cilif", "test_idaci_rate"] and not fallback
    table = ward_need.worst_off(ward_profiles.with_ranks(values), parts)
    # Arboretum is 1st on low income and 2nd on IDACI, Normanton the other way round: a tie at 1.5
    top = table.head(2).set_index("area_name")
    assert list(top.index) == ["Arboretum", "Normanton"] and top["score"].tolist() == [1.5, 1.5]
    assert top["rank"].tolist() == [1, 1] and top["n_parts"].tolist() == [2, 2]
    darley = table.set_index("area_code").loc[DARLEY]
    assert darley["n_parts"] == 1 and pd.isna(darley["test_cilif rank"])  # only IDACI: the mean of one part
    assert darley["score"] == darley["test_idaci_rate rank"]
    shown = ward_need.worst_off_table(table, parts, {"test_cilif": "Low income", "test_idaci_rate": "IDACI"})
    assert shown.loc[0, "Ward"] == "Arboretum" and shown.loc[0, "Parts with a figure"] == "2 of 2"
    assert shown.loc[0, "Rank (1 = worst off)"] == "1" and shown.loc[0, "Mean of part ranks"] == "1.5"
    row = shown.set_index("Ward").loc["Darley"]
    assert row["Low income"] == "no data" and row["Low income: rank"] == "not ranked"
    # without child measures: the IoD income domain and the IMD, flagged as a fallback
    base = values[~values["indicator_id"].isin(["test_cilif", "test_idaci_rate"])]
    assert ward_need.need_parts(base) == (["iod_income_decile", "imd_decile"], True)


def test_fit_line_and_scatter_verdicts(latest):
    fit = ward_need.fit_line([1, 2, 3, 4], [3, 5, 7, 9])
    assert fit.slope == pytest.approx(2) and fit.intercept == pytest.approx(1) and fit.r2 == pytest.approx(1)
    assert ward_need.fit_line([1, 2], [1, 2]) is None and ward_need.fit_line([1, 1, 1], [1, 2, 3]) is None
    values, _ = latest
    ranked = ward_profiles.with_ranks(values)
    assert ward_need.default_pair(ranked, ["test_cilif", "test_idaci_rate"]) == ("test_cilif", "test_obesity_y6")
    df, fit, left_out = ward_need.scatter(ranked, "test_idaci_rate", "test_obesity_y6")
    assert left_out == ["Spondon"] and fit.n == 16 and len(df) == 16
    verdicts = df.set_index("area_name")["verdict"]
    assert verdicts["Allestree"] == "worse than its deprivation predicts"  # lower is better: above the line is worse
    assert verdicts["Arboretum"] == "about as predicted"
    table = ward_need.scatter_table(df, "IDACI", "Obesity", {"unit": "%", "decimals": 1}).set_index("Ward")
    assert table.loc["Allestree", "Obesity"] == "30.0%" and table.loc["Allestree", "Difference from the line"].startswith("+")
    line = pd.DataFrame({"x": [df["x"].min(), df["x"].max()]}).assign(y=lambda d: fit.predict(d["x"]))
    spec = charts.ward_scatter_chart(df, "IDACI", "Obesity", line).to_dict()
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["line", "point", "text"]
    assert spec["layer"][2]["encoding"]["text"]["field"] == "area_name"  # every ward labelled


def test_trend_frame_keeps_sources_apart_and_breaks():
    history = pd.DataFrame({
        "area_code": [ARBORETUM] * 4 + [config.DERBY] * 3,
        "area_name": ["Arboretum"] * 4 + ["Derby"] * 3,
        "period": ["2015/16", "2020/21", "2021/22", "2022/23", "2014/15", "2021/22", "2022/23"],
        "year": [2016, 2021, 2022, 2023, 2015, 2022, 2023],
        "value": [47.2, 55.0, 50.0, 52.0, 60.0, 62.0, 63.0],
        "status": "published", "numerator": None, "denominator": None,
        "source_id": ["plan_2017", "upload:1", "upload:1", "upload:1", "dfe", "dfe", "dfe"]})
    frame = ward_profiles.trend_frame(history, ARBORETUM)
    assert set(frame["series"]) == {"Arboretum (plan_2017)", "Arboretum (upload:1)", "Derby"}
    assert 2015 not in set(frame["year"])  # Derby only within the ward's years
    spec = charts.trend_chart(frame, {"unit": "%", "decimals": 1, "series_breaks": [2022]}).to_dict()
    segments = sorted(charts.line_segments(spec))
    assert [2021, 2022] not in segments and [2022, 2023] in segments  # the 2022 break is never joined
    assert ward_profiles.trend_options({"gld": 3, "imd_decile": 1}) == ["gld"]


def test_small_numbers_suppressed_only_for_loaded_rows():
    rows = pd.DataFrame({"area_code": ["a", "b", "c", "d", "e"], "value": [40.0, 50.0, 60.0, 70.0, 8.0],
                         "numerator": [4, 100, 5, None, None], "denominator": [8, 200, 250, None, None],
                         "lower_ci": [1.0, 2.0, 3.0, None, None], "upper_ci": [9.0, 9.0, 9.0, None, None],
                         "status": "published",
                         "source_id": ["upload:3", "upload:3", "dwp_cilif", "upload:3", "upload:3"]})
    out = wards.suppress_small_numbers(rows, "%").set_index("area_code")
    assert out.loc["a", "status"] == "c" and pd.isna(out.loc["a", "value"]) and pd.isna(out.loc["a", "numerator"])
    assert out.loc["b", "value"] == 50.0 and out.loc["b", "status"] == "published"
    assert out.loc["c", "value"] == 60.0  # a published source's figure is never altered
    assert out.loc["d", "value"] == 70.0  # no counts: nothing to judge
    assert out["suppressed"].tolist() == [True, False, False, False, False]
    counts = wards.suppress_small_numbers(rows, "count").set_index("area_code")
    assert counts.loc["e", "status"] == "c"  # a loaded count of 8 children
    assert wards.fmt_status(None, "c", {"unit": "%"}) == "c" and wards.fmt_status(None, None, {"unit": "%"}) == "no data"


def test_suppressed_ward_says_who_suppressed_it():
    # our small-number rule on an officer's upload, against a cell the publisher suppressed (NCMP MSOA carried over)
    assert wards.symbol_label("c", True) == "c (suppressed: fewer than 10 children)"
    assert wards.symbol_label("c", False) == "c (suppressed by the publisher)"
    assert wards.symbol_label("x", False) == "x"


def test_schools_in_ward(con_default, con_full):
    empty = wq.schools_in_ward(con_default, ARBORETUM, PLAN)  # no schools loaded: an empty frame
    assert empty.empty and "school_name" in empty.columns
    schools = wq.schools_in_ward(con_full, ARBORETUM, PLAN)
    assert len(schools) and (schools["ward_code"] == ARBORETUM).all()
    shown = wards.school_table(schools)
    assert list(shown.columns[:2]) == ["School", "URN"] and len(shown) == len(schools)


def test_worst_off_on_the_published_ward_data(con_full):
    """With the DWP and IoD small-area figures built, the ranking uses child poverty (after housing costs
    on the May 2023 wards, the only ones DWP publishes it for; the MSOA best fit before housing costs on
    the 2003-2023 wards) and the IDACI rate, not the fallback; Arboretum is among the three worst off."""
    expected = {PLAN: ["cilif_bhc_msoa", "idaci_rate_2019"], CURRENT: ["cilif_ahc", "idaci_rate_2019"]}
    for vintage in (PLAN, CURRENT):
        values = wq.latest_ward_values(con_full, vintage)
        parts, fallback = ward_need.need_parts(values)
        assert parts == expected[vintage] and not fallback
        table = ward_need.worst_off(ward_profiles.with_ranks(values), parts)
        assert table["rank"].notna().all() and len(table) == (17 if vintage == PLAN else 18)
        assert "Arboretum" in table.head(3)["area_name"].tolist()


# --- the page -------------------------------------------------------------------------------------

def test_page_compare_every_indicator(wards_db):
    at = run_page(wards_db, PAGE, {"ward": ARBORETUM, "compare": SPONDON})
    assert not at.exception
    table = table_with(at, "Gap (Arboretum minus Spondon)").set_index("Indicator")
    assert table.loc["Test: Year 6 obesity", "Spondon"] == "no data"
    assert table.loc["Test: children in low-income families (after housing costs)", "Arboretum"] == "57.7%"
    dots = next(f for el in at.get("vega_lite_chart") for f in frames(el) if "position" in f)
    gld = dots[dots["measure"].str.startswith("Good level")]
    assert set(gld["area"]) == {"Arboretum", "Derby", "England"}
    assert at.query_params["ward"] == ARBORETUM and at.query_params["compare"] == SPONDON


def test_page_profile_from_url(wards_db):
    at = run_page(wards_db, PAGE, {"ward": ARBORETUM, "compare": ALLESTREE, "profile": NORMANTON})
    assert not at.exception and not at.info
    assert {s.label: s.value for s in at.selectbox}["Ward to profile"] == NORMANTON
    profile = table_with(at, "Better when", "Status").set_index("Indicator")
    assert profile.loc["Test: Income Deprivation Affecting Children Index (IDACI) rate", "Value"] == "41.6%"
    assert profile.loc["Good level of development at the end of the Early Years Foundation Stage", "Value"] == "no data"
    at.toggle(key="wards-lsoa-map-on").set_value(True).run()
    lsoas = deck_layer(at, "lsoa-map")
    n = len(wq.lsoas_of_ward(duckdb.connect(str(wards_db), read_only=True), NORMANTON, PLAN))
    assert len(lsoas) == n
    text = "\n".join(str(c.value) for c in at.caption)
    assert wards.SCHOOLS_NOTE in text or "No school" in text
    assert "no trend to show" in text  # one period per indicator for Normanton
    assert at.query_params["profile"] == NORMANTON
    # choosing the first ward as the profile drops the parameter (old links stay as they were)
    at.selectbox(key=f"wards-p-{PLAN}").set_value(ARBORETUM).run()
    assert "profile" not in at.query_params


def test_page_worst_off_and_scatter(wards_db):
    at = run_page(wards_db, PAGE)
    assert not at.exception
    ranking = table_with(at, "Rank (1 = worst off)")
    assert ranking.loc[0, "Ward"] == "Arboretum" and len(ranking) == 17
    # default: obesity against children in low income (neither has Darley or Spondon respectively)
    scatter = table_with(at, "Predicted by the line").set_index("Ward")
    assert len(scatter) == 15 and "Spondon" not in scatter.index and "Darley" not in scatter.index
    assert scatter.loc["Allestree", "Reading"] == "worse than its deprivation predicts"
    text = "\n".join(str(c.value) for c in at.caption)
    assert "descriptive, not causal" in text and "Not plotted (no data on one or both): Darley, Spondon" in text
    assert "mean of a ward's ranks" in text
    # another measure across: the URL keeps it
    at.selectbox(key=f"wards-x-{PLAN}").set_value("test_idaci_rate").run()
    assert at.query_params["against"] == "test_idaci_rate" and "outcome" not in at.query_params


def test_page_loaded_ward_rows_suppressed(wards_db, tmp_path):
    db = tmp_path / "loaded.duckdb"
    shutil.copy(wards_db, db)
    con = duckdb.connect(str(db))
    rows = [(NORMANTON, 62.5, 5, 8), (ARBORETUM, 50.0, 150, 300), (ALLESTREE, 80.0, 240, 300)]
    for code, value, num, den in rows:
        con.execute("INSERT INTO observations (indicator_id, area_code, period, year, breakdown, value, status, "
                    "numerator, denominator, source_id) VALUES ('gld', ?, '2022/23', 2023, 'all', ?, 'published', "
                    "?, ?, 'upload:1')", [code, value, num, den])
    con.close()
    at = run_page(db, PAGE, {"indicator": "gld", "period": "2022/23", "ward": NORMANTON, "compare": ARBORETUM})
    assert not at.exception
    props = {p["area_name"]: p for p in deck_layer(at, "ward-map")}
    assert props["Normanton"]["value"] is None and props["Normanton"]["value_label"].startswith("c ")
    assert props["Arboretum"]["value_label"] == "50.0%"
    assert "62.5" not in at.get("deck_gl_json_chart")[0].proto.json
    table = table_with(at, "Rank").set_index("Ward")  # the table behind the map, also the CSV export
    assert table.loc["Normanton", "Value"] == "c" and table.loc["Normanton", "Status"] == "c"
    cmp = table_with(at, "Compared with England").set_index("Area")
    assert cmp.loc["Normanton", "Value"] == "c"
    assert "fewer than 10 children" in "\n".join(str(c.value) for c in at.caption)
    assert "62.5" not in "\n".join(df.value.to_csv() for df in at.dataframe)


def test_page_hex_map_on_2023_wards(full_db):
    at = run_page(full_db, PAGE, {"vintage": CURRENT, "indicator": "imd_decile", "period": "2019", "map": "hex"})
    assert not at.exception
    tiles = {t["area_name"]: t for t in deck_layer(at, "ward-hex")}
    assert len(tiles) == 18 and "Chaddesden North" in tiles
    assert at.query_params["map"] == "hex" and at.query_params["vintage"] == CURRENT
    legend = "\n".join(str(m.value) for m in at.markdown)
    assert "Darker = worse (lower values)" in legend


def test_page_profile_follows_the_first_ward_until_chosen(full_db):
    at = run_page(full_db, PAGE)
    assert {s.label: s.value for s in at.selectbox}["Ward to profile"] == ARBORETUM
    at.selectbox(key=f"wards-a-{PLAN}").set_value(NORMANTON).run()
    assert at.selectbox(key=f"wards-p-{PLAN}").value == NORMANTON and "profile" not in at.query_params
    at.selectbox(key=f"wards-p-{PLAN}").set_value(DARLEY).run()
    at.selectbox(key=f"wards-a-{PLAN}").set_value(ALLESTREE).run()
    assert at.selectbox(key=f"wards-p-{PLAN}").value == DARLEY and at.query_params["profile"] == DARLEY


def test_page_map_click_chooses_the_profile(full_db):
    from streamlit.proto.WidgetStates_pb2 import WidgetStates

    at = run_page(full_db, PAGE)
    at.radio(key="wards-click-target").set_value("p").run()
    deck = at.get("deck_gl_json_chart")[0]
    feats = json.loads(deck.proto.json)["layers"][0]["data"]["features"]
    spondon = next(f for f in feats if f["properties"]["area_code"] == SPONDON)
    ws: WidgetStates = at._tree.get_widget_states()
    w = ws.widgets.add()
    w.id = deck.proto.id
    w.string_value = json.dumps({"selection": {"indices": {"ward-map": [feats.index(spondon)]},
                                               "objects": {"ward-map": [spondon]}}})
    at._run(ws)
    assert not at.exception
    assert at.query_params["profile"] == SPONDON and at.query_params["ward"] == ARBORETUM
    at.toggle(key="wards-lsoa-map-on").set_value(True).run()
    assert len(deck_layer(at, "lsoa-map")) == len(wq.lsoas_of_ward(duckdb.connect(str(full_db), read_only=True),
                                                                  SPONDON, PLAN))


def test_page_profile_trend_keeps_sources_apart(full_db, tmp_path):
    db = tmp_path / "trend.duckdb"
    shutil.copy(full_db, db)
    con = duckdb.connect(str(db))
    for period, year, value in (("2021/22", 2022, 55.0), ("2022/23", 2023, 57.5), ("2023/24", 2024, 58.0)):
        con.execute("INSERT INTO observations (indicator_id, area_code, period, year, breakdown, value, status, "
                    "numerator, denominator, source_id) VALUES ('gld', ?, ?, ?, 'all', ?, 'published', ?, 300, "
                    "'upload:1')", [ARBORETUM, period, year, value, value * 3])
    con.close()
    at = run_page(db, PAGE, {"indicator": "gld", "period": "2015/16"})
    assert not at.exception
    at.selectbox(key=f"wards-trend-{PLAN}-{ARBORETUM}").set_value("gld").run()
    trend = table_with(at, "Area", "Year", "Value")
    series = set(trend["Area"])
    assert {"Arboretum (plan_2017)", "Arboretum (upload:1)", "Derby", "England"} <= series
    mine = trend[trend["Area"] == "Arboretum (upload:1)"].set_index("Year")["Value"]
    assert mine.to_dict() == {2022: "55.0%", 2023: "57.5%", 2024: "58.0%"}
    assert trend["Year"].min() == 2016  # Derby and England only over the ward's years

"""The Wards page: ward queries, the pure comparison/ranking logic and the page under AppTest."""
from __future__ import annotations

import json
import shutil

import duckdb
import pyarrow.ipc as pa_ipc
import pandas as pd
import pytest
import shapely
from apptest_support import run_page
from streamlit.proto.WidgetStates_pb2 import WidgetStates

from derby_oa import config, stats
from derby_oa.viz import maps
from derby_oa.analysis.wards import ranking as wards
from derby_oa.queries import wards as wq

PAGE = "pages/wards.py"
PLAN, CURRENT = config.WARD_VINTAGE_PLAN, config.WARD_VINTAGE_CURRENT
ARBORETUM, ALLESTREE, NORMANTON = "E05001770", "E05001768", "E05001780"


def page_errors(at) -> list[str]:
    return [e.value for e in at.exception]


def texts(at, kind: str) -> str:
    return "\n".join(str(e.value) for e in at.get(kind))


def ward_layer(at, layer_id: str = "ward-map") -> dict:
    """The layer `layer_id` of the first deck on the page."""
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    return next(layer for layer in spec["layers"] if layer["id"] == layer_id)


def props_by_name(layer: dict) -> dict[str, dict]:
    feats = layer["data"]["features"] if isinstance(layer["data"], dict) else layer["data"]
    return {(f.get("properties") or f)["area_name"]: (f.get("properties") or f) for f in feats}


def selectbox_values(at) -> dict[str, str]:
    return {s.label: s.value for s in at.selectbox}


# --- queries against the full build ---------------------------------------------------------------

@pytest.mark.parametrize("vintage,n", [(PLAN, 17), (CURRENT, 18)])
def test_ward_codes_match_lookup_boundaries_and_areas(con_full, vintage, n):
    areas = set(wq.ward_list(con_full, vintage)["area_code"])
    bounds = set(wq.boundaries(con_full, vintage)["area_code"])
    lookup = {r[0] for r in con_full.execute("SELECT DISTINCT ward_code FROM lsoa_ward WHERE vintage = ?",
                                             [vintage]).fetchall()}
    assert len(areas) == n
    assert bounds == areas
    assert lookup == areas


@pytest.mark.parametrize("vintage", [PLAN, CURRENT])
def test_ward_geometries_valid_and_small(con_full, vintage):
    b = wq.boundaries(con_full, vintage)
    geoms = shapely.from_wkb(b["geometry_wkb"].to_numpy())
    assert shapely.is_valid(geoms).all() and not shapely.is_empty(geoms).any()
    assert shapely.coverage_is_valid(geoms)  # shared borders consistent: no gaps or overlaps
    deck, _ = maps.ward_choropleth(b, {c: 50.0 for c in b["area_code"]}, title="t", source="s", vintage=vintage)
    layer = next(x for x in json.loads(deck.to_json())["layers"] if x["id"] == "ward-map")
    assert len(json.dumps(layer, separators=(",", ":")).encode()) < 150_000


@pytest.mark.parametrize("vintage", [PLAN, CURRENT])
def test_ward_populations_add_up_to_derby(con_full, vintage):
    for ind in ("population_total", "population_0_15"):
        wards_v = wq.ward_values(con_full, ind, "mid-2015", vintage)
        derby = wq.reference_values(con_full, ind, "mid-2015").set_index("area_code")["value"]
        assert wards_v["value"].notna().all()
        assert wards_v["value"].sum() == derby[config.DERBY]
    assert wq.ward_values(con_full, "population_total", "mid-2015", PLAN)["value"].sum() == 253_875


def test_ward_values_keep_missing_wards(con_full):
    v = wq.ward_values(con_full, "gld", "2015/16", PLAN).set_index("area_code")
    assert len(v) == 17
    assert v.loc[ARBORETUM, "value"] == 47.2 and v.loc[ALLESTREE, "value"] == 85.8
    assert v.loc[ARBORETUM, "source_id"] == "plan_2017"
    others = v.drop([ARBORETUM, ALLESTREE])
    assert others["value"].isna().all() and others["status"].isna().all()


def test_lsoas_of_ward(con_full):
    lsoas = wq.lsoas_of_ward(con_full, ARBORETUM, PLAN)
    n = con_full.execute("SELECT count(*) FROM lsoa_ward WHERE ward_code = ? AND vintage = ?", [ARBORETUM, PLAN]).fetchone()[0]
    assert len(lsoas) == n == 10
    assert lsoas["imd_decile"].between(1, 10).all() and lsoas["geometry_wkb"].notna().all()
    assert (lsoas["imd_decile"] == 1).sum() == 9  # matches the ward's decile-1 share (90%)
    share = wq.ward_values(con_full, "imd_most_deprived_decile_share", "2019", PLAN).set_index("area_code")
    assert share.loc[ARBORETUM, "value"] == pytest.approx(90.0)
    assert lsoas["imd_rank"].is_monotonic_increasing


def test_indicator_options_come_from_the_data(con_full, con_default):
    full, default = wq.ward_indicators(con_full), wq.ward_indicators(con_default)
    plan_opts = wards.indicator_options(full, PLAN)
    assert plan_opts[0] == "gld"
    assert {"imd_decile", "imd_most_deprived_decile_share", "population_total", "population_0_15",
            "iod_income_decile"} <= set(plan_opts)
    assert "gld" not in wards.indicator_options(full, CURRENT) and "imd_decile" in wards.indicator_options(full, CURRENT)
    assert wards.indicator_options(default, PLAN) == ["gld"]
    assert wards.indicator_options(default, CURRENT) == []
    titles = dict(zip(full["indicator_id"], full["title"]))
    notice = wards.indicator_notice(full, CURRENT, "gld", titles)
    assert "no ward figures on the 18 wards" in notice and "2003-2023" in notice
    assert wards.indicator_notice(full, PLAN, "gld", titles) is None


# --- pure logic -----------------------------------------------------------------------------------

GLD_META = {"title": "GLD", "unit": "%", "decimals": 1, "polarity": "higher_is_better"}


def test_ranking_puts_missing_last_and_never_as_zero():
    values = pd.DataFrame({"area_code": ["a", "b", "c", "d"], "area_name": ["A", "B", "C", "D"],
                           "value": [47.2, None, 0.0, 85.8], "status": ["published", None, "published", "published"]})
    r = wards.ranking(values, GLD_META)
    assert r["area_code"].tolist() == ["d", "a", "c", "b"]
    assert r["rank"].tolist()[:3] == [1, 2, 3] and pd.isna(r["rank"].iloc[3])
    assert r.set_index("area_code")["label"].to_dict() == {"d": "85.8%", "a": "47.2%", "c": "0.0%", "b": "no data"}
    assert wards.rank_text(r["rank"].iloc[3], 3) == "not ranked (no data)"
    assert wards.rank_text(2, 3) == "2nd of 3 wards with data (1 = highest)"


def test_compare_plan_gld(con_full):
    values = wq.ward_values(con_full, "gld", "2015/16", PLAN)
    ref = wq.reference_values(con_full, "gld", "2015/16")
    cmp = wards.compare(values, ref, ARBORETUM, ALLESTREE, GLD_META, "2015/16")
    assert (cmp.a.name, cmp.a.value, cmp.b.name, cmp.b.value) == ("Arboretum", 47.2, "Allestree", 85.8)
    assert cmp.gap == pytest.approx(-38.6) and cmp.gap_label == "38.6 percentage points"
    assert "a gap of 38.6 percentage points (Allestree higher than Arboretum)" in cmp.sentence()
    assert cmp.derby.value == 66.4 and cmp.england.value == 69.3
    assert cmp.a.vs_derby == pytest.approx(-19.2) and cmp.b.vs_england == pytest.approx(16.5)
    # the plan gives no counts for wards: no judgement, with the reason
    assert cmp.a.judgement == stats.NOT_JUDGED and cmp.a.judgement_reason == "no counts published"
    # Derby has counts from the EYFSP tables: Wilson interval against England's 69.3
    assert cmp.derby.judgement == stats.WORSE
    table = cmp.table()
    assert table["Area"].tolist() == ["Arboretum", "Allestree", "Derby", "England"]
    assert table.loc[0, "Rank among wards"] == "2nd of 2 wards with data (1 = highest)"
    assert table.loc[1, "Difference from England"] == "+16.5 percentage points"


def test_compare_with_a_ward_without_data(con_full):
    values = wq.ward_values(con_full, "gld", "2015/16", PLAN)
    ref = wq.reference_values(con_full, "gld", "2015/16")
    cmp = wards.compare(values, ref, ARBORETUM, NORMANTON, GLD_META, "2015/16")
    assert cmp.b.value is None and cmp.b.label == "no data" and cmp.gap is None
    assert "Normanton has no data" in cmp.sentence()
    assert cmp.b.rank == "not ranked (no data)"


def test_context_table(con_full):
    ctx = wq.ward_context(con_full, [ARBORETUM, ALLESTREE, config.DERBY, config.ENGLAND])
    t = wards.context_table(ctx, {"Arboretum": ARBORETUM, "Allestree": ALLESTREE,
                                  "Derby": config.DERBY, "England": config.ENGLAND}).set_index("Measure")
    share = t.loc[wards.CONTEXT_LABELS["imd_most_deprived_decile_share"]]
    assert share["Arboretum"] == "90% (9 of 10)" and share["Derby"] == "16% (24 of 151)"
    assert share["England"] == "10% (3,284 of 32,844)"
    decile = t.loc[wards.CONTEXT_LABELS["imd_decile"]]
    assert decile["Derby"] == "no data" and decile["England"] == "no data"  # no LA-level decile is built
    assert t.loc[wards.CONTEXT_LABELS["population_total"], "Derby"] == "253,875"
    assert wards.children_per_year(ctx, ARBORETUM) == pytest.approx(4573 / 16)


def test_selected_ward_from_pydeck_state():
    feature = {"type": "Feature", "properties": {"area_code": NORMANTON, "area_name": "Normanton"}}
    assert wards.selected_ward({"selection": {"indices": {"ward-map": [13]}, "objects": {"ward-map": [feature]}}}) == NORMANTON
    tile = {"area_code": ARBORETUM, "area_name": "Arboretum", "polygon": []}
    assert wards.selected_ward({"selection": {"indices": {"ward-hex": [8]}, "objects": {"ward-hex": [tile]}}}) == ARBORETUM
    assert wards.selected_ward({"selection": {"indices": {}, "objects": {}}}) is None
    assert wards.selected_ward(None) is None
    assert wards.selected_ward({"selection": {"objects": {"other-layer": [feature]}}}) is None


def test_same_named_ward_and_default_pair(con_full):
    plan, current = wq.ward_list(con_full, PLAN), wq.ward_list(con_full, CURRENT)
    both = pd.concat([plan, current])
    assert wards.same_named_ward(ARBORETUM, current, both) == "E05015511"
    assert wards.same_named_ward("E05001773", current, both) is None  # Chaddesden was split in 2023
    assert wards.same_named_ward(ARBORETUM, plan, both) == ARBORETUM
    assert wards.default_pair(plan) == (ARBORETUM, ALLESTREE)
    assert wards.default_pair(current) == ("E05015511", "E05015508")


def test_methods_text_covers_the_page():
    text = wards.methods_markdown()
    assert "## The Wards page" in text and "38.6" in text and "Tolerance: 20 m" in text
    assert "cannot be judged" in text and "Children per year of age" in text


# --- the page -------------------------------------------------------------------------------------

def test_page_full_default_view(full_db):
    at = run_page(full_db, PAGE)
    assert page_errors(at) == []
    layer = ward_layer(at)
    assert layer["pickable"] is True
    props = props_by_name(layer)
    assert len(props) == 17
    assert props["Arboretum"]["value"] == 47.2 and props["Arboretum"]["value_label"] == "47.2%"
    assert props["Allestree"]["value"] == 85.8 and props["Allestree"]["value_label"] == "85.8%"
    for name, p in props.items():
        if name not in ("Arboretum", "Allestree"):
            assert p["value"] is None and p["value_label"] == "no data", name
            assert p["fill"] == maps.NO_DATA_RGBA, name
    assert props["Arboretum"]["fill"] != maps.NO_DATA_RGBA and props["Allestree"]["fill"] != maps.NO_DATA_RGBA
    spec = json.loads(at.get("deck_gl_json_chart")[0].proto.json)
    # no basemap: Streamlit draws none only for pydeck's "__MAP_STYLE__" sentinel (None gets Carto tiles)
    assert spec.get("mapProvider") is None and spec["mapStyle"] == "__MAP_STYLE__"
    assert "http" not in at.get("deck_gl_json_chart")[0].proto.json
    assert len(at.get("deck_gl_json_chart")[0].proto.json.encode()) < 150_000
    md = texts(at, "markdown")
    assert "No data (15 wards: Abbey, Alvaston," in md  # no-data wards named in the legend
    assert "a gap of 38.6 percentage points" in md
    assert {m.label: m.value for m in at.metric}["Gap (percentage points)"] == "38.6"
    # a table of the mapped values beneath the map
    table = at.dataframe[0].value
    assert len(table) == 17 and table.set_index("Ward").loc["Normanton", "Value"] == "no data"
    assert table.set_index("Ward").loc["Arboretum", "Rank"] == "2nd of 2 wards with data (1 = highest)"
    assert dict(at.query_params) == {"vintage": PLAN, "indicator": "gld", "period": "2015/16",
                                     "ward": ARBORETUM, "compare": ALLESTREE}
    # drill-down: one map at a time, the LSOA map of Arboretum by decile on request; the ranked chart with the rule
    assert len(at.get("deck_gl_json_chart")) == 1
    at.toggle(key="wards-lsoa-map-on").set_value(True).run()
    lsoa = json.loads(at.get("deck_gl_json_chart")[1].proto.json)["layers"][0]
    assert lsoa["id"] == "lsoa-map" and len(lsoa["data"]["features"]) == 10
    assert "Dashed line: Derby 66.4%." in texts(at, "caption")
    charts = at.get("vega_lite_chart")
    # the all-indicator dot chart, Arboretum's trend, the worst-off scatter and the ranked bars (last)
    assert len(charts) == 4
    frames = [pa_ipc.open_stream(ds.data.data).read_all().to_pandas() for ds in charts[-1].proto.datasets]
    bars = next(f for f in frames if "area_name" in f and len(f) == 17).set_index("area_name")
    assert bars.loc["Allestree", "value"] == 85.8 and pd.isna(bars.loc["Spondon", "value"])
    assert bars.loc["Spondon", "label"] == "no data"
    assert any(f["value"].tolist() == [66.4] for f in frames if "area_name" not in f)  # the Derby rule


def test_page_url_round_trip(full_db):
    params = {"vintage": PLAN, "indicator": "imd_most_deprived_decile_share", "period": "2019",
              "ward": NORMANTON, "compare": ARBORETUM}
    at = run_page(full_db, PAGE, params)
    assert page_errors(at) == [] and not at.info
    assert dict(at.query_params) == params
    sel = selectbox_values(at)
    assert sel["Indicator"] == "imd_most_deprived_decile_share" and sel["First ward"] == NORMANTON
    assert [m.label for m in at.metric][:2] == ["Normanton", "Arboretum"]
    props = props_by_name(ward_layer(at))
    assert len(props) == 17 and all(p["value"] is not None for p in props.values())
    n = len(wq.lsoas_of_ward(duckdb.connect(str(full_db), read_only=True), NORMANTON, PLAN))
    at.toggle(key="wards-lsoa-map-on").set_value(True).run()
    lsoa = json.loads(at.get("deck_gl_json_chart")[1].proto.json)["layers"][0]
    assert len(lsoa["data"]["features"]) == n
    # choosing another ward in the list updates the URL and the comparison
    at.selectbox(key=f"wards-b-{PLAN}").set_value(ALLESTREE).run()
    assert at.query_params["compare"] == ALLESTREE
    assert [m.label for m in at.metric][:2] == ["Normanton", "Allestree"]


def test_page_map_click_chooses_ward(full_db):
    at = run_page(full_db, PAGE)
    deck = at.get("deck_gl_json_chart")[0]
    feats = json.loads(deck.proto.json)["layers"][0]["data"]["features"]
    normanton = next(f for f in feats if f["properties"]["area_code"] == NORMANTON)
    # what the browser sends when a ward is clicked (AppTest has no click for pydeck maps)
    ws: WidgetStates = at._tree.get_widget_states()
    w = ws.widgets.add()
    w.id = deck.proto.id
    w.string_value = json.dumps({"selection": {"indices": {"ward-map": [feats.index(normanton)]},
                                               "objects": {"ward-map": [normanton]}}})
    at._run(ws)
    assert page_errors(at) == []
    assert at.query_params["ward"] == NORMANTON and at.query_params["compare"] == ALLESTREE
    assert selectbox_values(at)["First ward"] == NORMANTON
    assert "Normanton no data" in texts(at, "markdown") and "Normanton has no data" in texts(at, "markdown")


def test_page_invalid_params_fall_back(full_db):
    at = run_page(full_db, PAGE, {"vintage": "1999", "indicator": "nonsense", "ward": "E05999999", "period": "x"})
    assert page_errors(at) == []
    info = texts(at, "info")
    assert "vintage = '1999'" in info and "nonsense" in info and "E05999999" in info
    assert at.query_params["vintage"] == PLAN and at.query_params["indicator"] == "gld"
    assert at.query_params["ward"] == ARBORETUM and at.query_params["period"] == "2015/16"


def test_page_2023_wards(full_db):
    at = run_page(full_db, PAGE, {"vintage": CURRENT, "indicator": "gld", "ward": ARBORETUM})
    assert page_errors(at) == []
    assert "has no ward figures on the 18 wards from May 2023" in texts(at, "info")
    with duckdb.connect(str(full_db), read_only=True) as con:  # the first indicator with 2023 ward figures
        expected = wards.default_indicator(wards.indicator_options(wq.ward_indicators(con), CURRENT))
    assert at.query_params["indicator"] == expected and expected != "gld"
    assert at.query_params["ward"] == "E05015511"  # Arboretum of the 2023 boundaries, no notice
    props = props_by_name(ward_layer(at))
    assert len(props) == 18 and "Chaddesden North" in props
    assert "approximations" in texts(at, "caption")


def test_page_hex_map(full_db):
    at = run_page(full_db, PAGE, {"map": "hex"})
    assert page_errors(at) == []
    tiles = props_by_name(ward_layer(at, "ward-hex"))
    assert len(tiles) == 17 and tiles["Arboretum"]["value_label"] == "47.2%"
    assert tiles["Spondon"]["fill"] == maps.NO_DATA_RGBA
    assert at.query_params["map"] == "hex"


def test_page_without_published_data(default_db):
    at = run_page(default_db, PAGE)
    assert page_errors(at) == []
    info = texts(at, "info")
    assert "Ward boundaries are not available yet" in info
    tiles = props_by_name(ward_layer(at, "ward-hex"))  # the hex map still shows
    assert len(tiles) == 17
    assert tiles["Arboretum"]["value"] == 47.2 and tiles["Allestree"]["value"] == 85.8
    assert tiles["Darley"]["value_label"] == "no data" and tiles["Darley"]["fill"] == maps.NO_DATA_RGBA
    assert len(at.get("deck_gl_json_chart")) == 1  # no boundary map, no LSOA map
    assert "a gap of 38.6 percentage points" in texts(at, "markdown")
    plan = next(df.value for df in at.dataframe if "Plan's words" in df.value.columns)
    assert set(plan["Value"]) == {"47.2%", "85.8%"} and set(plan["Ward"]) == {"Arboretum", "Allestree"}


def test_page_picks_up_uploaded_ward_data(default_db, tmp_path):
    db = tmp_path / "uploaded.duckdb"
    shutil.copy(default_db, db)
    con = duckdb.connect(str(db))
    rows = [(NORMANTON, 60.0, 180, 300), (ARBORETUM, 50.0, 150, 300), (config.ENGLAND, 65.0, None, None)]
    for code, value, num, den in rows:
        con.execute("INSERT INTO observations (indicator_id, area_code, period, year, breakdown, value, status, "
                    "numerator, denominator, source_id) VALUES ('ks2_rwm_expected', ?, '2018/19', 2019, 'all', ?, "
                    "'published', ?, ?, 'upload:1')", [code, value, num, den])
    con.close()
    at = run_page(db, PAGE, {"indicator": "ks2_rwm_expected", "ward": NORMANTON, "compare": ARBORETUM})
    assert page_errors(at) == []
    box = next(s for s in at.selectbox if s.label == "Indicator")
    assert box.value == "ks2_rwm_expected" and set(box.options) >= {"Good level of development at the end of the Early Years Foundation Stage"}
    table = next(df.value for df in at.dataframe if "Compared with England" in df.value.columns).set_index("Area")
    assert table.loc["Normanton", "Compared with England"] == "similar (Wilson 95% interval)"
    assert table.loc["Arboretum", "Compared with England"] == "worse (Wilson 95% interval)"
    assert "a gap of 10 percentage points (Normanton higher than Arboretum)" in texts(at, "markdown")


def test_page_switching_boundaries_keeps_the_ward(full_db):
    at = run_page(full_db, PAGE, {"indicator": "imd_decile", "period": "2019", "ward": NORMANTON})
    at.radio(key="wards-vintage").set_value(CURRENT).run()
    assert page_errors(at) == [] and not at.info
    assert at.query_params["vintage"] == CURRENT and at.query_params["indicator"] == "imd_decile"
    assert at.query_params["ward"] == "E05015521" and at.query_params["compare"] == "E05015508"  # Normanton, Allestree
    assert len(props_by_name(ward_layer(at))) == 18

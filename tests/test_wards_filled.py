"""Issue 15, done-when: every ward of both geographies has published small-area values, each ward
value says how it was made, a ward without a source's data reads "no data", and the school layer."""
from __future__ import annotations

import json

import pandas as pd
import pytest
from apptest_support import run_page

from derby_oa import config, vocabulary
from derby_oa.viz import maps
from derby_oa.analysis.wards import ranking as wards
from derby_oa.queries import schools as sq
from derby_oa.queries import wards as wq

PAGE = "pages/wards.py"
NEW_SOURCES = ("dwp_cilif", "dwp_cilif_msoa", "mhclg_iod2019_indicators", "mhclg_iod2025", "phe_ncmp_msoa",
               "ons_census2021")


@pytest.mark.parametrize("vintage,n", [(config.WARD_VINTAGE_PLAN, 17), (config.WARD_VINTAGE_CURRENT, 18)])
def test_every_ward_has_ten_published_small_area_indicators(con_full, vintage, n):
    counts = con_full.execute("""
        SELECT a.area_code, count(DISTINCT o.indicator_id) AS n
        FROM areas a LEFT JOIN observations o ON o.area_code = a.area_code AND o.status = 'published'
             AND o.value IS NOT NULL AND list_contains(?, o.source_id)
        WHERE a.area_type = 'ward' AND a.vintage = ? AND a.parent_code = ? GROUP BY ALL""",
                              [list(NEW_SOURCES), vintage, config.DERBY]).df()
    assert len(counts) == n
    assert counts["n"].min() >= 10, counts.sort_values("n").head(3)


def test_every_new_ward_value_records_how_it_was_made(con_full):
    missing = con_full.execute("""
        SELECT count(*) FROM observations o JOIN areas a USING (area_code)
        LEFT JOIN ward_fit f ON f.indicator_id = o.indicator_id AND f.area_code = o.area_code AND f.period = o.period
        WHERE a.area_type = 'ward' AND list_contains(?, o.source_id) AND f.method IS NULL""",
                              [list(NEW_SOURCES)]).fetchone()[0]
    assert missing == 0
    fit = con_full.execute("""SELECT * FROM ward_fit WHERE indicator_id = 'cilif_bhc_msoa' AND period = '2021-22'
                              AND area_code = 'E05001770'""").df().iloc[0]
    assert fit.best_fit and fit.ward_vintage == "2003-2023" and fit.geography == "MSOA 2011"
    assert fit.coverage == 100.0 and fit.source_id == "dwp_cilif_msoa"
    ahc = con_full.execute("""SELECT best_fit, method FROM ward_fit WHERE indicator_id = 'cilif_ahc'
                              AND area_code = 'E05015511' AND period = '2023-24'""").fetchone()
    assert ahc == (False, "published for the ward")


def test_ward_indicators_list_the_new_indicators(con_full):
    avail = wq.ward_indicators(con_full)
    plan = set(avail.loc[avail.vintage == config.WARD_VINTAGE_PLAN, "indicator_id"])
    current = set(avail.loc[avail.vintage == config.WARD_VINTAGE_CURRENT, "indicator_id"])
    assert {"idaci_rate_2019", "obesity_year6_3yr", "cilif_bhc_msoa", "census_overcrowded_households",
            "imd2025_decile"} <= plan & current
    assert "cilif_ahc" in current and "cilif_ahc" not in plan
    arb = wq.ward_values(con_full, "cilif_ahc", "2023-24", config.WARD_VINTAGE_CURRENT).set_index("area_name")
    assert arb.loc["Arboretum", "value"] == 58.6 and arb.loc["Allestree", "value"] == 7.3
    ref = wq.reference_values(con_full, "cilif_ahc", "2023-24").set_index("area_code")
    assert ref.loc[config.DERBY, "value"] == 33.8 and config.ENGLAND in ref.index


def test_ward_without_a_source_figure_is_no_data_in_deck_and_table(con_full):
    values = wq.ward_values(con_full, "idaci_rate_2019", "2019", config.WARD_VINTAGE_PLAN)
    allestree = values.set_index("area_name").loc["Allestree"]
    assert pd.isna(allestree.value) and allestree.status == "c"
    deck, _ = maps.ward_choropleth(wq.boundaries(con_full, config.WARD_VINTAGE_PLAN),
                                   dict(zip(values.area_code, values.value)), title="IDACI rate", source="IoD 2019",
                                   unit="%", decimals=1, vintage=config.WARD_VINTAGE_PLAN)
    layer = next(l for l in json.loads(deck.to_json())["layers"] if l["id"] == "ward-map")
    props = {f["properties"]["area_name"]: f["properties"] for f in layer["data"]["features"]}
    assert props["Allestree"]["value"] is None and props["Allestree"]["value_label"] == "no data"
    assert props["Allestree"]["fill"] == maps.NO_DATA_RGBA
    assert props["Arboretum"]["value_label"] == "28.9%"
    table = wards.ranking(values, {"unit": "%", "decimals": 1}).set_index("area_name")
    assert table.loc["Allestree", "label"] == "c" and pd.isna(table.loc["Allestree", "rank"])  # suppressed
    # DWP publishes child poverty (AHC) for the May 2023 wards only: on the 2003-2023 wards every
    # ward has no row, so each is "no data" on the map and in the table, never zero.
    none = wq.ward_values(con_full, "cilif_ahc", "2023-24", config.WARD_VINTAGE_PLAN)
    assert len(none) == 17 and none.value.isna().all() and none.status.isna().all()
    deck, _ = maps.ward_choropleth(wq.boundaries(con_full, config.WARD_VINTAGE_PLAN),
                                   dict(zip(none.area_code, none.value)), title="AHC", source="DWP", unit="%",
                                   vintage=config.WARD_VINTAGE_PLAN)
    feats = next(l for l in json.loads(deck.to_json())["layers"] if l["id"] == "ward-map")["data"]["features"]
    assert {f["properties"]["value_label"] for f in feats} == {"no data"}
    table = wards.ranking(none, {"unit": "%", "decimals": 1})
    assert set(table["label"]) == {"no data"} and table["rank"].isna().all()


def test_schools_query_returns_ward(con_full):
    s = sq.schools_with_ward(con_full, config.WARD_VINTAGE_CURRENT)
    assert s.urn.is_unique and s.ward_code.notna().sum() == len(s) - 1
    assert s.set_index("urn").loc[148567, "ward_name"] is None or pd.isna(s.set_index("urn").loc[148567, "ward_name"])
    arb = sq.schools_with_ward(con_full, config.WARD_VINTAGE_PLAN, "E05001770")
    assert len(arb) > 3 and set(arb.ward_name) == {"Arboretum"}
    with pytest.raises(ValueError):
        sq.schools_with_ward(con_full, "2019")


def test_page_school_layer(full_db):
    at = run_page(full_db, PAGE)
    assert [e.value for e in at.exception] == []
    assert len(at.get("deck_gl_json_chart")) == 1  # the ward map; the school map is drawn on request
    at.toggle(key="wards-schools-map-on").set_value(True).run()
    decks = [json.loads(d.proto.json) for d in at.get("deck_gl_json_chart")]
    layer = next(l for d in decks for l in d["layers"] if l["id"] == maps.SCHOOL_LAYER_ID)
    assert layer["@@type"] == "ScatterplotLayer" and len(layer["data"]) >= 140
    by_name = {r["school_name"]: r for r in layer["data"]}
    assert by_name["Lord Street Nursery School"]["pupils_label"] == "65 pupils"
    captions = "\n".join(c.value for c in at.caption)
    assert "by school location, not by where pupils live" in captions
    table = next(df.value for df in at.dataframe if "Ward (by school location)" in df.value.columns)
    assert len(table) == len(layer["data"]) and (table["Note"] == vocabulary.SCHOOL_CAPTION).all()


def test_fit_summary_names_wards_with_partial_coverage(con_full):
    from derby_oa.ingest import bestfit as wards_bestfit
    from derby_oa.queries import ward_fit as fq
    fit = fq.ward_fit(con_full, "idaci_rate_2019", "2019", config.WARD_VINTAGE_PLAN)
    assert len(fit) == 17 and fit.method.notna().all()
    text = wards_bestfit.fit_summary(fit)
    assert "Allestree 40%" in text and "Arboretum" not in text
    assert wards_bestfit.fit_summary(fq.ward_fit(con_full, "gld", "2015/16", config.WARD_VINTAGE_PLAN)) is None


def test_page_shows_best_fit_and_coverage(full_db):
    at = run_page(full_db, PAGE, {"vintage": config.WARD_VINTAGE_CURRENT, "indicator": "obesity_year6_3yr",
                                  "period": "2015/16-17/18"})
    assert [e.value for e in at.exception] == []
    captions = "\n".join(c.value for c in at.caption)
    assert "best-fit estimates" in captions and "Coverage: 100%" in captions
    table = next(df.value for df in at.dataframe if "Best-fit estimate" in df.value.columns)
    assert len(table) == 18 and set(table["Best-fit estimate"]) == {"yes"}


def test_publisher_suppressed_ward_cells_are_not_called_small_numbers(full_db):
    # NCMP reception obesity: MSOA cells the publisher suppressed leave these wards with `c`, not our <10 rule
    at = run_page(full_db, PAGE, {"vintage": config.WARD_VINTAGE_PLAN, "indicator": "obesity_reception_3yr",
                                  "period": "2015/16-17/18"})
    assert [e.value for e in at.exception] == []
    deck = at.get("deck_gl_json_chart")[0].proto.json
    assert "c (suppressed by the publisher)" in deck and "fewer than 10 children" not in deck


def test_an_officers_figure_over_a_best_fit_one_drops_its_fit_record(full_db, tmp_path):
    import duckdb
    import shutil
    from derby_oa.queries import ward_fit as fq
    copy = tmp_path / "copy.duckdb"
    shutil.copy(full_db, copy)
    con = duckdb.connect(str(copy))
    allestree = con.execute("SELECT area_code FROM areas WHERE area_name = 'Allestree' AND vintage = ?",
                            [config.WARD_VINTAGE_PLAN]).fetchone()[0]
    before = fq.ward_fit(con, "idaci_rate_2019", "2019", config.WARD_VINTAGE_PLAN).set_index("area_code")
    assert before.loc[allestree, "best_fit"] is not None and not pd.isna(before.loc[allestree, "method"])
    con.execute("""UPDATE observations SET source_id = 'upload:1', value = 12.5 WHERE indicator_id = 'idaci_rate_2019'
                   AND area_code = ? AND period = '2019'""", [allestree])
    after = fq.ward_fit(con, "idaci_rate_2019", "2019", config.WARD_VINTAGE_PLAN).set_index("area_code")
    assert pd.isna(after.loc[allestree, "method"])  # the officer's figure is not a best fit
    assert after.drop(index=allestree)["method"].notna().all()  # every other ward keeps its record

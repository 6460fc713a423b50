"""Priority pages under AppTest: chart data, gaps and breaks, ranks, significance, URL state, baseline cards."""
from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pytest

from apptest_support import run_page
from derby_oa.viz import charts
from derby_oa.analysis import comparisons
from derby_oa import config

PAGES = ["pages/early_years.py", "pages/schools.py", "pages/horizons.py", "pages/wellbeing.py"]


def chart_specs(at) -> list[dict]:
    """Each vega-lite chart's spec with its datasets decoded back into the spec (as `to_dict()` has them)."""
    out = []
    for el in at.get("vega_lite_chart"):
        spec = json.loads(el.proto.spec)
        spec["datasets"] = {d.name: pa.ipc.open_stream(d.data.data).read_all().to_pandas().to_dict("records")
                            for d in el.proto.datasets}
        out.append(spec)
    return out


def _layers(spec, inherited=None):
    """Leaf layers; each carries the data of its nearest parent that has some (as Vega-Lite inherits it)."""
    here = spec.get("data") or inherited
    for layer in spec.get("layer", []):
        if "layer" in layer:
            yield from _layers(layer, here)
        else:
            yield {**layer, "data": layer.get("data") or here} if here else layer


def point_data(spec) -> pd.DataFrame:
    frames = [pd.DataFrame(spec["datasets"][(lyr.get("data") or spec["data"])["name"]]) for lyr in _layers(spec)
              if (lyr["mark"]["type"] if isinstance(lyr["mark"], dict) else lyr["mark"]) == "point"]
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("db", ["full_db", "default_db"])
def test_every_page_renders(page, db, request):
    at = run_page(request.getfixturevalue(db), page)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title
    assert at.get("vega_lite_chart"), "every page draws at least one chart"
    # every chart has a caption and a data table with a CSV download beneath it
    assert len(at.caption) >= len(at.get("vega_lite_chart"))
    assert any(b.label == "Download CSV" for b in at.get("download_button"))


def test_gld_chart_numbers_and_no_line_across_the_gap(full_db):
    at = run_page(full_db, "pages/early_years.py")
    assert at.query_params["ind"] in ("gld", ["gld"])
    trend = chart_specs(at)[0]
    pts = point_data(trend)
    at16 = pts[pts["year"] == 2016].set_index("series")["value"]
    assert at16["Derby"] == 66.4 and at16["England"] == 69.3
    for years in charts.line_segments(trend):
        assert not (2019 in years and 2022 in years), years
    caption = next(c.value for c in at.caption if c.value.startswith("Good level of development"))
    assert "no data collected or published for 2019/20 and 2020/21" in caption
    assert "a new series starts in 2021/22 and is not joined to earlier years" in caption
    # the sentence above the chart is generated from the data
    assert any("Derby 64.6%, England 68.3% in 2024/25" in m.value for m in at.markdown)


def test_gld_gap_chart(full_db):
    at = run_page(full_db, "pages/early_years.py")
    gap = chart_specs(at)[1]
    pts = point_data(gap)
    latest = pts[pts["year"] == 2025].set_index("series")["value"]
    assert round(latest["Derby gap"], 1) == -18.3 and round(latest["England gap"], 1) == -21.2
    assert any("FSM pupils in Derby were 18.3 points below non-FSM pupils; in England, 21.2 points below"
               in c.value for c in at.caption)
    for years in charts.line_segments(gap):
        assert not (2019 in years and 2022 in years)


def test_rank_quartile_and_significance_by_year(full_db):
    at = run_page(full_db, "pages/early_years.py")
    years = next(df.value for df in at.table if "Rank among statistical neighbours (1 = best)" in df.value.columns)
    row = years.set_index("Period").loc["2015/16"]
    # hand-checked: Southampton 69.8, Sheffield 68.6, Kirklees 66.9 are above Derby's 66.4 among its May 2025
    # neighbours; 111 of the 152 LAs with a value are above Derby, so rank 112 and the third quartile (C)
    assert row["Rank among statistical neighbours (1 = best)"] == "4 of 11"
    assert row["Rank among local authorities"] == "112 of 152"
    assert row["Quartile among local authorities (A = best)"] == "C"
    assert row["Compared with England"] == "worse" and row["Derby 95% interval"] == "64.79 to 67.99"
    assert years.set_index("Period").loc["2018/19", "Compared with England"] == "similar"
    later = years.set_index("Period").loc["2024/25"]
    assert later["Compared with England"] == "cannot be judged" and later["How judged"] == "no counts published"


def test_positions_polarity_aware(con_full):
    # lower is better for absence: Derby's rank counts LAs with a *lower* rate above it
    pos = comparisons.positions_frame(con_full, "absence_unauth_primary", "all").set_index("year")
    vals = con_full.execute("""SELECT o.value FROM observations o JOIN areas a USING (area_code)
        WHERE indicator_id = 'absence_unauth_primary' AND breakdown = 'all' AND year = 2016 AND area_type = 'la'
        AND value IS NOT NULL""").df()["value"]
    derby = pos.loc[2016, "value"]
    assert pos.loc[2016, "la_rank"] == int((vals < derby).sum()) + 1
    assert pos.loc[2016, "la_of"] == len(vals)


def test_url_state_and_neighbours_on_demand(full_db):
    at = run_page(full_db, "pages/schools.py", {"ind": "ks2_rwm_expected", "bd": "disadvantaged", "sn": "each"})
    assert not at.exception and not at.info
    trend = chart_specs(at)[0]
    colour = next(lyr["encoding"]["color"]["scale"]["domain"] for lyr in _layers(trend) if "color" in lyr["encoding"])
    assert charts.CONTEXT_LABEL in colour
    pts = point_data(trend)
    assert {"Coventry", "Bolton"} <= set(pts["area"])
    assert pts[(pts["series"] == "Derby") & (pts["year"] == 2016)]["value"].tolist() == [35.0]
    # the DfE disadvantage gap (against other pupils) by default, then against all pupils through the URL-backed
    # radio; each is labelled with what it compares (issue 11, item 6)
    assert at.query_params["gapref"] in ("non_disadvantaged", ["non_disadvantaged"])
    assert any("the DfE disadvantage gap: disadvantaged against other pupils" in h.value for h in at.subheader)
    at.radio(key="schools-gapref-ks2_rwm_expected").set_value("all").run()
    assert at.query_params["gapref"] in ("all", ["all"])
    assert any("disadvantaged pupils against all pupils (not the DfE gap" in h.value for h in at.subheader)


def test_invalid_link_falls_back_with_notice(full_db):
    at = run_page(full_db, "pages/schools.py", {"ind": "no_such_indicator", "sn": "sideways"})
    assert not at.exception
    notices = " ".join(i.value for i in at.info).replace("\\", "")  # link text is shown escaped, as text
    assert "no_such_indicator" in notices and "sideways" in notices
    assert at.query_params["ind"] in ("ks2_rwm_expected", ["ks2_rwm_expected"])


def test_changing_indicator_drops_an_unavailable_group(full_db):
    at = run_page(full_db, "pages/schools.py", {"ind": "ks2_rwm_expected", "bd": "disadvantaged"})
    at.selectbox(key="schools-ind").set_value("absence_unauth_primary").run()
    assert not at.exception
    assert at.query_params["ind"] in ("absence_unauth_primary", ["absence_unauth_primary"])
    assert at.query_params.get("bd") in (None, "all", ["all"])


def test_baseline_cards_with_source(full_db, default_db):
    for db in (full_db, default_db):
        at = run_page(db, "pages/early_years.py")
        cards = " ".join(m.value for m in at.markdown)
        assert "Pupils with speech, language and communication needs" in cards
        assert "Derby **3.2%** · England **2.6%**" in cards and "date not stated in the plan" in cards
        assert "Derby **17%** · England **24%**" in cards
        assert "Early learning goal not achieved: health and self-care" in cards
        captions = " ".join(c.value for c in at.caption)
        assert "Derby Opportunity Area delivery plan" in captions and "Open Government Licence" in captions


def test_default_database_priority_page_numbers(default_db):
    at = run_page(default_db, "pages/early_years.py")
    pts = point_data(chart_specs(at)[0])
    assert pts[(pts["series"] == "Derby")]["value"].tolist() == [66.4]
    assert pts[(pts["series"] == "England")]["value"].tolist() == [69.3]


def test_comparison_frame_prefers_published_over_plan(con_full):
    frame = comparisons.comparison_frame(con_full, "mh_admissions_0_17", "all", neighbours="none")
    derby = frame[frame["area_code"] == config.DERBY].set_index("year")
    assert derby.index.is_unique
    assert round(derby.loc[2016, "value"], 2) == 59.86 and derby.loc[2016, "source_id"] == "dfe_lait"


def test_priority_page_presentation_mode(full_db):
    at = run_page(full_db, "pages/schools.py", {"present": "1"})
    assert not at.exception
    grids = [m.value for m in at.markdown if 'class="oa-grid oa-present"' in m.value]
    assert len(grids) == 1 and 'aria-label="Attainment 8"' in grids[0]
    # the at-a-glance table is left out on the shared screen; the in-depth section stays
    assert not [df for df in [*at.dataframe, *at.table] if "Rank among neighbours" in df.value.columns]
    # charts are static SVG pictures of the same specs on the shared screen (no chart library to load) ...
    assert not at.get("vega_lite_chart") and len(at.get("image")) >= 2
    captions = [img.proto.imgs[0].caption for img in at.get("image")]  # the picture's text (its alt text too)
    assert all(c for c in captions) and any("Derby against England" in c for c in captions)
    # ... and the interactive chart is one toggle away
    at.toggle(key=next(t.key for t in at.toggle if t.key.startswith("interactive-trend-"))).set_value(True).run()
    assert len(at.get("vega_lite_chart")) == 1


def test_positions_need_enough_areas():
    values = pd.DataFrame({"area_code": ["D", "X", "Y", "D", "A", "B", "C"], "year": [2013, 2013, 2013, 2016, 2016, 2016, 2016],
                           "period": ["2013"] * 3 + ["2016"] * 4, "value": [43.0, None, None, 60.0, 50.0, 70.0, 80.0]})
    # a handful of authorities is not "all local authorities": no quartile or England rank (issue 11, item 3)
    few = comparisons.positions_from(values, "D", ["A", "B"], "lower_is_better").set_index("year")
    assert pd.isna(few.loc[2016, "la_rank"]) and not isinstance(few.loc[2016, "quartile"], str)
    assert few.loc[2016, "sn_rank"] == 2
    pos = comparisons.positions_from(values, "D", ["A", "B"], "lower_is_better", min_las=4).set_index("year")
    assert pos.loc[2013, "sn_rank"] is None or pd.isna(pos.loc[2013, "sn_rank"])  # Derby alone: no rank
    assert pd.isna(pos.loc[2013, "la_rank"]) and not isinstance(pos.loc[2013, "quartile"], str)
    # 2016, lower is better: A 50 then Derby 60 among Derby, A and B; 2nd of 4 LAs; cut-offs 57.5, 65, 72.5 put
    # 60 in the second band -> quartile B
    assert (pos.loc[2016, "sn_rank"], pos.loc[2016, "sn_of"]) == (2, 3)
    assert (pos.loc[2016, "la_rank"], pos.loc[2016, "la_of"], pos.loc[2016, "quartile"]) == (2, 4, "B")

"""Chart specs: the data drawn, gaps at missing years and series breaks, one legend, period labels, exports."""
from __future__ import annotations

import pandas as pd
import pytest

from derby_oa.viz import charts
from derby_oa.analysis import comparisons
from derby_oa import queries


def _layers(spec, inherited=None):
    """Leaf layers; each carries the data of its nearest parent that has some (as Vega-Lite inherits it)."""
    here = spec.get("data") or inherited
    for layer in spec.get("layer", []):
        if "layer" in layer:
            yield from _layers(layer, here)
        else:
            yield {**layer, "data": layer.get("data") or here} if here else layer


def _mark(layer):
    m = layer.get("mark")
    return m.get("type") if isinstance(m, dict) else m


def _data(spec, layer):
    return pd.DataFrame(spec["datasets"][(layer.get("data") or spec["data"])["name"]])


@pytest.fixture
def gld(con_full):
    meta = queries.indicator(con_full, "gld")
    frame = comparisons.comparison_frame(con_full, "gld", "all")
    return meta, frame, charts.trend_chart(frame, meta).to_dict()


def test_gld_chart_data_values(gld):
    meta, frame, spec = gld
    points = next(lyr for lyr in _layers(spec) if _mark(lyr) == "point")
    data = _data(spec, points)
    at = data[data["year"] == 2016].set_index("series")["value"]
    assert at["Derby"] == 66.4 and at["England"] == 69.3
    assert data["period"][data["year"] == 2016].unique().tolist() == ["2015/16"]
    # missing years are not drawn at all
    assert not data["year"].isin([2020, 2021]).any()


def test_no_line_joins_2019_and_2022(gld):
    _, _, spec = gld
    segments = charts.line_segments(spec)
    assert segments, "the chart has line layers"
    for years in segments:
        assert not (2019 in years and 2022 in years)
        assert years == list(range(years[0], years[-1] + 1)), f"a line skips a year: {years}"
    # Derby has one segment up to 2018/19 and one from 2021/22
    line = next(lyr for lyr in _layers(spec) if _mark(lyr) == "line")
    derby = _data(spec, line).query("series == 'Derby'")
    assert sorted(derby.groupby("segment")["year"].agg(lambda y: (min(y), max(y))).tolist()) == [(2013, 2019),
                                                                                                   (2022, 2025)]


def test_gaps_are_labelled(gld):
    _, _, spec = gld
    texts = [_data(spec, lyr) for lyr in _layers(spec) if _mark(lyr) == "text"]
    labels = pd.concat(texts)
    band = labels[labels["label"] == "not collected"]
    assert (band["start"].iat[0], band["end"].iat[0]) == (2019.5, 2021.5)
    assert labels.loc[labels["label"] == "series break", "start"].tolist() == [2021.5]


def test_one_legend_with_shapes_and_period_axis(gld):
    _, _, spec = gld
    legends = []
    for lyr in _layers(spec):
        enc = lyr.get("encoding", {})
        for channel in ("color", "shape", "strokeDash"):
            if channel in enc and enc[channel].get("legend", {}) is not None:
                legends.append((channel, str(enc[channel].get("legend")), tuple(enc[channel]["scale"]["domain"])))
    # colour and shape carry the same legend (merged into one); dashes have none of their own
    assert {c for c, _, _ in legends} == {"color", "shape"}
    assert len({(lg, dom) for _, lg, dom in legends}) == 1
    domain = legends[0][2]
    assert domain[0] == "Derby" and "England" in domain
    shapes = next(lyr["encoding"]["shape"]["scale"]["range"] for lyr in _layers(spec)
                  if "shape" in lyr.get("encoding", {}))
    assert len(set(shapes)) == len(shapes), "every series has its own shape"
    axis = next(lyr["encoding"]["x"]["axis"] for lyr in _layers(spec) if "axis" in lyr.get("encoding", {}).get("x", {}))
    assert "'2016': '2015/16'" in axis["labelExpr"] and 2016 in axis["values"]


def test_each_neighbour_is_context_not_colour(con_full):
    meta = queries.indicator(con_full, "gld")
    frame = comparisons.comparison_frame(con_full, "gld", "all", neighbours="each")
    names = queries.group_members(con_full, "sn_2025")["area_name"].tolist()
    spec = charts.trend_chart(frame, meta, context=names).to_dict()
    colour = next(lyr["encoding"]["color"]["scale"] for lyr in _layers(spec) if "color" in lyr.get("encoding", {}))
    assert colour["domain"] == ["Derby", "England", "East Midlands", charts.CONTEXT_LABEL]
    assert len(set(colour["range"])) == 4
    # the neighbours keep their names for tooltips
    pts = [_data(spec, lyr) for lyr in _layers(spec) if _mark(lyr) == "point"]
    assert set(names) <= set(pd.concat(pts)["area"])


def test_gap_chart_zero_rule_and_segments(con_full):
    meta = queries.indicator(con_full, "gld")
    gaps = comparisons.gap_frame(con_full, "gld", "fsm", "non_fsm")
    derby = gaps[gaps["series"] == "Derby gap"].set_index("year")["value"]
    assert round(derby[2025], 1) == -18.3 and round(derby[2016], 1) == -13.5
    spec = charts.gap_chart(gaps[["series", "year", "period", "value"]], meta).to_dict()
    rules = [_data(spec, lyr) for lyr in _layers(spec) if _mark(lyr) == "rule" and "y" in lyr.get("encoding", {})]
    assert rules and rules[0]["y"].tolist() == [0]
    assert all(not (2019 in s and 2022 in s) for s in charts.line_segments(spec))


def test_exports_and_ranked_bar_compatibility(gld):
    meta, frame, _ = gld
    chart = charts.trend_chart(frame, meta)
    assert charts.export_image(chart, "png")[:8] == b"\x89PNG\r\n\x1a\n"
    svg = charts.export_image(chart, "svg").decode()
    assert svg.lstrip().startswith("<svg") and "2015/16" in svg and "not collected" in svg
    with pytest.raises(ValueError):
        charts.export_image(chart, "gif")
    bars = charts.ranked_bar_chart(pd.DataFrame({"area_name": ["A", "B"], "value": [1.0, None]}), meta,
                                   reference=0.5).to_dict()
    assert bars["layer"]


def test_segment_series_breaks_lines():
    df = pd.DataFrame({"series": ["A"] * 6, "year": [2016, 2017, 2018, 2019, 2022, 2023],
                       "value": [1.0, None, 2.0, 3.0, 4.0, 5.0]})
    seg = charts.segment_series(df, breaks=[2023])
    assert seg["segment"].tolist() == ["A|1", "A|", "A|2", "A|2", "A|3", "A|4"]

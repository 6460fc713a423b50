"""Tile trend lines: the Vega-Lite spec (both series, breaks as separate lines, latest point marked) and the tiles."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from derby_oa import config, queries
from derby_oa.analysis import headlines
from derby_oa.viz import sparklines
from derby_oa.queries import overview as overview_queries


def _frame(rows):
    return pd.DataFrame(rows, columns=["series", "year", "period", "value"])


META = {"decimals": 1, "unit": "%", "series_breaks": [2022]}


def _layer(spec, name):
    return next(layer for layer in spec["layer"] if layer.get("name") == name)


def test_break_makes_separate_segments_and_latest_points_are_marked():
    rows = []
    for y, d, e in [(2017, 68.0, 70.7), (2018, 69.0, 71.5), (2019, 70.7, 71.8), (2020, np.nan, np.nan),
                    (2022, 61.0, 65.2), (2023, 63.2, 67.2), (2024, 64.6, 68.3)]:
        rows += [("Derby", y, f"{y - 1}/{y % 100:02d}", d), ("England", y, f"{y - 1}/{y % 100:02d}", e)]
    spec = sparklines.spec(_frame(rows), META)
    assert sparklines.segments(spec, "Derby") == [[2017, 2018, 2019], [2022, 2023, 2024]]
    assert sparklines.segments(spec, "England") == [[2017, 2018, 2019], [2022, 2023, 2024]]
    lines = _layer(spec, "lines")
    assert lines["encoding"]["detail"]["field"] == "segment"
    assert {r["series"] for r in lines["data"]["values"]} == {"Derby", "England"}
    latest = _layer(spec, "latest")["data"]["values"]
    assert sorted((r["series"], r["year"], r["value"]) for r in latest) == [("Derby", 2024, 64.6),
                                                                            ("England", 2024, 68.3)]
    rule = _layer(spec, "series_break")["data"]["values"]
    assert rule == [{"year": 2021.5}]
    # told apart by dash and shape as well as colour
    assert lines["encoding"]["strokeDash"]["scale"]["range"] == [[1, 0], [5, 3]]
    assert _layer(spec, "latest")["encoding"]["shape"]["scale"]["range"] == ["circle", "square"]
    labels = [r["label"] for r in _layer(spec, "period_labels")["data"]["values"]]
    assert labels == ["2016/17", "2023/24"]


def test_a_missing_year_ends_the_line_and_one_year_gives_no_line():
    rows = [("Derby", 2016, "2016", 5.0), ("Derby", 2017, "2017", 6.0), ("Derby", 2019, "2019", 7.0),
            ("Derby", 2020, "2020", 7.5)]
    spec = sparklines.spec(_frame(rows), {"decimals": 1, "unit": "%"})
    assert sparklines.segments(spec, "Derby") == [[2016, 2017], [2019, 2020]]
    assert sparklines.segments(spec, "England") == []
    assert sparklines.spec(_frame([("Derby", 2016, "2016", 5.0), ("England", 2016, "2016", 6.0)]),
                           {"decimals": 1}) is None


def test_gld_line_on_the_real_data(con_full):
    meta = queries.indicator(con_full, "gld")
    obs = overview_queries.observations_for(con_full, [("gld", "all")], [config.DERBY, config.ENGLAND])
    frame = sparklines.trend_frame(obs, "gld", "all", int(meta["decimals"]))
    spec = sparklines.spec(frame, meta)
    derby = sparklines.segments(spec, "Derby")
    assert derby[-1] == [2022, 2023, 2024, 2025]  # the reformed profile is its own line
    assert all(2022 not in seg for seg in derby[:-1])
    latest = {r["series"]: r["value"] for r in _layer(spec, "latest")["data"]["values"]}
    assert latest == {"Derby": 64.6, "England": 68.3}
    words = sparklines.alt_text(frame, meta, "Good level of development")
    assert "Derby" in words and "64.6% in 2024/25" in words and "68.3% in 2024/25" in words
    assert "new series from 2021/22 (not joined)" in words
    svg = sparklines.to_svg(spec)
    assert svg.startswith("<svg") and "2024/25" in svg


def test_every_tile_has_a_line_in_the_grid(full_db):
    from apptest_support import run_page

    at = run_page(full_db, "pages/overview.py")
    grid = next(m.value for m in at.markdown if 'class="oa-grid' in m.value)
    tiles = re.findall(r'<div class="oa-tile" role="group".*?(?=<div class="oa-tile|$)', grid, flags=re.S)
    assert len(tiles) == len(headlines.HEADLINES)
    for tile in tiles:
        assert '<div class="oa-line"><img src="data:image/svg+xml;base64,' in tile
        assert re.search(r'alt="Trend in [^"]+: Derby ', tile)

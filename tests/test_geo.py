"""Geography: LSOA -> ward lookups, ward aggregates, simplified boundaries, hex layout, map builders."""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest
import shapely

from derby_oa import config, formatting
from derby_oa.viz import geometry, maps
from derby_oa.ingest import Context, boundaries, boundaries_2023, iod, reference

PLAN, CURRENT = config.WARD_VINTAGE_PLAN, config.WARD_VINTAGE_CURRENT
FILE6 = "iod2019/File_6_-_IoD2019_Population_Denominators.csv.gz"


@pytest.fixture(scope="module")
def ctx():
    return Context(reference.areas(), reference.indicators(), reference.source_codes())


@pytest.fixture(scope="module")
def iod_bundle(raw, ctx):
    return iod.load({name: raw(name) for name in iod.FILES}, ctx)


@pytest.fixture(scope="module")
def bounds(raw, ctx):
    frames = [adapter.load({name: raw(name) for name in adapter.FILES}, ctx).boundaries
              for adapter in boundaries.ADAPTERS]
    return pd.concat(frames, ignore_index=True)


def wards_in_areas(ctx, vintage):
    a = ctx.areas
    return set(a.loc[(a.area_type == "ward") & (a.vintage == vintage), "area_code"])


def obs_value(obs, indicator, area):
    row = obs[(obs.indicator_id == indicator) & (obs.area_code == area)]
    assert len(row) == 1, (indicator, area)
    return row.iloc[0]


def derby_file6(raw) -> pd.DataFrame:
    """Derby's LSOA populations read straight from File 6, independently of the adapter."""
    df = pd.read_csv(raw(FILE6), thousands=",", encoding="utf-8-sig")
    return df[df["Local Authority District code (2019)"] == config.DERBY]


# --- adapters -------------------------------------------------------------------------------------

def test_adapter_protocol():
    assert iod.SOURCE_ID == "mhclg_iod2019" and len(iod.FILES) == 6
    assert boundaries.SOURCE_ID == boundaries.PLAN_PERIOD.SOURCE_ID == "ons_boundaries_2003_2023"
    assert boundaries_2023.SOURCE_ID == boundaries.CURRENT.SOURCE_ID == "ons_boundaries_2023"
    assert boundaries.FILES == ("uk_geojson/wards_by_lad/E06000015.json", "uk_geojson/lsoa_by_lad/E06000015.json")
    assert boundaries_2023.FILES == ("geo_lookups/ward/E06000015.geojson",)


@pytest.mark.parametrize("vintage,n", [(PLAN, 17), (CURRENT, 18)])
def test_ward_codes_match_lookup_and_areas(ctx, iod_bundle, bounds, vintage, n):
    expected = wards_in_areas(ctx, vintage)
    assert len(expected) == n
    in_bounds = set(bounds.loc[(bounds.layer == "ward") & (bounds.vintage == vintage), "area_code"])
    lw = iod_bundle.lsoa_ward
    in_lookup = set(lw.loc[lw.vintage == vintage, "ward_code"])
    assert in_bounds == expected
    assert in_lookup == expected
    # ward figures exist for every ward
    obs = iod_bundle.observations
    assert set(obs.loc[obs.indicator_id == "imd_decile", "area_code"]) >= expected


def test_boundary_layers_and_validity(bounds):
    counts = bounds.groupby(["layer", "vintage"]).size().to_dict()
    assert counts == {("ward", PLAN): 17, ("ward", CURRENT): 18, ("lsoa", "2011"): 151}
    assert list(bounds.columns) == boundaries.BOUNDARY_COLUMNS
    assert not bounds.duplicated(["area_code", "vintage"]).any()
    for (layer, vintage), part in bounds.groupby(["layer", "vintage"]):
        geoms = shapely.from_wkb(part.geometry_wkb.to_numpy())
        assert shapely.is_valid(geoms).all(), (layer, vintage)
        assert not shapely.is_empty(geoms).any()
        assert set(shapely.get_type_id(geoms)) <= {3, 6}  # Polygon, MultiPolygon
        # shared borders stay identical after simplification: still a gap- and overlap-free coverage
        assert shapely.coverage_is_valid(geoms), (layer, vintage)
        x0, y0, x1, y1 = shapely.total_bounds(geoms)
        assert -1.6 < x0 < x1 < -1.35 and 52.85 < y0 < y1 < 52.98  # WGS84 lon/lat around Derby
        coords = shapely.get_coordinates(geoms)
        assert (abs(coords * 1e5 - (coords * 1e5).round()) < 1e-6).all()  # 5 decimal places


def test_simplification_reduces_but_keeps_shape(raw):
    src = boundaries.read_layer(raw("uk_geojson/lsoa_by_lad/E06000015.json"), boundaries.PLAN_PERIOD.layers[1])
    before = boundaries.clean(src.geometry.values)
    after = boundaries.simplify_coverage(src.geometry.values)
    assert shapely.get_num_coordinates(after).sum() < shapely.get_num_coordinates(before).sum()
    # total area changes by well under 1%
    assert abs(shapely.area(after).sum() / shapely.area(before).sum() - 1) < 0.01


def test_every_lsoa_in_exactly_one_ward_per_vintage(raw, iod_bundle):
    derby = set(derby_file6(raw)["LSOA code (2011)"])
    assert len(derby) == 151
    lw = iod_bundle.lsoa_ward
    assert list(lw.columns) == ["lsoa_code", "ward_code", "vintage", "method"]
    for vintage, method in ((PLAN, iod.LOOKUP_METHOD), (CURRENT, iod.PIP_METHOD)):
        part = lw[lw.vintage == vintage]
        assert set(part.lsoa_code) == derby
        assert not part.lsoa_code.duplicated().any()
        assert set(part.method) == {method}
    assert ((lw.vintage == PLAN) & (lw.ward_code == "E05001770")).any()  # Arboretum
    assert lw[lw.vintage == CURRENT].groupby("ward_code").size().sum() == 151


def test_ward_populations_add_up(raw, iod_bundle):
    f6 = derby_file6(raw)
    total = f6["Total population: mid 2015 (excluding prisoners)"].sum()
    kids = f6["Dependent Children aged 0-15: mid 2015 (excluding prisoners)"].sum()
    obs = iod_bundle.observations
    assert obs_value(obs, "population_total", config.DERBY).value == total
    assert obs_value(obs, "population_0_15", config.DERBY).value == kids
    assert obs_value(obs, "population_total", config.DERBY).period == "mid-2015"
    for prefix, n in (("E050017", 17), ("E050155", 18)):
        for ind, expected in (("population_total", total), ("population_0_15", kids)):
            part = obs[(obs.indicator_id == ind) & obs.area_code.str.startswith(prefix)]
            assert len(part) == n
            assert part.value.sum() == expected


def test_ward_imd_is_population_weighted(raw, iod_bundle):
    f1 = pd.read_csv(raw(iod.FILES[0]), thousands=",", encoding="utf-8-sig")
    f6 = derby_file6(raw)
    lw = iod_bundle.lsoa_ward
    members = lw[(lw.vintage == PLAN) & (lw.ward_code == "E05001770")].lsoa_code
    d = f1.merge(f6, on="LSOA code (2011)")
    d = d[d["LSOA code (2011)"].isin(members)]
    w = d["Total population: mid 2015 (excluding prisoners)"]
    rank = (d["Index of Multiple Deprivation (IMD) Rank"] * w).sum() / w.sum()
    obs = iod_bundle.observations
    assert obs_value(obs, "imd_rank", "E05001770").value == pytest.approx(rank, abs=1e-3)
    share = obs_value(obs, "imd_most_deprived_decile_share", "E05001770")
    n1 = (d["Index of Multiple Deprivation (IMD) Decile"] == 1).sum()
    assert (share.numerator, share.denominator) == (n1, len(d))
    assert share.value == pytest.approx(100 * n1 / len(d))
    derby = obs_value(obs, "imd_most_deprived_decile_share", config.DERBY)
    assert derby.denominator == 151 and 0 < derby.numerator < 151


def test_england_lsoas_in_areas_and_observations(ctx, iod_bundle):
    areas, obs = iod_bundle.areas, iod_bundle.observations
    assert len(areas) == 32_844 and set(areas.area_type) == {"lsoa"} and set(areas.vintage) == {"2011"}
    assert not areas.area_code.duplicated().any()
    derby = areas[areas.area_name.str.startswith("Derby ")]
    assert len(derby) == 151 and derby.parent_code.isin(wards_in_areas(ctx, PLAN)).all()
    assert (areas.parent_code == "E06000016").sum() > 0  # Leicester LSOAs -> their LA
    assert areas.parent_code.isin(set(ctx.areas.area_code) | {""}).all()
    for ind in ("imd_rank", "imd_decile"):
        assert obs[(obs.indicator_id == ind) & obs.area_code.str.startswith("E01")].shape[0] == 32_844
    assert set(obs.source_id) == {"mhclg_iod2019"} and set(obs.status) == {"published"}
    assert set(obs.indicator_id) <= set(ctx.indicators.indicator_id)
    assert not obs.duplicated(["indicator_id", "area_code", "period", "breakdown"]).any()


# --- browser payloads -----------------------------------------------------------------------------

def test_ward_geojson_under_150kb(bounds):
    values = {c: 12.345 for c in bounds.area_code}
    for vintage in (PLAN, CURRENT):
        fc = geometry.boundaries_to_geojson(bounds, values, layer="ward", vintage=vintage)
        size = len(json.dumps(fc, separators=(",", ":")).encode())
        assert size < 150_000, (vintage, size)
    fc = geometry.boundaries_to_geojson(bounds, values, layer="ward", vintage=PLAN)
    assert len(fc["features"]) == 17
    assert {"area_code", "area_name", "value", "value_label"} <= set(fc["features"][0]["properties"])


def test_hex_layout(ctx):
    layout = pd.read_csv(config.GEO_DIR / "hex_layout.csv")
    assert list(layout.columns) == ["area_code", "area_name", "col", "row"]
    assert len(layout) == 17
    assert not layout.duplicated(["col", "row"]).any()
    assert set(layout.area_code) == wards_in_areas(ctx, PLAN)
    names = ctx.areas.set_index("area_code").area_name
    assert (layout.area_name == layout.area_code.map(names)).all()
    cells = set(zip(layout.col, layout.row))
    assert geometry._connected(cells)
    rings = geometry.hex_polygons(layout)
    assert len(rings) == 17 and all(len(r) == 7 and r[0] == r[-1] for r in rings)
    tiles = [shapely.Polygon(r) for r in rings]
    assert all(t.is_valid for t in tiles)
    assert not any(a.intersection(b).area > 1e-12 for i, a in enumerate(tiles) for b in tiles[i + 1:])
    x0, y0, x1, y1 = shapely.total_bounds(tiles)  # lon/lat-like, around Derby
    assert x0 < geometry.DERBY_CENTRE[0] < x1 and y0 < geometry.DERBY_CENTRE[1] < y1


def test_hex_layout_roughly_geographic(bounds):
    layout = pd.read_csv(config.GEO_DIR / "hex_layout.csv").set_index("area_name")
    # north above south, west left of east
    assert layout.loc["Allestree", "row"] < layout.loc["Chellaston", "row"]
    assert layout.loc["Mickleover", "col"] < layout.loc["Spondon", "col"]


def _ward_values(iod_bundle):
    obs = iod_bundle.observations
    s = obs[(obs.indicator_id == "imd_most_deprived_decile_share") & obs.area_code.str.startswith("E050017")]
    return s.set_index("area_code").value.to_dict()


def test_ward_choropleth_deck(bounds, iod_bundle):
    values = _ward_values(iod_bundle)
    zero_ward = next(c for c, v in values.items() if v == 0)
    values["E05001775"] = None  # Darley: no data
    deck, legend = maps.ward_choropleth(bounds, values, title="LSOAs in most deprived 10%", source="MHCLG IoD 2019",
                                        unit="%", decimals=0, vintage=PLAN)
    text = deck.to_json()
    spec = json.loads(text)
    assert spec.get("mapProvider") is None and spec.get("mapStyle") == "__MAP_STYLE__"  # Streamlit: no basemap
    assert "mapbox" not in text and "carto" not in text and "http" not in text
    layer = next(layer for layer in spec["layers"] if layer["id"] == "ward-map")
    assert layer["pickable"] is True
    features = layer["data"]["features"]
    assert len(features) == 17
    props = {f["properties"]["area_code"]: f["properties"] for f in features}
    darley, zero = props["E05001775"], props[zero_ward]
    assert darley["value"] is None and darley["value_label"] == "no data"
    assert darley["fill"] == maps.NO_DATA_RGBA
    assert zero["value_label"] == "0%" and zero["fill"] != darley["fill"]
    assert darley["line_w"] > zero["line_w"]
    assert any(layer["id"] == "ward-map-no-data-hatch" for layer in spec["layers"])
    assert legend[-1] == ("No data", maps.NO_DATA_RGBA)
    assert 2 <= len(legend) - 1 <= 5
    assert all(isinstance(lbl, str) and len(c) == 4 for lbl, c in legend)
    assert {tuple(c) for _, c in legend[:-1]} <= {tuple(maps.rgba(h)) for h in maps.SEQUENTIAL_HEX}
    html = deck._tooltip["html"]
    assert "{area_name}" in html and "{value_label}" in html and "{rank_label}" in html and "MHCLG" in html
    assert props["E05001770"]["rank_label"].startswith("Rank 1 of 16")  # Arboretum, highest share
    assert len(text.encode()) < 150_000


def test_lsoa_and_hex_maps(bounds, iod_bundle):
    obs = iod_bundle.observations
    lsoas = set(bounds.loc[bounds.layer == "lsoa", "area_code"])
    deciles = obs[(obs.indicator_id == "imd_decile") & obs.area_code.isin(lsoas)].set_index("area_code").value.to_dict()
    assert len(deciles) == 151
    deck, legend = maps.lsoa_decile_map(bounds, deciles, ward_outlines=bounds, ward_vintage=PLAN)
    spec = json.loads(deck.to_json())
    assert [layer["id"] for layer in spec["layers"]] == ["lsoa-map", "lsoa-map-wards"]
    assert len(spec["layers"][0]["data"]["features"]) == 151
    assert len(legend) == 6 and legend[0][1] == maps.rgba("#12436D")

    layout = pd.read_csv(config.GEO_DIR / "hex_layout.csv")
    values = _ward_values(iod_bundle)
    values.pop("E05001783")  # Spondon missing
    deck, legend = maps.hex_map(layout, values, title="Share", source="MHCLG", unit="%", decimals=0)
    spec = json.loads(deck.to_json())
    assert spec.get("mapProvider") is None
    tiles = next(layer for layer in spec["layers"] if layer["id"] == "ward-hex")["data"]
    assert len(tiles) == 17
    spondon = next(t for t in tiles if t["area_code"] == "E05001783")
    assert spondon["value_label"] == "no data" and spondon["fill"] == maps.NO_DATA_RGBA


def test_class_bounds_and_labels():
    assert maps.class_bounds([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) == [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10)]
    assert maps.class_bounds([None, float("nan")]) == []
    assert maps.class_bounds([3, 3, 3]) == [(3, 3)]
    bounds = maps.class_bounds([0, 0, 0, 5, 10])
    assert maps.class_index(0, bounds) == 0 and maps.class_index(None, bounds) is None
    assert formatting.with_unit_words(float("nan")) == "no data"
    assert formatting.with_unit_words(12345, 0, "count") == "12,345"
    ranks = maps.rank_labels({"a": 1.0, "b": 3.0, "c": None})
    assert ranks["b"].startswith("Rank 1 of 2") and "no data" in ranks["c"]
    view = geometry.fit_view((-1.56, 52.86, -1.38, 52.97))
    assert 10 < view["zoom"] < 13 and math.isclose(view["longitude"], -1.47)

"""Ward map classes and colours (one direction for "worse", classes that never overlap) and the hex
layouts of both ward geographies."""
from __future__ import annotations

import json

import pandas as pd
import pytest
import shapely

from derby_oa import config, vocabulary
from derby_oa.viz import geometry, maps
from derby_oa.queries import wards as wq

PLAN, CURRENT = config.WARD_VINTAGE_PLAN, config.WARD_VINTAGE_CURRENT
DARKEST, LIGHTEST = maps.rgba(maps.SEQUENTIAL_HEX[0]), maps.rgba(maps.SEQUENTIAL_HEX[-1])
INDICATORS = pd.read_csv(config.DATA_DIR / "indicators.csv").set_index("indicator_id")


def meta_of(indicator_id: str) -> dict:
    return INDICATORS.loc[indicator_id].to_dict()


def layer(deck, layer_id: str) -> dict:
    return next(x for x in json.loads(deck.to_json())["layers"] if x["id"] == layer_id)


# --- classes --------------------------------------------------------------------------------------

@pytest.mark.parametrize("values,decimals", [
    ([1.12, 2.66, 2.71, 3.1, 2.7, 4, 5, 5, 5, 6], 1),
    ([47.2, 85.8], 1),
    ([2.7, 2.7, 2.7, 3.1], 1),
    ([0, 0, 0, 5, 10, None, float("nan")], 0),
    ([i / 7 for i in range(17)], 1),
    ([9.0, 9.0, 9.0], 1),
])
def test_classes_never_overlap_and_never_outnumber_the_values(values, decimals):
    bounds = maps.class_bounds(values, decimals=decimals)
    shown = {round(v, decimals) for v in values if v == v and v is not None}
    assert 1 <= len(bounds) <= min(maps.N_CLASSES, len(shown))
    for (lo, hi), (next_lo, _) in zip(bounds, bounds[1:]):
        assert lo <= hi < next_lo  # strictly apart: no value belongs to two classes
    assert {lo for lo, _ in bounds} | {hi for _, hi in bounds} <= shown  # breaks at values in the data
    for v in shown:  # every value falls in exactly the class whose range holds it
        k = maps.class_index(v, bounds, decimals)
        assert bounds[k][0] <= v <= bounds[k][1]
    labels = [label for label, _ in maps.legend_entries(bounds, maps.class_colours(len(bounds)), decimals)][:-1]
    assert len(set(labels)) == len(labels)


def test_class_labels_as_printed():
    bounds = maps.class_bounds([1.12, 2.66, 2.71, 3.1, 2.7, 4, 5, 5, 5, 6])
    legend = maps.legend_entries(bounds, maps.class_colours(len(bounds)), 1)
    assert [label for label, _ in legend] == ["1.1 to 2.7", "3.1 to 4.0", "5.0", "6.0", "No data"]
    two = maps.class_bounds([47.2, 85.8, None])  # two values: two classes, not five
    assert [label for label, _ in maps.legend_entries(two, maps.class_colours(2), 1, "%")] == ["47.2%", "85.8%", "No data"]
    assert maps.class_bounds([]) == [] and maps.class_index(3.0, []) is None


def test_worse_end_from_polarity_and_definition():
    assert vocabulary.worse_end(meta_of("gld")) == "low"
    assert vocabulary.worse_end(meta_of("imd_most_deprived_decile_share")) == "high"
    for ind in ("imd_decile", "imd_rank", "iod_income_decile", "iod_living_env_decile"):
        assert vocabulary.worse_end(meta_of(ind)) == "low", ind  # "1 = most deprived"
    assert vocabulary.worse_end(meta_of("population_0_15")) is None
    assert maps.dark_is_low(meta_of("imd_decile")) and not maps.dark_is_low(meta_of("imd_most_deprived_decile_share"))
    assert maps.direction_note(meta_of("imd_decile")) == "Darker = worse (lower values)"
    assert "neither end" in maps.direction_note(meta_of("population_total"))


# --- one direction on every map -------------------------------------------------------------------

def test_dark_means_worse_on_ward_lsoa_and_hex_maps(con_full):
    """The ward IMD decile map and the LSOA decile map both draw the most deprived darkest."""
    bounds = wq.boundaries(con_full, PLAN)
    deciles = wq.ward_values(con_full, "imd_decile", "2019", PLAN).set_index("area_code")["value"].to_dict()
    meta = meta_of("imd_decile")
    deck, legend = maps.ward_choropleth(bounds, deciles, title="IMD decile", source="MHCLG", unit="score",
                                        decimals=1, vintage=PLAN, dark_low=maps.dark_is_low(meta))
    props = {f["properties"]["area_code"]: f["properties"] for f in layer(deck, "ward-map")["data"]["features"]}
    most, least = min(deciles, key=deciles.get), max(deciles, key=deciles.get)
    assert props[most]["fill"] == DARKEST and props[least]["fill"] == LIGHTEST
    assert legend[0][1] == DARKEST  # lowest class first, darkest
    assert len(legend) - 1 == 5

    lsoas = wq.lsoas_of_ward(con_full, "E05001770", PLAN).assign(layer="lsoa", vintage="2011")
    deck, legend = maps.lsoa_decile_map(lsoas, dict(zip(lsoas["area_code"], lsoas["imd_decile"])))
    feats = layer(deck, "lsoa-map")["data"]["features"]
    decile1 = [f["properties"]["fill"] for f in feats if f["properties"]["value"] == 1]
    assert decile1 and all(c == DARKEST for c in decile1)
    # Arboretum's 10 LSOAs are all in deciles 1-2: the legend has that one band (and no data), not five
    assert len(legend) - 1 == len({tuple(f["properties"]["fill"]) for f in feats}) == 1

    layout = pd.read_csv(config.GEO_DIR / "hex_layout.csv")
    share = wq.ward_values(con_full, "imd_most_deprived_decile_share", "2019", PLAN).set_index("area_code")["value"]
    deck, _ = maps.hex_map(layout, share.to_dict(), title="Share", source="MHCLG", unit="%", decimals=0,
                           dark_low=maps.dark_is_low(meta_of("imd_most_deprived_decile_share")))
    tiles = {t["area_code"]: t for t in layer(deck, "ward-hex")["data"]}
    assert tiles[share.idxmax()]["fill"] == DARKEST  # Arboretum, 90% of LSOAs in the most deprived 10%


def test_two_values_two_classes_worse_dark(con_full):
    """The plan's GLD for two wards: two classes; the lower GLD (worse) is dark; the rest no data."""
    bounds = wq.boundaries(con_full, PLAN)
    gld = wq.ward_values(con_full, "gld", "2015/16", PLAN).set_index("area_code")["value"].to_dict()
    deck, legend = maps.ward_choropleth(bounds, gld, title="GLD", source="DfE", unit="%", decimals=1,
                                        vintage=PLAN, dark_low=maps.dark_is_low(meta_of("gld")))
    props = {f["properties"]["area_name"]: f["properties"] for f in layer(deck, "ward-map")["data"]["features"]}
    assert [label for label, _ in legend] == ["47.2%", "85.8%", "No data"]
    assert props["Arboretum"]["fill"] == DARKEST and props["Allestree"]["fill"] != DARKEST
    assert props["Darley"]["fill"] == maps.NO_DATA_RGBA and props["Darley"]["value_label"] == "no data"


# --- hex layouts ----------------------------------------------------------------------------------

@pytest.mark.parametrize("vintage,file,n", [(PLAN, "hex_layout.csv", 17), (CURRENT, "hex_layout_2023.csv", 18)])
def test_hex_layouts_cover_the_wards_and_keep_neighbours(con_full, vintage, file, n):
    layout = pd.read_csv(config.GEO_DIR / file)
    wards = wq.ward_list(con_full, vintage)
    assert len(layout) == n and set(zip(layout["area_code"], layout["area_name"])) == set(
        zip(wards["area_code"], wards["area_name"]))
    cells = set(zip(layout["col"], layout["row"]))
    assert len(cells) == n and geometry._connected(cells)
    b = wq.boundaries(con_full, vintage)
    real = geometry.touching_pairs(b["area_code"], shapely.from_wkb(b["geometry_wkb"].to_numpy()))
    tiles = geometry.tile_neighbour_pairs(layout)
    kept = len(tiles & real)
    if vintage == CURRENT:  # documented in geo/README.md
        assert (kept, len(tiles), len(real)) == (35, 36, 38)
    else:
        assert kept >= 29
    rows = layout.set_index("area_name")["row"]
    assert rows["Allestree"] < rows["Arboretum"] < rows["Blagreaves"]


def test_refine_adjacency_only_improves():
    layout = pd.DataFrame({"area_code": list("abc"), "area_name": list("ABC"), "col": [0, 1, 2], "row": [0, 0, 0]})
    pairs = {("a", "c"), ("b", "c")}  # a touches c, not b
    before = geometry.adjacency_score(layout, pairs)
    after = geometry.refine_adjacency(layout, pairs)
    assert geometry.adjacency_score(after, pairs) > before
    assert geometry.adjacency_score(after, pairs) == 2 and geometry.tile_neighbour_pairs(after) == pairs
    assert geometry._connected(set(zip(after["col"], after["row"]))) and after["row"].min() == 0

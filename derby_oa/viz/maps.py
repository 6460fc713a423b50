"""Pure pydeck map builders: ward choropleth, LSOA decile map and ward hex-tile map.

Every builder returns `(deck, legend)`. The deck is `pdk.Deck(..., map_provider=None)`, with no
basemap and no external requests. The legend is a list of `(label, [r, g, b, a])` for the page to
show as HTML. Classes use the GOV.UK Analysis Function sequential blues (#12436D dark blue,
#2073BC mid blue, #6BACE6 light blue) plus two lighter tints of the light blue: at most 5 classes,
never more than the distinct values shown, never overlapping (`class_bounds`). Dark always means
worse (`worse_end`, from the indicator's polarity or "1 = most deprived"). Features with no data are drawn grey (#B1B4B6) with a thick dark outline and diagonal
hatching. Their `value_label` is "no data", so a missing value never gets the colour of zero.
Tooltips show the area name, the value, its rank among the areas shown, and the source.
"""
from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pydeck as pdk
import shapely
from pydeck.bindings.json_tools import default_serialize

from derby_oa import formatting
from derby_oa.viz import geometry
from derby_oa.vocabulary import NO_DATA_LABEL, SCHOOL_CAPTION, worse_end

SEQUENTIAL_HEX = ("#12436D", "#2073BC", "#6BACE6", "#A6CDF0", "#DAEAF9")  # dark -> light
NO_DATA_HEX = "#B1B4B6"
OUTLINE_HEX = "#505A5F"
NO_DATA_OUTLINE_HEX = "#0B0C0C"
N_CLASSES = 5
TOOLTIP_STYLE = {"backgroundColor": "#0B0C0C", "color": "#FFFFFF", "fontSize": "14px", "padding": "8px"}


def rgba(hex_colour: str, alpha: int = 255) -> list[int]:
    """`#RRGGBB` -> [r, g, b, alpha]."""
    h = hex_colour.lstrip("#")
    return [int(h[i:i + 2], 16) for i in (0, 2, 4)] + [alpha]


NO_DATA_RGBA = rgba(NO_DATA_HEX)
OUTLINE_RGBA = rgba(OUTLINE_HEX)
NO_DATA_OUTLINE_RGBA = rgba(NO_DATA_OUTLINE_HEX)


def _missing(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _clean_values(values: Mapping[str, float | None], codes: Sequence[str]) -> dict[str, float | None]:
    return {c: (None if _missing(values.get(c)) else float(values.get(c))) for c in codes}


def _rounded(values: Sequence, decimals: int) -> list[float]:
    return [round(float(v), decimals) for v in values if not _missing(v)]


def class_bounds(values: Sequence[float | None], k: int = N_CLASSES, decimals: int = 1) -> list[tuple[float, float]]:
    """Ascending classes as (lowest, highest) member value, from the non-missing values rounded to
    the `decimals` shown.

    Quantile by rank: a value goes to class floor(k * (number of values below it) / n), so tied
    values always share a class, and classes that would be empty are dropped. Hence there are at
    most min(k, distinct values) classes, each class starts and ends at a value present in the
    data, and one class's highest value is strictly below the next class's lowest: the ranges never
    overlap, even as printed.
    """
    vals = sorted(_rounded(values, decimals))
    n = len(vals)
    groups: dict[int, list[float]] = {}
    for v in sorted(set(vals)):
        below = sum(1 for x in vals if x < v)
        groups.setdefault(k * below // n, []).append(v)
    return [(min(g), max(g)) for _, g in sorted(groups.items())]


def class_index(value: float | None, bounds: Sequence[tuple[float, float]], decimals: int = 1) -> int | None:
    """0-based class of `value` (rounded to `decimals`): the last class whose lowest value is at or
    below it, i.e. half-open classes [lo_i, lo_i+1); None when missing or there are no classes."""
    if _missing(value) or not bounds:
        return None
    v = round(float(value), decimals)
    return max([i for i, (lo, _) in enumerate(bounds) if lo <= v] or [0])


def class_colours(n: int, reverse: bool = False) -> list[list[int]]:
    """RGBA for n ascending classes: light (low) to dark (high), or dark-first when `reverse`."""
    picks = {1: [0], 2: [2, 0], 3: [4, 2, 0], 4: [4, 2, 1, 0], 5: [4, 3, 2, 1, 0]}[max(1, min(n, 5))]
    colours = [rgba(SEQUENTIAL_HEX[i]) for i in picks]
    return colours[::-1] if reverse else colours





def dark_is_low(meta: Mapping) -> bool:
    """True when the map should draw low values dark: dark always means worse."""
    return worse_end(meta) == "low"


def direction_note(meta: Mapping) -> str:
    """One line for a map legend saying what dark means for this indicator."""
    end = worse_end(meta)
    if end == "low":
        return "Darker = worse (lower values)"
    if end == "high":
        return "Darker = worse (higher values)"
    return "Darker = higher values (neither end is better or worse)"


def rank_labels(values: Mapping[str, float | None], descending: bool = True, noun: str = "wards") -> dict[str, str]:
    """'Rank 3 of 17 wards (1 = highest)' per code; ties share the best rank; missing -> no rank."""
    s = pd.Series({c: v for c, v in values.items() if not _missing(v)}, dtype=float)
    ranks = s.rank(ascending=not descending, method="min")
    end = "highest" if descending else "lowest"
    out = {c: f"Rank {int(r)} of {len(s)} {noun} (1 = {end})" for c, r in ranks.items()}
    for c, v in values.items():
        if _missing(v):
            out[c] = f"Not ranked ({NO_DATA_LABEL})"
    return out


def legend_entries(bounds: Sequence[tuple[float, float]], colours: Sequence[list[int]], decimals: int = 1,
                   unit: str = "", include_no_data: bool = True) -> list[tuple[str, list[int]]]:
    """(label, rgba) per class in ascending order ("2.7 to 3.1", or "47.2%" for a one-value class),
    then the no-data entry."""
    out = []
    for (lo, hi), colour in zip(bounds, colours):
        a, b = formatting.with_unit_words(lo, decimals, unit), formatting.with_unit_words(hi, decimals, unit)
        out.append((a if a == b else f"{a} to {b}", list(colour)))
    if include_no_data:
        out.append(("No data", list(NO_DATA_RGBA)))
    return out


def hatch_paths(geom: shapely.Geometry, spacing: float = 0.0025, decimals: int = 5) -> list[list[list[float]]]:
    """Diagonal hatch lines (lon/lat paths) clipped to `geom`, `spacing` degrees of latitude apart."""
    x0, y0, x1, y1 = geom.bounds
    k = 1 / math.cos(math.radians((y0 + y1) / 2))  # look 45 degrees on a Mercator view
    lines = []
    offset = -(x1 - x0) / k
    while offset < (y1 - y0):
        a = (x0, y0 + offset)
        b = (x1, y0 + offset + (x1 - x0) / k)
        lines.append(shapely.LineString([a, b]))
        offset += spacing * math.sqrt(2)
    clipped = shapely.intersection(np.array(lines, dtype=object), geom)
    paths = []
    for part in shapely.get_parts(clipped):
        if part.geom_type == "LineString" and not part.is_empty:
            paths.append([[round(x, decimals), round(y, decimals)] for x, y in part.coords])
    return paths


def _tooltip(title: str, source: str) -> dict:
    def esc(text: str) -> str:
        return html.escape(str(text)).replace("{", "(").replace("}", ")")
    body = (f"<b>{{area_name}}</b><br/>{esc(title)}: <b>{{value_label}}</b><br/>{{rank_label}}"
            f"<br/><span style='font-size:0.85em'>Source: {esc(source)}</span>")
    return {"html": body, "style": TOOLTIP_STYLE}


class CompactDeck(pdk.Deck):
    """A `pdk.Deck` whose `to_json()` (what st.pydeck_chart sends) has no indentation."""

    def to_json(self) -> str:
        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))


def _deck(layers: list, view: dict, tooltip: dict) -> pdk.Deck:
    # map_style stays pydeck's "__MAP_STYLE__" sentinel: Streamlit reads it as "no basemap". With
    # map_style=None the key is dropped and Streamlit's front end adds a Carto basemap (a request
    # to basemaps.cartocdn.com), even with map_provider=None.
    return CompactDeck(layers=layers, initial_view_state=pdk.ViewState(**view, pitch=0, bearing=0),
                       map_provider=None, tooltip=tooltip)


def _style_features(fc: dict, colour_of: Mapping[str, list[int] | None], ranks: Mapping[str, str],
                    missing_labels: Mapping[str, str] | None = None) -> list[str]:
    """Add fill/line/rank properties in place; returns the codes with no data (labelled "no data",
    or `missing_labels[code]`, e.g. "c" for a suppressed figure)."""
    no_data = []
    for f in fc["features"]:
        p = f["properties"]
        fill = colour_of.get(p["area_code"])
        if fill is None or p["value"] is None:
            no_data.append(p["area_code"])
            p["value_label"] = (missing_labels or {}).get(p["area_code"], NO_DATA_LABEL)
            p.update(fill=list(NO_DATA_RGBA), line=list(NO_DATA_OUTLINE_RGBA), line_w=2.5)
        else:
            p.update(fill=list(fill), line=list(OUTLINE_RGBA), line_w=1)
        p["rank_label"] = ranks.get(p["area_code"], "")
    return no_data


def _choropleth_layers(fc: dict, layer_id: str, no_data: list[str]) -> list[pdk.Layer]:
    layers = [pdk.Layer("GeoJsonLayer", fc, id=layer_id, pickable=True, stroked=True, filled=True,
                        auto_highlight=True, highlight_color=[244, 119, 56, 160],
                        get_fill_color="properties.fill", get_line_color="properties.line",
                        get_line_width="properties.line_w", line_width_units="'pixels'",
                        line_width_min_pixels=1)]
    if no_data:
        paths = []
        for f in fc["features"]:
            if f["properties"]["area_code"] in no_data:
                geom = shapely.geometry.shape(f["geometry"])
                paths += [{"path": p} for p in hatch_paths(geom)]
        if paths:
            layers.append(pdk.Layer("PathLayer", paths, id=f"{layer_id}-no-data-hatch", pickable=False,
                                    get_path="path", get_color=list(NO_DATA_OUTLINE_RGBA),
                                    width_units="'pixels'", get_width=1))
    return layers


def ward_choropleth(boundaries: pd.DataFrame | Mapping, values: Mapping[str, float | None], *,
                    title: str, source: str, unit: str = "", decimals: int = 1,
                    dark_low: bool = False, missing_labels: Mapping[str, str] | None = None, layer: str = "ward",
                    vintage: str | None = None, layer_id: str = "ward-map",
                    rank_descending: bool = True, width: int = 700, height: int = 480) -> tuple[pdk.Deck, list]:
    """Ward choropleth from boundary rows (or a FeatureCollection) and `values` by area code.

    Up to 5 classes (`class_bounds`) of the values shown; dark = high, or dark = low with
    `dark_low` (pass `dark_is_low(meta)` so that dark always means worse). A missing value reads
    "no data", or `missing_labels[code]` (e.g. "c" for a suppressed figure). Returns (deck, legend).
    """
    if isinstance(boundaries, pd.DataFrame):
        fc = geometry.boundaries_to_geojson(boundaries, values, layer=layer, vintage=vintage, decimals=decimals)
    else:
        fc = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": f["geometry"], "properties": dict(f["properties"])}
            for f in boundaries["features"]]}
    codes = [f["properties"]["area_code"] for f in fc["features"]]
    vals = _clean_values(values, codes)
    for f in fc["features"]:
        v = vals[f["properties"]["area_code"]]
        f["properties"]["value"] = v
        f["properties"]["value_label"] = formatting.with_unit_words(v, decimals, unit)
    bounds, colours, colour_of = _classes(vals, decimals, dark_low)
    no_data = _style_features(fc, colour_of, rank_labels(vals, rank_descending, "wards"), missing_labels)
    view = geometry.fit_view(geometry.bounds_of(fc), width, height)
    deck = _deck(_choropleth_layers(fc, layer_id, no_data), view, _tooltip(title, source))
    return deck, legend_entries(bounds, colours, decimals, unit)


def _classes(vals: Mapping[str, float | None], decimals: int, dark_low: bool):
    """(bounds, colours, colour by code) for the values of a map; no colour for missing values."""
    bounds = class_bounds(list(vals.values()), N_CLASSES, decimals)
    colours = class_colours(len(bounds), dark_low)
    colour_of = {c: (None if v is None else colours[class_index(v, bounds, decimals)]) for c, v in vals.items()}
    return bounds, colours, colour_of


DECILE_CLASSES = ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10))


def lsoa_decile_map(boundaries: pd.DataFrame | Mapping, deciles: Mapping[str, float | None], *,
                    title: str = "IMD 2019 decile", source: str = "MHCLG, English Indices of Deprivation 2019",
                    layer_id: str = "lsoa-map", vintage: str | None = "2011",
                    ward_outlines: pd.DataFrame | None = None, ward_vintage: str | None = None,
                    width: int = 700, height: int = 480) -> tuple[pdk.Deck, list]:
    """LSOAs coloured by national decile in 5 fixed bands (1-2 darkest = most deprived 20%, so
    dark = worse as on the ward maps); the legend lists only the bands that some LSOA falls in.

    `ward_outlines` (boundary rows, layer ward) adds ward borders on top.
    """
    if isinstance(boundaries, pd.DataFrame):
        fc = geometry.boundaries_to_geojson(boundaries, deciles, layer="lsoa", vintage=vintage, decimals=0)
    else:
        fc = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": f["geometry"], "properties": dict(f["properties"])}
            for f in boundaries["features"]]}
    codes = [f["properties"]["area_code"] for f in fc["features"]]
    vals = _clean_values(deciles, codes)
    colours = class_colours(len(DECILE_CLASSES), reverse=True)  # decile 1-2 darkest
    colour_of = {}
    for c, v in vals.items():
        band = None if v is None else next((i for i, (lo, hi) in enumerate(DECILE_CLASSES) if v <= hi + 1e-9), 4)
        colour_of[c] = None if band is None else colours[band]
    for f in fc["features"]:
        v = vals[f["properties"]["area_code"]]
        f["properties"]["value"] = v
        f["properties"]["value_label"] = NO_DATA_LABEL if v is None else f"decile {v:g}"
    ranks = rank_labels(vals, descending=False, noun="LSOAs")
    no_data = _style_features(fc, colour_of, ranks)
    for f in fc["features"]:
        f["properties"]["line_w"] = 2.5 if f["properties"]["area_code"] in no_data else 0.5
    layers = _choropleth_layers(fc, layer_id, no_data)
    if ward_outlines is not None:
        wards = geometry.boundaries_to_geojson(ward_outlines, {}, layer="ward", vintage=ward_vintage)
        for f in wards["features"]:
            f["properties"] = {"area_name": f["properties"]["area_name"]}
        layers.append(pdk.Layer("GeoJsonLayer", wards, id=f"{layer_id}-wards", pickable=False, stroked=True,
                                filled=False, get_line_color=[11, 12, 12, 255], get_line_width=2,
                                line_width_units="'pixels'"))
    view = geometry.fit_view(geometry.bounds_of(fc), width, height)
    used = {tuple(c) for c in colour_of.values() if c is not None}  # only the bands the map shows
    legend = [(f"Deciles {lo}-{hi}" + (" (most deprived 20%)" if lo == 1 else " (least deprived 20%)" if hi == 10 else ""),
               list(colours[i])) for i, (lo, hi) in enumerate(DECILE_CLASSES) if tuple(colours[i]) in used]
    legend.append(("No data", list(NO_DATA_RGBA)))
    return _deck(layers, view, _tooltip(title, source)), legend


def hex_map(layout: pd.DataFrame, values: Mapping[str, float | None], *, title: str, source: str,
            unit: str = "", decimals: int = 1, dark_low: bool = False, missing_labels: Mapping[str, str] | None = None,
            layer_id: str = "ward-hex", size: float = geometry.HEX_SIZE, rank_descending: bool = True,
            width: int = 700, height: int = 480) -> tuple[pdk.Deck, list]:
    """Equal-tile hex map of wards (layout columns area_code, area_name, col, row).

    Same classes, colours and tooltip as `ward_choropleth`; tiles carry a 4-letter label.
    """
    codes = list(layout["area_code"])
    vals = _clean_values(values, codes)
    bounds, colours, colour_of = _classes(vals, decimals, dark_low)
    ranks = rank_labels(vals, rank_descending, "wards")
    rings = geometry.hex_polygons(layout, size)
    centres = geometry.hex_centres(layout, size)
    tiles, labels = [], []
    for (code, name), ring, centre in zip(zip(layout["area_code"], layout["area_name"]), rings, centres):
        v = vals[code]
        fill = colour_of[code]
        dark = fill is not None and sum(fill[:3]) < 400
        tiles.append({"area_code": code, "area_name": name, "polygon": ring, "value": v,
                      "value_label": (missing_labels or {}).get(code, NO_DATA_LABEL) if v is None
                      else formatting.with_unit_words(v, decimals, unit), "rank_label": ranks[code],
                      "fill": list(NO_DATA_RGBA if fill is None else fill),
                      "line": list(NO_DATA_OUTLINE_RGBA if fill is None else [255, 255, 255, 255]),
                      "line_w": 3 if fill is None else 1.5})
        labels.append({"position": centre, "text": name[:4],
                       "colour": [255, 255, 255, 255] if dark else [11, 12, 12, 255]})
    layers = [
        pdk.Layer("PolygonLayer", tiles, id=layer_id, pickable=True, stroked=True, filled=True,
                  auto_highlight=True, highlight_color=[244, 119, 56, 160], get_polygon="polygon",
                  get_fill_color="fill", get_line_color="line", get_line_width="line_w",
                  line_width_units="'pixels'"),
        pdk.Layer("TextLayer", labels, id=f"{layer_id}-labels", pickable=False, get_position="position",
                  get_text="text", get_color="colour", get_size=13, size_units="'pixels'",
                  get_text_anchor="'middle'", get_alignment_baseline="'center'"),
    ]
    missing = [t for t in tiles if t["value"] is None]
    if missing:
        paths = []
        for t in missing:
            paths += [{"path": p} for p in hatch_paths(shapely.Polygon(t["polygon"]), spacing=size / 4)]
        layers.insert(1, pdk.Layer("PathLayer", paths, id=f"{layer_id}-no-data-hatch", pickable=False,
                                   get_path="path", get_color=list(NO_DATA_OUTLINE_RGBA),
                                   width_units="'pixels'", get_width=1))
    xs = [p[0] for r in rings for p in r]
    ys = [p[1] for r in rings for p in r]
    view = geometry.fit_view((min(xs), min(ys), max(xs), max(ys)), width, height)
    return _deck(layers, view, _tooltip(title, source)), legend_entries(bounds, colours, decimals, unit)


def outline_layer(boundaries: pd.DataFrame, outlines: Mapping[str, str], *, vintage: str | None = None,
                  layer: str = "ward", layer_id: str = "ward-map-chosen", width: float = 4) -> pdk.Layer:
    """A non-pickable layer of thick outlines around chosen areas (`outlines`: code -> #RRGGBB),
    e.g. the two wards being compared. Add it to a deck's `layers`."""
    fc = geometry.boundaries_to_geojson(boundaries, {}, layer=layer, vintage=vintage)
    fc["features"] = [{**f, "properties": {"area_name": f["properties"]["area_name"],
                                           "line": rgba(outlines[f["properties"]["area_code"]])}}
                      for f in fc["features"] if f["properties"]["area_code"] in outlines]
    return pdk.Layer("GeoJsonLayer", fc, id=layer_id, pickable=False, stroked=True, filled=False,
                     get_line_color="properties.line", get_line_width=width, line_width_units="'pixels'")


def hex_outline_layer(layout: pd.DataFrame, outlines: Mapping[str, str], *, layer_id: str = "ward-hex-chosen",
                      size: float = geometry.HEX_SIZE, width: float = 4) -> pdk.Layer:
    """Thick outlines around chosen tiles of a hex map (`outlines`: code -> #RRGGBB)."""
    rings = geometry.hex_polygons(layout, size)
    data = [{"polygon": ring, "line": rgba(outlines[code])}
            for code, ring in zip(layout["area_code"], rings) if code in outlines]
    return pdk.Layer("PolygonLayer", data, id=layer_id, pickable=False, stroked=True, filled=False,
                     get_polygon="polygon", get_line_color="line", get_line_width=width, line_width_units="'pixels'")


# --- school layer ---------------------------------------------------------------------------------

SCHOOL_LAYER_ID = "school-points"

SCHOOL_MIN_RADIUS_M, SCHOOL_M_PER_SQRT_PUPIL = 60.0, 9.0  # 100 pupils -> 90 m, 1,600 -> 360 m


def school_radius(pupils) -> float:
    """Point radius in metres: area proportional to pupils (sqrt), at least SCHOOL_MIN_RADIUS_M."""
    if _missing(pupils) or float(pupils) <= 0:
        return SCHOOL_MIN_RADIUS_M
    return round(max(SCHOOL_MIN_RADIUS_M, SCHOOL_M_PER_SQRT_PUPIL * math.sqrt(float(pupils))), 1)


def school_points(schools: pd.DataFrame, measure: str, *, unit: str = "", decimals: int = 1,
                  dark_low: bool = False) -> tuple[list[dict], list]:
    """Rows for a ScatterplotLayer (one per school with a location) and the legend.

    Colour: up to 5 classes of `measure` (dark = worse: pass `dark_low` when higher is better);
    a school without the measure is grey with a dark outline and reads "no data". Size: pupils.
    """
    located = schools[schools["lon"].notna() & schools["lat"].notna()]
    keys = [str(u) for u in located["urn"]]
    vals = _clean_values(dict(zip(keys, located[measure])), keys)
    bounds, colours, colour_of = _classes(vals, decimals, dark_low)
    rows = []
    for key, r in zip(keys, located.itertuples()):
        v = vals[key]
        fill = colour_of.get(key)
        pupils = None if _missing(r.pupils) else int(r.pupils)
        rows.append({
            "urn": int(r.urn), "school_name": str(r.school_name), "phase": str(r.phase or ""),
            "position": [round(float(r.lon), 5), round(float(r.lat), 5)], "radius": school_radius(pupils),
            "value": v, "value_label": formatting.with_unit_words(v, decimals, unit) if v is not None else NO_DATA_LABEL,
            "pupils_label": f"{pupils:,} pupils" if pupils is not None else "pupils: no data",
            "ward_name": str(r.ward_name) if not _missing(getattr(r, "ward_name", None)) else "outside Derby's wards",
            "fill": list(fill) if fill is not None and v is not None else list(NO_DATA_RGBA),
            "line": list(OUTLINE_RGBA) if v is not None else list(NO_DATA_OUTLINE_RGBA),
            "line_w": 1 if v is not None else 2.5})
    return rows, legend_entries(bounds, colours, decimals, unit)


def school_map(boundaries: pd.DataFrame, schools: pd.DataFrame, measure: str, *, title: str, source: str,
               unit: str = "", decimals: int = 1, dark_low: bool = False, vintage: str | None = None,
               width: int = 700, height: int = 480) -> tuple[pdk.Deck, list]:
    """Ward outlines (not pickable) with a ScatterplotLayer of schools (`SCHOOL_LAYER_ID`): size by
    pupils, colour by `measure` (see `school_points`). Returns (deck, legend)."""
    fc = geometry.boundaries_to_geojson(boundaries, {}, layer="ward", vintage=vintage)
    for f in fc["features"]:
        f["properties"] = {"area_name": f["properties"]["area_name"]}
    rows, legend = school_points(schools, measure, unit=unit, decimals=decimals, dark_low=dark_low)
    layers = [pdk.Layer("GeoJsonLayer", fc, id="school-ward-outlines", pickable=False, stroked=True, filled=True,
                        get_fill_color=[243, 242, 241, 255], get_line_color=list(OUTLINE_RGBA), get_line_width=1,
                        line_width_units="'pixels'"),
              pdk.Layer("ScatterplotLayer", rows, id=SCHOOL_LAYER_ID, pickable=True, stroked=True, filled=True,
                        get_position="position", get_radius="radius", radius_units="'meters'",
                        get_fill_color="fill", get_line_color="line", get_line_width="line_w",
                        line_width_units="'pixels'", opacity=0.9)]
    esc = lambda t: html.escape(str(t)).replace("{", "(").replace("}", ")")  # noqa: E731
    tooltip = {"html": (f"<b>{{school_name}}</b> ({{phase}})<br/>{esc(title)}: <b>{{value_label}}</b><br/>"
                        f"{{pupils_label}}; ward: {{ward_name}}<br/><span style='font-size:0.85em'>"
                        f"{esc(SCHOOL_CAPTION)} Source: {esc(source)}</span>"), "style": TOOLTIP_STYLE}
    view = geometry.fit_view(geometry.bounds_of(fc), width, height)
    return _deck(layers, view, tooltip), legend

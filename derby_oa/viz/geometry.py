"""Pure geometry helpers for the maps (no Streamlit): GeoJSON from stored boundaries, hex tiles,
LSOA membership and view fitting.

Coordinates are WGS84 lon/lat throughout. The hex-tile map lives in a plain local space that is
placed around Derby in lon/lat-like units, so pydeck's default (Web Mercator) view shows it
without a basemap; the x spacing is divided by cos(latitude) so the tiles look regular there.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from derby_oa.vocabulary import NO_DATA_LABEL
import shapely

# Centre of Derby's ward boundaries (lon, lat); the hex map is drawn around it.
DERBY_CENTRE = (-1.4700, 52.9146)
HEX_SIZE = 0.011  # default hex circumradius, in degrees of latitude (about 1.2 km)
SQRT3 = math.sqrt(3.0)
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def _round_coords(obj, decimals: int):
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [round(float(c), decimals) for c in obj]
        return [_round_coords(o, decimals) for o in obj]
    return obj


def geometry_to_geojson(geom: shapely.Geometry, decimals: int = 5) -> dict:
    """GeoJSON geometry dict with coordinates rounded to `decimals` (short JSON)."""
    mapping = shapely.geometry.mapping(geom)
    return {"type": mapping["type"], "coordinates": _round_coords(mapping["coordinates"], decimals)}


def boundaries_to_geojson(df: pd.DataFrame, values: Mapping[str, float | None] | None = None, *,
                          layer: str | None = None, vintage: str | None = None,
                          properties: Mapping[str, Mapping] | None = None,
                          labels: Mapping[str, str] | None = None,
                          decimals: int = 1, coord_decimals: int = 5) -> dict:
    """FeatureCollection of boundary rows (area_code, area_name, geometry_wkb).

    Rows are filtered by `layer`/`vintage` when given. Each feature's properties are area_code,
    area_name, value (float, or None when `values` has no number for the area) and value_label
    (`labels[code]`, else the value to `decimals` places, else "no data"), plus any
    `properties[code]` entries.
    """
    rows = df
    if layer is not None and "layer" in rows:
        rows = rows[rows["layer"] == layer]
    if vintage is not None and "vintage" in rows:
        rows = rows[rows["vintage"] == vintage]
    values = values or {}
    features = []
    for code, name, wkb in zip(rows["area_code"], rows["area_name"], rows["geometry_wkb"]):
        raw = values.get(code)
        value = None if _is_missing(raw) else float(raw)
        if labels and code in labels and value is not None:
            label = labels[code]
        else:
            label = NO_DATA_LABEL if value is None else f"{value:,.{decimals}f}"
        props = {"area_code": code, "area_name": name, "value": value, "value_label": label}
        if properties and code in properties:
            props.update(properties[code])
        features.append({"type": "Feature", "properties": props,
                         "geometry": geometry_to_geojson(shapely.from_wkb(wkb), coord_decimals)})
    return {"type": "FeatureCollection", "features": features}


def bounds_of(geojson: Mapping) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) of a FeatureCollection."""
    geoms = [shapely.geometry.shape(f["geometry"]) for f in geojson["features"]]
    return tuple(float(v) for v in shapely.total_bounds(geoms))


def fit_view(bounds: Iterable[float], width: int = 700, height: int = 480, padding: float = 0.08) -> dict:
    """Centre and zoom (Web Mercator) that fit `bounds` in a width x height pixel viewport."""
    x0, y0, x1, y1 = bounds

    def merc_y(lat):
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    span_x = max((x1 - x0) / 360.0, 1e-9)
    span_y = max((merc_y(y1) - merc_y(y0)) / (2 * math.pi), 1e-9)
    usable = 1 - 2 * padding
    # deck.gl's Web Mercator world is 512 px wide at zoom 0 (math.gl TILE_SIZE), not 256.
    zoom = min(math.log2(width * usable / (512 * span_x)), math.log2(height * usable / (512 * span_y)))
    return {"longitude": round((x0 + x1) / 2, 5), "latitude": round((y0 + y1) / 2, 5), "zoom": round(zoom, 2)}


# Hex tiles (pointy-top, odd-r offset: odd rows are shifted half a tile to the right; row 0 is north).

def hex_centre_xy(col: int, row: int, size: float = 1.0) -> tuple[float, float]:
    """Plain (x, y) centre of an odd-r cell for circumradius `size`; y decreases southwards."""
    return (SQRT3 * size * (col + 0.5 * (row & 1)), -1.5 * size * row)


def hex_neighbours(col: int, row: int) -> list[tuple[int, int]]:
    """The six odd-r neighbours of a cell."""
    if row & 1:
        steps = [(1, 0), (-1, 0), (0, -1), (1, -1), (0, 1), (1, 1)]
    else:
        steps = [(1, 0), (-1, 0), (-1, -1), (0, -1), (-1, 1), (0, 1)]
    return [(col + dc, row + dr) for dc, dr in steps]


def _layout_origin(layout: pd.DataFrame, size: float) -> tuple[float, float]:
    xy = np.array([hex_centre_xy(int(c), int(r), size) for c, r in zip(layout["col"], layout["row"])])
    return tuple((xy.min(axis=0) + xy.max(axis=0)) / 2)


def _to_lonlat(x: float, y: float, centre: tuple[float, float]) -> list[float]:
    lon0, lat0 = centre
    return [round(lon0 + x / math.cos(math.radians(lat0)), 6), round(lat0 + y, 6)]


def hex_centres(layout: pd.DataFrame, size: float = HEX_SIZE,
                centre: tuple[float, float] = DERBY_CENTRE) -> list[list[float]]:
    """[lon, lat] of each layout row's tile centre, the whole grid centred on `centre`."""
    ox, oy = _layout_origin(layout, size)
    out = []
    for c, r in zip(layout["col"], layout["row"]):
        x, y = hex_centre_xy(int(c), int(r), size)
        out.append(_to_lonlat(x - ox, y - oy, centre))
    return out


def hex_polygons(layout: pd.DataFrame, size: float = HEX_SIZE,
                 centre: tuple[float, float] = DERBY_CENTRE) -> list[list[list[float]]]:
    """One closed ring of [lon, lat] per layout row (columns col, row), pointy-top hexagons of
    circumradius `size` (degrees of latitude), the grid centred on `centre`."""
    ox, oy = _layout_origin(layout, size)
    rings = []
    for c, r in zip(layout["col"], layout["row"]):
        cx, cy = hex_centre_xy(int(c), int(r), size)
        ring = []
        for k in range(6):
            a = math.radians(60 * k + 30)
            ring.append(_to_lonlat(cx - ox + size * math.cos(a), cy - oy + size * math.sin(a), centre))
        ring.append(ring[0])
        rings.append(ring)
    return rings


def _local_xy(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat0 = float(np.mean(lat))
    x = (lon - np.mean(lon)) * _M_PER_DEG_LON_EQ * math.cos(math.radians(lat0))
    y = (lat - lat0) * _M_PER_DEG_LAT
    return x, y


def _connected(cells: set[tuple[int, int]]) -> bool:
    if not cells:
        return True
    start = next(iter(cells))
    seen, todo = {start}, [start]
    while todo:
        for nb in hex_neighbours(*todo.pop()):
            if nb in cells and nb not in seen:
                seen.add(nb)
                todo.append(nb)
    return seen == cells


def hex_layout(points: pd.DataFrame, area_m2: float | None = None, max_rounds: int = 50) -> pd.DataFrame:
    """Equal-tile odd-r hex layout for areas with centroids (columns area_code, area_name, lon, lat).

    Tile size: each tile gets the mean area (`area_m2` = total area, else the centroids' spread).
    Each area starts in the free cell nearest its scaled centroid (farthest-from-centre first),
    then pairwise swaps and moves to free cells that reduce the total squared displacement are
    repeated, and only kept if the tiles stay connected. Returns area_code, area_name, col, row
    with the top row 0 and the leftmost column 0.
    """
    n = len(points)
    x, y = _local_xy(points["lon"].to_numpy(float), points["lat"].to_numpy(float))
    if area_m2 is None:
        area_m2 = (np.ptp(x) * np.ptp(y)) or 1.0
    size = math.sqrt(area_m2 / n / (1.5 * SQRT3))  # hexagon area = 1.5*sqrt(3)*size^2
    rmax = int(math.ceil(np.max(np.abs(y)) / (1.5 * size))) + 2
    cmax = int(math.ceil(np.max(np.abs(x)) / (SQRT3 * size))) + 2
    cells = [(c, r) for r in range(-rmax, rmax + 1) for c in range(-cmax, cmax + 1)]
    centres = np.array([hex_centre_xy(c, r, size) for c, r in cells])  # y is north-positive
    cost = (x[:, None] - centres[None, :, 0]) ** 2 + (y[:, None] - centres[None, :, 1]) ** 2

    assign = np.full(n, -1)
    for i in np.argsort(-(x ** 2 + y ** 2)):  # outermost areas choose first
        assign[i] = next(int(j) for j in np.argsort(cost[i]) if j not in set(assign))

    def connected(a) -> bool:
        return _connected({cells[j] for j in a})

    for _ in range(max_rounds):
        improved = False
        for i in range(n):
            for k in range(i + 1, n):
                a, b = assign[i], assign[k]
                if cost[i, b] + cost[k, a] < cost[i, a] + cost[k, b] - 1e-9:
                    assign[i], assign[k] = b, a
                    improved = True
            used = set(assign)
            for j in (int(j) for j in np.argsort(cost[i])[:12] if j not in used):
                if cost[i, j] < cost[i, assign[i]] - 1e-9:
                    old, assign[i] = assign[i], j
                    if connected(assign):
                        improved = True
                        break
                    assign[i] = old
        if not improved:
            break
    if not connected(assign):
        raise ValueError("hex layout is not connected; try a larger area_m2")

    # Normalise by a pure translation in axial coordinates: top row 0, leftmost column 0.
    cols = np.array([cells[j][0] for j in assign])
    rows = np.array([cells[j][1] for j in assign])
    q = cols - (rows - (rows & 1)) // 2
    rows = rows - rows.min()
    cols = q + (rows - (rows & 1)) // 2
    cols = cols - cols.min()
    out = pd.DataFrame({"area_code": points["area_code"].to_numpy(), "area_name": points["area_name"].to_numpy(),
                        "col": cols.astype(int), "row": rows.astype(int)})
    return out.sort_values(["row", "col"]).reset_index(drop=True)


def touching_pairs(codes: Iterable[str], geoms: Iterable[shapely.Geometry], tolerance: float = 1e-4) -> set[tuple[str, str]]:
    """Pairs (sorted codes) of areas whose boundaries meet, within `tolerance` degrees (about 10 m)."""
    codes, geoms = list(codes), list(geoms)
    grown = [g.buffer(tolerance) for g in geoms]
    return {tuple(sorted((codes[i], codes[j]))) for i in range(len(codes)) for j in range(i + 1, len(codes))
            if grown[i].intersects(grown[j]) and grown[i].intersection(grown[j]).area > tolerance ** 2}


def tile_neighbour_pairs(layout: pd.DataFrame) -> set[tuple[str, str]]:
    """Pairs (sorted codes) of areas whose hex tiles share an edge in an odd-r layout."""
    at = {(int(c), int(r)): code for code, c, r in zip(layout["area_code"], layout["col"], layout["row"])}
    return {tuple(sorted((code, at[nb]))) for (c, r), code in at.items() for nb in hex_neighbours(c, r) if nb in at}


def adjacency_score(layout: pd.DataFrame, pairs: set[tuple[str, str]]) -> int:
    """Tile neighbours that are real neighbours (`pairs`) minus tile neighbours that are not."""
    tiles = tile_neighbour_pairs(layout)
    return len(tiles & pairs) - len(tiles - pairs)


def refine_adjacency(layout: pd.DataFrame, pairs: set[tuple[str, str]], max_moves: int = 50) -> pd.DataFrame:
    """Improve a hex layout's adjacency: repeatedly make the first single-tile move (into a free
    cell within one cell of the grid, scanning wards in layout order and cells by row then column)
    that raises `adjacency_score` while the tiles stay connected, until no move does. Returns the
    layout renormalised like `hex_layout` (top row 0, leftmost column 0), sorted by row and column."""
    cells = {code: (int(c), int(r)) for code, c, r in zip(layout["area_code"], layout["col"], layout["row"])}
    names = dict(zip(layout["area_code"], layout["area_name"]))

    def frame(cs):
        return pd.DataFrame({"area_code": list(cs), "area_name": [names[c] for c in cs],
                             "col": [c for c, _ in cs.values()], "row": [r for _, r in cs.values()]})

    best = adjacency_score(frame(cells), pairs)
    for _ in range(max_moves):
        cols = [c for c, _ in cells.values()]
        rows = [r for _, r in cells.values()]
        free = sorted(((c, r) for r in range(min(rows) - 1, max(rows) + 2) for c in range(min(cols) - 1, max(cols) + 2)
                       if (c, r) not in set(cells.values())), key=lambda cr: (cr[1], cr[0]))
        moved = False
        for code in list(cells):
            old = cells[code]
            for cell in free:
                cells[code] = cell
                if _connected(set(cells.values())):
                    score = adjacency_score(frame(cells), pairs)
                    if score > best:
                        best, moved = score, True
                        break
                cells[code] = old
            if moved:
                break
        if not moved:
            break
    out = frame(cells)
    rows, cols = out["row"].to_numpy(), out["col"].to_numpy()
    q = cols - (rows - (rows & 1)) // 2  # translate in axial coordinates so odd-r offsets keep their meaning
    rows = rows - rows.min()
    cols = q + (rows - (rows & 1)) // 2
    out["row"], out["col"] = rows, cols - cols.min()
    return out.sort_values(["row", "col"]).reset_index(drop=True)

"""Ward and LSOA boundaries for the maps, simplified once at build time (two adapters).

The module is itself the adapter for `ons_boundaries_2003_2023` (module-level `SOURCE_ID`,
`FILES`, `load`, the same as `PLAN_PERIOD`). `CURRENT` is a second adapter object with the same
three attributes, for `ons_boundaries_2023`. `ADAPTERS` lists both, so the build should register
`boundaries.PLAN_PERIOD` and `boundaries.CURRENT` (or iterate `boundaries.ADAPTERS`).

* `PLAN_PERIOD` (`ons_boundaries_2003_2023`): the 17 Derby wards of 2003-2023
  (`uk_geojson/wards_by_lad`, WD13 codes; layer `ward`, vintage `2003-2023`) and the 151 LSOAs
  (`uk_geojson/lsoa_by_lad`; layer `lsoa`, vintage `2011`).
* `CURRENT` (`ons_boundaries_2023`): the 18 May 2023 wards (`geo_lookups/ward`; layer `ward`,
  vintage `2023`).

Bundle.boundaries columns: area_code, vintage, layer, area_name, geometry_wkb (WGS84 WKB).

Each layer is simplified once, as a coverage:
1. snap to a 1e-7 degree grid (about 1 cm), repair with make_valid, keep only polygon parts. The
   LSOA file has float noise on shared vertices (it is not an exact coverage until snapped) and
   one self-intersecting ring (E01013488).
2. project to a local equirectangular plane in metres, centred on the layer's bounds;
3. `shapely.coverage_simplify` (Visvalingam-Whyatt on shared edges, so neighbours keep identical
   borders with no gaps or slivers) with `TOLERANCE_M` = 20 m (roughly the square root of the
   triangle area removed);
4. back to lon/lat, round to `DECIMALS` = 5 places (about 1 m) with `shapely.set_precision`,
   which keeps polygons valid.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from derby_oa import config
from derby_oa.errors import InputError
from derby_oa.ingest import Bundle, Context

TOLERANCE_M = 20.0
DECIMALS = 5
SNAP_DEG = 1e-7
BOUNDARY_COLUMNS = ["area_code", "vintage", "layer", "area_name", "geometry_wkb"]
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON_EQ = 111_320.0


@dataclass(frozen=True)
class LayerSpec:
    """One boundary file: its manifest name, layer, vintage and code/name property patterns."""

    file: str
    layer: str
    vintage: str
    code_pattern: str  # regex for the code property, e.g. r"WD\d\dCD"
    name_pattern: str


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Only the polygon parts of `geom` (make_valid may add lines or points)."""
    if geom is None or geom.is_empty:
        return geom
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = [q for p in parts for q in shapely.get_parts(p)]
    return polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)


def clean(geoms: np.ndarray, grid: float = SNAP_DEG) -> np.ndarray:
    """Snap to `grid`, repair and keep polygon parts."""
    snapped = shapely.set_precision(np.asarray(geoms, dtype=object), grid)
    fixed = np.where(shapely.is_valid(snapped), snapped, shapely.make_valid(snapped))
    return np.array([_polygonal(g) for g in fixed], dtype=object)


def simplify_coverage(geoms: np.ndarray, tolerance_m: float = TOLERANCE_M, decimals: int = DECIMALS) -> np.ndarray:
    """Coverage-simplified copies of WGS84 polygons (see the module docstring), rounded and valid."""
    geoms = clean(geoms)
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    lon0, lat0 = (x0 + x1) / 2, (y0 + y1) / 2
    kx, ky = _M_PER_DEG_LON_EQ * math.cos(math.radians(lat0)), _M_PER_DEG_LAT

    def to_m(c):
        return np.column_stack([(c[:, 0] - lon0) * kx, (c[:, 1] - lat0) * ky])

    def to_deg(c):
        return np.column_stack([c[:, 0] / kx + lon0, c[:, 1] / ky + lat0])

    metres = shapely.transform(geoms, to_m)
    simple = shapely.coverage_simplify(metres, tolerance_m) if tolerance_m > 0 else metres
    back = shapely.transform(simple, to_deg)
    return clean(back, 10.0 ** -decimals)


def _property(gdf: gpd.GeoDataFrame, pattern: str, file: str) -> str:
    cols = [c for c in gdf.columns if re.fullmatch(pattern, c)]
    if not cols:
        raise InputError(file, f"no property matching '{pattern}'", field=pattern)
    return cols[0]


def read_layer(path: Path, spec: LayerSpec) -> gpd.GeoDataFrame:
    """area_code, area_name and geometry (WGS84) of one boundary file."""
    file = Path(path).name
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:
        raise InputError(file, f"cannot be read as GeoJSON ({type(exc).__name__}: {exc})") from None
    code, name = _property(gdf, spec.code_pattern, file), _property(gdf, spec.name_pattern, file)
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    bad = gdf.geometry.isna() | ~gdf.geom_type.isin(["Polygon", "MultiPolygon"])
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise InputError(file, "feature without a polygon geometry", row=i + 1, field="geometry")
    dup = gdf[code].duplicated()
    if dup.any():
        i = int(dup.to_numpy().nonzero()[0][0])
        raise InputError(file, f"duplicate area code '{gdf[code].iloc[i]}'", row=i + 1, field=code)
    return gpd.GeoDataFrame({"area_code": gdf[code].astype(str), "area_name": gdf[name].astype(str)},
                            geometry=gdf.geometry.values, crs=4326)


def _check_wards(layer: gpd.GeoDataFrame, spec: LayerSpec, ctx: Context) -> None:
    a = ctx.areas
    expected = set(a.loc[(a["area_type"] == "ward") & (a["vintage"] == spec.vintage)
                         & (a["parent_code"] == config.DERBY), "area_code"])
    got = set(layer["area_code"])
    if got != expected:
        extra, missing = sorted(got - expected), sorted(expected - got)
        detail = (f"unknown ward(s) {', '.join(extra[:3])}" if extra else "") + \
                 ("; " if extra and missing else "") + \
                 (f"ward(s) {', '.join(missing[:3])} missing" if missing else "")
        raise InputError(Path(spec.file).name, f"wards differ from areas.csv vintage {spec.vintage}: {detail}",
                         field=spec.code_pattern)


def build_layer(path: Path, spec: LayerSpec, ctx: Context, notes: list[str]) -> pd.DataFrame:
    """Boundary rows (BOUNDARY_COLUMNS) of one file, simplified."""
    layer = read_layer(path, spec)
    if spec.layer == "ward":
        _check_wards(layer, spec, ctx)
    cleaned = clean(layer.geometry.values)
    if not shapely.coverage_is_valid(cleaned):
        notes.append(f"{Path(spec.file).name}: not an exact coverage after snapping; shared borders may differ slightly")
    simple = simplify_coverage(layer.geometry.values)
    if not shapely.is_valid(simple).all() or shapely.is_empty(simple).any():
        raise InputError(Path(spec.file).name, "simplification produced an invalid or empty polygon", field="geometry")
    return pd.DataFrame({"area_code": layer["area_code"].to_numpy(), "vintage": spec.vintage, "layer": spec.layer,
                         "area_name": layer["area_name"].to_numpy(), "geometry_wkb": list(shapely.to_wkb(simple))})


@dataclass(frozen=True)
class BoundaryAdapter:
    """An ingest adapter (SOURCE_ID, FILES, load) for a set of boundary files."""

    SOURCE_ID: str
    layers: tuple[LayerSpec, ...]

    @property
    def FILES(self) -> tuple[str, ...]:  # noqa: N802 - the adapter protocol's name
        return tuple(spec.file for spec in self.layers)

    def load(self, paths: dict[str, Path], ctx: Context) -> Bundle:
        """Simplified boundaries of every layer."""
        notes: list[str] = []
        frames = [build_layer(Path(paths[spec.file]), spec, ctx, notes) for spec in self.layers]
        return Bundle(self.SOURCE_ID, boundaries=pd.concat(frames, ignore_index=True), notes=notes)


PLAN_PERIOD = BoundaryAdapter("ons_boundaries_2003_2023", (
    LayerSpec("uk_geojson/wards_by_lad/E06000015.json", "ward", config.WARD_VINTAGE_PLAN, r"WD\d\dCD", r"WD\d\dNM"),
    LayerSpec("uk_geojson/lsoa_by_lad/E06000015.json", "lsoa", "2011", r"LSOA\d\dCD", r"LSOA\d\dNM"),
))
CURRENT = BoundaryAdapter("ons_boundaries_2023", (
    LayerSpec("geo_lookups/ward/E06000015.geojson", "ward", config.WARD_VINTAGE_CURRENT, r"WD\d\dCD", r"WD\d\dNM"),
))
ADAPTERS = (PLAN_PERIOD, CURRENT)

SOURCE_ID = PLAN_PERIOD.SOURCE_ID
FILES = PLAN_PERIOD.FILES
load = PLAN_PERIOD.load

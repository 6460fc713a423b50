"""Ingest adapters: one module per source format, each turning files into canonical tables.

Every adapter returns a `Bundle`; the build merges bundles, validates and writes them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Bundle:
    """Canonical rows contributed by one source (any table may be empty)."""

    source_id: str
    observations: pd.DataFrame | None = None
    indicators: pd.DataFrame | None = None
    areas: pd.DataFrame | None = None
    area_groups: pd.DataFrame | None = None
    lsoa_ward: pd.DataFrame | None = None
    boundaries: pd.DataFrame | None = None  # area_code, vintage, layer, geometry_wkb (simplified)
    ward_fit: pd.DataFrame | None = None  # per ward value: vintage, input geography, method, coverage
    schools: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Context:
    """What adapters may need to know: the reference areas, indicators and code mappings."""

    areas: pd.DataFrame
    indicators: pd.DataFrame
    source_codes: pd.DataFrame

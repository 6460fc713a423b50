"""Queries of the school layer: Derby's schools with the ward holding each (by school location)."""
from __future__ import annotations

import pandas as pd

from derby_oa import config

__all__ = ["has_schools", "schools_with_ward"]

_WARD_COLUMN = {config.WARD_VINTAGE_PLAN: "ward_2003_2023", config.WARD_VINTAGE_CURRENT: "ward_2023"}


def has_schools(con) -> bool:
    """True when the schools table exists and has rows."""
    try:
        return con.execute("SELECT count(*) FROM schools").fetchone()[0] > 0
    except Exception:  # an older database without the table
        return False


def schools_with_ward(con, vintage: str, ward_code: str | None = None) -> pd.DataFrame:
    """Schools with ward_code and ward_name on `vintage` (NULL outside Derby's wards), optionally
    only those in one ward; ordered by ward name then school name.

    Columns: urn, school_name, phase, school_type, in_gias, pupils, fsm_pct, lsoa_code, lon, lat,
    ward_code, ward_name, ks2_reading_progress, ks2_writing_progress, ks2_maths_progress,
    ks4_progress8, ks4_attainment8, ks4_basics_95, source_ids.
    """
    if vintage not in _WARD_COLUMN:
        raise ValueError(f"unknown ward vintage {vintage!r}")
    col = _WARD_COLUMN[vintage]
    return con.execute(f"""
        SELECT s.urn, s.school_name, s.phase, s.school_type, s.in_gias, s.pupils, s.fsm_pct, s.lsoa_code,
               s.lon, s.lat, s.{col} AS ward_code, a.area_name AS ward_name,
               s.ks2_reading_progress, s.ks2_writing_progress, s.ks2_maths_progress,
               s.ks4_progress8, s.ks4_attainment8, s.ks4_basics_95, s.source_ids
        FROM schools s LEFT JOIN areas a ON a.area_code = s.{col}
        WHERE ? IS NULL OR s.{col} = ?
        ORDER BY a.area_name NULLS LAST, s.school_name""", [ward_code, ward_code]).df()

"""Queries for the board overview and the priority pages: headline series and all-LA values."""
from __future__ import annotations

import pandas as pd

__all__ = ["observations_for", "la_values"]

_OBS = """o.indicator_id, o.area_code, a.area_name, o.period, o.year, o.breakdown, o.value, o.status,
          o.numerator, o.denominator, o.lower_ci, o.upper_ci, o.source_id"""


def observations_for(con, pairs: list[tuple[str, str]], area_codes: list[str]) -> pd.DataFrame:
    """Observations of several (indicator_id, breakdown) pairs for some areas, in time order."""
    if not pairs:
        return con.execute(f"SELECT {_OBS} FROM observations o JOIN areas a USING (area_code) WHERE false").df()
    keys = [f"{i}|{b}" for i, b in pairs]
    return con.execute(f"""SELECT {_OBS} FROM observations o JOIN areas a USING (area_code)
                           WHERE list_contains(?, o.indicator_id || '|' || o.breakdown)
                           AND list_contains(?, o.area_code)
                           ORDER BY o.indicator_id, o.breakdown, o.area_code, o.year""", [keys, area_codes]).df()


def la_values(con, indicator_id: str, breakdown: str = "all") -> pd.DataFrame:
    """Every local authority's observations of one indicator and breakdown (for ranks and quartiles)."""
    return con.execute(f"""SELECT {_OBS} FROM observations o JOIN areas a USING (area_code)
                           WHERE o.indicator_id = ? AND o.breakdown = ? AND a.area_type = 'la'
                           ORDER BY o.year, o.area_code""", [indicator_id, breakdown]).df()

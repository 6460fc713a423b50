"""How each ward figure was made (`ward_fit`): input geography, method, best fit or not, coverage."""
from __future__ import annotations

import pandas as pd

from derby_oa import config

__all__ = ["ward_fit"]


def ward_fit(con, indicator_id: str, period: str, vintage: str) -> pd.DataFrame:
    """Every ward of the vintage with the fit record of one indicator and period (NULLs where the
    figure has no record, e.g. the plan's or an officer's figures). A record counts only while the ward's
    figure still comes from the source it describes: an officer's upload over it makes the record lapse.

    Columns: area_code, area_name, source_id, geography, method, best_fit, coverage, units,
    units_with_data; ordered by ward name.
    """
    try:
        return con.execute("""
            SELECT a.area_code, a.area_name, f.source_id, f.geography, f.method, f.best_fit, f.coverage, f.units,
                   f.units_with_data
            FROM areas a LEFT JOIN ward_fit f ON f.area_code = a.area_code AND f.indicator_id = ? AND f.period = ?
                AND EXISTS (SELECT 1 FROM observations o WHERE o.indicator_id = f.indicator_id
                            AND o.area_code = f.area_code AND o.period = f.period AND o.source_id = f.source_id)
            WHERE a.area_type = 'ward' AND a.vintage = ? AND a.parent_code = ?
            ORDER BY a.area_name""", [indicator_id, period, vintage, config.DERBY]).df()
    except Exception:  # a database built before the ward_fit table existed
        return pd.DataFrame(columns=["area_code", "area_name", "source_id", "geography", "method", "best_fit",
                                     "coverage", "units", "units_with_data"])

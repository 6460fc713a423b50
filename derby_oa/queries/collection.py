"""Which years a published series was not collected, derived from the data itself."""
from __future__ import annotations

import pandas as pd

__all__ = ["missing_years"]


def missing_years(con, indicator_id: str | None = None) -> pd.DataFrame:
    """Years inside a series' span in which no local authority (or under a quarter of the usual number, as in
    the NCMP 2020/21 sample year) has a published value.

    One row per (indicator_id, breakdown) with `years` (a list of end years). The span runs from the first to
    the last year most local authorities have a value; the plan's own figures do not count.
    """
    return con.execute("""
        WITH s AS (
            SELECT o.indicator_id, o.breakdown, o.year,
                   count(*) FILTER (WHERE o.value IS NOT NULL AND a.area_type = 'la') AS n_la
            FROM observations o JOIN areas a USING (area_code)
            WHERE o.source_id <> 'plan_2017' AND (? IS NULL OR o.indicator_id = ?)
            GROUP BY ALL),
        usual AS (SELECT indicator_id, breakdown, max(n_la) AS top FROM s GROUP BY ALL),
        span AS (
            SELECT s.indicator_id, s.breakdown, any_value(u.top) AS top,
                   min(year) FILTER (WHERE n_la >= 0.25 * u.top AND n_la > 0) AS lo,
                   max(year) FILTER (WHERE n_la >= 0.25 * u.top AND n_la > 0) AS hi
            FROM s JOIN usual u USING (indicator_id, breakdown) GROUP BY ALL),
        years AS (
            SELECT indicator_id, breakdown, lo, hi, top, unnest(range(lo, hi + 1)) AS year FROM span
            WHERE lo IS NOT NULL)
        SELECT y.indicator_id, y.breakdown, any_value(y.lo) AS first_year, any_value(y.hi) AS last_year,
               list(y.year ORDER BY y.year) FILTER (WHERE coalesce(s.n_la, 0) < 0.25 * y.top) AS years
        FROM years y LEFT JOIN s ON s.indicator_id = y.indicator_id AND s.breakdown = y.breakdown AND s.year = y.year
        GROUP BY y.indicator_id, y.breakdown
        ORDER BY y.indicator_id, y.breakdown""", [indicator_id, indicator_id]).df()

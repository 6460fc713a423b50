"""Queries of the Wards page: ward values, ward boundaries, LSOAs of a ward and ward context.

Wards are the areas of type `ward` whose parent is Derby, in one vintage (`2003-2023` or `2023`).
"""
from __future__ import annotations

import duckdb
import pandas as pd

from derby_oa import config

__all__ = [
    "ward_list", "ward_indicators", "ward_periods", "ward_breakdowns", "ward_values", "reference_values",
    "has_boundaries", "boundaries", "lsoas_of_ward", "ward_context", "plan_ward_figures", "source_labels",
    "latest_ward_values", "latest_reference_values", "ward_history", "ward_period_counts", "schools_in_ward",
]

# Context figures shown beside every ward comparison (IoD 2019 and mid-2015 population).
CONTEXT_INDICATORS = ("imd_decile", "imd_most_deprived_decile_share", "imd_rank", "population_total",
                      "population_0_15")

_WARDS = "SELECT area_code, area_name FROM areas WHERE area_type = 'ward' AND vintage = ? AND parent_code = ?"


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    df = con.execute(sql, params or []).df()
    if "geometry_wkb" in df:  # DuckDB returns BLOBs as bytearray; shapely wants bytes
        df["geometry_wkb"] = [None if b is None or b is pd.NA else bytes(b) for b in df["geometry_wkb"]]
    return df


def ward_list(con, vintage: str) -> pd.DataFrame:
    """Derby's wards of a vintage: area_code, area_name, ordered by name."""
    return _df(con, _WARDS + " ORDER BY area_name", [vintage, config.DERBY])


def ward_indicators(con) -> pd.DataFrame:
    """Indicators with at least one ward value, per vintage.

    Columns: indicator_id, vintage, n_wards (wards with a value), title, short_title, theme, unit,
    decimals, polarity; ordered by theme (context last) and title.
    """
    return _df(con, """
        SELECT * FROM (
            SELECT o.indicator_id, a.vintage, count(DISTINCT o.area_code) AS n_wards,
                   i.title, i.short_title, i.theme, i.unit, i.decimals, i.polarity
            FROM observations o JOIN areas a USING (area_code) JOIN indicators i USING (indicator_id)
            WHERE a.area_type = 'ward' AND a.parent_code = ? AND o.value IS NOT NULL GROUP BY ALL)
        ORDER BY theme = 'context', theme, title, vintage""", [config.DERBY])


def ward_periods(con, indicator_id: str, vintage: str) -> pd.DataFrame:
    """Periods (period, year) with ward values of an indicator on a vintage, latest last."""
    return _df(con, """
        SELECT DISTINCT o.period, o.year FROM observations o JOIN areas a USING (area_code)
        WHERE o.indicator_id = ? AND a.area_type = 'ward' AND a.vintage = ? AND a.parent_code = ?
          AND o.value IS NOT NULL ORDER BY o.year, o.period""", [indicator_id, vintage, config.DERBY])


def ward_breakdowns(con, indicator_id: str, vintage: str, period: str) -> list[str]:
    """Breakdowns with ward values of an indicator in a period, `all` first."""
    rows = con.execute("""
        SELECT DISTINCT o.breakdown FROM observations o JOIN areas a USING (area_code)
        WHERE o.indicator_id = ? AND o.period = ? AND a.area_type = 'ward' AND a.vintage = ?
          AND a.parent_code = ? AND o.value IS NOT NULL ORDER BY o.breakdown != 'all', o.breakdown""",
                       [indicator_id, period, vintage, config.DERBY]).fetchall()
    return [r[0] for r in rows]


def ward_values(con, indicator_id: str, period: str, vintage: str, breakdown: str = "all") -> pd.DataFrame:
    """Every ward of the vintage with its value (NaN when there is none) and source.

    Columns: area_code, area_name, value, status (NULL when no row), numerator, denominator,
    source_id, source_title, publisher; ordered by ward name.
    """
    return _df(con, f"""
        WITH w AS ({_WARDS})
        SELECT w.area_code, w.area_name, o.value, o.status, o.numerator, o.denominator, o.lower_ci, o.upper_ci,
               o.source_id, s.title AS source_title, s.publisher
        FROM w LEFT JOIN observations o ON o.area_code = w.area_code AND o.indicator_id = ?
             AND o.period = ? AND o.breakdown = ?
        LEFT JOIN sources s ON s.source_id = o.source_id
        ORDER BY w.area_name""", [vintage, config.DERBY, indicator_id, period, breakdown])


def reference_values(con, indicator_id: str, period: str, breakdown: str = "all") -> pd.DataFrame:
    """Derby's and England's values in a period (rows only where they exist), with source."""
    return _df(con, """
        SELECT o.area_code, a.area_name, o.value, o.status, o.numerator, o.denominator, o.lower_ci, o.upper_ci,
               o.source_id, s.title AS source_title, s.publisher
        FROM observations o JOIN areas a USING (area_code) LEFT JOIN sources s USING (source_id)
        WHERE o.indicator_id = ? AND o.period = ? AND o.breakdown = ? AND list_contains(?, o.area_code)
        ORDER BY o.area_code = ? DESC""", [indicator_id, period, breakdown, [config.DERBY, config.ENGLAND], config.DERBY])


def has_boundaries(con, vintage: str, layer: str = "ward") -> bool:
    """True when the boundaries of a layer and vintage are loaded."""
    return con.execute("SELECT count(*) FROM boundaries WHERE layer = ? AND vintage = ?",
                       [layer, vintage]).fetchone()[0] > 0


def boundaries(con, vintage: str, layer: str = "ward", codes: list[str] | None = None) -> pd.DataFrame:
    """Simplified boundaries (area_code, vintage, layer, area_name, geometry_wkb) of a layer and vintage."""
    return _df(con, """SELECT area_code, vintage, layer, area_name, geometry_wkb FROM boundaries
                       WHERE layer = ? AND vintage = ? AND (? IS NULL OR list_contains(?, area_code))
                       ORDER BY area_code""", [layer, vintage, codes, codes])


def lsoas_of_ward(con, ward_code: str, vintage: str) -> pd.DataFrame:
    """The LSOAs assigned to a ward (lsoa_ward) with IMD 2019 decile and rank and their boundary.

    Columns: area_code, area_name, imd_decile, imd_rank, population_total, method, geometry_wkb
    (NULL when the LSOA boundaries are not loaded); ordered by IMD rank (most deprived first).
    """
    return _df(con, """
        SELECT l.lsoa_code AS area_code, coalesce(a.area_name, l.lsoa_code) AS area_name,
               d.value AS imd_decile, r.value AS imd_rank, p.value AS population_total, l.method, b.geometry_wkb
        FROM lsoa_ward l LEFT JOIN areas a ON a.area_code = l.lsoa_code
        LEFT JOIN observations d ON d.area_code = l.lsoa_code AND d.indicator_id = 'imd_decile' AND d.breakdown = 'all'
        LEFT JOIN observations r ON r.area_code = l.lsoa_code AND r.indicator_id = 'imd_rank' AND r.breakdown = 'all'
        LEFT JOIN observations p ON p.area_code = l.lsoa_code AND p.indicator_id = 'population_total'
             AND p.breakdown = 'all'
        LEFT JOIN boundaries b ON b.area_code = l.lsoa_code AND b.layer = 'lsoa'
        WHERE l.ward_code = ? AND l.vintage = ?
        ORDER BY r.value NULLS LAST, l.lsoa_code""", [ward_code, vintage])


def ward_context(con, area_codes: list[str], indicators: tuple[str, ...] = CONTEXT_INDICATORS) -> pd.DataFrame:
    """Context figures of areas (long): area_code, indicator_id, period, value, status, numerator,
    denominator, source_id, with indicator title, unit and decimals. Latest period per indicator."""
    return _df(con, """
        SELECT o.area_code, o.indicator_id, o.period, o.year, o.value, o.status, o.numerator, o.denominator,
               o.source_id, i.title, i.short_title, i.unit, i.decimals
        FROM observations o JOIN indicators i USING (indicator_id)
        WHERE list_contains(?, o.area_code) AND list_contains(?, o.indicator_id) AND o.breakdown = 'all'
        QUALIFY row_number() OVER (PARTITION BY o.area_code, o.indicator_id ORDER BY o.year DESC, o.period DESC) = 1
        ORDER BY o.area_code, o.indicator_id""", [list(area_codes), list(indicators)])


def plan_ward_figures(con) -> pd.DataFrame:
    """The delivery plan's figures for wards, with ward name, vintage and indicator title."""
    return _df(con, """
        SELECT f.figure_id, f.indicator_id, i.title, i.unit, f.area_code, a.area_name, a.vintage, f.period,
               f.breakdown, f.value, f.plan_section, f.plan_quote, f.note
        FROM plan_figures f JOIN areas a USING (area_code) LEFT JOIN indicators i USING (indicator_id)
        WHERE a.area_type = 'ward' ORDER BY f.indicator_id, f.value""")


def source_labels(con, source_ids: list[str]) -> dict[str, str]:
    """`title (publisher)` of each source id; an id without a sources row maps to itself."""
    df = _df(con, "SELECT source_id, title, publisher FROM sources WHERE list_contains(?, source_id)",
             [list(source_ids)])
    labels = {r.source_id: f"{r.title} ({r.publisher})" if r.publisher else r.title for r in df.itertuples()}
    return {s: labels.get(s, s) for s in source_ids}


# Each (indicator, breakdown) with ward values on a vintage, at its latest period with a ward value.
_LATEST = f"""
    w AS ({_WARDS}),
    wo AS (SELECT o.* FROM observations o JOIN w USING (area_code)),
    latest AS (
        SELECT indicator_id, breakdown, period, year FROM (
            SELECT DISTINCT indicator_id, breakdown, period, year FROM wo WHERE value IS NOT NULL)
        QUALIFY row_number() OVER (PARTITION BY indicator_id, breakdown ORDER BY year DESC, period DESC) = 1)"""


def latest_ward_values(con, vintage: str) -> pd.DataFrame:
    """Every ward indicator of a vintage at its latest period, for every ward (long).

    One row per (indicator_id, breakdown, ward); a ward without a row has value NaN and status NULL.
    Columns: indicator_id, breakdown, period, year, area_code, area_name, value, status, numerator,
    denominator, lower_ci, upper_ci, source_id, source_title, publisher, title, short_title, theme, unit,
    decimals, polarity, definition, series_breaks.
    """
    return _df(con, f"""
        WITH {_LATEST}
        SELECT l.indicator_id, l.breakdown, l.period, l.year, w.area_code, w.area_name, o.value, o.status,
               o.numerator, o.denominator, o.lower_ci, o.upper_ci, o.source_id, s.title AS source_title, s.publisher,
               i.title, i.short_title, i.theme, i.unit, i.decimals, i.polarity, i.definition, i.series_breaks
        FROM latest l CROSS JOIN w JOIN indicators i ON i.indicator_id = l.indicator_id
        LEFT JOIN wo o ON o.indicator_id = l.indicator_id AND o.breakdown = l.breakdown
             AND o.period = l.period AND o.area_code = w.area_code
        LEFT JOIN sources s ON s.source_id = o.source_id
        ORDER BY i.theme = 'context', i.theme, i.title, l.breakdown != 'all', l.breakdown, w.area_name""",
               [vintage, config.DERBY])


def latest_reference_values(con, vintage: str) -> pd.DataFrame:
    """Derby's and England's values for the same (indicator, breakdown, period) as `latest_ward_values`.

    Columns: indicator_id, breakdown, period, area_code, value, status, numerator, denominator,
    lower_ci, upper_ci, source_id; rows only where they exist.
    """
    return _df(con, f"""
        WITH {_LATEST}
        SELECT o.indicator_id, o.breakdown, o.period, o.area_code, o.value, o.status, o.numerator,
               o.denominator, o.lower_ci, o.upper_ci, o.source_id
        FROM latest l JOIN (SELECT * FROM observations WHERE area_code IN (?, ?)) o
             USING (indicator_id, breakdown, period)
        ORDER BY o.indicator_id, o.area_code""",
               [vintage, config.DERBY, config.DERBY, config.ENGLAND])


def ward_history(con, indicator_id: str, breakdown: str, area_codes: list[str]) -> pd.DataFrame:
    """Every period of one indicator and breakdown for some areas (a ward, Derby, England), oldest first.

    Columns: area_code, area_name, period, year, value, status, numerator, denominator, source_id.
    """
    return _df(con, """
        SELECT o.area_code, a.area_name, o.period, o.year, o.value, o.status, o.numerator, o.denominator, o.source_id
        FROM observations o JOIN areas a USING (area_code)
        WHERE o.indicator_id = ? AND o.breakdown = ? AND list_contains(?, o.area_code)
        ORDER BY o.area_code, o.year, o.period""", [indicator_id, breakdown, list(area_codes)])


def ward_period_counts(con, ward_code: str) -> pd.DataFrame:
    """Periods with a value per indicator and breakdown for one ward: indicator_id, breakdown, n."""
    return _df(con, """SELECT indicator_id, breakdown, count(*) AS n FROM observations
                       WHERE area_code = ? AND value IS NOT NULL GROUP BY ALL ORDER BY indicator_id, breakdown""",
               [ward_code])


def schools_in_ward(con, ward_code: str, vintage: str) -> pd.DataFrame:
    """Schools located in a ward (`queries.schools.schools_with_ward`); an empty frame when the
    database has no schools table or no schools."""
    from derby_oa.queries import schools

    if not schools.has_schools(con):
        return pd.DataFrame(columns=["urn", "school_name", "phase", "pupils", "fsm_pct", "ward_code"])
    return schools.schools_with_ward(con, vintage, ward_code)

"""Indicator metadata, areas, groups, series and sources."""
from __future__ import annotations

import duckdb
import pandas as pd

from derby_oa import config

__all__ = [
    "indicator", "indicators", "areas", "area_name", "group_members", "comparator_codes", "series",
    "values_for_period", "periods", "breakdowns", "sources", "plan_figures", "plan_activity",
    "target_list", "build_log", "has_published_data", "latest_period", "table_columns",
]


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def indicator(con, indicator_id: str) -> dict:
    """One indicator's metadata as a dict; KeyError if unknown."""
    df = _df(con, "SELECT * FROM indicators WHERE indicator_id = ?", [indicator_id])
    if df.empty:
        raise KeyError(indicator_id)
    row = df.iloc[0].to_dict()
    row["series_breaks"] = [int(x) for x in str(row.get("series_breaks") or "").split(";") if x.strip()]
    row["not_collected"] = [int(x) for x in str(row.get("not_collected") or "").split(";") if x.strip()]
    row["not_comparable"] = sorted(config.not_comparable(indicator_id, row.get("title") or ""))  # e.g. KS4 teacher-assessed years
    return row


def indicators(con, theme: str | None = None, with_data_for: str | None = None) -> pd.DataFrame:
    """Indicators (optionally of one theme, or only those with observations for an area)."""
    sql = "SELECT i.* FROM indicators i WHERE (? IS NULL OR theme = ?)"
    params: list = [theme, theme]
    if with_data_for:
        sql += " AND EXISTS (SELECT 1 FROM observations o WHERE o.indicator_id = i.indicator_id AND o.area_code = ?)"
        params.append(with_data_for)
    return _df(con, sql + " ORDER BY indicator_id LIKE 'lait_%', theme, indicator_id", params)


def areas(con, area_type: str | None = None, vintage: str | None = None, parent: str | None = None) -> pd.DataFrame:
    """Areas filtered by type, vintage and parent."""
    return _df(con, """SELECT * FROM areas WHERE (? IS NULL OR area_type = ?) AND (? IS NULL OR vintage = ?)
                       AND (? IS NULL OR parent_code = ?) ORDER BY area_type, area_name""",
               [area_type, area_type, vintage, vintage, parent, parent])


def area_name(con, code: str) -> str:
    """Display name of an area code (the code itself if unknown)."""
    row = con.execute("SELECT area_name FROM areas WHERE area_code = ?", [code]).fetchone()
    return row[0] if row else code


def group_members(con, group_id: str) -> pd.DataFrame:
    """Members of an area group in their published order."""
    return _df(con, """SELECT g.area_code, a.area_name, g.member_order, g.closeness FROM area_groups g
                       JOIN areas a USING (area_code) WHERE group_id = ? ORDER BY member_order""", [group_id])


def comparator_codes(con, group_id: str = config.SN_GROUP_CURRENT) -> dict[str, list[str] | str]:
    """Derby, England, East Midlands and the statistical neighbours (empty if not loaded)."""
    return {"derby": config.DERBY, "england": config.ENGLAND, "region": config.EAST_MIDLANDS,
            "neighbours": group_members(con, group_id)["area_code"].tolist()}


def series(con, indicator_id: str, area_codes: list[str], breakdown: str | list[str] = "all") -> pd.DataFrame:
    """Observations of one indicator for areas and breakdowns, with area names, ordered by year."""
    breakdowns = [breakdown] if isinstance(breakdown, str) else list(breakdown)
    return _df(con, """SELECT o.*, a.area_name, a.area_type FROM observations o JOIN areas a USING (area_code)
                       WHERE indicator_id = ? AND list_contains(?, o.area_code) AND list_contains(?, breakdown)
                       ORDER BY year, area_code, breakdown""", [indicator_id, area_codes, breakdowns])


def values_for_period(con, indicator_id: str, period: str, area_type: str = "la",
                      breakdown: str = "all") -> pd.DataFrame:
    """All areas of one type with a value for an indicator in a period (for ranks and quartiles)."""
    return _df(con, """SELECT o.area_code, a.area_name, o.value, o.status FROM observations o
                       JOIN areas a USING (area_code) WHERE indicator_id = ? AND period = ? AND breakdown = ?
                       AND a.area_type = ? ORDER BY o.area_code""", [indicator_id, period, breakdown, area_type])


def periods(con, indicator_id: str, area_code: str | None = None) -> pd.DataFrame:
    """Distinct (period, year) of an indicator, optionally for one area, in time order."""
    return _df(con, """SELECT DISTINCT period, year FROM observations WHERE indicator_id = ?
                       AND (? IS NULL OR area_code = ?) ORDER BY year, period""", [indicator_id, area_code, area_code])


def latest_period(con, indicator_id: str, area_code: str, breakdown: str = "all") -> tuple[str, int] | None:
    """Latest period with a published value for an area, or None."""
    row = con.execute("""SELECT period, year FROM observations WHERE indicator_id = ? AND area_code = ?
                         AND breakdown = ? AND status = 'published' ORDER BY year DESC, period DESC LIMIT 1""",
                      [indicator_id, area_code, breakdown]).fetchone()
    return (row[0], int(row[1])) if row else None


def breakdowns(con, indicator_id: str) -> list[str]:
    """Breakdowns available for an indicator, `all` first."""
    rows = con.execute("""SELECT DISTINCT breakdown FROM observations WHERE indicator_id = ?
                          ORDER BY breakdown != 'all', breakdown""", [indicator_id]).fetchall()
    return [r[0] for r in rows]


def sources(con) -> pd.DataFrame:
    """Every source with publisher, licence and attribution, and how many rows it supplies."""
    return _df(con, """SELECT s.*, coalesce(n.rows, 0) AS observations FROM sources s
                       LEFT JOIN (SELECT source_id, count(*) AS rows FROM observations GROUP BY 1) n USING (source_id)
                       ORDER BY s.source_id != 'plan_2017', s.title""")


def plan_figures(con, indicator_id: str | None = None) -> pd.DataFrame:
    """The plan's quoted figures with section and words, with area names."""
    return _df(con, """SELECT f.*, a.area_name FROM plan_figures f LEFT JOIN areas a USING (area_code)
                       WHERE (? IS NULL OR indicator_id = ?) ORDER BY figure_id""", [indicator_id, indicator_id])


def plan_activity(con) -> pd.DataFrame:
    """The plan's programme activity figures."""
    return _df(con, "SELECT * FROM plan_activity ORDER BY priority, activity_id")


def target_list(con) -> pd.DataFrame:
    """Plan and local targets with indicator titles."""
    return _df(con, """SELECT t.*, i.title, i.unit, i.polarity FROM targets t
                       LEFT JOIN indicators i USING (indicator_id) ORDER BY origin != 'plan', priority, target_id""")


def build_log(con) -> pd.DataFrame:
    """One line per source from the last build."""
    return _df(con, "SELECT source, status, detail FROM build_log")


def has_published_data(con) -> bool:
    """True when any published (non-plan) source was loaded."""
    return con.execute("SELECT count(*) FROM observations WHERE source_id != 'plan_2017'").fetchone()[0] > 0


def table_columns(con) -> pd.DataFrame:
    """Every table's columns and types, in table order (the SQL console's data dictionary)."""
    return _df(con, "SELECT table_name, column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position")

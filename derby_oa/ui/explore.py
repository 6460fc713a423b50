"""The Explorer's prepared parts: each indicator's chart, caption and table, made once per database version and
choice (the page itself reads the URL and draws the widgets)."""
from __future__ import annotations

from derby_oa import queries
from derby_oa.queries import explore as xq
from derby_oa.ui import connection
from derby_oa.viz import explore as explore_chart


@connection.per_database(64)
def chart_parts(indicator: str, codes: tuple[str, ...], breakdowns: tuple[str, ...], year_from, year_to, kind: str):
    """(title, chart, caption, table) of one indicator for the chosen areas, groups and years; None without rows."""
    con = connection.get_con()
    rows = xq.observations(con, [indicator], list(codes), list(breakdowns), year_from, year_to)
    if rows.empty:
        return None
    meta = queries.indicator(con, indicator)
    chart, caption, table = explore_chart.chart(rows, meta, kind, year=int(rows["year"].max()))
    return meta["title"], chart, caption, table

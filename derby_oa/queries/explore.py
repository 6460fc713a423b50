"""SQL for the explorer: indicator search, area and group choices, the selected observations and their sources."""
from __future__ import annotations

import re

import pandas as pd

from derby_oa import config

# Named groups of areas offered by the explorer (beyond the statistical-neighbour groups in area_groups).
FIXED_GROUPS = {
    "regions": "All English regions",
    "las": "All local authorities",
    f"wards_{config.WARD_VINTAGE_PLAN}": f"Derby wards ({config.WARD_VINTAGE_PLAN}, plan period)",
    f"wards_{config.WARD_VINTAGE_CURRENT}": f"Derby wards ({config.WARD_VINTAGE_CURRENT} boundaries)",
    "derby_lsoas": "Derby LSOAs (2011)",
}


def search_indicators(con, text: str = "") -> pd.DataFrame:
    """Indicators whose id, title or definition contains every word of `text`, with their number of rows.

    Curated indicators come before the uncurated LAIT measures.
    """
    words = [w for w in re.split(r"\s+", (text or "").strip()) if w][:8]
    where = " AND ".join(["(i.indicator_id ILIKE ? OR i.title ILIKE ? OR coalesce(i.definition, '') ILIKE ?)"] * len(words))
    params = [p for w in words for p in [f"%{w}%"] * 3]
    return con.execute(f"""
        SELECT i.indicator_id, i.title, i.unit, i.theme, i.definition,
               (SELECT count(*) FROM observations o WHERE o.indicator_id = i.indicator_id) AS rows
        FROM indicators i {'WHERE ' + where if words else ''}
        ORDER BY i.indicator_id LIKE 'lait_%', i.theme, i.title""", params).df()


def area_choices(con, include: list[str] | None = None) -> pd.DataFrame:
    """Areas the explorer offers: England, regions, every LA, Derby's wards (both vintages), Derby's LSOAs
    (those whose parent is a ward: only Derby's wards are held),
    and any other area codes in `include` (e.g. an LSOA elsewhere named in a link)."""
    return con.execute("""
        SELECT area_code, area_name, area_type, vintage,
               CASE area_type WHEN 'country' THEN 0 WHEN 'region' THEN 2 WHEN 'la' THEN 3
                              WHEN 'ward' THEN 4 ELSE 5 END
               - CASE WHEN area_code = ? THEN 2 ELSE 0 END AS sort_key
        FROM areas
        WHERE area_type IN ('country', 'region', 'la', 'ward')
           OR (area_type = 'lsoa' AND parent_code IN (SELECT area_code FROM areas WHERE area_type = 'ward'))
           OR list_contains(?, area_code)
        ORDER BY sort_key, vintage, area_name""", [config.DERBY, list(include or [])]).df()


def group_choices(con) -> dict[str, str]:
    """Group id -> label: statistical-neighbour groups from area_groups, then the fixed groups."""
    rows = con.execute("SELECT DISTINCT group_id, group_name FROM area_groups ORDER BY group_id DESC").fetchall()
    return {**{g: name for g, name in rows}, **FIXED_GROUPS}


def group_codes(con, group_id: str) -> list[str]:
    """Area codes of a group (statistical neighbours in their published order)."""
    if group_id == "regions":
        sql, params = "SELECT area_code FROM areas WHERE area_type = 'region' ORDER BY area_name", []
    elif group_id == "las":
        sql, params = "SELECT area_code FROM areas WHERE area_type = 'la' ORDER BY area_name", []
    elif group_id.startswith("wards_"):
        sql = "SELECT area_code FROM areas WHERE area_type = 'ward' AND vintage = ? ORDER BY area_name"
        params = [group_id.removeprefix("wards_")]
    elif group_id == "derby_lsoas":
        sql, params = ("SELECT area_code FROM areas WHERE area_type = 'lsoa' AND parent_code IN "
                       "(SELECT area_code FROM areas WHERE area_type = 'ward') ORDER BY area_code"), []
    else:
        sql, params = "SELECT area_code FROM area_groups WHERE group_id = ? ORDER BY member_order", [group_id]
    return [r[0] for r in con.execute(sql, params).fetchall()]


def breakdowns(con, indicator_ids: list[str]) -> list[str]:
    """Breakdowns held for any of the indicators, `all` first."""
    rows = con.execute("""SELECT DISTINCT breakdown FROM observations WHERE list_contains(?, indicator_id)
                          ORDER BY breakdown != 'all', breakdown""", [list(indicator_ids)]).fetchall()
    return [r[0] for r in rows]


def years(con, indicator_ids: list[str]) -> list[int]:
    """End years held for any of the indicators, ascending."""
    rows = con.execute("SELECT DISTINCT year FROM observations WHERE list_contains(?, indicator_id) ORDER BY year",
                       [list(indicator_ids)]).fetchall()
    return [int(r[0]) for r in rows]


def observations(con, indicator_ids: list[str], area_codes: list[str], breakdowns: list[str],
                 year_from: int | None = None, year_to: int | None = None) -> pd.DataFrame:
    """The selected observations with indicator, area and source names, in a stable order."""
    return con.execute("""
        SELECT o.indicator_id, i.title AS indicator, i.unit, i.decimals, o.area_code, a.area_name, a.area_type,
               o.period, o.year, o.breakdown, o.value, o.status, o.numerator, o.denominator,
               o.lower_ci, o.upper_ci, o.source_id, s.title AS source
        FROM observations o
        JOIN indicators i USING (indicator_id)
        JOIN areas a USING (area_code)
        LEFT JOIN sources s ON s.source_id = o.source_id
        WHERE list_contains(?, o.indicator_id) AND list_contains(?, o.area_code) AND list_contains(?, o.breakdown)
          AND (? IS NULL OR o.year >= ?) AND (? IS NULL OR o.year <= ?)
        ORDER BY list_position(?, o.indicator_id), list_position(?, o.area_code), o.breakdown != 'all',
                 o.breakdown, o.year, o.period""",
                       [list(indicator_ids), list(area_codes), list(breakdowns), year_from, year_from, year_to,
                        year_to, list(indicator_ids), list(area_codes)]).df()


def definitions(con, pairs: pd.DataFrame) -> pd.DataFrame:
    """Definition, source, licence and attribution for each (indicator_id, source_id) pair in `pairs`."""
    if pairs.empty:
        return pd.DataFrame(columns=["indicator_id", "title", "unit", "definition", "series_notes", "source_id",
                                     "source", "publisher", "licence", "attribution", "url"])
    con.register("_explore_pairs", pairs[["indicator_id", "source_id"]].drop_duplicates())
    try:
        return con.execute("""
            SELECT p.indicator_id, i.title, i.unit, i.definition, i.series_notes, p.source_id,
                   s.title AS source, s.publisher, s.licence, s.attribution, s.url
            FROM _explore_pairs p JOIN indicators i USING (indicator_id) LEFT JOIN sources s ON s.source_id = p.source_id
            ORDER BY p.indicator_id, p.source_id""").df()
    finally:
        con.unregister("_explore_pairs")

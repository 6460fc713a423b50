"""SQL for the change history: snapshots of the main database, and the history store's own tables.

The history store is a separate DuckDB file beside the database (`<stem>_history.duckdb`), because a
build replaces the main file. Tables: `changes` (one row per build, upload or undo), `change_items`
(what changed: new periods, revised or removed values, new or removed indicators) and `tile_states`
(each headline tile's direction, comparison with England, quartile and target statuses after a change).
"""
from __future__ import annotations

import pandas as pd

HISTORY_DDL = {
    "changes": """CREATE TABLE IF NOT EXISTS changes (
        change_id INTEGER PRIMARY KEY, recorded_at TIMESTAMP NOT NULL, trigger VARCHAR NOT NULL,
        summary VARCHAR NOT NULL, first_record BOOLEAN NOT NULL)""",
    "change_items": """CREATE TABLE IF NOT EXISTS change_items (
        change_id INTEGER NOT NULL, kind VARCHAR NOT NULL, indicator_id VARCHAR NOT NULL, breakdown VARCHAR,
        area_code VARCHAR, period VARCHAR, year INTEGER, old_value DOUBLE, new_value DOUBLE,
        old_status VARCHAR, new_status VARCHAR, source_id VARCHAR, title VARCHAR, area_name VARCHAR,
        unit VARCHAR, decimals INTEGER, source_title VARCHAR)""",
    "tile_states": """CREATE TABLE IF NOT EXISTS tile_states (
        change_id INTEGER NOT NULL, tile_key VARCHAR NOT NULL, title VARCHAR, period VARCHAR,
        direction VARCHAR, vs_england VARCHAR, quartile VARCHAR, targets VARCHAR, sources VARCHAR)""",
}

SNAPSHOT_SQL = """SELECT o.indicator_id, o.area_code, o.breakdown, o.period, o.year, o.value, o.status, o.source_id
                  FROM observations o"""


def tables(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def snapshot(con) -> pd.DataFrame:
    """Every observation's key, value, status and source (what a change is judged on)."""
    return con.execute(SNAPSHOT_SQL).df()


def indicator_titles(con) -> pd.DataFrame:
    """indicator_id, title, unit, decimals of every indicator."""
    return con.execute("SELECT indicator_id, title, unit, decimals FROM indicators").df()


def area_names(con) -> pd.DataFrame:
    return con.execute("SELECT area_code, area_name FROM areas").df()


def source_titles(con) -> pd.DataFrame:
    return con.execute("SELECT source_id, title, publisher FROM sources").df()


def la_values_for(con, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """Every local authority's observations of several (indicator_id, breakdown) pairs (for quartiles)."""
    keys = [f"{i}|{b}" for i, b in pairs]
    return con.execute("""SELECT o.indicator_id, o.breakdown, o.area_code, o.period, o.year, o.value, o.status,
                                 o.source_id
                          FROM observations o JOIN areas a USING (area_code)
                          WHERE a.area_type = 'la' AND list_contains(?, o.indicator_id || '|' || o.breakdown)
                          ORDER BY o.indicator_id, o.breakdown, o.year, o.area_code""", [keys]).df()


def create(con) -> None:
    for ddl in HISTORY_DDL.values():
        con.execute(ddl)


def next_change_id(con) -> int:
    return int(con.execute("SELECT coalesce(max(change_id), 0) + 1 FROM changes").fetchone()[0])


def insert_change(con, change_id: int, recorded_at, trigger: str, summary: str, first: bool) -> None:
    con.execute("INSERT INTO changes VALUES (?, ?, ?, ?, ?)", [change_id, recorded_at, trigger, summary, first])


def insert_frame(con, table: str, frame: pd.DataFrame) -> None:
    """Append `frame` (columns named as the table's) to `table`."""
    if frame is None or not len(frame):
        return
    cols = list(frame.columns)
    con.register("_rows", frame)
    try:
        con.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM _rows")
    finally:
        con.unregister("_rows")


def has_tile_states(con) -> bool:
    return bool(con.execute("SELECT count(*) FROM tile_states").fetchone()[0])


def changes_since(con, since) -> pd.DataFrame:
    """The recorded changes at or after `since` (a timestamp), oldest first."""
    return con.execute("SELECT * FROM changes WHERE recorded_at >= ? ORDER BY change_id", [since]).df()


def all_changes(con) -> pd.DataFrame:
    return con.execute("SELECT * FROM changes ORDER BY change_id").df()


def items_since(con, since) -> pd.DataFrame:
    """What changed at or after `since`, with the change's time and trigger."""
    return con.execute("""SELECT c.recorded_at, c.trigger, i.* FROM change_items i JOIN changes c USING (change_id)
                          WHERE c.recorded_at >= ? ORDER BY i.change_id, i.kind, i.indicator_id, i.breakdown,
                          i.area_code, i.year""", [since]).df()


def tile_states_at(con, change_id: int) -> pd.DataFrame:
    return con.execute("SELECT * FROM tile_states WHERE change_id = ? ORDER BY tile_key", [change_id]).df()


def last_change_before(con, since) -> int | None:
    """The last change recorded before `since` that holds tile states (the state at the last meeting)."""
    row = con.execute("""SELECT max(c.change_id) FROM changes c WHERE c.recorded_at < ?
                         AND EXISTS (SELECT 1 FROM tile_states t WHERE t.change_id = c.change_id)""",
                      [since]).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def last_change_with_states(con) -> int | None:
    row = con.execute("SELECT max(change_id) FROM tile_states").fetchone()
    return None if row is None or row[0] is None else int(row[0])

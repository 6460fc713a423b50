"""What a viewer may see: published figures only. The one place that hides officers' draft uploads.

An upload is a draft until an officer publishes it (`uploads.published`; NULL for uploads made before
the flag existed, which were already shown to everyone, counts as published). For a viewer's
connection `restrict_to_published` creates temporary views named `observations` and `sources` that
shadow the tables for every unqualified query on that connection: rows of a draft upload are
replaced by the value they replaced (from `upload_rows`), or left out when the draft added them, and
draft uploads' source rows are hidden. Officers' connections read the tables themselves.
"""
from __future__ import annotations

import pandas as pd

from derby_oa.storage.store import UPLOAD_SOURCE_PREFIX


def _has_column(con, table: str, column: str) -> bool:
    return bool(con.execute("""SELECT count(*) FROM information_schema.columns WHERE table_schema = 'main'
                               AND table_catalog = current_database() AND table_name = ? AND column_name = ?""",
                            [table, column]).fetchone()[0])


def drafts(con) -> pd.DataFrame:
    """Active (not undone) uploads that are not published: upload_id, file_name, loaded_at, rows."""
    if not _has_column(con, "uploads", "published"):
        return pd.DataFrame(columns=["upload_id", "file_name", "loaded_at", "rows_added", "rows_changed"])
    return con.execute(f"""SELECT upload_id, file_name, loaded_at, rows_added, rows_changed
                           FROM "{_catalog(con)}".main.uploads
                           WHERE NOT coalesce(undone, false) AND NOT coalesce(published, true)
                           ORDER BY upload_id""").df()


def _catalog(con) -> str:
    return con.execute("SELECT current_database()").fetchone()[0].replace('"', '""')


def published_observations_sql(db: str) -> str:
    """SELECT of the observations a viewer sees, reading the tables of database `db`."""
    t = f'"{db}".main'
    return f"""
        WITH drafts AS (
            SELECT '{UPLOAD_SOURCE_PREFIX}' || upload_id AS source_id, upload_id FROM {t}.uploads
            WHERE NOT coalesce(undone, false) AND NOT coalesce(published, true)),
        before_drafts AS (  -- per key a draft holds: the state before the latest run of drafts over it
            SELECT r.* FROM {t}.upload_rows r JOIN drafts d USING (upload_id)
            WHERE r.previous_source_id IS NULL OR r.previous_source_id NOT IN (SELECT source_id FROM drafts)
            QUALIFY row_number() OVER (PARTITION BY r.indicator_id, r.area_code, r.period, r.breakdown
                                       ORDER BY r.upload_id DESC) = 1)
        SELECT o.* FROM {t}.observations o WHERE o.source_id NOT IN (SELECT source_id FROM drafts)
        UNION ALL BY NAME
        SELECT o.indicator_id, o.area_code, o.period, o.year, o.breakdown, b.previous_value AS value,
               b.previous_status AS status, b.previous_numerator AS numerator,
               b.previous_denominator AS denominator, b.previous_lower_ci AS lower_ci,
               b.previous_upper_ci AS upper_ci, b.previous_source_id AS source_id
        FROM {t}.observations o JOIN drafts d ON o.source_id = d.source_id
        JOIN before_drafts b USING (indicator_id, area_code, period, breakdown)
        WHERE NOT b.was_new"""


def restrict_to_published(con) -> int:
    """Make `con` (one connection or cursor) see published figures only; returns the number of drafts hidden.

    With no drafts nothing is created and queries read the tables directly.
    """
    n = len(drafts(con))
    if n:
        db = _catalog(con)
        con.execute(f"CREATE OR REPLACE TEMP VIEW observations AS {published_observations_sql(db)}")
        con.execute(f"""CREATE OR REPLACE TEMP VIEW sources AS SELECT * FROM "{db}".main.sources
                        WHERE source_id NOT IN (SELECT '{UPLOAD_SOURCE_PREFIX}' || upload_id FROM "{db}".main.uploads
                              WHERE NOT coalesce(undone, false) AND NOT coalesce(published, true))""")
    return n

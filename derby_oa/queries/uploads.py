"""SQL for officer uploads: what the loader checks against, the audit trail, and the writes of commit and undo.

Write functions take the read-write connection that `store.atomic_update` passes to its change.
"""
from __future__ import annotations

import pandas as pd

from derby_oa.storage.schema import OBS_COLUMNS, OBS_KEY

# Columns added to upload_rows after its first version; older databases get them on first commit.
UPLOAD_ROWS_EXTRA = {"previous_numerator": "DOUBLE", "previous_denominator": "DOUBLE",
                     "previous_lower_ci": "DOUBLE", "previous_upper_ci": "DOUBLE"}


def known_codes(con) -> tuple[set[str], set[str]]:
    """(indicator ids, area codes) in the database."""
    ind = {r[0] for r in con.execute("SELECT indicator_id FROM indicators").fetchall()}
    areas = {r[0] for r in con.execute("SELECT area_code FROM areas").fetchall()}
    return ind, areas


def areas_for_mapping(con) -> pd.DataFrame:
    """Area codes with names and DfE LA numbers (to map EES `old_la_code` and name areas in the report)."""
    return con.execute("SELECT area_code, area_name, area_type, la_number FROM areas").df()


def indicator_rules(con, indicator_ids: list[str]) -> pd.DataFrame:
    """Per indicator: unit, not_collected, the period kinds it has, the range of its published values,
    and the not-collected years in which a published source nevertheless has values."""
    return con.execute("""
        SELECT i.indicator_id, i.title, i.unit, i.not_collected,
               (SELECT list(DISTINCT CASE
                    WHEN regexp_full_match(o.period, '\\d{4}/\\d{2}') THEN 'academic'
                    WHEN regexp_full_match(o.period, '\\d{4}-\\d{2}') THEN 'financial'
                    WHEN regexp_full_match(o.period, '\\d{4}') THEN 'calendar'
                    ELSE 'other' END)
                FROM observations o WHERE o.indicator_id = i.indicator_id) AS kinds,
               (SELECT min(value) FROM observations o WHERE o.indicator_id = i.indicator_id
                  AND o.source_id NOT LIKE 'upload:%') AS published_min,
               (SELECT max(value) FROM observations o WHERE o.indicator_id = i.indicator_id
                  AND o.source_id NOT LIKE 'upload:%') AS published_max,
               (SELECT list(DISTINCT year) FROM observations o WHERE o.indicator_id = i.indicator_id
                  AND o.status = 'published' AND o.source_id NOT LIKE 'upload:%'
                  AND list_contains(string_split(coalesce(i.not_collected, ''), ';'), CAST(o.year AS VARCHAR)))
                 AS published_in_not_collected
        FROM indicators i WHERE list_contains(?, i.indicator_id)""", [list(indicator_ids)]).df()


def existing_rows(con, keys: pd.DataFrame) -> pd.DataFrame:
    """Current observations for the (indicator_id, area_code, period, breakdown) keys in `keys`."""
    if keys.empty:
        return pd.DataFrame(columns=OBS_COLUMNS)
    con.register("_upload_keys", keys[OBS_KEY].drop_duplicates())
    try:
        return con.execute("""SELECT o.* FROM observations o
                              JOIN _upload_keys k USING (indicator_id, area_code, period, breakdown)""").df()
    finally:
        con.unregister("_upload_keys")


def uploads(con) -> pd.DataFrame:
    """The upload audit, newest first, with who loaded each file and under which licence."""
    published = ("CASE WHEN u.undone THEN 'undone' WHEN u.published = false THEN 'draft' ELSE 'published' END"
                 if "published" in _columns(con, "uploads") else "CASE WHEN u.undone THEN 'undone' ELSE 'published' END")
    return con.execute(f"""SELECT u.upload_id, u.file_name, u.format, u.loaded_at, u.rows_added, u.rows_changed,
                                  {published} AS state, s.publisher, s.licence, u.sha256
                           FROM uploads u LEFT JOIN sources s ON s.source_id = 'upload:' || u.upload_id
                           ORDER BY u.upload_id DESC""").df()


def _columns(con, table: str) -> set[str]:
    return {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' "
                                      "AND table_name = ?", [table]).fetchall()}


def last_active_upload(con) -> dict | None:
    """The most recent upload that has not been undone, or None."""
    df = con.execute("SELECT * FROM uploads WHERE NOT coalesce(undone, false) ORDER BY upload_id DESC LIMIT 1").df()
    return None if df.empty else df.iloc[0].to_dict()


# ---- writes (inside store.atomic_update) -------------------------------------------------------------

def ensure_upload_columns(con) -> None:
    """Add the previous-count columns to upload_rows, and `published` to uploads, in databases built before
    they existed (earlier uploads keep NULL: they were already shown to everyone, so count as published)."""
    for name, kind in UPLOAD_ROWS_EXTRA.items():
        con.execute(f"ALTER TABLE upload_rows ADD COLUMN IF NOT EXISTS {name} {kind}")
    con.execute("ALTER TABLE uploads ADD COLUMN IF NOT EXISTS published BOOLEAN")


def next_upload_id(con) -> int:
    """One more than the largest upload id so far."""
    return int(con.execute("SELECT coalesce(max(upload_id), 0) + 1 FROM uploads").fetchone()[0])


def insert_source(con, source: dict) -> None:
    """Add the sources row of an upload."""
    con.execute("""INSERT INTO sources (source_id, title, publisher, url, licence, attribution, retrieved)
                   VALUES (?, ?, ?, ?, ?, ?, ?)""",
                [source["source_id"], source["title"], source["publisher"], source.get("url"), source["licence"],
                 source["attribution"], source.get("retrieved")])


def record_previous(con, upload_id: int, rows: pd.DataFrame) -> None:
    """Write upload_rows: the previous value, status, source and counts of each key, or was_new."""
    prev = rows.assign(upload_id=upload_id)
    cols = ["upload_id", *OBS_KEY, "previous_value", "previous_status", "previous_source_id", "was_new",
            *UPLOAD_ROWS_EXTRA]
    con.register("_upload_prev", prev[cols])
    try:
        con.execute(f"INSERT INTO upload_rows ({', '.join(cols)}) SELECT {', '.join(cols)} FROM _upload_prev")
    finally:
        con.unregister("_upload_prev")


def replace_observations(con, rows: pd.DataFrame) -> None:
    """Delete any current rows for the keys of `rows` and insert `rows` (canonical observation columns)."""
    con.register("_upload_obs", rows[OBS_COLUMNS])
    try:
        con.execute("""DELETE FROM observations o USING _upload_obs n WHERE o.indicator_id = n.indicator_id
                       AND o.area_code = n.area_code AND o.period = n.period AND o.breakdown = n.breakdown""")
        con.execute(f"INSERT INTO observations ({', '.join(OBS_COLUMNS)}) SELECT {', '.join(OBS_COLUMNS)} FROM _upload_obs")
    finally:
        con.unregister("_upload_obs")


def duplicate_keys(con) -> int:
    """Number of observation keys held more than once (must be 0)."""
    return int(con.execute(f"""SELECT count(*) FROM (SELECT {', '.join(OBS_KEY)} FROM observations
                               GROUP BY ALL HAVING count(*) > 1)""").fetchone()[0])


def insert_upload(con, record: dict) -> None:
    """Add the audit row of an upload."""
    con.execute("""INSERT INTO uploads (upload_id, file_name, sha256, loaded_at, rows_added, rows_changed, format, undone,
                                       published)
                   VALUES (?, ?, ?, ?, ?, ?, ?, false, ?)""",
                [record["upload_id"], record["file_name"], record["sha256"], record["loaded_at"],
                 record["rows_added"], record["rows_changed"], record["format"], bool(record["published"])])


def publish_upload(con, upload_id: int) -> None:
    """Mark a draft upload published (viewers see its rows from now on)."""
    con.execute("UPDATE uploads SET published = true WHERE upload_id = ?", [upload_id])


def upload_record(con, upload_id: int) -> dict | None:
    """One upload's audit row (with `published`, NULL for uploads made before drafts existed), or None."""
    df = con.execute("SELECT * FROM uploads WHERE upload_id = ?", [upload_id]).df()
    return None if df.empty else df.iloc[0].to_dict()


def undo_upload(con, upload_id: int) -> tuple[int, int]:
    """Remove the rows an upload added, restore the rows it changed, mark it undone; (removed, restored).

    Its `sources` row is kept for the audit (who loaded it, under which licence)."""
    source_id = f"upload:{upload_id}"
    cols = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns "
                                      "WHERE table_name = 'upload_rows'").fetchall()}
    extra = {k: (f"r.{k}" if k in cols else "NULL") for k in UPLOAD_ROWS_EXTRA}
    removed = con.execute("""DELETE FROM observations o USING upload_rows r
                             WHERE r.upload_id = ? AND r.was_new AND o.source_id = ?
                               AND o.indicator_id = r.indicator_id AND o.area_code = r.area_code
                               AND o.period = r.period AND o.breakdown = r.breakdown""",
                          [upload_id, source_id]).fetchone()[0]
    restored = con.execute(f"""UPDATE observations o SET value = r.previous_value, status = r.previous_status,
                                   source_id = r.previous_source_id, numerator = {extra['previous_numerator']},
                                   denominator = {extra['previous_denominator']},
                                   lower_ci = {extra['previous_lower_ci']}, upper_ci = {extra['previous_upper_ci']}
                               FROM upload_rows r
                               WHERE r.upload_id = ? AND NOT r.was_new AND o.source_id = ?
                                 AND o.indicator_id = r.indicator_id AND o.area_code = r.area_code
                                 AND o.period = r.period AND o.breakdown = r.breakdown""",
                           [upload_id, source_id]).fetchone()[0]
    con.execute("UPDATE uploads SET undone = true WHERE upload_id = ?", [upload_id])
    # The upload's sources row stays: the audit keeps who loaded the file and under which licence.
    return int(removed), int(restored)

"""Atomic writes to the database, and the durable record of what officers added.

`atomic_update` (copy, change, check, swap) is used by officer uploads, undo and local targets; it
holds the write lock, so writers never overwrite each other, and readers never see half a change.

Officers' uploads (observations, their `sources` rows, the `uploads` and `upload_rows` audit) and
local targets are also kept in their own file, `<database stem>_uploads.duckdb` (the *uploads
record*), written before the database on every officer write. A build restores them from it, so
nothing a build does (a failure, a corrupt database file) can lose them. A database built before the
record existed is read for them once, and the record is created.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd

from derby_oa import config
from derby_oa.storage import write_lock

T = TypeVar("T")
UPLOAD_SOURCE_PREFIX = "upload:"
RECORD_TABLES = ("observations", "sources", "uploads", "upload_rows", "targets")


class DatabaseDamaged(RuntimeError):
    """Officers' uploads cannot be read from the record or the database; the build will not drop them."""


def _tmp_beside(path: Path) -> Path:
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    return Path(tmp_name)


def _remove(tmp: Path) -> None:
    tmp.unlink(missing_ok=True)
    Path(str(tmp) + ".wal").unlink(missing_ok=True)


def atomic_update(change: Callable[[duckdb.DuckDBPyConnection], T], path: Path | None = None,
                  what: str = "an officer's change",
                  around: Callable[[], AbstractContextManager] | None = None) -> T:
    """Apply `change(con)` to a copy of the database and swap the copy in; on any error nothing changes.

    Holds the write lock throughout (a second writer waits, then gets `write_lock.WriteBusy`), and
    writes the uploads record before swapping the database in (for the database, not for a side
    store such as the change history, which has no `uploads` table). `around()`, if given, is entered
    inside the lock around the copy and swap (the change history uses it to see the database before
    and after).
    """
    from derby_oa.storage.db import DatabaseMissing

    path = Path(path or config.db_path())
    if not path.is_file():
        raise DatabaseMissing(f"{path} does not exist: run `python -m derby_oa build`")
    with write_lock.hold(path, what), (around() if around else nullcontext()):
        tmp = _tmp_beside(path)
        try:
            shutil.copyfile(path, tmp)
            con = duckdb.connect(str(tmp))
            try:
                con.execute("BEGIN TRANSACTION")
                result = change(con)
                con.execute("COMMIT")
                con.execute("CHECKPOINT")
                is_database = con.execute("SELECT count(*) FROM information_schema.tables "
                                          "WHERE table_name = 'uploads'").fetchone()[0] > 0
                officer = officer_frames(con) if is_database else None  # not for side stores (history)
            finally:
                con.close()
            if officer is not None:
                write_record(officer, config.uploads_record_path(path))
            os.replace(tmp, path)
            return result
        except BaseException:
            _remove(tmp)
            raise


# ---- what officers added ------------------------------------------------------------------------------

def officer_frames(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """Officers' rows held in an open database: uploaded observations and sources, the audit, local targets."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    out = {}
    if "targets" in tables:
        out["targets"] = con.execute("SELECT * FROM targets WHERE origin = 'local'").df()
    if "observations" in tables:
        out["observations"] = con.execute(
            "SELECT * FROM observations WHERE source_id LIKE ?", [UPLOAD_SOURCE_PREFIX + "%"]).df()
    if "sources" in tables:
        out["sources"] = con.execute("SELECT * FROM sources WHERE source_id LIKE ?", [UPLOAD_SOURCE_PREFIX + "%"]).df()
    for name in ("uploads", "upload_rows"):
        if name in tables:
            out[name] = con.execute(f"SELECT * FROM {name}").df()
    return {k: v for k, v in out.items() if len(v)}


def officer_tables(path: Path) -> dict[str, pd.DataFrame]:
    """What officers added to an existing database (empty if there is none).

    Raises duckdb.Error or OSError when the file exists but cannot be read.
    """
    from derby_oa.storage import db

    path = Path(path)
    if not path.is_file():
        return {}
    con = db.connect(path)
    try:
        return officer_frames(con)
    finally:
        con.close()


def write_record(frames: dict[str, pd.DataFrame], record: Path) -> None:
    """Write the uploads record atomically (temporary file, then swap)."""
    record = Path(record)
    record.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_beside(record)
    tmp.unlink()  # DuckDB creates the file itself
    try:
        con = duckdb.connect(str(tmp))
        try:
            stamp = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
            con.execute("CREATE TABLE record_info (written_at VARCHAR, tables VARCHAR)")
            con.execute("INSERT INTO record_info VALUES (?, ?)", [stamp, ",".join(sorted(frames))])
            for name, df in frames.items():
                if name in RECORD_TABLES and len(df):
                    con.register("_frame", df)
                    con.execute(f"CREATE TABLE {name} AS SELECT * FROM _frame")
                    con.unregister("_frame")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, record)
    except BaseException:
        _remove(tmp)
        raise


def read_record(record: Path) -> dict[str, pd.DataFrame]:
    """The frames of an uploads record; raises duckdb.Error or OSError if it cannot be read."""
    con = duckdb.connect(str(record), read_only=True)
    try:
        listed = con.execute("SELECT tables FROM record_info").fetchone()[0]
        names = [n for n in str(listed or "").split(",") if n]
        return {n: con.execute(f"SELECT * FROM {n}").df() for n in names if n in RECORD_TABLES}
    finally:
        con.close()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def kept_for_build(path: Path, discard: bool = False) -> tuple[dict[str, pd.DataFrame], str | None]:
    """(officers' frames to restore into a new build of `path`, a note or None). Call under the write lock.

    From the uploads record when there is one; else (a database from before the record) from the
    database itself. Raises DatabaseDamaged when they cannot be read, unless `discard`: then the
    unreadable file is set aside (renamed `.damaged`) and the build goes on without them.
    """
    path = Path(path)
    record = config.uploads_record_path(path)
    if record.is_file():
        source, hint = record, record
        reader = read_record
    elif path.is_file():
        source, hint = path, path
        reader = officer_tables
    else:
        return {}, None
    try:
        return reader(source), None
    except (duckdb.Error, OSError) as exc:
        if not discard:
            raise DatabaseDamaged(
                f"database damaged; restore from a backup of {hint} or pass --discard-uploads to build without "
                f"officers' uploads and local targets ({source.name} cannot be read: {_first_line(exc)})") from None
        aside = source.with_name(source.name + ".damaged")
        os.replace(source, aside)
        return {}, f"{source.name} could not be read and was set aside as {aside.name}; officers' uploads discarded"

"""Atomic writes to the database: copy, change, check, swap. Readers never see half a change.

Used by officer uploads and local targets. The build keeps what officers added (uploaded
observations, local targets and the upload audit) when it rebuilds from scratch.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd

from . import config

T = TypeVar("T")
UPLOAD_SOURCE_PREFIX = "upload:"


def atomic_update(change: Callable[[duckdb.DuckDBPyConnection], T], path: Path | None = None) -> T:
    """Apply `change(con)` to a copy of the database and swap the copy in; on any error nothing changes."""
    path = Path(path or config.db_path())
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        shutil.copyfile(path, tmp)
        con = duckdb.connect(str(tmp))
        try:
            con.execute("BEGIN TRANSACTION")
            result = change(con)
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, path)
        return result
    except BaseException:
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
        raise


def officer_tables(path: Path) -> dict[str, pd.DataFrame]:
    """What officers added to an existing database (empty if there is none), for the build to keep."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return {}
    try:
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
    finally:
        con.close()

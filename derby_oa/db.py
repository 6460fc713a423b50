"""Database connections: read-only for the app, read-write only for builds and uploads."""
from __future__ import annotations

from pathlib import Path

import duckdb

from . import config


class DatabaseMissing(FileNotFoundError):
    """No database has been built yet."""


def connect(path: Path | None = None, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the database; read-only connections also forbid access to files and the network."""
    path = Path(path or config.db_path())
    if read_only and not path.is_file():
        raise DatabaseMissing(f"{path} does not exist: run `python -m derby_oa build`")
    con = duckdb.connect(str(path), read_only=read_only)
    if read_only:
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    return con

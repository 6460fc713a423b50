"""Database connections: read-only for the app, read-write only for builds and uploads.

Read-only connections are bounded: DuckDB's memory limit and thread count come from
`config.memory_limit()` and `config.threads()` (DERBY_OA_MEMORY_LIMIT, DERBY_OA_THREADS).
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from derby_oa import config


class DatabaseMissing(FileNotFoundError):
    """No database has been built yet."""


def connect(path: Path | None = None, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the database; read-only connections also forbid files and the network and are bounded in
    memory and threads."""
    path = Path(path or config.db_path())
    if read_only and not path.is_file():
        raise DatabaseMissing(f"{path} does not exist: run `python -m derby_oa build`")
    con = duckdb.connect(str(path), read_only=read_only)
    if read_only:
        try:
            con.execute(f"SET memory_limit = '{config.memory_limit()}'")
            con.execute(f"SET threads = {config.threads()}")
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
        except duckdb.InvalidInputException:
            # DuckDB shares one instance per file within a process: another connection already locked
            # it. Accept only if that lock left it read-only with external access off.
            if not _locked_down(con):
                con.close()
                raise
    return con


def _locked_down(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the connection's instance is read-only, has external access off and config locked."""
    mode, external, locked = con.execute(
        "SELECT current_setting('access_mode'), current_setting('enable_external_access'), "
        "current_setting('lock_configuration')").fetchone()
    return str(mode).lower() == "read_only" and not external and bool(locked)

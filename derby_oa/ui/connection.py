"""The cached read-only database connection; builds the database on first run if missing."""
from __future__ import annotations

import threading

import streamlit as st

from .. import config, db

_build_lock = threading.Lock()


_open: dict = {}  # path -> the connection opened for its current file


@st.cache_resource(show_spinner=False)
def _connection(path: str, mtime: float):
    # DuckDB keeps one instance per file path in a process: while the connection to the replaced file is
    # open, a new connect would return that old instance (old data). Close it first (its cursors go too).
    old = _open.pop(path, None)
    if old is not None:
        old.close()
    _open[path] = db.connect(path)
    return _open[path]


def get_con():
    """Read-only connection to the current database file (reopened when the file is replaced)."""
    path = config.db_path()
    if not path.is_file():
        with _build_lock, st.spinner("Building the database from the plan's figures and any published data..."):
            if not path.is_file():
                from ..build import build
                build(path)
    return _connection(str(path), path.stat().st_mtime).cursor()


def reset() -> None:
    """Forget the cached connection, so the next `get_con` opens the replaced file (after an upload or undo)."""
    _connection.clear()

"""The cached read-only database connection; builds the database on first run if missing."""
from __future__ import annotations

import threading

import streamlit as st

from .. import config, db
from ..queries import visibility
from ..text import md_escape
from . import auth

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


def _current_file():
    path = config.db_path()
    if not path.is_file():
        with _build_lock, st.spinner("Building the database from the plan's figures and any published data..."):
            if not path.is_file():
                from ..build import build
                build(path)
    return path, path.stat().st_mtime


@st.cache_resource(show_spinner=False, max_entries=4)
def _drafts(path: str, mtime: float):
    """The draft uploads of one database file version."""
    cur = _connection(path, mtime).cursor()
    try:
        return visibility.drafts(cur)
    finally:
        cur.close()


def drafts():
    """Draft (unpublished) uploads in the current database file."""
    path, mtime = _current_file()
    return _drafts(str(path), mtime)


def scope() -> str:
    """'drafts' when this session sees officers' drafts (an officer, and there are some), else 'published'.

    Part of every cross-session cache key, so a viewer is never served a result computed with drafts."""
    return "drafts" if auth.current_officer() and len(drafts()) else "published"


def get_con():
    """Read-only connection to the current database file (reopened when the file is replaced).

    A visitor's connection sees published figures only (`queries.visibility`); an officer's sees drafts too.
    """
    path, mtime = _current_file()
    cur = _connection(str(path), mtime).cursor()
    if scope() == "published" and len(_drafts(str(path), mtime)):
        visibility.restrict_to_published(cur)
    return cur


def drafts_notice() -> None:
    """For an officer: which drafts the page includes (viewers do not see them)."""
    if scope() != "drafts":
        return
    listed = "; ".join(f"upload {r.upload_id} ({md_escape(r.file_name)})" for r in drafts().itertuples())
    st.warning(f"**Draft data shown.** This page includes unpublished uploads that viewers do not see: {listed}. "
               "Publish or undo them on *Load new data*.", icon=":material/edit_note:")


def reset() -> None:
    """Forget the cached connection, so the next `get_con` opens the replaced file (after an upload or undo)."""
    _connection.clear()

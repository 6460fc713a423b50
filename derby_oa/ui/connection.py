"""Read-only connections for the app: one per version of the database file, closed when no query uses it.

Builds, uploads and undo replace the database file (write a copy, then swap it in). Sessions that are
mid-query keep reading the version they started on; the next `get_con` opens the new version. Each
version has its own read-only connection, opened through a hard link with a unique name (removed when
the version closes; the SQL console's worker opens the same version by that name), because DuckDB
shares one instance per file name within a process and would otherwise hand back the old version.
`get_con` returns a cursor and counts it; a replaced version's connection is closed when the last of
its cursors is gone, never while a query uses it.
Builds the database on first run if it is missing. A visitor's cursor hides officers' draft uploads.
"""
from __future__ import annotations

import itertools
import logging
import os
import threading
import weakref
from pathlib import Path

import streamlit as st

from derby_oa import config
from derby_oa.storage import db
from derby_oa.queries import visibility
from derby_oa.storage import read_cache
from derby_oa.text import md_escape
from derby_oa.ui import auth

_log = logging.getLogger(__name__)
_build_lock = threading.Lock()
_lock = threading.RLock()  # re-entrant: a cursor may be collected (and released) while it is held
_serial = itertools.count(1)


class _Version:
    """One version of the database file: its identity, its connection and the cursors in use."""

    def __init__(self, key: tuple, con, link: Path | None):
        self.key, self.con, self.link = key, con, link
        self.linked = link is not None
        self.users = 0
        self.retired = self.closed = False

    def close_if_unused(self) -> None:
        if self.retired and self.users == 0 and not self.closed:
            self.closed = True
            self.con.close()
            if self.link is not None:
                self.link.unlink(missing_ok=True)


_current: dict[str, _Version] = {}  # database path -> its newest open version
_versions: list[_Version] = []  # every version not yet closed (for `open_versions`)
_cleaned: set[str] = set()  # database paths whose stale links this process has removed


def _key(path: Path) -> tuple:
    st_ = os.stat(path)
    return st_.st_dev, st_.st_ino, st_.st_size, st_.st_mtime_ns


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_links(path: Path) -> int:
    """Remove links left by app processes that died between linking and opening; how many were removed."""
    removed = 0
    for link in path.parent.glob(f".{path.name}.read-*"):
        try:
            pid = int(link.name.rsplit("-", 2)[1])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _alive(pid):
            link.unlink(missing_ok=True)
            removed += 1
    return removed


def _open(path: Path) -> _Version:
    """Open the file now at `path` under a name of its own (a hard link), else by its name."""
    if str(path) not in _cleaned:
        _cleaned.add(str(path))
        remove_stale_links(path)
    link = path.with_name(f".{path.name}.read-{os.getpid()}-{next(_serial)}")
    try:
        os.link(path, link)
    except OSError as exc:  # e.g. a read-only folder: fall back to the file's own name
        _log.warning("cannot link %s (%s): an old version stays in use until its queries finish", path, exc)
        return _Version(_key(path), db.connect(path), None)
    try:
        return _Version(_key(link), db.connect(link), link)
    except BaseException:
        link.unlink(missing_ok=True)
        raise


def _release(version: _Version) -> None:
    with _lock:
        version.users -= 1
        version.close_if_unused()
        if version.closed and version in _versions:
            _versions.remove(version)


def _retire(version: _Version) -> None:
    version.retired = True
    version.close_if_unused()
    if version.closed and version in _versions:
        _versions.remove(version)


def cursor(path: Path):
    """A read-only cursor on the current version of the database file at `path`."""
    return _checkout(path)[0]


def _checkout(path: Path):
    """(cursor, version) on the current version of the database file at `path`."""
    path = Path(path)
    key = _key(path)
    with _lock:
        version = _current.get(str(path))
        if version is None or version.key != key:
            if version is not None and not version.linked and version.users:
                pass  # cannot open a second instance by the same name: serve this one until it is free
            else:
                if version is not None:
                    _retire(version)
                version = _current[str(path)] = _open(path)
                _versions.append(version)
        cur = version.con.cursor()
        version.users += 1
    weakref.finalize(cur, _release, version)
    return cur, version


def _current_path() -> Path:
    path = config.db_path()
    if not path.is_file():
        with _build_lock, st.spinner("Building the database from the plan's figures and any published data..."):
            if not path.is_file():
                from derby_oa.build.pipeline import build
                build(path)
    return path


def get_con():
    """Read-only cursor on the current database file (a new version is opened when the file is replaced).

    A visitor's cursor sees published figures only (`queries.visibility`); an officer's sees drafts too.
    """
    path = _current_path()
    cur, version = _checkout(path)
    seen = scope()
    reads = read_cache.CachedReads(cur, version.key, seen)
    if seen == "published":
        visibility.restrict_to_published(reads)  # decides on this cursor's own version of the file
    return reads


def db_key() -> tuple:
    """The one cache key of what this session sees: the current version of the database file and whether
    officers' drafts are included (`scope`), so viewers never share an officer's result."""
    path = _current_path()
    return str(path), _key(path), scope()


@st.cache_resource(show_spinner=False, max_entries=4)
def _drafts(path: str, key: tuple):
    """The draft uploads of one version of the database file."""
    cur = cursor(Path(path))
    try:
        return visibility.drafts(cur)
    finally:
        cur.close()


def drafts():
    """Draft (unpublished) uploads in the current database file."""
    path = _current_path()
    return _drafts(str(path), _key(path))


def scope() -> str:
    """'drafts' when this session sees officers' drafts (an officer, and there are some), else 'published'.

    Part of every cross-session cache key, so a viewer is never served a result computed with drafts."""
    return "drafts" if auth.current_officer() and len(drafts()) else "published"


def drafts_notice() -> None:
    """For an officer: which drafts the page includes (viewers do not see them)."""
    if scope() != "drafts":
        return
    listed = "; ".join(f"upload {r.upload_id} ({md_escape(r.file_name)})" for r in drafts().itertuples())
    st.warning(f"**Draft data shown.** This page includes unpublished uploads that viewers do not see: {listed}. "
               "Publish or undo them on *Load new data*.", icon=":material/edit_note:")


def reset() -> None:
    """Retire the current versions, so the next `get_con` opens the file afresh (after an upload or undo)."""
    with _lock:
        for path, version in list(_current.items()):
            if version.linked or not version.users:
                _retire(version)
                del _current[path]


def open_versions() -> int:
    """How many versions have an open connection (the current ones and those still in use)."""
    with _lock:
        return len(_versions)


def per_database(max_entries: int = 128):
    """Decorator: compute `fn(*args)` once per version of the database file, reader's scope and arguments.

    The page model of the slower sections (tables, sentences, chart objects) is kept this way, so a rerun only
    sends what was prepared; arguments must be hashable (ids, periods, ward codes). Results are shared between
    sessions: treat them as read-only."""
    import functools

    def deco(fn):
        @functools.wraps(fn)
        def keyed(db_version: tuple, *args):
            return fn(*args)

        cached = st.cache_resource(show_spinner=False, max_entries=max_entries)(keyed)

        @functools.wraps(fn)
        def call(*args):
            return cached(db_key(), *args)
        call.clear = cached.clear
        return call
    return deco

"""Results of read statements kept per version of the database file, so a page's rerun does not run its SQL again.

A version of the file never changes (builds and uploads write a new file and swap it in), so a SELECT's
result depends only on the version, the reader's scope (viewers' connections hide drafts through temporary
views) and the statement with its parameters. `CachedReads` wraps a read-only cursor: SELECT and WITH
statements are answered from the cache when they can be; anything else, and any statement while a data frame
is registered on the cursor, runs as usual. The cache is bounded by entries and bytes; results larger than
`MAX_RESULT_BYTES` are not kept. Callers get copies, so changing a result never changes the cache.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import pandas as pd

MAX_ENTRIES = 4096
MAX_BYTES = 64 * 1024 * 1024
MAX_RESULT_BYTES = 8 * 1024 * 1024

_lock = threading.Lock()
_entries: OrderedDict[tuple, tuple[str, object, int]] = OrderedDict()  # key -> (kind, value, bytes)
_bytes = 0
stats = {"hits": 0, "misses": 0}


def _frame_bytes(df: pd.DataFrame) -> int:
    return int(df.memory_usage(index=False, deep=False).sum()) + 64 * len(df.columns)


def _rows_bytes(rows: list) -> int:
    return 64 + sum(24 + 16 * len(r) for r in rows)


def _get(key: tuple):
    with _lock:
        hit = _entries.get(key)
        if hit is not None:
            _entries.move_to_end(key)
            stats["hits"] += 1
            return hit[1]
        stats["misses"] += 1
        return None


def _put(key: tuple, value, size: int) -> None:
    global _bytes
    if size > MAX_RESULT_BYTES:
        return
    with _lock:
        if key in _entries:
            return
        _entries[key] = (key[-1], value, size)
        _bytes += size
        while _entries and (len(_entries) > MAX_ENTRIES or _bytes > MAX_BYTES):
            _, (_, _, dropped) = _entries.popitem(last=False)
            _bytes -= dropped


def clear() -> None:
    """Forget every kept result (tests; the cache is otherwise keyed by file version and needs no clearing)."""
    global _bytes
    with _lock:
        _entries.clear()
        _bytes = 0


def _cacheable(sql: str) -> bool:
    head = sql.lstrip().lstrip("(").lstrip()[:6].upper()
    return head.startswith(("SELECT", "WITH", "FROM"))


def _params_key(params) -> tuple | None:
    if params is None:
        return ()
    try:
        items = tuple(params.items()) if isinstance(params, dict) else tuple(params)
        hash(items)
        return items
    except TypeError:  # a list or array among the parameters
        try:
            return tuple(tuple(p) if isinstance(p, (list, tuple)) else p for p in params)
        except TypeError:
            return None


class _Result:
    """A statement's result, fetched once per form (`df`, `fetchall`, `fetchone`) and kept."""

    def __init__(self, reads: "CachedReads", sql: str, params, key: tuple):
        self._reads, self._sql, self._params, self._key = reads, sql, params, key
        self._rows: list | None = None
        self._at = 0

    def _run(self):
        return self._reads._cur.execute(self._sql, self._params) if self._params is not None \
            else self._reads._cur.execute(self._sql)

    def df(self) -> pd.DataFrame:
        key = self._key + ("df",)
        hit = _get(key)
        if hit is None:
            hit = self._run().df()
            _put(key, hit, _frame_bytes(hit))
        return hit.copy()

    fetchdf = df

    def fetchall(self) -> list:
        if self._rows is None:
            key = self._key + ("rows",)
            rows = _get(key)
            if rows is None:
                rows = self._run().fetchall()
                _put(key, rows, _rows_bytes(rows))
            self._rows = rows
        rest, self._at = self._rows[self._at:], len(self._rows)
        return list(rest)

    def fetchone(self):
        if self._rows is None:
            self.fetchall()
            self._at = 0
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    def __getattr__(self, name):  # anything else (description, arrow, ...) reads the statement afresh
        return getattr(self._run(), name)


class CachedReads:
    """A read-only cursor whose SELECT results are shared across reruns and sessions of one file version.

    `version` identifies the file version and `scope` what the cursor may see ('published' or 'drafts')."""

    def __init__(self, cur, version: tuple, scope: str):
        self._cur, self._version, self._scope = cur, version, scope
        self._registered = 0

    def execute(self, sql: str, params=None):
        pkey = _params_key(params)
        if self._registered or pkey is None or not _cacheable(sql):
            return self._cur.execute(sql, params) if params is not None else self._cur.execute(sql)
        return _Result(self, sql, params, (self._version, self._scope, sql, pkey))

    def register(self, name: str, frame):
        self._registered += 1
        return self._cur.register(name, frame)

    def unregister(self, name: str):
        self._registered = max(0, self._registered - 1)
        return self._cur.unregister(name)

    def cursor(self):
        return CachedReads(self._cur.cursor(), self._version, self._scope)

    def __getattr__(self, name):
        return getattr(self._cur, name)

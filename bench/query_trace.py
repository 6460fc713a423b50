"""Which SQL statements a page runs, and how long each takes: a tracing wrapper for the app's cursors.

`tracing()` replaces `derby_oa.ui.connection.cursor` (where every cursor the app's pages use is made)
with one that wraps each DuckDB cursor: every `execute` is recorded with its SQL, its parameters and
the time DuckDB took, plus the time of the fetch that followed it (`df`, `fetchall`, ...), the way the
page ran it. Statements run inside cached functions appear only when the cache misses, so a warm
rerun shows what a reader's rerun really costs.
"""
from __future__ import annotations

import contextlib
import threading
import time

_FETCH = ("df", "fetchdf", "fetch_df", "fetchall", "fetchone", "fetchmany", "fetchnumpy", "arrow",
          "fetch_arrow_table", "pl", "fetch_df_chunk", "fetch_record_batch")


class Statement(dict):
    """One executed statement: sql, params, execute_ms, fetch_ms, ms (the two together)."""


class TracedCursor:
    """A DuckDB cursor that records the statements run through it into `log`."""

    def __init__(self, cursor, log: list):
        self._cursor, self._log, self._last = cursor, log, None

    def execute(self, query, *args, **kwargs):
        t0 = time.perf_counter()
        self._cursor.execute(query, *args, **kwargs)
        ms = (time.perf_counter() - t0) * 1000
        params = args[0] if args else kwargs.get("parameters")
        self._last = Statement(sql=" ".join(str(query).split()), params=repr(params)[:300], execute_ms=ms,
                               fetch_ms=0.0, ms=ms)
        self._log.append(self._last)
        return self

    def sql(self, query, *args, **kwargs):  # a lazy relation: recorded, executed when fetched (untimed)
        self._log.append(Statement(sql=" ".join(str(query).split()), params="(relation)", execute_ms=0.0,
                                   fetch_ms=0.0, ms=0.0))
        return self._cursor.sql(query, *args, **kwargs)

    def __getattr__(self, name):
        attr = getattr(self._cursor, name)
        if name not in _FETCH or not callable(attr):
            return attr

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return attr(*args, **kwargs)
            finally:
                if self._last is not None:
                    ms = (time.perf_counter() - t0) * 1000
                    self._last["fetch_ms"] += ms
                    self._last["ms"] += ms
        return timed


class Tracer:
    """Collects statements; `log` is swapped per run with `start()`."""

    def __init__(self):
        self.log: list[Statement] = []
        self._lock = threading.Lock()

    def start(self) -> list[Statement]:
        with self._lock:
            self.log = []
            return self.log


@contextlib.contextmanager
def tracing():
    """Trace every cursor the app makes while inside; yields the Tracer."""
    from derby_oa.ui import connection

    tracer = Tracer()
    real = connection.cursor

    def traced_cursor(path):
        return TracedCursor(real(path), tracer.log)

    connection.cursor = traced_cursor
    try:
        yield tracer
    finally:
        connection.cursor = real

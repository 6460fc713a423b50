"""Which SQL statements a page runs, and how long each takes: a tracing wrapper for the app's cursors.

`tracing()` replaces the function of `derby_oa.ui.connection` that makes every DuckDB cursor the app's
pages use (`_checkout`, or `cursor` where there is no `_checkout`) with one that wraps each cursor: every `execute` is recorded with its SQL, its parameters and
the time DuckDB took, plus the time of the fetch that followed it (`df`, `fetchall`, ...), the way the
page ran it. Statements run inside cached functions appear only when the cache misses, so a warm
rerun shows what a reader's rerun really costs. The app's own result cache
(`derby_oa.storage.read_cache`) sits above the cursor, so a statement it answers is not run, and not
recorded.
"""
from __future__ import annotations

import contextlib
import threading
import time

_FETCH = ("df", "fetchdf", "fetch_df", "fetchall", "fetchone", "fetchmany", "fetchnumpy", "arrow",
          "fetch_arrow_table", "pl", "fetch_df_chunk", "fetch_record_batch")


class Statement(dict):
    """One executed statement: sql, params (repr), execute_ms, fetch_ms, ms (the two together), raw (sql, params)."""


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
                               fetch_ms=0.0, ms=ms, raw=(str(query), params))
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
    name = "_checkout" if hasattr(connection, "_checkout") else "cursor"
    real = getattr(connection, name)

    def traced(path):
        made = real(path)
        if isinstance(made, tuple):  # (cursor, version)
            return (TracedCursor(made[0], tracer.log), *made[1:])
        return TracedCursor(made, tracer.log)

    setattr(connection, name, traced)
    try:
        yield tracer
    finally:
        setattr(connection, name, real)


def is_read(sql: str) -> bool:
    """A statement that only reads (SELECT, WITH or FROM first)."""
    return sql.lstrip().lstrip("(").lstrip()[:6].upper().startswith(("SELECT", "WITH", "FROM"))


def retime(con, statements: list[Statement], repeats: int) -> list[dict]:
    """Each distinct read statement run `repeats` times on `con` (execute and fetch to pandas): median, p95."""
    from run import pct  # noqa: PLC0415 - the benchmark's percentile

    out, seen = [], set()
    for s in statements:
        sql, params = s["raw"]
        key = (s["sql"], s["params"])
        if key in seen or not is_read(sql):
            continue
        seen.add(key)
        times = []
        try:
            for _ in range(repeats):
                t0 = time.perf_counter()
                rows = len((con.execute(sql, params) if params is not None else con.execute(sql)).df())
                times.append((time.perf_counter() - t0) * 1000)
        except Exception as exc:  # noqa: BLE001 - reported, not fatal
            out.append({"sql": s["sql"], "params": s["params"], "error": f"{type(exc).__name__}: {exc}"[:200]})
            continue
        times.sort()
        out.append({"sql": s["sql"], "params": s["params"], "rows": rows, "median_ms": round(times[len(times) // 2], 2),
                    "p95_ms": round(pct(times, 95), 2), "in_page_ms": round(s["ms"], 2)})
    return out

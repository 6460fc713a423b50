"""Runs one checked console query in a child process, so that every limit holds whatever the query does.

DuckDB cannot interrupt work on a single value (`SELECT len(range(1000000000))` builds one 8 GB list)
and its memory limit does not cover such values, so `derby_oa.console.guard.run` starts this module as a
separate process: its address space is capped (`resource.RLIMIT_AS`, see `address_space`), its
connection is the bounded read-only one of `derby_oa.storage.db.connect`, and the parent kills it at the time
limit. It fetches at most `row_cap` + 1 rows and about `byte_cap` bytes.

Protocol: a pickled request dict on stdin; a pickled reply tuple on stdout:
`("ok", columns, rows)`, `("rows",)`, `("bytes",)`, `("memory", message)` or `("error", message)`.
Only `derby_oa.storage.db` and `derby_oa.config` are imported (no pandas), so the process starts quickly.
"""
from __future__ import annotations

import pickle
import sys

HEADROOM_BYTES = 1024 ** 3  # Python and DuckDB's code, above DuckDB's own memory limit
THREAD_HEADROOM_BYTES = 256 * 1024 ** 2  # per DuckDB thread: its stack and allocator reservations


def address_space(memory_limit: int, threads: int) -> int:
    """The child's address-space cap for a DuckDB memory limit and thread count."""
    return memory_limit + HEADROOM_BYTES + threads * THREAD_HEADROOM_BYTES
FETCH_CHUNK = 256


def value_bytes(value) -> int:
    """Approximate size of one fetched value in bytes (text and blobs by length; nested values summed)."""
    if isinstance(value, (str, bytes, bytearray)):
        return len(value) + 8
    if isinstance(value, (list, tuple)):
        return 8 + sum(value_bytes(v) for v in value)
    if isinstance(value, dict):
        return 8 + sum(value_bytes(k) + value_bytes(v) for k, v in value.items())
    return 8


def _cap_address_space(limit: int) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on Windows; the time limit still holds
        return
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def execute(request: dict) -> tuple:
    """Run the request's query on a bounded read-only connection; the reply tuple (see the module docstring)."""
    import duckdb

    from derby_oa.storage import db

    try:
        con = db.connect(request["path"])
    except (OSError, duckdb.Error) as exc:
        return ("error", f"the database file could not be opened ({str(exc).splitlines()[0]}); run the query again")
    try:
        result = con.execute(request["query"])
        columns = [d[0] for d in result.description or []]
        rows, size = [], 0
        while True:
            chunk = result.fetchmany(FETCH_CHUNK)
            if not chunk:
                return ("ok", columns, rows)
            for row in chunk:
                rows.append(row)
                size += value_bytes(row)
                if len(rows) > request["row_cap"]:
                    return ("rows",)
                if size > request["byte_cap"]:
                    return ("bytes",)
    except duckdb.OutOfMemoryException as exc:
        return ("memory", str(exc).splitlines()[0])
    except MemoryError:
        return ("memory", "the query's values do not fit in the memory allowed")
    except duckdb.Error as exc:
        return ("error", str(exc).splitlines()[0])
    finally:
        con.close()


def main() -> int:
    request = pickle.load(sys.stdin.buffer)
    _cap_address_space(int(request["address_space"]))
    reply = execute(request)
    sys.stdout.buffer.write(pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())

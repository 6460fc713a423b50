"""The app's connections: a query in progress keeps its version of the database while the file is replaced.

Readers (threads, as Streamlit runs sessions) query through `get_con` while the test swaps in new
versions of the file the way builds and uploads do (write a copy, `os.replace`). No reader may see
"connection is busy" or "connection already closed"; each sees versions in order; old connections
close once no cursor uses them.
"""
from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from derby_oa.ui import connection

VERSIONS = 5
READERS = 6


@pytest.fixture
def versions(default_db, tmp_path, monkeypatch) -> list[Path]:
    """The live database (version 1) and copies marked 2..VERSIONS waiting to be swapped in."""
    live = tmp_path / "derby_oa.duckdb"
    files = []
    for k in range(1, VERSIONS + 1):
        path = live if k == 1 else tmp_path / f"next-{k}.duckdb"
        shutil.copyfile(default_db, path)
        con = duckdb.connect(str(path))
        con.execute(f"CREATE TABLE version_marker AS SELECT {k} AS k")
        con.close()
        files.append(path)
    monkeypatch.setenv("DERBY_OA_DB", str(live))
    connection.reset()
    gc.collect()
    yield files
    connection.reset()
    gc.collect()


def marker(con) -> int:
    return con.execute("SELECT k FROM version_marker").fetchone()[0]


def test_a_query_in_progress_keeps_its_version_while_the_file_is_replaced(versions):
    live = versions[0]
    old = connection.get_con()
    assert marker(old) == 1
    os.replace(versions[1], live)
    new = connection.get_con()
    assert marker(new) == 2
    # the session that was mid-query still reads its own version, with no "connection already closed"
    assert marker(old) == 1
    assert old.execute("SELECT count(*) FROM observations").fetchone()[0] > 0
    assert connection.open_versions() == 2
    del old
    gc.collect()
    assert connection.open_versions() == 1  # closed once nothing uses it
    assert marker(new) == 2


def test_threads_querying_while_the_file_is_swapped_see_no_errors(versions):
    live = versions[0]
    stop = threading.Event()
    seen = {k: threading.Event() for k in range(1, VERSIONS + 1)}
    errors: list[str] = []
    order: dict[int, list[int]] = {}

    def reader(i: int) -> None:
        order[i] = []
        while not stop.is_set():
            try:
                con = connection.get_con()
                k = marker(con)
                # a longer query on the same cursor, during which the file may be replaced
                con.execute("SELECT indicator_id, count(*), avg(value) FROM observations o "
                            "JOIN areas a USING (area_code) GROUP BY ALL ORDER BY ALL").fetchall()
                assert marker(con) == k
                order[i].append(k)
                seen[k].set()
                del con
            except Exception as exc:  # noqa: BLE001 - every failure is collected and asserted on
                errors.append(f"{type(exc).__name__}: {exc}")
                stop.set()

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(READERS)]
    for t in threads:
        t.start()
    try:
        assert seen[1].wait(timeout=60)
        for k in range(2, VERSIONS + 1):
            os.replace(versions[k - 1], live)
            assert seen[k].wait(timeout=60) or errors, f"no reader saw version {k}"
            if errors:
                break
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)
    assert not errors, errors[:5]
    for i, ks in order.items():
        assert ks == sorted(ks), f"reader {i} went back to an older version: {ks}"
    gc.collect()
    assert connection.open_versions() == 1
    assert marker(connection.get_con()) == VERSIONS


def test_links_left_by_a_dead_app_process_are_removed(versions):
    live = versions[0]
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = live.with_name(f".{live.name}.read-{int(dead.stdout)}-7")
    os.link(live, stale)
    mine = live.with_name(f".{live.name}.read-{os.getpid()}-999999")
    os.link(live, mine)
    try:
        assert connection.remove_stale_links(live) == 1
        assert not stale.exists() and mine.exists()  # this process's own links are left alone
    finally:
        mine.unlink(missing_ok=True)

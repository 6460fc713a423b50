"""The read cache: SELECT results kept per database version and scope, copies handed out, writes and registered
frames never served from it, and its bounds."""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from derby_oa.storage import read_cache


@pytest.fixture
def con():
    read_cache.clear()
    c = duckdb.connect()
    c.execute("CREATE TABLE t AS SELECT range AS n FROM range(5)")
    yield c
    c.close()
    read_cache.clear()


def test_a_select_runs_once_per_version_and_scope(con):
    reads = read_cache.CachedReads(con, ("v1",), "published")
    assert reads.execute("SELECT count(*) FROM t").fetchone() == (5,)
    con.execute("INSERT INTO t VALUES (99)")  # a version never changes in the app: the cache may not see this
    assert reads.execute("SELECT count(*) FROM t").fetchone() == (5,)
    # a new version of the file, or another scope, is another key
    assert read_cache.CachedReads(con, ("v2",), "published").execute("SELECT count(*) FROM t").fetchone() == (6,)
    assert read_cache.CachedReads(con, ("v1",), "drafts").execute("SELECT count(*) FROM t").fetchone() == (6,)


def test_parameters_are_part_of_the_key_and_lists_are_accepted(con):
    reads = read_cache.CachedReads(con, ("v1",), "published")
    q = "SELECT count(*) FROM t WHERE n < ?"
    assert reads.execute(q, [2]).fetchone() == (2,) and reads.execute(q, [4]).fetchone() == (4,)
    assert reads.execute("SELECT count(*) FROM t WHERE list_contains(?, n)", [[1, 2, 3]]).fetchone() == (3,)


def test_callers_get_copies(con):
    reads = read_cache.CachedReads(con, ("v1",), "published")
    first = reads.execute("SELECT n FROM t ORDER BY n").df()
    first.loc[0, "n"] = 1000
    first["extra"] = 1
    again = reads.execute("SELECT n FROM t ORDER BY n").df()
    assert again["n"].tolist() == [0, 1, 2, 3, 4] and list(again.columns) == ["n"]


def test_fetchone_walks_the_rows_and_fetchall_returns_the_rest(con):
    reads = read_cache.CachedReads(con, ("v1",), "published")
    result = reads.execute("SELECT n FROM t ORDER BY n")
    assert result.fetchone() == (0,) and result.fetchone() == (1,)
    assert result.fetchall() == [(2,), (3,), (4,)] and result.fetchone() is None


def test_writes_and_statements_on_registered_frames_are_never_served_from_the_cache(con):
    reads = read_cache.CachedReads(con, ("v1",), "published")
    reads.execute("CREATE TEMP TABLE w AS SELECT 1 AS x")  # runs at once, not kept
    assert reads.execute("SELECT x FROM w").fetchone() == (1,)
    reads.register("frame", pd.DataFrame({"x": [1, 2]}))
    assert reads.execute("SELECT sum(x) FROM frame").fetchall() == [(3,)]
    reads.unregister("frame")
    reads.register("frame", pd.DataFrame({"x": [10, 20]}))
    assert reads.execute("SELECT sum(x) FROM frame").fetchall() == [(30,)]  # the same text, another frame
    reads.unregister("frame")


def test_large_results_are_not_kept_and_the_cache_stays_within_its_bytes(con, monkeypatch):
    monkeypatch.setattr(read_cache, "MAX_RESULT_BYTES", 1_000)
    monkeypatch.setattr(read_cache, "MAX_BYTES", 3_000)
    reads = read_cache.CachedReads(con, ("v1",), "published")
    reads.execute("SELECT range AS n FROM range(10000)").df()
    assert read_cache._bytes == 0  # 80 kB of results: not kept
    for i in range(50):
        reads.execute(f"SELECT {i} AS n").df()
    assert 0 < read_cache._bytes <= 3_000 and len(read_cache._entries) < 50

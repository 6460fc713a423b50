"""The SQL console's guard: the attack list, limits, accepted queries, and the command line."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from derby_oa.storage import db
from derby_oa.console import guard as sql_guard
from derby_oa.console.guard import QueryRefused

ROOT = Path(__file__).resolve().parent.parent

# Every attack the console defends against, with a word its refusal must contain.
ATTACKS = {
    # more than one statement
    "stacked DROP": ("SELECT 1; DROP TABLE areas", "one statement"),
    "stacked DELETE after comment": ("SELECT 1 /* ; */ ; DROP TABLE observations", "one statement"),
    "semicolon hidden in line comment": ("SELECT 1 -- harmless\n; DROP TABLE areas", "one statement"),
    "semicolon in a string then DROP": ("SELECT ';' ; DROP TABLE areas", "one statement"),
    "dollar-quoted semicolon then DROP": ("SELECT $$;$$; DROP TABLE areas", "one statement"),
    "comment hides the first word": ("/* SELECT */ DROP TABLE areas", "DROP"),
    # writing and DDL
    "DROP": ("DROP TABLE areas", "DROP"),
    "DELETE": ("DELETE FROM observations", "DELETE"),
    "CTE then DELETE": ("WITH x AS (SELECT 1) DELETE FROM observations", "DELETE"),
    "CTE then INSERT": ("WITH x AS (SELECT 1) INSERT INTO areas SELECT * FROM areas", "INSERT"),
    "UPDATE": ("UPDATE observations SET value = 0", "UPDATE"),
    "INSERT": ("INSERT INTO sources VALUES ('x', 'x', 'x', 'x', 'x', 'x', 'x')", "INSERT"),
    "ALTER": ("ALTER TABLE areas RENAME TO a2", "ALTER"),
    "CREATE TABLE AS": ("CREATE TABLE t AS SELECT 1", "CREATE"),
    "CREATE MACRO": ("CREATE MACRO m(x) AS x + 1", "CREATE"),
    "CREATE SECRET": ("CREATE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')", "CREATE"),
    "TRUNCATE": ("TRUNCATE observations", "TRUNCATE"),
    "CHECKPOINT": ("CHECKPOINT", "CHECKPOINT"),
    "VACUUM": ("VACUUM", "VACUUM"),
    "BEGIN": ("BEGIN TRANSACTION", "BEGIN"),
    # files and the network
    "COPY TO file": ("COPY areas TO '/tmp/derby_oa_attack.csv'", "COPY"),
    "COPY subquery TO file": ("COPY (SELECT * FROM areas) TO '/tmp/derby_oa_attack.csv'", "COPY"),
    "EXPORT DATABASE": ("EXPORT DATABASE '/tmp/derby_oa_attack'", "EXPORT"),
    "IMPORT DATABASE": ("IMPORT DATABASE '/tmp/derby_oa_attack'", "IMPORT"),
    "ATTACH": ("ATTACH '/tmp/derby_oa_attack.db' AS x", "ATTACH"),
    "DETACH": ("DETACH x", "DETACH"),
    "USE": ("USE memory", "USE"),
    "INSTALL httpfs": ("INSTALL httpfs", "INSTALL"),
    "FORCE INSTALL": ("FORCE INSTALL httpfs", "FORCE"),
    "LOAD extension": ("LOAD httpfs", "LOAD"),
    "LOAD file": ("LOAD '/tmp/evil.duckdb_extension'", "LOAD"),
    "read_csv": ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
    "read_csv_auto": ("SELECT * FROM read_csv_auto('/etc/passwd')", "read_csv_auto"),
    "read_parquet": ("SELECT * FROM read_parquet('data/x.parquet')", "read_parquet"),
    "read_json": ("SELECT * FROM read_json('x.json')", "read_json"),
    "read_text": ("SELECT * FROM read_text('/etc/passwd')", "read_text"),
    "read_blob": ("SELECT * FROM read_blob('/etc/passwd')", "read_blob"),
    "glob": ("SELECT * FROM glob('/etc/*')", "glob"),
    "parquet_scan": ("SELECT * FROM parquet_scan('x.parquet')", "parquet_scan"),
    "sqlite_scan": ("SELECT * FROM sqlite_scan('x.db', 'areas')", "sqlite_scan"),
    "postgres_scan": ("SELECT * FROM postgres_scan('host=x', 'public', 't')", "postgres_scan"),
    "iceberg_scan": ("SELECT * FROM iceberg_scan('s3://bucket/t')", "iceberg_scan"),
    "delta_scan": ("SELECT * FROM delta_scan('s3://bucket/t')", "delta_scan"),
    "http url replacement scan": ("SELECT * FROM 'https://example.com/x.csv'", "not a table"),
    "file name replacement scan": ("SELECT * FROM 'data/x.parquet'", "not a table"),
    "quoted file name": ('SELECT * FROM "/etc/passwd"', "not a table"),
    "FROM-first file": ("FROM '/etc/passwd'", "not a table"),
    "file in a subquery": ("SELECT (SELECT count(*) FROM '/etc/passwd') AS n", "not a table"),
    "file in a CTE": ("WITH f AS (SELECT * FROM read_text('/etc/passwd')) SELECT * FROM f", "read_text"),
    "file in a UNION": ("SELECT area_code FROM areas UNION ALL SELECT content FROM read_text('/etc/passwd')",
                        "read_text"),
    "DESCRIBE a file": ("DESCRIBE SELECT * FROM '/etc/passwd'", "not a table"),
    "SUMMARIZE a file": ("SUMMARIZE SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
    "python replacement scan": ("SELECT * FROM secret_frame", "not a table"),
    # SQL hidden in a string
    "query()": ("SELECT * FROM query('SELECT * FROM read_text(''/etc/passwd'')')", "query"),
    "query_table()": ("SELECT * FROM query_table('areas')", "query_table"),
    "json_execute_serialized_sql": ("SELECT * FROM json_execute_serialized_sql('{}')", "json_execute_serialized_sql"),
    # settings and the environment
    "PRAGMA": ("PRAGMA database_list", "PRAGMA"),
    "PRAGMA enable external": ("PRAGMA enable_external_access", "PRAGMA"),
    "SET external access": ("SET enable_external_access = true", "SET"),
    "SET unlock": ("SET lock_configuration = false", "SET"),
    "RESET": ("RESET lock_configuration", "RESET"),
    "CALL": ("CALL pragma_version()", "CALL"),
    "CALL secrets": ("CALL duckdb_secrets()", "CALL"),
    "getenv (environment leak)": ("SELECT getenv('HOME')", "getenv"),
    "current_setting (settings leak)": ("SELECT current_setting('home_directory')", "current_setting"),
    "duckdb_settings": ("SELECT * FROM duckdb_settings()", "duckdb_settings"),
    "pg_settings view": ("SELECT * FROM pg_catalog.pg_settings", "not a table"),
    "database file path": ("SELECT path FROM duckdb_databases", "not a table"),
    "schema-qualified file function": ("SELECT * FROM main.read_csv('/etc/passwd')", "read_csv"),
    "file function in a LATERAL join": ("SELECT * FROM areas, LATERAL (SELECT * FROM read_text(areas.area_code))",
                                        "read_text"),
    "dotted name as file": ("SELECT * FROM areas.csv", "not a table"),
    "duckdb_extensions": ("SELECT * FROM duckdb_extensions()", "duckdb_extensions"),
    "EXPLAIN ANALYZE": ("EXPLAIN ANALYZE SELECT 1", "EXPLAIN"),
    # system views reached by a qualified name while a CTE takes the bare name (issue 10)
    "CTE shadows main.duckdb_databases": ("WITH duckdb_databases AS (SELECT 1) SELECT path FROM main.duckdb_databases",
                                          "not a table"),
    "CTE shadows system.main.duckdb_databases": (
        "WITH duckdb_databases AS (SELECT 1) SELECT * FROM system.main.duckdb_databases", "not a table"),
    "CTE shadows pg_catalog.pg_settings": ("WITH pg_settings AS (SELECT 1) SELECT * FROM pg_catalog.pg_settings",
                                           "not a table"),
    "CTE shadows main.pragma_database_list": (
        "WITH pragma_database_list AS (SELECT 1) SELECT * FROM main.pragma_database_list", "not a table"),
    "CTE shadows main.duckdb_logs": ("WITH duckdb_logs AS (SELECT 1) SELECT * FROM main.duckdb_logs", "not a table"),
    "CTE named like a table of another schema": ("WITH areas AS (SELECT 1) SELECT * FROM other.areas", "not a table"),
    # a PIVOT without IN lists is still checked
    "PIVOT of a file": ("PIVOT read_csv('/etc/passwd') ON column0", "read_csv"),
    "PIVOT of a file name": ("PIVOT '/etc/passwd' ON column0 USING count(*)", "not a table"),
    "PIVOT over a file in a subquery": ("PIVOT (SELECT * FROM read_text('/etc/passwd')) ON filename", "read_text"),
    "PIVOT with a file in USING": ("PIVOT areas ON area_type USING max((SELECT content FROM read_text('/etc/x')))",
                                   "read_text"),
    # a statement word used where a statement could begin
    "CTE then LOAD": ("WITH x AS (SELECT 1) LOAD httpfs", "LOAD"),
    "subquery then SET": ("SELECT * FROM (SET threads = 64)", "SET"),
    "PREPARE": ("PREPARE p AS SELECT 1", "PREPARE"),
    "empty": ("   ", "empty"),
    "only a comment": ("-- nothing", "no statement"),
}


@pytest.fixture
def tables_before(con_default):
    def snapshot():
        return {t: con_default.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("areas", "observations", "sources", "indicators", "uploads")}
    return snapshot


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_is_refused_and_nothing_changes(name, con_default, tables_before):
    sql, word = ATTACKS[name]
    secret_frame = pd.DataFrame({"secret": ["do not leak"]})  # noqa: F841 - a Python variable DuckDB could scan
    before = tables_before()
    with pytest.raises(QueryRefused) as refused:
        sql_guard.run(sql, con_default)
    assert word.lower() in refused.value.reason.lower(), refused.value.reason
    assert tables_before() == before
    assert not Path("/tmp/derby_oa_attack.csv").exists()
    assert not Path("/tmp/derby_oa_attack").exists()


def test_every_attack_is_refused_by_the_static_checks_alone():
    """The static layers refuse every attack before anything reaches the database."""
    relations = {"areas", "observations", "sources", "indicators"}
    for name, (sql, _) in ATTACKS.items():
        with pytest.raises(QueryRefused):
            sql_guard.check(sql, relations)


def test_execution_layer_alone_blocks_files(con_default):
    """Defence in depth: even unchecked, the app's connection cannot read files or change settings."""
    cur = con_default.cursor()
    with pytest.raises(duckdb.PermissionException):
        cur.execute("SELECT * FROM read_text('/etc/passwd')").fetchall()
    with pytest.raises(duckdb.Error):
        cur.execute("SET enable_external_access = true")
    with pytest.raises(duckdb.Error):
        cur.execute("CREATE TABLE t AS SELECT 1")


def test_writable_connection_is_refused(default_db, tmp_path):
    copy = tmp_path / "rw.duckdb"
    copy.write_bytes(default_db.read_bytes())
    con = duckdb.connect(str(copy))
    try:
        with pytest.raises(QueryRefused, match="read-only"):
            sql_guard.run("SELECT 1", con)
    finally:
        con.close()


@pytest.mark.slow  # runs the query's child process until a limit stops it
def test_time_limit_interrupts_a_runaway_cross_join(con_default):
    with pytest.raises(QueryRefused) as refused:
        sql_guard.run("SELECT count(*) FROM range(100000000000) a, range(100000000) b", con_default, time_limit=0.5)
    assert "0.5 seconds (the time limit)" in refused.value.reason
    assert sql_guard.run("SELECT 42 AS answer", con_default).frame["answer"].tolist() == [42]  # still usable


@pytest.mark.slow  # runs the query's child process until a limit stops it
def test_row_cap_refuses_a_huge_series_and_states_the_cap(con_default):
    with pytest.raises(QueryRefused) as refused:
        sql_guard.run("SELECT * FROM generate_series(1, 1000000000000)", con_default)
    assert f"more than {sql_guard.ROW_CAP:,} rows (the row cap)" in refused.value.reason
    exact = sql_guard.run(f"SELECT * FROM range({sql_guard.ROW_CAP})", con_default)
    assert len(exact.frame) == sql_guard.ROW_CAP
    with pytest.raises(QueryRefused, match="row cap"):
        sql_guard.run(f"SELECT * FROM range({sql_guard.ROW_CAP + 1})", con_default)


def test_limits_are_stated():
    text = sql_guard.limits_text()
    assert f"{sql_guard.ROW_CAP:,} rows" in text and f"{sql_guard.TIME_LIMIT:g} seconds" in text


@pytest.mark.parametrize("sql", [
    "SELECT 1;",
    "select 1 -- trailing comment",
    "SHOW TABLES",
    "DESCRIBE observations",
    "SUMMARIZE areas",
    "FROM areas LIMIT 3",
    "SELECT * FROM information_schema.tables LIMIT 3",
    "SELECT * FROM duckdb_tables()",
    "SELECT 'DROP TABLE areas; COPY x' AS harmless_text",
    'SELECT area_name AS "delete" FROM areas LIMIT 1',
    "SELECT [x * 2 FOR x IN range(3)] AS l",
    "SELECT now() AS now",
    "SELECT 1 AS load",
    "SELECT load FROM (SELECT 1 AS load) WHERE (load IS NOT NULL) AND (load + 1) > 0",
    "SELECT count(load), max(set) FROM (SELECT 1 AS load, 2 AS set)",
    "SELECT * FROM main.areas LIMIT 1",
    "SELECT * FROM derby_oa.main.areas LIMIT 1",
    "WITH duckdb_databases AS (SELECT 1 AS n) SELECT n FROM duckdb_databases",
    "PIVOT observations ON year USING max(value) GROUP BY indicator_id",
    "PIVOT (SELECT area_code, year, value FROM observations WHERE indicator_id = 'gld') ON year USING max(value)",
    "SELECT * FROM (PIVOT observations ON breakdown USING count(*) GROUP BY indicator_id) LIMIT 5",
    "UNPIVOT (SELECT 1 AS a, 2 AS b) ON a, b INTO NAME k VALUE v",
    *sql_guard.EXAMPLES.values(),
])
def test_ordinary_queries_run(sql, con_full):
    # what is tested is that the guard lets these through; a busy test machine must not decide it by the clock
    assert isinstance(sql_guard.run(sql, con_full, time_limit=60).frame, pd.DataFrame)


def test_pivot_without_in_list_gives_the_real_values(con_full):
    df = sql_guard.run("PIVOT (SELECT area_code, year, value FROM observations WHERE indicator_id = 'gld' "
                       "AND breakdown = 'all' AND area_code = 'E06000015') ON year USING max(value)", con_full).frame
    assert df.loc[0, "area_code"] == "E06000015" and df.loc[0, "2019"] == 70.7


def test_query_returns_real_values(con_full):
    df = sql_guard.run("SELECT value FROM observations WHERE indicator_id = 'gld' AND area_code = 'E06000015' "
                       "AND period = '2018/19' AND breakdown = 'all'", con_full).frame
    assert df["value"].tolist() == [70.7]


def test_database_error_is_a_refusal_with_the_reason(con_full):
    with pytest.raises(QueryRefused, match="could not run"):
        sql_guard.run("SELECT no_such_column FROM areas", con_full)


def _process(full_db, query):
    """`python -m derby_oa sql QUERY` in its own process (the other command-line tests call `main` in this one)."""
    env = {**os.environ, "DERBY_OA_DB": str(full_db)}
    return subprocess.run([sys.executable, "-m", "derby_oa", "sql", query], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_prints_csv(full_db, cli):
    out = cli("sql", "SELECT period, value FROM observations WHERE indicator_id = 'gld' "
                     "AND area_code = 'E06000015' AND breakdown = 'all' AND year = 2019", db=full_db)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["period,value", "2018/19,70.7"]


@pytest.mark.slow
def test_cli_refusal_exits_non_zero_with_reason_on_stderr(full_db):
    """Run as a process: `python -m derby_oa` turns the refusal into the process's exit status."""
    out = _process(full_db, "COPY areas TO '/tmp/derby_oa_attack.csv'")
    assert out.returncode != 0
    assert out.stdout == ""
    assert "refused:" in out.stderr and "COPY" in out.stderr
    assert not Path("/tmp/derby_oa_attack.csv").exists()


def test_cli_output_is_formula_safe(full_db, cli):
    out = cli("sql", "SELECT '=1+1' AS a, '@SUM(1)' AS b, -1 AS n", db=full_db)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[1] == "'=1+1,'@SUM(1),-1"


# ---- limits that hold whatever the query does (issue 10, section 4) ---------------------------------------

@pytest.mark.slow  # runs the query's child process until a limit stops it
@pytest.mark.parametrize("sql", ["SELECT len(range(1000000000)) AS n", "SELECT repeat('x', 1500000000) AS s"])
def test_single_value_work_is_stopped_without_growing_the_server(sql, con_default):
    """One huge value cannot be interrupted inside DuckDB: the query's own process is bounded instead."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(QueryRefused) as refused:
        sql_guard.run(sql, con_default)
    assert "of memory the console allows" in refused.value.reason or "(the time limit)" in refused.value.reason
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 300 * 1024  # KB: this process stayed small
    assert sql_guard.run("SELECT 42 AS answer", con_default).frame["answer"].tolist() == [42]


@pytest.mark.slow  # runs the query's child process until a limit stops it
def test_result_bytes_are_capped_as_well_as_rows(con_default):
    with pytest.raises(QueryRefused) as refused:
        sql_guard.run("SELECT repeat('x', 50000) AS s FROM range(10000)", con_default)
    assert f"more than {sql_guard.MAX_RESULT_BYTES / 1e6:g} MB of values (the size cap)" in refused.value.reason
    small = sql_guard.run("SELECT repeat('x', 1000) AS s FROM range(100)", con_default).frame
    assert len(small) == 100 and small["s"].str.len().eq(1000).all()


@pytest.mark.parametrize("sql", [
    "SELECT " + "(" * 5000 + "1" + ")" * 5000,
    "SELECT " + "abs(" * 400 + "1" + ")" * 400,
    "SELECT " + "+".join(["1"] * 900),
    "SELECT " + "NOT " * 2000 + "true",
    "SELECT 1 " + "|| 1 " * 900,
    "SELECT " + "[" * 300 + "]" * 300,
])
def test_deep_nesting_is_refused_clearly(sql, con_default):
    with pytest.raises(QueryRefused) as refused:
        sql_guard.run(sql, con_default)
    assert "nested" in refused.value.reason and "WITH" in refused.value.reason
    assert "max_expression_depth" not in refused.value.reason


def test_results_of_every_type_are_shown_as_a_table(con_default):
    df = sql_guard.run("SELECT 1::HUGEINT << 100 AS huge, INTERVAL '2 days 3 hours' AS span, [1, 2] AS list, "
                       "{'a': 1, 'b': [2]} AS struct, '\\xAA\\x00'::BLOB AS blob, MAP {'k': 1} AS map, "
                       "'00000000-0000-0000-0000-000000000001'::UUID AS id, 1.50::DECIMAL(10, 2) AS dec, "
                       "18446744073709551615::UBIGINT AS ubig, union_value(k := 1) AS u, 1 AS n, 2 AS n", con_default).frame
    row = df.iloc[0].to_dict()
    assert row["huge"] == "1267650600228229401496703205376"
    assert row["span"] == "2 days, 3:00:00"
    assert row["list"] == "[1, 2]" and row["struct"] == "{'a': 1, 'b': [2]}" and row["map"] == "{'k': 1}"
    assert row["blob"] == "\\xAA00" and row["id"] == "00000000-0000-0000-0000-000000000001"
    assert str(row["dec"]) == "1.50" and row["ubig"] == "18446744073709551615" and row["u"] == 1
    assert list(df.columns)[-2:] == ["n", "n (2)"]
    import pyarrow as pa

    pa.Table.from_pandas(df)  # what st.dataframe does: every column converts


def test_app_connections_have_memory_and_thread_limits(tmp_path, monkeypatch):
    path = tmp_path / "tiny.duckdb"
    duckdb.connect(str(path)).close()
    monkeypatch.setenv("DERBY_OA_MEMORY_LIMIT", "512MB")
    monkeypatch.setenv("DERBY_OA_THREADS", "1")
    con = db.connect(path)
    try:
        memory, threads = con.execute("SELECT current_setting('memory_limit'), current_setting('threads')").fetchone()
    finally:
        con.close()
    assert memory == "488.2 MiB" and threads == 1


def test_a_bad_limit_setting_is_named(monkeypatch):
    from derby_oa import config

    monkeypatch.setenv("DERBY_OA_MEMORY_LIMIT", "lots")
    with pytest.raises(ValueError, match="DERBY_OA_MEMORY_LIMIT='lots' is not a size"):
        config.memory_limit()
    monkeypatch.setenv("DERBY_OA_MEMORY_LIMIT", "2GB")
    assert config.memory_limit_bytes() == 2_000_000_000
    monkeypatch.setenv("DERBY_OA_THREADS", "0")
    with pytest.raises(ValueError, match="DERBY_OA_THREADS"):
        config.threads()


def test_the_query_process_follows_the_limit_settings(con_full, monkeypatch):
    """More threads need more address space: a grouped query still runs with 8 threads and a small limit,
    and the small limit holds."""
    monkeypatch.setenv("DERBY_OA_THREADS", "8")
    monkeypatch.setenv("DERBY_OA_MEMORY_LIMIT", "256MB")
    df = sql_guard.run("SELECT indicator_id, count(*) AS n, median(value) AS m FROM observations "
                       "GROUP BY ALL ORDER BY n DESC, indicator_id LIMIT 2", con_full, time_limit=60).frame
    assert len(df) == 2 and df["n"].min() > 0
    with pytest.raises(QueryRefused, match="more than the 256MB of memory the console allows"):
        sql_guard.run("SELECT len(range(1000000000))", con_full, time_limit=60)

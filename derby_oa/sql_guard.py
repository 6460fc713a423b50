"""The guarded SQL console: one read-only SELECT at a time, with a time limit and a row cap.

Defence in three layers, each enough on its own for the attacks listed in tests/test_sql_guard.py:

1. Text: comments, string literals and quoted identifiers are blanked out, then the query must be
   one statement starting with SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW or SUMMARIZE, and may not
   contain a word that starts a statement that changes anything or reaches outside the database
   (ATTACH, COPY, EXPORT, INSTALL, LOAD, PRAGMA, SET, CALL, CREATE, ...).
2. Parse tree: DuckDB's own parser must see exactly one SELECT statement; every table it reads must
   be a table or view of the database (or a CTE of the query: no file names, which DuckDB would
   otherwise scan), and every function must not be a file, network, SQL-in-a-string or environment
   function (read_csv, glob, query, getenv, ...). Table functions are allowlisted.
3. Execution: a cursor of a read-only connection with external access disabled and configuration
   locked (`derby_oa.db.connect`), interrupted after `TIME_LIMIT` seconds, fetching at most
   `ROW_CAP` + 1 rows.

`run` serves the SQL console page and `python -m derby_oa sql "QUERY"`.
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass

import duckdb
import pandas as pd

TIME_LIMIT = 5.0  # seconds
ROW_CAP = 10_000
MAX_QUERY_CHARS = 20_000

FIRST_WORDS = ("SELECT", "WITH", "FROM", "VALUES", "DESCRIBE", "SHOW", "SUMMARIZE")
# Words that begin statements which write, configure, or reach files and the network.
FORBIDDEN_WORDS = (
    "ATTACH", "DETACH", "COPY", "EXPORT", "IMPORT", "INSTALL", "LOAD", "FORCE", "PRAGMA", "SET", "RESET",
    "CALL", "CREATE", "DROP", "INSERT", "UPDATE", "DELETE", "ALTER", "USE", "CHECKPOINT", "VACUUM",
    "TRUNCATE", "GRANT", "REVOKE", "BEGIN", "COMMIT", "ROLLBACK", "ABORT", "TRANSACTION", "MERGE",
    "PREPARE", "EXECUTE", "DEALLOCATE", "SECRET",
)
# Table functions that only compute or describe the database.
ALLOWED_TABLE_FUNCTIONS = frozenset({
    "range", "generate_series", "unnest", "duckdb_tables", "duckdb_views", "duckdb_columns",
    "duckdb_constraints", "duckdb_indexes", "duckdb_schemas", "duckdb_types", "duckdb_functions",
    "duckdb_keywords",
})
# Scalar functions refused wherever they appear (plus any name matching FORBIDDEN_FUNCTION_PATTERN).
FORBIDDEN_FUNCTIONS = frozenset({
    "getenv", "query", "query_table", "json_execute_serialized_sql", "json_deserialize_sql", "glob",
    "current_setting", "duckdb_settings", "duckdb_secrets", "duckdb_extensions", "which_secret",
    "checkpoint", "force_checkpoint", "install", "load", "system", "shell", "pragma_version",
})
FORBIDDEN_FUNCTION_PATTERN = re.compile(
    r"^(read_|sniff_|parquet_|sqlite_|postgres_|mysql_|iceberg_|delta_|http|s3|gcs|azure_|pragma_)|scan|attach|file",
    re.IGNORECASE)


class QueryRefused(ValueError):
    """The query was not run (or was stopped); `reason` says why in plain words."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass
class QueryResult:
    """The rows of an accepted query and how long it took."""

    frame: pd.DataFrame
    seconds: float


def limits_text() -> str:
    """One line stating the console's limits."""
    return (f"Limits: one read-only SELECT (or WITH, DESCRIBE, SHOW) statement; at most {ROW_CAP:,} rows; "
            f"stopped after {TIME_LIMIT:g} seconds; no files, network, settings or changes.")


_TOKEN = re.compile(
    r"--[^\n]*"                        # line comment
    r"|/\*.*?(?:\*/|\Z)"               # block comment (unterminated runs to the end)
    r"|[eE]?'(?:[^'\\]|''|\\.)*(?:'|\Z)"  # string literal, also E'...'
    r"|\"(?:[^\"]|\"\")*(?:\"|\Z)"      # quoted identifier
    r"|\$([A-Za-z_]*)\$.*?(?:\$\1\$|\Z)",  # dollar-quoted string
    re.DOTALL)


def blank_literals(sql: str) -> str:
    """The query with comments removed and string literals / quoted identifiers replaced by placeholders."""
    def repl(m: re.Match) -> str:
        text = m.group(0)
        if text.startswith(("--", "/*")):
            return " "
        return " 'S' " if not text.startswith('"') else ' "I" '
    return _TOKEN.sub(repl, sql)


def check_text(sql: str) -> str:
    """Layer 1: one allowed statement, no forbidden words; returns the stripped query."""
    if not sql or not sql.strip():
        raise QueryRefused("The query is empty.")
    if len(sql) > MAX_QUERY_CHARS:
        raise QueryRefused(f"The query is longer than {MAX_QUERY_CHARS:,} characters.")
    if "\x00" in sql:
        raise QueryRefused("The query contains a NUL character.")
    bare = blank_literals(sql).strip()
    body = bare.rstrip().rstrip(";").rstrip()
    if ";" in body:
        raise QueryRefused("Only one statement can be run at a time (found a ';' between statements).")
    words = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", body)
    if not words:
        raise QueryRefused("The query has no statement (only comments or text).")
    if words[0].upper() not in FIRST_WORDS:
        first = words[0].upper()
        raise QueryRefused(f"Only SELECT, WITH ... SELECT, DESCRIBE and SHOW queries can be run here "
                           f"(this one starts with {first}).")
    upper = {w.upper() for w in words}
    bad = [w for w in FORBIDDEN_WORDS if w in upper]
    if bad:
        raise QueryRefused(f"The query contains {bad[0]}, which is not allowed here: the console only reads "
                           f"the database (no {', '.join(FORBIDDEN_WORDS[:12])}, ...).")
    return sql.strip()


def _walk(node):
    """Every dict in a JSON parse tree."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _parse(sql: str) -> dict:
    """DuckDB's parse tree of a SELECT query (parsed in a private in-memory database)."""
    parser = duckdb.connect()
    try:
        statements = parser.extract_statements(sql)
        if len(statements) != 1:
            raise QueryRefused(f"Only one statement can be run at a time (found {len(statements)}).")
        if statements[0].type != duckdb.StatementType.SELECT:
            kind = str(statements[0].type).split(".")[-1]
            raise QueryRefused(f"Only SELECT queries can be run here (this is a {kind} statement).")
        tree = json.loads(parser.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    except duckdb.Error as exc:
        raise QueryRefused(f"The query could not be read: {str(exc).splitlines()[0]}") from None
    finally:
        parser.close()
    if tree.get("error"):
        raise QueryRefused(f"Only SELECT queries can be run here ({tree.get('error_message', 'not a SELECT')}).")
    return tree


def check_tree(sql: str, relations: set[str]) -> None:
    """Layer 2: tables must be database relations or CTEs; functions must not reach outside."""
    tree = _parse(sql)
    nodes = list(_walk(tree))
    ctes = {str(item.get("key", "")).lower() for n in nodes if isinstance(n.get("cte_map"), dict)
            for item in n["cte_map"].get("map", [])}
    for n in nodes:
        kind = n.get("type")
        if kind == "BASE_TABLE":
            name = str(n.get("table_name", ""))
            if re.search(r"[./\\:~*?]", name) or name.lower() not in relations | ctes:
                raise QueryRefused(f"'{name}' is not a table of this database: the console cannot read files "
                                   f"or other sources. Try SHOW TABLES.")
        elif kind == "TABLE_FUNCTION":
            name = str((n.get("function") or {}).get("function_name", "")).lower()
            if name not in ALLOWED_TABLE_FUNCTIONS:
                allowed = ", ".join(sorted(ALLOWED_TABLE_FUNCTIONS))
                raise QueryRefused(f"The table function {name}() is not allowed here (files, network and "
                                   f"SQL-in-a-string are off limits; allowed: {allowed}).")
        elif n.get("class") == "FUNCTION" and "function_name" in n:
            name = str(n["function_name"]).lower()
            if name in FORBIDDEN_FUNCTIONS or FORBIDDEN_FUNCTION_PATTERN.search(name):
                raise QueryRefused(f"The function {name}() is not allowed here (it could read files, the network, "
                                   f"settings or the environment, or run SQL from a string).")


def check(sql: str, relations: set[str] | None = None) -> str:
    """Both static layers; returns the query to run or raises QueryRefused."""
    query = check_text(sql)
    check_tree(query, relations if relations is not None else set())
    return query


# System views that reveal settings, logs or the database file's path on the server.
HIDDEN_RELATIONS = frozenset({"pg_settings", "duckdb_logs", "duckdb_databases", "pragma_database_list"})


def relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Lower-case names of the tables and views the console may read."""
    rows = con.execute("SELECT table_name FROM duckdb_tables() UNION SELECT view_name FROM duckdb_views()").fetchall()
    return {r[0].lower() for r in rows} - HIDDEN_RELATIONS


def _assert_locked_down(cur: duckdb.DuckDBPyConnection) -> None:
    """Refuse to run on a connection that could write or reach files."""
    mode = cur.execute("SELECT current_setting('access_mode'), current_setting('enable_external_access'), "
                       "current_setting('lock_configuration')").fetchone()
    if str(mode[0]).lower() != "read_only" or bool(mode[1]) or not bool(mode[2]):
        raise QueryRefused("The console needs a read-only connection with external access disabled "
                           "(use derby_oa.db.connect).")


def run(sql: str, con: duckdb.DuckDBPyConnection, time_limit: float = TIME_LIMIT,
        row_cap: int = ROW_CAP) -> QueryResult:
    """Check and run `sql` on a fresh cursor of the read-only connection `con`.

    Raises QueryRefused for a refused query, one stopped at the time limit, one returning more than
    `row_cap` rows, or one that fails (the database's message is passed on).
    """
    cur = con.cursor()
    try:
        _assert_locked_down(cur)
        query = check(sql, relations(cur))
        timer = threading.Timer(time_limit, cur.interrupt)
        start = time.monotonic()
        timer.start()
        try:
            result = cur.execute(query)
            columns = [d[0] for d in result.description or []]
            rows = result.fetchmany(row_cap + 1)
        except duckdb.InterruptException:
            raise QueryRefused(f"The query was stopped after {time_limit:g} seconds (the time limit). "
                               f"Narrow it with WHERE, or aggregate.") from None
        except duckdb.Error as exc:
            if time.monotonic() - start >= time_limit:
                raise QueryRefused(f"The query was stopped after {time_limit:g} seconds (the time limit).") from None
            raise QueryRefused(f"The database could not run the query: {str(exc).splitlines()[0]}") from None
        finally:
            timer.cancel()
        if len(rows) > row_cap:
            raise QueryRefused(f"The query returns more than {row_cap:,} rows (the row cap). "
                               f"Add LIMIT, a WHERE clause or GROUP BY.")
        return QueryResult(pd.DataFrame.from_records(rows, columns=columns), time.monotonic() - start)
    finally:
        cur.close()


EXAMPLES = {
    "Tables in the database": "SHOW TABLES",
    "Columns of the observations table": "DESCRIBE observations",
    "Derby's good level of development over time": (
        "SELECT period, breakdown, value, status, source_id\nFROM observations\n"
        "WHERE indicator_id = 'gld' AND area_code = 'E06000015'\nORDER BY year, breakdown"),
    "Derby against its statistical neighbours (latest KS2 RWM)": (
        "WITH latest AS (\n  SELECT max(year) AS year FROM observations\n"
        "  WHERE indicator_id = 'ks2_rwm_expected' AND status = 'published'\n)\n"
        "SELECT a.area_name, o.period, o.value\nFROM observations o\nJOIN areas a USING (area_code)\n"
        "WHERE o.indicator_id = 'ks2_rwm_expected' AND o.breakdown = 'all'\n"
        "  AND o.year = (SELECT year FROM latest)\n"
        "  AND (o.area_code = 'E06000015'\n"
        "       OR o.area_code IN (SELECT area_code FROM area_groups WHERE group_id = 'sn_2025'))\n"
        "ORDER BY o.value DESC"),
    "FSM gap in GLD by year, Derby and England": (
        "SELECT area_code, period,\n"
        "  max(value) FILTER (WHERE breakdown = 'fsm') - max(value) FILTER (WHERE breakdown = 'non_fsm') AS fsm_gap\n"
        "FROM observations\nWHERE indicator_id = 'gld' AND area_code IN ('E06000015', 'E92000001')\n"
        "GROUP BY area_code, period, year\nORDER BY area_code, year"),
    "Search indicators by words in the definition": (
        "SELECT indicator_id, title, unit\nFROM indicators\n"
        "WHERE definition ILIKE '%free school meals%' OR title ILIKE '%free school meals%'\nORDER BY indicator_id"),
    "Observations per source": (
        "SELECT s.title, s.licence, count(*) AS rows\nFROM observations o\nJOIN sources s USING (source_id)\n"
        "GROUP BY ALL ORDER BY rows DESC"),
}

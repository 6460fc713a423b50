"""The guarded SQL console: one read-only SELECT at a time, with time, memory, row and size limits.

Defence in three layers, each enough on its own for the attacks listed in tests/test_sql_guard.py:

1. Text: comments, string literals and quoted identifiers are blanked out, then the query must be
   one statement starting with SELECT, WITH, FROM, VALUES, DESCRIBE, SHOW, SUMMARIZE or (UN)PIVOT,
   nested at most `MAX_NESTING` brackets deep, and may not have, where a statement could begin, a
   word that starts a statement that changes anything or reaches outside the database (ATTACH, COPY,
   EXPORT, INSTALL, LOAD, PRAGMA, SET, CALL, CREATE, ...); such a word used as a column name
   (`SELECT 1 AS load`) is fine.
2. Parse tree: DuckDB's own parser must see exactly one SELECT statement (a PIVOT without an IN list
   is checked as if it had one); every table it reads must be a table or view of the database (or a
   CTE of the query, for a name without a schema: no file names, which DuckDB would otherwise scan;
   no system view that shows settings, logs or the database file's path, `HIDDEN_RELATIONS`), and
   every function must not be a file, network, SQL-in-a-string or environment function (read_csv,
   glob, query, getenv, ...). Table functions are allowlisted.
3. Execution: in a child process (`derby_oa.console.worker`) whose address space is capped, on a
   read-only connection with external access disabled, configuration locked and DuckDB's memory
   and thread limits (`derby_oa.storage.db.connect`); the process is killed after `TIME_LIMIT` seconds, so
   even work on a single huge value stops; it returns at most `ROW_CAP` rows and
   `MAX_RESULT_BYTES` bytes, or a refusal.

`run` serves the SQL console page and `python -m derby_oa sql "QUERY"`.
"""
from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import pickle
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from derby_oa import config
from derby_oa.console import worker as sql_worker

TIME_LIMIT = 5.0  # seconds
ROW_CAP = 10_000
MAX_RESULT_BYTES = 20_000_000  # about 20 MB of values
MAX_QUERY_CHARS = 20_000
MAX_NESTING = 100  # brackets inside brackets

FIRST_WORDS = ("SELECT", "WITH", "FROM", "VALUES", "DESCRIBE", "SHOW", "SUMMARIZE", "PIVOT", "UNPIVOT")
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
    return (f"Limits: one read-only SELECT (or WITH, DESCRIBE, SHOW, PIVOT) statement; at most {ROW_CAP:,} rows "
            f"and {MAX_RESULT_BYTES / 1e6:g} MB of results; stopped after {TIME_LIMIT:g} seconds or "
            f"{config.memory_limit()} of memory; no files, network, settings or changes.")


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


def _masked(sql: str) -> str:
    """The query with comments and literals replaced by spaces of the same length (positions kept)."""
    return _TOKEN.sub(lambda m: " " * len(m.group(0)), sql)


_WORD_OR_MARK = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*|'S'|\"I\"|\d+(?:\.\d*)?|[^\sA-Za-z0-9_]")
# After one of these, a FORBIDDEN_WORD is a column name (`load + 1`, `load IS NULL`), not a statement.
_AFTER_A_COLUMN = {")", ",", ".", "]", "=", "<", ">", "+", "-", "*", "/", "%", "|", "!", "~", "^", ":", "&",
                   "IS", "IN", "NOT", "AND", "OR", "LIKE", "ILIKE", "BETWEEN", "AS", "ASC", "DESC", "NULLS",
                   "COLLATE", "SIMILAR", "GLOB"}


def _statement_word(tokens: list[str]) -> str | None:
    """The first FORBIDDEN_WORD standing where a statement could begin (at the start or after a bracket)."""
    for i, token in enumerate(tokens):
        word = token.upper()
        if word not in FORBIDDEN_WORDS:
            continue
        before = tokens[i - 1] if i else "("
        after = tokens[i + 1].upper() if i + 1 < len(tokens) else ""
        if before in ("(", ")", ";") and after not in _AFTER_A_COLUMN:
            return word
    return None


def _nesting(bare: str) -> int:
    depth = deepest = 0
    for ch in bare:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    return deepest


def check_text(sql: str) -> str:
    """Layer 1: one allowed statement, not nested too deeply, no statement words; returns the stripped query."""
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
    tokens = _WORD_OR_MARK.findall(body)
    words = [t for t in tokens if re.match(r"[A-Za-z_]", t)]
    if not words:
        raise QueryRefused("The query has no statement (only comments or text).")
    if words[0].upper() not in FIRST_WORDS:
        first = words[0].upper()
        raise QueryRefused(f"Only SELECT, WITH ... SELECT, DESCRIBE, SHOW and PIVOT queries can be run here "
                           f"(this one starts with {first}).")
    if _nesting(body) > MAX_NESTING:
        raise QueryRefused(f"The query is nested more than {MAX_NESTING} brackets deep: write it in steps "
                           f"with WITH ... AS (...).")
    bad = _statement_word(tokens)
    if bad:
        raise QueryRefused(f"The query contains {bad}, which is not allowed here: the console only reads "
                           f"the database (no {', '.join(FORBIDDEN_WORDS[:12])}, ...).")
    return sql.strip()


def _walk(node):
    """Every dict in a JSON parse tree (iteratively: trees can be deep)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


_PIVOT_END = {"USING", "GROUP", "ORDER", "LIMIT", "OFFSET"}


def _pivot_with_in_lists(sql: str) -> str:
    """For checking only: `sql` with `IN (NULL)` after each PIVOT ... ON entry that has no IN list.

    DuckDB runs a PIVOT without IN lists as several statements (it first lists the values), which it
    cannot show as one parse tree; with IN lists it is one SELECT with the same tables and functions.
    Every character of `sql` is kept, so nothing it reads can disappear from the tree.
    """
    masked = _masked(sql)
    marks = [(m.start(), m.end(), m.group().upper())
             for m in re.finditer(r"[A-Za-z_][A-Za-z0-9_$]*|[()\[\]{},]", masked)]
    depth_at, depth = [], 0
    for _, _, tok in marks:
        if tok in ")]}":
            depth -= 1
        depth_at.append(depth)
        if tok in "([{":
            depth += 1
    inserts = []
    i = 0
    while i < len(marks):
        if marks[i][2] != "PIVOT":
            i += 1
            continue
        level = depth_at[i]
        j = i + 1
        while j < len(marks) and not (marks[j][2] == "ON" and depth_at[j] == level) and depth_at[j] >= level:
            j += 1
        if j >= len(marks) or marks[j][2] != "ON":
            i = j
            continue
        has_in, end = False, marks[j][1]
        k = j + 1
        while k < len(marks) and depth_at[k] >= level:
            tok = marks[k][2]
            if depth_at[k] == level and (tok in _PIVOT_END or tok == ","):
                if not has_in:
                    inserts.append(end)
                has_in = False
                if tok in _PIVOT_END:
                    break
            elif depth_at[k] == level and tok == "IN":
                has_in = True
            end = marks[k][1]
            k += 1
        else:
            if not has_in:
                inserts.append(len(sql.rstrip().rstrip(";").rstrip()) if k >= len(marks) else marks[k][0])
        i = k
    for pos in sorted(set(inserts), reverse=True):
        sql = sql[:pos] + " IN (NULL)" + sql[pos:]
    return sql


def _parse(sql: str) -> dict:
    """DuckDB's parse tree of a SELECT query (parsed in a private in-memory database)."""
    parser = duckdb.connect()
    try:
        statements = parser.extract_statements(sql)
        if len(statements) != 1:
            raise QueryRefused(f"Only one statement can be run at a time (found {len(statements)}).")
        kind = statements[0].type
        if kind == duckdb.StatementType.MULTI and re.search(r"\bPIVOT\b", blank_literals(sql), re.IGNORECASE):
            sql = _pivot_with_in_lists(sql)
            statements = parser.extract_statements(sql)
            kind = statements[0].type if len(statements) == 1 else kind
        if kind != duckdb.StatementType.SELECT:
            name = str(kind).split(".")[-1]
            raise QueryRefused(f"Only SELECT queries can be run here (this is a {name} statement).")
        tree = json.loads(parser.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        if "expression depth" in message:
            raise QueryRefused("The query is nested too deeply to be read: write it in steps with "
                               "WITH ... AS (...).") from None
        raise QueryRefused(f"The query could not be read: {message}") from None
    except RecursionError:
        raise QueryRefused("The query is nested too deeply to be checked: write it in steps with "
                           "WITH ... AS (...).") from None
    finally:
        parser.close()
    if tree.get("error"):
        raise QueryRefused(f"Only SELECT queries can be run here ({tree.get('error_message', 'not a SELECT')}).")
    return tree


def check_tree(sql: str, relations: set[str]) -> None:
    """Layer 2: tables must be database relations or CTEs; functions must not reach outside.

    A name with a schema or database (`main.duckdb_databases`) must be a relation of the database:
    a CTE of the same bare name does not make it pass.
    """
    tree = _parse(sql)
    nodes = list(_walk(tree))
    ctes = {str(item.get("key", "")).lower() for n in nodes if isinstance(n.get("cte_map"), dict)
            for item in n["cte_map"].get("map", [])}
    for n in nodes:
        kind = n.get("type")
        if kind == "BASE_TABLE":
            name = str(n.get("table_name", ""))
            path = [str(n.get(k) or "") for k in ("catalog_name", "schema_name")] + [name]
            qualified = ".".join(p for p in path if p).lower()
            known = (qualified in relations if qualified != name.lower()
                     else name.lower() in relations | ctes)
            if re.search(r"[./\\:~*?]", name) or not known:
                shown = ".".join(p for p in path if p)
                raise QueryRefused(f"'{shown}' is not a table of this database: the console cannot read files, "
                                   f"settings or other sources. Try SHOW TABLES.")
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
    """Lower-case names of the tables and views the console may read: bare, schema.name and
    database.schema.name."""
    rows = con.execute("SELECT database_name, schema_name, table_name FROM duckdb_tables() UNION "
                       "SELECT database_name, schema_name, view_name FROM duckdb_views()").fetchall()
    names = set()
    for database, schema, name in rows:
        if name.lower() not in HIDDEN_RELATIONS:
            names |= {name.lower(), f"{schema}.{name}".lower(), f"{database}.{schema}.{name}".lower()}
    return names


def _assert_locked_down(cur: duckdb.DuckDBPyConnection) -> None:
    """Refuse to run on a connection that could write or reach files."""
    mode = cur.execute("SELECT current_setting('access_mode'), current_setting('enable_external_access'), "
                       "current_setting('lock_configuration')").fetchone()
    if str(mode[0]).lower() != "read_only" or bool(mode[1]) or not bool(mode[2]):
        raise QueryRefused("The console needs a read-only connection with external access disabled "
                           "(use derby_oa.storage.db.connect).")


def _database_file(cur: duckdb.DuckDBPyConnection) -> str:
    """The file the query process opens: the connection's own, or (when the app opened it through a link
    that is gone) the current database file."""
    row = cur.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    if not row or not row[0]:
        raise QueryRefused("The console runs only on a database file (use derby_oa.storage.db.connect).")
    for path in (Path(row[0]), config.db_path()):
        if path.is_file():
            return str(path.resolve())
    raise QueryRefused(f"The database file {config.db_path()} is not there: build it with "
                       f"`python -m derby_oa build`.")


_INT64 = (-2 ** 63, 2 ** 63 - 1)
_SHOWN_AS_IS = (bool, float, str, decimal.Decimal, dt.date, dt.time)


def _shown_as_is(value) -> bool:
    if isinstance(value, (dt.datetime, dt.time)) and value.tzinfo is not None:
        return False  # shown with its offset as text (spreadsheets cannot hold a time zone)
    if value is None or isinstance(value, _SHOWN_AS_IS):
        return True
    return isinstance(value, int) and _INT64[0] <= value <= _INT64[1]


def _as_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        return "\\x" + bytes(value).hex().upper() if value else ""
    return str(value)


def result_frame(columns: list[str], rows: list[tuple]) -> pd.DataFrame:
    """The rows as a table any page can show: repeated column names are numbered, and columns holding
    values a table or spreadsheet cannot hold natively (very large integers, intervals, lists, structs,
    maps, blobs, UUIDs, times with a time zone) are shown as text."""
    seen: dict[str, int] = {}
    names = []
    for c in columns:
        seen[c] = seen.get(c, 0) + 1
        names.append(c if seen[c] == 1 else f"{c} ({seen[c]})")
    frame = pd.DataFrame.from_records(rows, columns=names) if rows else pd.DataFrame(columns=names)
    for i, name in enumerate(names):
        values = [r[i] for r in rows]
        kinds = {type(v) for v in values if v is not None}
        if not all(_shown_as_is(v) for v in values) or len(kinds - {int, float}) > 1:
            frame[name] = pd.Series([_as_text(v) for v in values], dtype=object)
    return frame


def _run_in_worker(path: str, query: str, time_limit: float, row_cap: int, byte_cap: int) -> tuple[tuple, float]:
    """(reply, seconds) of `sql_worker` running `query`; the process is killed at the time limit."""
    request = {"path": path, "query": query, "row_cap": row_cap, "byte_cap": byte_cap,
               "address_space": sql_worker.address_space(config.memory_limit_bytes(), config.threads())}
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(config.PROJECT_ROOT), env.get("PYTHONPATH")) if p)
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "derby_oa.console.worker"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(config.PROJECT_ROOT))
    try:
        out, _ = proc.communicate(pickle.dumps(request), timeout=time_limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise QueryRefused(f"The query was stopped after {time_limit:g} seconds (the time limit). "
                           f"Narrow it with WHERE, or aggregate.") from None
    seconds = time.monotonic() - start
    try:
        reply = pickle.loads(out) if proc.returncode == 0 and out else None
    except (pickle.UnpicklingError, EOFError):
        reply = None
    if reply is None:
        raise QueryRefused(f"The query stopped unexpectedly (it may need more than the {config.memory_limit()} "
                           f"of memory the console allows). Narrow it with WHERE, or aggregate.")
    return reply, seconds


def run(sql: str, con: duckdb.DuckDBPyConnection, time_limit: float = TIME_LIMIT,
        row_cap: int = ROW_CAP, byte_cap: int = MAX_RESULT_BYTES) -> QueryResult:
    """Check `sql` against the read-only connection `con` and run it in a bounded child process.

    Raises QueryRefused for a refused query, one stopped at the time or memory limit, one returning more
    than `row_cap` rows or `byte_cap` bytes, or one that fails (the database's message is passed on).
    """
    cur = con.cursor()
    try:
        _assert_locked_down(cur)
        query = check(sql, relations(cur))
        path = _database_file(cur)
    finally:
        cur.close()
    reply, seconds = _run_in_worker(path, query, time_limit, row_cap, byte_cap)
    status = reply[0]
    if status == "rows":
        raise QueryRefused(f"The query returns more than {row_cap:,} rows (the row cap). "
                           f"Add LIMIT, a WHERE clause or GROUP BY.")
    if status == "bytes":
        raise QueryRefused(f"The query returns more than {byte_cap / 1e6:g} MB of values (the size cap). "
                           f"Select fewer or shorter columns, add LIMIT, or aggregate.")
    if status == "memory":
        raise QueryRefused(f"The query needs more than the {config.memory_limit()} of memory the console allows "
                           f"({reply[1]}). Narrow it with WHERE, or aggregate.")
    if status == "error":
        raise QueryRefused(f"The database could not run the query: {reply[1]}")
    return QueryResult(result_frame(reply[1], reply[2]), seconds)


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

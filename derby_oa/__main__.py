"""Command line: `python -m derby_oa build | sql "QUERY" | load FILE [--commit [--publish]] | publish-upload ID |
undo-upload | pack | officer-hash`.

Every failure is one line on stderr (what, where, what to do) and a non-zero exit, never a traceback
(set DERBY_OA_TRACEBACK=1 to see one).
"""
from __future__ import annotations

import argparse
import os
import sys

from derby_oa.errors import BuildRefused, InputError


def _build(args) -> int:
    from derby_oa.build.pipeline import build
    from derby_oa.storage.store import DatabaseDamaged

    try:
        report = build(discard_uploads=args.discard_uploads, allow_fallback=args.allow_fallback)
    except (InputError, BuildRefused, DatabaseDamaged) as exc:
        print(f"build failed, previous database kept: {exc}", file=sys.stderr)
        return 1
    print(report.text())
    return 0


def _open_database():
    """The read-only database, or None after saying on stderr that it is missing or damaged."""
    import duckdb

    from derby_oa import config
    from derby_oa.storage import db
    from derby_oa.errors import explain

    try:
        return db.connect()
    except db.DatabaseMissing as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return None
    except duckdb.Error as exc:
        print(f"refused: {explain(exc, config.db_path())}", file=sys.stderr)
        return None


def _sql(args) -> int:
    """Run one guarded read-only query; CSV to stdout, or the refusal on stderr with exit 1."""
    from derby_oa.viz import exports
    from derby_oa.console import guard as sql_guard

    con = _open_database()
    if con is None:
        return 2
    try:
        result = sql_guard.run(args.query, con)
    except sql_guard.QueryRefused as exc:
        print(f"refused: {exc.reason}", file=sys.stderr)
        return 1
    finally:
        con.close()
    sys.stdout.write(exports.to_csv_text(result.frame))
    return 0


def _load(args) -> int:
    """Validate a file (dry run: print the report); with --commit, write it atomically."""
    from derby_oa import config
    from derby_oa.uploads import loader
    from derby_oa.storage.write_lock import WriteBusy

    con = _open_database()
    if con is None:
        return 2
    try:
        report = loader.validate_file(con, args.file, indicator_id=args.indicator, value_column=args.value_column,
                                      numerator_column=args.numerator_column,
                                      denominator_column=args.denominator_column, breakdown=args.breakdown)
    except loader.UploadRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    finally:
        con.close()
    print(report.text())
    if not args.commit:
        if report.ok:
            print("Dry run: nothing written. Add --commit to load it.")
        return 0 if report.ok else 1
    try:
        result = loader.commit(report, config.db_path(), officer=args.officer, licence=args.licence,
                               attribution=args.attribution, replace=args.replace, published=args.publish)
    except (loader.CommitRefused, WriteBusy) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    state = ("published: everyone sees it" if result.published else
             f"a draft that only signed-in officers see; publish it with "
             f"`python -m derby_oa publish-upload {result.upload_id}`")
    print(f"Loaded upload {result.upload_id} ({result.source_id}): {result.rows_added} new rows, "
          f"{result.rows_changed} changed values; {state}. Undo with `python -m derby_oa undo-upload`.")
    return 0


def _publish(args) -> int:
    """Publish a draft upload."""
    from derby_oa.uploads import loader
    from derby_oa.storage.write_lock import WriteBusy

    try:
        name = loader.publish(args.upload_id)
    except (loader.CommitRefused, WriteBusy, FileNotFoundError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(f"Published upload {args.upload_id} ({name}): everyone now sees it.")
    return 0


def _officer_hash(args) -> int:
    """Ask for a password twice (never echoed) and print the secrets.toml lines of a fallback officer account."""
    import getpass

    from derby_oa.passwords import MIN_LENGTH, hash_password

    if sys.stdin.isatty():
        first, second = getpass.getpass("Password: "), getpass.getpass("Again: ")
    else:  # piped: two lines (the password twice)
        first, second = (sys.stdin.readline().rstrip("\r\n") for _ in range(2))
    if first != second:
        print("refused: the two passwords differ", file=sys.stderr)
        return 1
    try:
        hashed = hash_password(first)
    except ValueError as exc:
        print(f"refused: {exc} (at least {MIN_LENGTH})", file=sys.stderr)
        return 1
    user = args.username
    name = (args.name or user).replace("\\", "\\\\").replace('"', '\\"')
    print(f'# Add to .streamlit/secrets.toml\n[officers.{user}]\nname = "{name}"\npassword_hash = "{hashed}"')
    return 0


def _undo(args) -> int:
    """Undo the most recent upload."""
    from derby_oa.uploads import loader
    from derby_oa.storage.write_lock import WriteBusy

    try:
        result = loader.undo_last()
    except (loader.CommitRefused, WriteBusy, FileNotFoundError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(f"Undid upload {result.upload_id} ({result.file_name}): {result.rows_removed} rows removed, "
          f"{result.rows_restored} values restored.")
    return 0


def _pack(args) -> int:
    """Write the board pack (PDF) for changes since a date."""
    import datetime as dt
    import time

    from derby_oa import config, pack
    from derby_oa.storage import db

    try:
        since = dt.date.fromisoformat(args.since) if args.since else dt.date.today() - dt.timedelta(days=30)
    except ValueError:
        print(f"refused: --since '{args.since}' is not a date like 2026-11-02", file=sys.stderr)
        return 1
    if not config.db_path().is_file():
        print(f"refused: {db.DatabaseMissing(config.db_path())}: run `python -m derby_oa build`", file=sys.stderr)
        return 2
    start = time.perf_counter()
    out = pack.write_pack(args.out, since)
    print(f"Board pack written to {out} ({out.stat().st_size / 1024:,.0f} KB, {time.perf_counter() - start:.1f} s).")
    return 0


def _username(text: str) -> str:
    import re

    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", text):
        raise argparse.ArgumentTypeError("use letters, digits, '_', '-' or '.' (at most 64)")
    return text


def main(argv: list[str] | None = None) -> int:
    from derby_oa.uploads.loader import DEFAULT_ATTRIBUTION, DEFAULT_LICENCE, MAX_BYTES
    from derby_oa.console.guard import ROW_CAP, TIME_LIMIT

    parser = argparse.ArgumentParser(prog="python -m derby_oa", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build the database from the plan and published data")
    build.add_argument("--discard-uploads", action="store_true",
                       help="build even if officers' uploads cannot be read (the unreadable file is set aside)")
    build.add_argument("--allow-fallback", action="store_true",
                       help="build even if a published file the database holds is missing or fails its hash "
                            "(that source falls back to the embedded default)")
    build.set_defaults(func=_build)
    sql = sub.add_parser("sql", help=f"run one read-only SELECT (CSV to stdout; at most {ROW_CAP:,} rows, "
                                     f"{TIME_LIMIT:g} s)")
    sql.add_argument("query")
    sql.set_defaults(func=_sql)
    load = sub.add_parser("load", help=f"check a file (template, EES or Fingertips CSV, or .xlsx; at most "
                                       f"{MAX_BYTES // 1024 // 1024} MB) and print the report; --commit writes it")
    load.add_argument("file")
    load.add_argument("--commit", action="store_true", help="write the rows (atomically) after a clean check")
    load.add_argument("--replace", action="store_true", help="allow the upload to change existing values")
    load.add_argument("--officer", default="", help="your name, recorded as 'Local upload by NAME'")
    load.add_argument("--licence", default=DEFAULT_LICENCE)
    load.add_argument("--attribution", default=DEFAULT_ATTRIBUTION)
    load.add_argument("--indicator", help="the indicator an EES column or Fingertips file holds")
    load.add_argument("--value-column", help="EES: the measure column to load")
    load.add_argument("--numerator-column", help="EES: the column of numerators")
    load.add_argument("--denominator-column", help="EES: the column of denominators")
    load.add_argument("--breakdown", help="Fingertips: the pupil group the file is for (default all)")
    load.set_defaults(func=_load)
    load.add_argument("--publish", action="store_true",
                      help="publish at once (default: a draft that only signed-in officers see until published)")
    publish = sub.add_parser("publish-upload", help="publish a draft upload")
    publish.add_argument("upload_id", type=int)
    publish.set_defaults(func=_publish)
    sub.add_parser("undo-upload", help="undo the most recent upload").set_defaults(func=_undo)
    pk = sub.add_parser("pack", help="write the board pack (PDF, A4 landscape) for the next meeting")
    pk.add_argument("--since", help="date of the last meeting, YYYY-MM-DD (default: 30 days ago)")
    pk.add_argument("--out", default="board-pack.pdf", help="the PDF to write (default board-pack.pdf)")
    pk.set_defaults(func=_pack)
    hashing = sub.add_parser("officer-hash", help="make a salted password hash for a fallback officer account "
                                                  "(prints the lines for .streamlit/secrets.toml)")
    hashing.add_argument("username", type=_username, help="the sign-in name (letters, digits, '_', '-', '.')")
    hashing.add_argument("--name", help="the name recorded in the audit trail (default: the user name)")
    hashing.set_defaults(func=_officer_hash)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except Exception as exc:  # the machine, not the input: one line, never a traceback
        from derby_oa import config
        from derby_oa.errors import explain

        if os.environ.get("DERBY_OA_TRACEBACK", "") not in ("", "0"):
            raise
        print(f"{args.command} failed: {explain(exc, config.db_path())}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""Errors that name the file, row and field of bad input."""
from __future__ import annotations


class InputError(ValueError):
    """A problem in an input file, located by file, row (1-based data row) and field."""

    def __init__(self, file: str, message: str, row: int | None = None, field: str | None = None):
        self.file, self.row, self.field, self.reason = str(file), row, field, message
        where = self.file
        if row is not None:
            where += f", row {row}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")


class FetchError(RuntimeError):
    """A published file could not be obtained or failed its hash check.

    `file` is the manifest name, `expected` its SHA-256, `actual` the SHA-256 found (or why none was).
    """

    def __init__(self, message: str, file: str | None = None, expected: str | None = None,
                 actual: str | None = None):
        super().__init__(message)
        self.file, self.expected, self.actual = file, expected, actual


class BuildRefused(RuntimeError):
    """The build stopped before replacing the database (which is kept as it was)."""


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def explain(exc: BaseException, db_path) -> str:
    """One line for a failure of the machine rather than the input: what happened, where, what to do.

    Covers a full disk, a folder that cannot be written and a damaged database file (as OSError or as
    the database's own error); anything else is named by its type and first line.
    """
    import errno
    from pathlib import Path

    db_path = Path(db_path)
    text = str(exc)
    where = Path(getattr(exc, "filename", None) or db_path)
    folder = where if where.is_dir() else where.parent
    code = getattr(exc, "errno", None)
    if code == errno.ENOSPC or "No space left on device" in text:
        return (f"the disk holding {folder} is full (no space left on device): free some space and run it "
                f"again; the database {db_path} is as it was")
    if code in (errno.EACCES, errno.EPERM, errno.EROFS) or "Permission denied" in text \
            or "Read-only file system" in text:
        return (f"cannot write in {folder} (permission denied): make the folder writable, or set DERBY_OA_DB "
                f"to a file in a writable folder; the database {db_path} is as it was")
    damaged = ("not a valid DuckDB database file", "Could not read enough bytes", "Corrupt database file",
               "checksum", "database file", "Serialization Error")
    if any(d in text for d in damaged) and type(exc).__module__.split(".")[0] in ("duckdb", "_duckdb"):
        import re

        from derby_oa.config import uploads_record_path

        detail = re.sub(re.escape(db_path.name) + r"\.\w+\.tmp", db_path.name, _first_line(exc))  # its working copy
        record = uploads_record_path(db_path)
        advice = (f"rebuild it with `python -m derby_oa build` (officers' uploads are restored from {record.name})"
                  if record.is_file() else "restore it from a backup, or rebuild it with `python -m derby_oa build`")
        return f"the database {db_path} is damaged ({detail}): {advice}"
    return f"{type(exc).__name__}: {_first_line(exc)} (set DERBY_OA_TRACEBACK=1 for the details)"

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
    """A published file could not be obtained or failed its hash check."""

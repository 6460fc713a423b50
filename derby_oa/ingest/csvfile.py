"""Strict CSV reading: every row must have the header's fields, or the error names row and field."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from derby_oa.errors import InputError


def read_strict(path: Path | str, required: list[str], text: str | None = None, name: str | None = None) -> pd.DataFrame:
    """Read a CSV as text columns; refuse missing columns and short (truncated) rows.

    Rows are numbered as data rows from 1 (the header is row 0).
    """
    name = name or Path(path).name
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(name, f"is not UTF-8 text (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:  # e.g. a quoted field cut off by truncation
        raise InputError(name, f"is malformed or truncated ({exc})", row=reader.line_num - 1) from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise InputError(name, "is empty: no header row")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(name, f"missing column(s) {', '.join(missing)}", row=0, field=missing[0])
    body = [r for r in rows[1:] if any(cell.strip() for cell in r)]
    for i, r in enumerate(body, start=1):
        if len(r) != len(header):
            field = header[len(r)] if len(r) < len(header) else header[-1]
            raise InputError(name, f"has {len(r)} fields, expected {len(header)} (truncated or malformed row)",
                             row=i, field=field)
    return pd.DataFrame(body, columns=header, dtype=str)

"""Safe CSV and XLSX exports: cells a spreadsheet would run as a formula are neutralised.

A text cell starting with `=`, `+`, `-`, `@`, tab or carriage return (also after leading spaces) gets
an apostrophe in front, in every export: CSV, XLSX (all sheets, column names included) and the SQL
console's CSV on the command line. Numbers stay numbers.
"""
from __future__ import annotations

import io

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Prefix text that a spreadsheet would treat as a formula with an apostrophe."""
    if isinstance(value, str) and (value.startswith(FORMULA_START) or value.lstrip(" ").startswith(FORMULA_START)):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of `df` with every text cell (and column name) neutralised; numbers stay numbers."""
    out = df.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for i in range(out.shape[1]):
        col = out.iloc[:, i]
        if col.dtype == object or pd.api.types.is_string_dtype(col) or isinstance(col.dtype, pd.CategoricalDtype):
            out.isetitem(i, col.astype(object).map(neutralise))
    return out


def to_csv_text(df: pd.DataFrame) -> str:
    """CSV text of a neutralised frame (no byte-order mark: for the command line).

    Lines end in CRLF so that a cell holding a bare carriage return is quoted: unquoted, a spreadsheet
    would start a new row there and read the rest of the cell as a fresh (unneutralised) cell.
    """
    return safe_frame(df).to_csv(index=False, lineterminator="\r\n")


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM for Excel) of a neutralised frame."""
    return to_csv_text(df).encode("utf-8-sig")


def to_xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An XLSX workbook with one sheet per frame, every text cell neutralised and written as text."""
    buf = io.BytesIO()
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    with pd.ExcelWriter(buf, engine="xlsxwriter", engine_kwargs={"options": options}) as xl:
        for name, df in sheets.items():
            sheet = name[:31]
            safe = safe_frame(df)
            safe.to_excel(xl, sheet_name=sheet, index=False)
            for i, col in enumerate(safe.columns):
                width = max([len(str(col))] + [len(str(v)) for v in safe.iloc[:200, i]])
                xl.sheets[sheet].set_column(i, i, min(max(width + 2, 8), 60))
    return buf.getvalue()

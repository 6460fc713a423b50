"""Reading officers' upload files: bytes -> header and text rows -> candidate observations, per layout.

Layouts: the project's tidy template; a DfE Explore Education Statistics (EES) tidy CSV; a Fingertips
portal/API CSV export; a Fingertips extract in the Trafford Data Lab layout. CSV must be UTF-8 (with or
without a byte-order mark); other encodings, including Windows-1252 ("CSV (Comma delimited)" in Excel),
are refused naming the first unreadable byte, since guessing could silently corrupt text. An .xlsx is
read from its first sheet and refused if any cell in any sheet holds a formula.

The work per file is bounded (docs/self-serve.md states the limits): files over MAX_BYTES are refused
before they are read; a file with more than MAX_ROWS data rows, MAX_COLUMNS columns or MAX_CELLS cells is
refused while it is read, as soon as a limit is passed. An .xlsx is a zip: the sizes its parts declare
must add up to at most MAX_XLSX_UNPACKED before anything is unpacked (Python's zipfile never unpacks more
than a part declares), the sheets are read as a stream (openpyxl read-only) and a sheet whose declared
dimension passes a limit is refused before its cells are read.

Rows are numbered as data rows from 1 (the header is row 0), in CSV and XLSX alike. Readers never
raise for a bad row: they return a Problem naming row and field. Whole-file faults raise UploadRefused.
Checks that need the database (codes, periods, ranges, conflicts) are in `derby_oa.uploads.loader`.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from derby_oa.ingest import fingertips as ft
from derby_oa.ingest import periods
from derby_oa.ingest.eyfsp_ees import SYMBOLS as EES_SYMBOLS
from derby_oa.storage.schema import OBS_COLUMNS

# Limits on the work one upload can cause (stated in docs/self-serve.md and on the Load data page).
MAX_BYTES = 20 * 1024 * 1024  # file size
MAX_ROWS = 100_000  # data rows (lines below the header, blank ones included)
MAX_COLUMNS = 200
MAX_CELLS = 3_000_000  # data rows x columns
MAX_XLSX_UNPACKED = 100 * 1024 * 1024  # total declared size of an .xlsx's unpacked parts
TEMPLATE_COLUMNS = ["indicator_id", "area_code", "period", "breakdown", "value", "numerator", "denominator"]
BREAKDOWNS = ("all", "fsm", "non_fsm", "disadvantaged", "non_disadvantaged", "boys", "girls", "eal")
FORMAT_LABELS = {"template": "the project's tidy template", "ees": "a DfE Explore Education Statistics tidy CSV",
                 "fingertips": "a Fingertips export", "fingertips_extract": "a Fingertips extract (Trafford layout)"}
# DfE symbols allowed in the template's value column (a blank value is a problem there).
TEMPLATE_SYMBOLS = {k: v for k, v in EES_SYMBOLS.items() if k}
FINGERTIPS_SYMBOLS = {"": "x", "na": "x", "c": "c", "x": "x", "z": "z"}
KIND_EXAMPLE = {"academic": "academic years like 2018/19", "financial": "financial years like 2018-19",
                "calendar": "calendar years like 2019", "other": "other labels"}

# EES measure columns the loader recognises: column -> (indicator, numerator column, denominator column).
EES_MEASURES = {"gld_percent": ("gld", "gld_number", "number_of_children")}
EES_TIME = {"academic year": "academic", "financial year": "financial", "calendar year": "calendar",
            "tax year": "financial"}
EES_LEVEL = {"national": "country_code", "regional": "region_code", "local authority": "new_la_code",
             "ward": "ward_code"}
EES_TOTALS = {"total", "all", "all pupils", "all children", "persons", "all persons"}
_GENDER = {"boys": "boys", "girls": "girls", "male": "boys", "female": "girls"}
_FSM = {"fsm": "fsm", "fsm eligible": "fsm", "eligible for fsm": "fsm", "known to be eligible for free school meals": "fsm",
        "known to be eligible for fsm": "fsm", "all other pupils": "non_fsm", "fsm not eligible": "non_fsm",
        "not eligible for fsm": "non_fsm", "not known to be eligible for fsm": "non_fsm",
        "not known to be eligible for free school meals": "non_fsm"}
_DISADVANTAGE = {"disadvantaged": "disadvantaged", "not disadvantaged": "non_disadvantaged",
                 "disadvantaged all other": "non_disadvantaged", "all other pupils": "non_disadvantaged"}
EES_BREAKDOWN_FILTERS = {"gender": _GENDER, "sex": _GENDER, "fsm": _FSM, "fsm_status": _FSM,
                         "free_school_meals": _FSM, "disadvantage": _DISADVANTAGE, "disadvantage_status": _DISADVANTAGE}
EES_GEOGRAPHY = re.compile(r"^(time_period|time_identifier|geographic_level|.*_code|.*_name)$")

# Fingertips indicator ids and names -> (indicator_id, breakdown), from the extracts this project loads.
FINGERTIPS_IDS = {
    "90632": ("gld", "fsm"), "20601": ("excess_weight_reception", "all"), "20602": ("excess_weight_year6", "all"),
    "93203": ("neet_or_not_known_16_17", "all"), "90813": ("self_harm_admissions_10_24", "all"),
    "10101": ("low_income_children", "all"), "90319": ("obesity_reception", "all"), "90323": ("obesity_year6", "all"),
}
FINGERTIPS_NAMES = {
    "children with free school meal status achieving a good level of development at the end of reception": ("gld", "fsm"),
    "children aged 4-5 years who have excess weight": ("excess_weight_reception", "all"),
    "children aged 10-11 years who have excess weight": ("excess_weight_year6", "all"),
    "children in low income families": ("low_income_children", "all"),
    "proportion of 16-17 year olds not in education, employment or training (neet)": ("neet_or_not_known_16_17", "all"),
    "hospital admissions as a result of self-harm (10-24 years)": ("self_harm_admissions_10_24", "all"),
    "reception prevalence of obesity (including severe obesity)": ("obesity_reception", "all"),
    "year 6 prevalence of obesity (including severe obesity)": ("obesity_year6", "all"),
}
FINGERTIPS_SEX = {"persons": "all", "male": "boys", "female": "girls", "": "all", "na": "all"}
FINGERTIPS_OUT_OF_SCOPE = {**ft.OUT_OF_SCOPE, "E38": "NHS sub-ICB locations (E38)",
                           "E54": "integrated care boards (E54)", "E40": "NHS regions (E40)"}


class UploadRefused(ValueError):
    """The whole file is refused (empty, not text, wrong encoding, too big, formulas, unknown layout)."""


@dataclass
class Problem:
    """One problem in one row and field of the file."""

    row: int | None
    field: str | None
    message: str

    def text(self) -> str:
        where = f"row {self.row}" if self.row is not None else "file"
        return f"{where}, field '{self.field}': {self.message}" if self.field else f"{where}: {self.message}"


# ---- reading the file ---------------------------------------------------------------------------------

def _decode(name: str, data: bytes) -> str:
    """UTF-8 text (BOM allowed); refuse binary content and other encodings, naming the byte offset."""
    nul = data.find(b"\x00")
    if nul >= 0:
        raise UploadRefused(f"{name} is not a text file: it contains binary data (a NUL byte at byte {nul}).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        at = exc.start + (3 if data.startswith(b"\xef\xbb\xbf") else 0)  # the codec counts after the BOM
        raise UploadRefused(
            f"{name} is not UTF-8 text: byte {at} (0x{data[at]:02X}) cannot be read. "
            f"In Excel use Save As > 'CSV UTF-8 (Comma delimited)' and load it again.") from None
    bad = re.search(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]", text)
    if bad:
        offset = len(text[:bad.start()].encode("utf-8")) + (3 if data.startswith(b"\xef\xbb\xbf") else 0)
        raise UploadRefused(f"{name} is not a text file: control character 0x{ord(bad.group()):02X} near byte {offset}.")
    return text


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return str(value)


def limits_text() -> str:
    """One sentence stating the upload limits."""
    return (f"at most {MAX_BYTES // 1024 // 1024} MB, {MAX_ROWS:,} rows, {MAX_COLUMNS:,} columns and "
            f"{MAX_CELLS:,} cells")


def _too_many(name: str, what: str, limit: int, where: str = "") -> UploadRefused:
    return UploadRefused(f"{name}{where} has more than {limit:,} {what}, the limit for one upload "
                         f"({limits_text()}). Split it, or keep only the rows and columns you need.")


def _check_zip(name: str, data: bytes) -> None:
    """Refuse an .xlsx whose parts would unpack to more than MAX_XLSX_UNPACKED (a zip bomb), before unpacking."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            declared = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise UploadRefused(f"{name} could not be opened as an Excel .xlsx workbook (not a valid zip).") from None
    if declared > MAX_XLSX_UNPACKED:
        raise UploadRefused(f"{name} would unpack to {declared / 1024 / 1024:,.0f} MB; the limit is "
                            f"{MAX_XLSX_UNPACKED // 1024 // 1024} MB. Save it again from Excel, or as CSV UTF-8.")


def _sheet_rows(name: str, ws, cells_left: int) -> list[tuple]:
    """The rows of a read-only sheet, refusing it as soon as it passes a limit (declared size first)."""
    where = f" (sheet '{ws.title}')"
    declared_rows, declared_cols = ws.max_row, ws.max_column  # from the sheet's <dimension>, if any
    if declared_cols is not None and declared_cols > MAX_COLUMNS:
        raise _too_many(name, "columns", MAX_COLUMNS, where)
    if declared_rows is not None and declared_rows > MAX_ROWS + 1:
        raise _too_many(name, "rows", MAX_ROWS, where)
    if declared_rows and declared_cols and (declared_rows - 1) * declared_cols > cells_left:
        raise _too_many(name, "cells", MAX_CELLS, where)
    ws.reset_dimensions()  # a declared size may be missing or false: read what is there, row by row
    rows, cells, header = [], 0, None
    for row in ws.iter_rows(values_only=True):
        if len(row) > MAX_COLUMNS:
            raise _too_many(name, "columns", MAX_COLUMNS, where)
        if len(rows) > MAX_ROWS:  # the header plus MAX_ROWS data rows are allowed
            raise _too_many(name, "rows", MAX_ROWS, where)
        if header is None and any(v is not None for v in row):
            header = len(row)
        cells += len(row)
        if cells > cells_left + (header or 0):
            raise _too_many(name, "cells", MAX_CELLS, where)
        rows.append(row)
    return rows


def _xlsx_rows(name: str, data: bytes) -> list[list[str]]:
    """Rows of the first sheet as text; refuse a workbook with any formula (in any sheet) or past a limit."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    _check_zip(name, data)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), data_only=False, read_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to open is a refusal
        raise UploadRefused(f"{name} could not be opened as an Excel .xlsx workbook ({type(exc).__name__}).") from None
    try:
        sheets, cells_left = [], MAX_CELLS
        for ws in wb.worksheets:
            try:
                rows = _sheet_rows(name, ws, cells_left)
            except UploadRefused:
                raise
            except Exception as exc:  # noqa: BLE001 - a damaged sheet is a refusal
                raise UploadRefused(f"{name} could not be read (sheet '{ws.title}': {type(exc).__name__}).") from None
            cells_left -= sum(len(r) for r in rows)
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row, start=1):
                    if isinstance(value, str) and value.startswith("="):
                        raise UploadRefused(
                            f"{name} contains a formula (sheet '{ws.title}', cell {get_column_letter(c)}{r}). "
                            f"Only values can be loaded: paste as values, or save as CSV UTF-8.")
            sheets.append(rows)
    finally:
        wb.close()
    first = sheets[0] if sheets else []
    width = max((len(r) for r in first), default=0)  # rows are stored without their empty trailing cells
    return [[_cell_text(v) for v in row] + [""] * (width - len(row)) for row in first]


def _csv_rows(name: str, text: str) -> list[list[str]]:
    """CSV records, refusing the file as soon as it passes the row, column or cell limit."""
    rows, cells, header = [], 0, None
    try:
        for record in csv.reader(io.StringIO(text, newline="")):
            if len(record) > MAX_COLUMNS:
                raise _too_many(name, "columns", MAX_COLUMNS)
            if len(rows) > MAX_ROWS:  # the header plus MAX_ROWS data rows are allowed
                raise _too_many(name, "rows", MAX_ROWS)
            if header is None and any(c.strip() for c in record):
                header = len(record)
            cells += len(record)
            if cells > MAX_CELLS + (header or 0):  # the header's cells are not data
                raise _too_many(name, "cells", MAX_CELLS)
            rows.append(record)
    except csv.Error as exc:
        raise UploadRefused(f"{name} could not be read as CSV ({exc}).") from None
    return rows


def read_rows(name: str, data: bytes) -> tuple[list[str], pd.DataFrame, list[Problem]]:
    """Header, data rows as text (index = data row number from 1) and malformed-row problems."""
    size = len(data)
    if size > MAX_BYTES:
        raise UploadRefused(f"{name} is {size / 1024 / 1024:.1f} MB; the limit is {MAX_BYTES // 1024 // 1024} MB. "
                            f"Split it, or keep only the rows you need.")
    if size == 0 or not data.strip():
        raise UploadRefused(f"{name} is empty.")
    suffix = Path(name).suffix.lower()
    if suffix in (".xls", ".xlsm", ".xlsb", ".ods") or data[:4] == b"\xd0\xcf\x11\xe0":
        raise UploadRefused(f"{name}: only CSV (UTF-8) and .xlsx workbooks without formulas or macros can be loaded; "
                            f"save it as .xlsx or CSV UTF-8.")
    if suffix == ".xlsx":
        rows = _xlsx_rows(name, data)
    elif data[:4] == b"PK\x03\x04":
        raise UploadRefused(f"{name} is a zip or Excel file, not CSV text; give an Excel workbook the .xlsx extension.")
    else:
        rows = _csv_rows(name, _decode(name, data))
    filled = [i for i, r in enumerate(rows) if any(c.strip() for c in r)]
    if not filled:
        raise UploadRefused(f"{name} is empty.")
    start = filled[0]  # the header: blank lines above it are ignored; blank lines below still count as rows
    header = [h.strip() for h in rows[start]]
    while header and not header[-1]:
        header.pop()
    counts = Counter(header)
    dup = next((h for h in header if counts[h] > 1), None)  # linear: headers can be wide
    if dup is not None:
        raise UploadRefused(f"{name}: the header names column '{dup}' twice.")
    if len(filled) == 1:
        raise UploadRefused(f"{name} has a header but no data rows.")
    problems, body, index = [], [], []
    width = len(header)
    for i, r in enumerate(rows[start + 1:], start=1):
        if len(r) != width:
            if not any(c.strip() for c in r):
                continue  # a blank row
            if len(r) > width and not any(c.strip() for c in r[width:]):
                r = r[:width]  # trailing empty cells (spreadsheets add them)
            else:
                problems.append(Problem(i, None, f"has {len(r)} fields, expected {width} (truncated or malformed row)"))
                continue
        elif not any(c.strip() for c in r):
            continue
        body.append(r)
        index.append(i)
    return header, pd.DataFrame(body, columns=header, index=index, dtype=str), problems


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def detect_format(header: list[str]) -> str:
    """Which layout a header belongs to; refuses an unknown layout naming the expected columns."""
    cols, norm = set(header), {_norm(c) for c in header}
    if {"indicator_id", "area_code", "period", "value"} <= cols:
        return "template"
    if {"time_period", "time_identifier", "geographic_level"} <= cols:
        return "ees"
    if {"areacode", "timeperiod", "value"} <= norm and norm & {"indicatorid", "indicatorname"}:
        return "fingertips"
    if {"area_code", "period", "value", "indicator"} <= cols:
        return "fingertips_extract"
    raise UploadRefused(
        "The columns do not match a layout the loader knows. Expected the tidy template "
        f"({', '.join(TEMPLATE_COLUMNS)}), a DfE EES tidy CSV (time_period, time_identifier, geographic_level, ...) "
        f"or a Fingertips export (Indicator ID, Area Code, Time period, Value, ...). Found: {', '.join(header[:12])}.")


# ---- parsing helpers -----------------------------------------------------------------------------------

def member_of(values: pd.Series, allowed: set) -> pd.Series:
    """Membership test (much faster than Series.isin on string arrays against a large set)."""
    return pd.Series([v in allowed for v in values], index=values.index, dtype=bool)


def problems_where(mask: pd.Series, field_name: str, message) -> list[Problem]:
    """A Problem for each True row of `mask`; `message(row_label)` builds the text."""
    return [Problem(int(i), field_name, message(i)) for i in mask.index[mask.to_numpy(dtype=bool)]]


_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")  # 1,234 or 12,345.6: commas between thousands
_NOT_FINITE = {"nan", "inf", "infinity"}


def to_numbers(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(numbers, why-not) from stripped cell text. Commas are allowed only between groups of three digits
    (1,234); a decimal comma (12,5), infinity and NaN give no number and a reason, never a wrong number."""
    t = text.astype(str)
    comma = t.str.contains(",", regex=False)
    grouped = pd.Series([bool(_GROUPED.fullmatch(v)) for v in t], index=t.index, dtype=bool)
    cleaned = t.where(~comma, t.str.replace(",", "", regex=False).where(grouped))
    num = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    infinite = ~np.isfinite(num.fillna(0)) | t.str.lower().str.lstrip("+-").isin(_NOT_FINITE)
    why = pd.Series(None, index=t.index, dtype=object)
    why[comma & ~grouped] = "has a comma that is not a thousands separator: write decimals with a point (12.5)"
    why[infinite] = "is not a finite number"
    return num.where(why.isna()), why


def parse_values(text: pd.Series, symbols: dict[str, str], field_name: str) -> tuple[pd.Series, pd.Series, list[Problem]]:
    """Numbers and statuses from cells; other text (not a number, not a DfE symbol) is a problem."""
    t = text.astype(str).str.strip()
    sym = t.str.lower().map(symbols)
    num, why = to_numbers(t.where(sym.isna(), ""))
    bad = num.isna() & sym.isna()
    allowed = ", ".join(repr(k) for k in symbols if k) or "none"

    def message(i) -> str:
        if isinstance(why[i], str):
            return f"'{t[i]}' {why[i]}"
        return (f"'{t[i]}' is neither a number nor a DfE symbol ({allowed})" if t[i]
                else "is empty: give a number or a DfE symbol (c, x, z)")
    problems = problems_where(bad, field_name, message)
    status = sym.where(num.isna(), "published")
    return num.where(~bad), status.where(~bad), problems


def parse_optional_numbers(text: pd.Series, field_name: str) -> tuple[pd.Series, list[Problem]]:
    """Optional counts: blank or a DfE symbol is missing; other text is a problem; negatives are problems."""
    t = text.astype(str).str.strip()
    missing = t.eq("") | t.str.lower().isin(EES_SYMBOLS) | t.str.upper().eq("NA")
    num, why = to_numbers(t.where(~missing, ""))
    bad = num.isna() & ~missing
    problems = problems_where(bad, field_name, lambda i: f"'{t[i]}' {why[i]}" if isinstance(why[i], str)
                              else f"'{t[i]}' is not a number")
    neg = num < 0
    problems += problems_where(neg, field_name, lambda i: f"{num[i]:g} is negative: a count cannot be")
    return num.where(~bad & ~neg), problems


def parse_limits(text: pd.Series, field_name: str) -> tuple[pd.Series, list[Problem]]:
    """Confidence-interval limits: may be negative (scores); text is missing; a decimal comma or an infinite
    value is a problem."""
    t = text.astype(str).str.strip()
    num, why = to_numbers(t)
    bad = why.notna()
    return num, problems_where(bad, field_name, lambda i: f"'{t[i]}' {why[i]}")


def period_kind(label: str) -> str:
    """`academic` (2018/19), `financial` (2018-19), `calendar` (2019) or `other`."""
    if re.fullmatch(r"\d{4}/\d{2}", label):
        return "academic"
    if re.fullmatch(r"\d{4}-\d{2}", label):
        return "financial"
    if re.fullmatch(r"\d{4}", label):
        return "calendar"
    return "other"


def _end_years(labels: pd.Series, field_name: str) -> tuple[pd.Series, list[Problem]]:
    years, problems = {}, []
    for i, label in labels.items():
        try:
            years[i] = periods.end_year(label)
        except ValueError:
            years[i] = None
            problems.append(Problem(int(i), field_name, f"'{label}' is not a period label like 2018/19, 2018-19 or 2019"))
    return pd.Series(years, index=labels.index, dtype="Int64"), problems


def _frame(index, **cols) -> pd.DataFrame:
    out = pd.DataFrame(cols, index=index)
    for col in OBS_COLUMNS:
        if col not in out:
            out[col] = np.nan if col in ("value", "numerator", "denominator", "lower_ci", "upper_ci") else None
    out["row"] = out.index.astype(int)
    return out


# ---- the four readers ------------------------------------------------------------------------------------

@dataclass
class Parsed:
    obs: pd.DataFrame
    problems: list[Problem]
    notes: list[str]


def read_template(df: pd.DataFrame, opts: dict, ctx: dict) -> Parsed:
    """The project's tidy template (indicator_id, area_code, period, breakdown, value, numerator, denominator)."""
    problems: list[Problem] = []
    period = df["period"].str.strip().map(periods.normalise)
    year, p = _end_years(period, "period")
    problems += p
    breakdown = df["breakdown"].str.strip().str.lower() if "breakdown" in df else pd.Series("all", index=df.index)
    breakdown = breakdown.where(breakdown != "", "all")
    value, status, p = parse_values(df["value"], TEMPLATE_SYMBOLS, "value")
    problems += p
    counts = {}
    for col in ("numerator", "denominator"):
        if col in df:
            counts[col], p = parse_optional_numbers(df[col], col)
            problems += p
    obs = _frame(df.index, indicator_id=df["indicator_id"].str.strip(), area_code=df["area_code"].str.strip().str.upper(),
                 period=period, year=year, breakdown=breakdown, value=value, status=status, **counts)
    return Parsed(obs, problems, [])


def _ees_areas(df: pd.DataFrame, ctx: dict) -> tuple[pd.Series, pd.Series, list[Problem], list[str]]:
    """(area code, keep mask, problems, notes) from the EES geography columns."""
    level = df["geographic_level"].str.strip().str.lower()
    supported = level.isin(EES_LEVEL)
    notes = []
    if (~supported).any():
        counts = df.loc[~supported, "geographic_level"].str.strip().value_counts()
        notes.append("skipped rows at geographic levels the dashboard does not hold: "
                     + ", ".join(f"{n} {lvl}" for lvl, n in counts.items()))
    known = ctx["areas"]
    la = ctx["area_table"].dropna(subset=["la_number"])
    by_number = dict(zip(la["la_number"].astype(int).astype(str), la["area_code"]))
    code = pd.Series(None, index=df.index, dtype=object)
    field_of = pd.Series(None, index=df.index, dtype=object)
    for lvl, col in EES_LEVEL.items():
        rows = supported & (level == lvl)
        if not rows.any():
            continue
        c = df.loc[rows, col].str.strip().str.upper() if col in df else pd.Series("", index=df.index[rows])
        field_of[rows] = col
        if lvl == "local authority" and "old_la_code" in df:
            old = df.loc[rows, "old_la_code"].str.strip().map(by_number)
            c = c.where(member_of(c, known), old.fillna(c))
            if col not in df:
                field_of[rows] = "old_la_code"
        code[rows] = c
    bad = supported & ~member_of(code, known)
    problems = [Problem(int(i), field_of[i], f"unknown area code '{code[i] or ''}' "
                        f"({df.at[i, 'geographic_level'].strip()} row)") for i in bad.index[bad.to_numpy()]]
    return code, supported, problems, notes


def _ees_breakdowns(df: pd.DataFrame, filters: list[str]) -> tuple[pd.Series, pd.Series, list[str]]:
    """(breakdown, keep mask, notes) from the EES filter columns."""
    breakdown = pd.Series("all", index=df.index, dtype=object)
    keep = pd.Series(True, index=df.index)
    n_split = pd.Series(0, index=df.index)
    notes = []
    for col in filters:
        v = df[col].str.strip().str.lower()
        total = v.isin(EES_TOTALS) | v.eq("")
        mapping = EES_BREAKDOWN_FILTERS.get(col.lower())
        if mapping is None:
            if (~total).any():
                notes.append(f"kept only the Total rows of filter '{col}' ({int((~total).sum())} other rows skipped)")
            keep &= total
            continue
        mapped = v.map(mapping)
        unknown = ~total & mapped.isna()
        if unknown.any():
            vals = ", ".join(sorted(set(df.loc[unknown, col].str.strip()))[:5])
            notes.append(f"skipped {int(unknown.sum())} rows whose {col} ({vals}) is not a breakdown the dashboard holds")
        keep &= ~unknown
        breakdown = breakdown.where(mapped.isna(), mapped)
        n_split += (~total & mapped.notna()).astype(int)
    crossed = n_split > 1
    if crossed.any():
        notes.append(f"skipped {int(crossed.sum())} rows that cross two breakdowns (e.g. FSM girls)")
    return breakdown, keep & ~crossed, notes


def read_ees(df: pd.DataFrame, opts: dict, ctx: dict) -> Parsed:
    """A DfE EES tidy CSV: one measure column becomes one indicator; filters become breakdowns."""
    problems: list[Problem] = []
    notes: list[str] = []
    measure = opts.get("value_column")
    if not measure:
        known = [c for c in df.columns if c in EES_MEASURES]
        if len(known) != 1:
            raise UploadRefused("This EES file has no measure column the loader recognises"
                                if not known else f"This EES file has several known measures ({', '.join(known)})"
                                + ": choose the value column and the indicator it holds.")
        measure = known[0]
    if measure not in df:
        raise UploadRefused(f"The value column '{measure}' is not in the file.")
    default_ind, default_num, default_den = EES_MEASURES.get(measure, (None, None, None))
    indicator = opts.get("indicator_id") or default_ind
    if not indicator:
        raise UploadRefused(f"Choose which indicator the column '{measure}' holds.")
    num_col = opts.get("numerator_column") or (default_num if default_num in df else None)
    den_col = opts.get("denominator_column") or (default_den if default_den in df else None)
    for col in (num_col, den_col):
        if col and col not in df:
            raise UploadRefused(f"The column '{col}' is not in the file.")
    measures = {measure, num_col, den_col}
    others = [c for c in df.columns if c not in measures and not EES_GEOGRAPHY.match(c)]
    filters = []
    for c in others:
        t = df[c].str.strip()
        numeric = pd.to_numeric(t, errors="coerce").notna() | t.str.lower().isin(EES_SYMBOLS)
        if not numeric.all():
            filters.append(c)
    code, keep_geo, p, n = _ees_areas(df, ctx)
    problems += p
    notes += n
    breakdown, keep_bd, n = _ees_breakdowns(df, filters)
    notes += n
    keep = keep_geo & keep_bd
    df, code, breakdown = df[keep], code[keep], breakdown[keep]
    kept = set(df.index)
    problems = [q for q in problems if q.row in kept]
    ident = df["time_identifier"].str.strip().str.lower().map(EES_TIME)
    problems += problems_where(ident.isna(), "time_identifier",
                      lambda i: f"time_identifier '{df.at[i, 'time_identifier'].strip()}' is not supported "
                                f"(use Academic year, Financial year, Calendar year or Tax year)")
    tp = df["time_period"].str.strip()
    label = pd.Series(None, index=df.index, dtype=object)
    six = tp.str.fullmatch(r"\d{6}") & ident.isin(["academic", "financial"])
    four = tp.str.fullmatch(r"\d{4}") & ident.eq("calendar")
    end = pd.to_numeric(tp.str[:4], errors="coerce") + 1
    label[six & ident.eq("academic")] = end[six & ident.eq("academic")].map(lambda y: periods.academic(int(y)))
    label[six & ident.eq("financial")] = end[six & ident.eq("financial")].map(lambda y: periods.financial(int(y)))
    label[four] = tp[four]
    bad = label.isna() & ident.notna()
    problems += problems_where(bad, "time_period", lambda i: f"time_period '{tp[i]}' does not fit "
                                                    f"{df.at[i, 'time_identifier'].strip()} "
                                                    f"(expected like 201819, or 2019 for a calendar year)")
    year = label.map(lambda s: periods.end_year(s) if isinstance(s, str) else None).astype("Int64")
    value, status, p = parse_values(df[measure], EES_SYMBOLS, measure)
    problems += p
    counts = {}
    for key, col in (("numerator", num_col), ("denominator", den_col)):
        if col:
            counts[key], p = parse_optional_numbers(df[col], col)
            problems += p
    obs = _frame(df.index, indicator_id=indicator, area_code=code, period=label, year=year, breakdown=breakdown,
                 value=value, status=status, **counts)
    notes.insert(0, f"column '{measure}' read as indicator {indicator}"
                 + (f" (numerator {num_col}, denominator {den_col})" if num_col or den_col else ""))
    return Parsed(obs, sorted(problems, key=lambda q: q.row or 0), notes)


def _fingertips_areas(codes: pd.Series, names: pd.Series | None, ctx: dict) -> tuple[pd.Series, pd.Series, list[str]]:
    """(mapped code, keep mask, notes): superseded codes mapped; out-of-scope geographies skipped."""
    known = ctx["areas"]
    code = codes.str.strip().str.upper()
    alias = code.map(ft.GSS_ALIASES)
    code = code.where(member_of(code, known) | ~member_of(alias, known), alias)
    scope = code.str[:3].map(FINGERTIPS_OUT_OF_SCOPE)
    skip = ~member_of(code, known) & scope.notna()
    notes = []
    if skip.any():
        counts = scope[skip].value_counts()
        notes.append(f"skipped {int(skip.sum())} rows outside the area list: "
                     + ", ".join(f"{n} {what}" for what, n in counts.items()))
    return code, ~skip, notes


def _fingertips_period(label: str, allowed: set[str]) -> str:
    """Fingertips writes financial years as 2018/19: relabel them 2018-19 for financial-year indicators."""
    if period_kind(label) == "academic" and "financial" in allowed and "academic" not in allowed:
        return periods.financial(periods.end_year(label))
    return label


def _map_fingertips_indicator(keys: pd.Series, names: pd.Series | None, opts: dict, field_name: str
                              ) -> tuple[pd.Series, pd.Series, list[Problem]]:
    """(indicator_id, breakdown, problems) per row from the file's indicator id or name, or the officer's choice."""
    chosen = opts.get("indicator_id")
    distinct = keys.str.strip().unique()
    if chosen:
        if len(distinct) > 1:
            raise UploadRefused(f"The file holds {len(distinct)} indicators; an indicator can only be chosen "
                                f"for a file that holds one. Split the file, or leave the choice empty.")
        bd = opts.get("breakdown") or "all"
        return pd.Series(chosen, index=keys.index), pd.Series(bd, index=keys.index), []
    lookup = {**FINGERTIPS_IDS, **FINGERTIPS_NAMES}
    k = keys.str.strip()
    mapped = k.map(lambda s: lookup.get(s) or lookup.get(s.lower()))
    if names is not None:
        by_name = names.str.strip().str.lower().map(FINGERTIPS_NAMES)
        mapped = mapped.where(mapped.notna(), by_name)
    problems = problems_where(mapped.isna(), field_name,
                     lambda i: f"unknown indicator '{k[i]}': choose which dashboard indicator this file holds")
    ind = mapped.map(lambda m: m[0] if isinstance(m, tuple) else None)
    bd = mapped.map(lambda m: m[1] if isinstance(m, tuple) else None)
    if opts.get("breakdown"):
        bd = bd.where(bd.isna(), opts["breakdown"])
    return ind, bd, problems


def _finish_fingertips(df, code, ind, bd, period, value, status, extra, problems, notes, ctx) -> Parsed:
    allowed = ctx["kinds"]
    label = pd.Series([_fingertips_period(p, allowed.get(i) or {"academic", "financial", "calendar"})
                       if isinstance(i, str) else p for p, i in zip(period, ind)], index=df.index, dtype=object)
    year, p = _end_years(label, "period")
    obs = _frame(df.index, indicator_id=ind, area_code=code, period=label, year=year, breakdown=bd,
                 value=value, status=status, **extra)
    return Parsed(obs, sorted(problems + p, key=lambda q: q.row or 0), notes)


def read_fingertips_extract(df: pd.DataFrame, opts: dict, ctx: dict) -> Parsed:
    """A Fingertips extract in the Trafford Data Lab layout (area_code, area_name, period, value, indicator)."""
    code, keep, notes = _fingertips_areas(df["area_code"], df.get("area_name"), ctx)
    if "inequality" in df:
        whole = df["inequality"].str.strip().isin(["", "NA", "Persons"])
        if (~whole).any():
            notes.append(f"skipped {int((~whole & keep).sum())} rows for deprivation quintiles (inequality column)")
        keep &= whole
    df, code = df[keep], code[keep]
    ind, bd, problems = _map_fingertips_indicator(df["indicator"], None, opts, "indicator")
    value, status, p = parse_values(df["value"], FINGERTIPS_SYMBOLS, "value")
    period = df["period"].str.strip()
    return _finish_fingertips(df, code, ind, bd, period, value, status, {}, problems + p, notes, ctx)


def read_fingertips(df: pd.DataFrame, opts: dict, ctx: dict) -> Parsed:
    """A Fingertips portal or API CSV export (Indicator ID, Area Code, Sex, Category Type, Time period, Value, ...)."""
    cols = {_norm(c): c for c in df.columns}
    col = lambda n: df[cols[n]] if n in cols else None  # noqa: E731
    code, keep, notes = _fingertips_areas(col("areacode"), col("areaname"), ctx)
    if "categorytype" in cols:
        whole = col("categorytype").str.strip().isin(["", "NA"])
        if (~whole & keep).any():
            notes.append(f"skipped {int((~whole & keep).sum())} rows for categories (e.g. deprivation deciles)")
        keep &= whole
    sex = col("sex").str.strip().str.lower() if "sex" in cols else pd.Series("", index=df.index)
    sex_bd = sex.map(FINGERTIPS_SEX)
    if (sex_bd.isna() & keep).any():
        notes.append(f"skipped {int((sex_bd.isna() & keep).sum())} rows for other sexes")
    keep &= sex_bd.notna()
    df, code, sex_bd = df[keep], code[keep], sex_bd[keep]
    key = (df[cols["indicatorid"]] if "indicatorid" in cols else df[cols["indicatorname"]]).astype(str)
    names = df[cols["indicatorname"]] if "indicatorname" in cols else None
    ind, bd, problems = _map_fingertips_indicator(key, names, opts, cols.get("indicatorid") or cols["indicatorname"])
    split = sex_bd != "all"
    conflict = split & bd.notna() & (bd != "all")
    if conflict.any():
        notes.append(f"skipped {int(conflict.sum())} rows by sex for an indicator already split by another group")
    bd = bd.where(~split, sex_bd)
    keep2 = ~conflict
    df, code, ind, bd = df[keep2], code[keep2], ind[keep2], bd[keep2]
    kept = set(df.index)
    problems = [q for q in problems if q.row in kept]
    value, status, p = parse_values(df[cols["value"]], FINGERTIPS_SYMBOLS, cols["value"])
    if "valuenote" in cols:
        suppressed = df[cols["valuenote"]].str.lower().str.contains("suppress", na=False) & value.isna() & status.notna()
        status = status.where(~suppressed, "c")
    extra = {}
    for key_name, norm_name in (("numerator", "count"), ("denominator", "denominator")):
        if norm_name in cols:
            extra[key_name], q = parse_optional_numbers(df[cols[norm_name]], cols[norm_name])
            p += q
    for key_name, norm_name in (("lower_ci", "lowerci950limit"), ("upper_ci", "upperci950limit")):
        if norm_name in cols:  # interval limits may be negative (scores); text is treated as missing
            extra[key_name], q = parse_limits(df[cols[norm_name]], cols[norm_name])
            p += q
    period = df[cols["timeperiod"]].str.strip()
    return _finish_fingertips(df, code, ind, bd, period, value, status, extra, problems + p, notes, ctx)


READERS = {"template": read_template, "ees": read_ees, "fingertips": read_fingertips,
           "fingertips_extract": read_fingertips_extract}


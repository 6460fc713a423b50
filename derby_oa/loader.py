"""Officers' uploads: read a file, validate every row, show the diff, commit atomically, undo.

One loader serves the Load data page and `python -m derby_oa load FILE [--commit]`. No Streamlit.

Files accepted (at most `MAX_BYTES`, 20 MB):
* the project's tidy template (`data/upload_template.csv`: indicator_id, area_code, period,
  breakdown, value, numerator, denominator);
* a DfE Explore Education Statistics (EES) tidy CSV (time_period, time_identifier,
  geographic_level, geography codes, filters, measures);
* a Fingertips CSV: the portal/API export ("Indicator ID", "Area Code", "Time period", "Value", ...)
  or an extract in the Trafford Data Lab layout (area_code, area_name, period, value, indicator).

CSV files must be UTF-8 (with or without a byte-order mark). Other encodings, including Windows-1252
("CSV (Comma delimited)" in Excel), are refused with the byte offset of the first unreadable byte:
guessing an encoding could silently corrupt names, so the officer is asked to save as "CSV UTF-8".
An .xlsx workbook is read from its first sheet and refused if any cell holds a formula.

Rows are numbered as data rows from 1 (the header is row 0), in CSV and XLSX alike.

Commit writes through `store.atomic_update` (copy, change, check, swap): uploaded rows get source
`upload:<id>` with a `sources` row (title = file name, publisher "Local upload by <name>", the
declared licence and attribution), `uploads` records the file, its SHA-256, time and row counts, and
`upload_rows` the previous state of every key it touched, so `undo_last` restores it exactly.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import store
from .ingest import fingertips as ft
from .ingest import periods
from .ingest.eyfsp_ees import SYMBOLS as EES_SYMBOLS
from .queries import uploads as uq
from .schema import OBS_COLUMNS, OBS_KEY

MAX_BYTES = 20 * 1024 * 1024
MAX_PROBLEMS_SHOWN = 200
TEMPLATE_COLUMNS = ["indicator_id", "area_code", "period", "breakdown", "value", "numerator", "denominator"]
TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "data" / "upload_template.csv"
BREAKDOWNS = ("all", "fsm", "non_fsm", "disadvantaged", "non_disadvantaged", "boys", "girls", "eal")
DEFAULT_LICENCE = "Open Government Licence v3.0"
DEFAULT_ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0."
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
        "all other pupils": "non_fsm", "fsm not eligible": "non_fsm", "not eligible for fsm": "non_fsm",
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


class CommitRefused(ValueError):
    """A commit or undo that cannot go ahead; the database is unchanged."""


@dataclass
class Problem:
    """One problem in one row and field of the file."""

    row: int | None
    field: str | None
    message: str

    def text(self) -> str:
        where = f"row {self.row}" if self.row is not None else "file"
        return f"{where}, field '{self.field}': {self.message}" if self.field else f"{where}: {self.message}"


@dataclass
class Report:
    """The validation report of one file: rows read, problems, notes and the diff against the database."""

    file_name: str
    sha256: str
    size: int
    format: str
    rows: pd.DataFrame  # candidate observations with their file `row`
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    new: pd.DataFrame = field(default_factory=pd.DataFrame)
    changed: pd.DataFrame = field(default_factory=pd.DataFrame)
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        """True when there are no problems and something to load."""
        return not self.problems and (len(self.new) + len(self.changed)) > 0

    def problems_frame(self) -> pd.DataFrame:
        """Problems as a table (row, field, problem)."""
        return pd.DataFrame([(p.row, p.field, p.message) for p in self.problems], columns=["row", "field", "problem"])

    def summary(self) -> str:
        """One sentence on what the file holds."""
        return (f"{self.file_name}: {FORMAT_LABELS.get(self.format, self.format)}, {len(self.rows):,} rows read; "
                f"{len(self.problems):,} problems; {len(self.new):,} new rows, {len(self.changed):,} changed values, "
                f"{self.unchanged:,} rows already held unchanged.")

    def text(self, limit: int = MAX_PROBLEMS_SHOWN) -> str:
        """The report as plain text for the command line."""
        lines = [self.summary(), f"SHA-256 {self.sha256}"]
        lines += [f"note: {n}" for n in self.notes]
        if self.problems:
            lines.append("Problems (rows numbered from the first data row; the header is row 0):")
            lines += [f"  {p.text()}" for p in self.problems[:limit]]
            if len(self.problems) > limit:
                lines.append(f"  ... and {len(self.problems) - limit:,} more")
        if len(self.changed):
            lines.append("Changed values (existing -> file):")
            for r in self.changed.head(limit).itertuples():
                lines.append(f"  row {r.row}: {r.indicator_id} {r.area_code} {r.period} {r.breakdown}: "
                             f"{_show(r.previous_value, r.previous_status)} -> {_show(r.value, r.status)}"
                             f" (was from {r.previous_source_id})")
        if len(self.new):
            lines.append(f"New rows: {len(self.new):,}")
            for r in self.new.head(min(limit, 20)).itertuples():
                lines.append(f"  row {r.row}: {r.indicator_id} {r.area_code} {r.period} {r.breakdown}: "
                             f"{_show(r.value, r.status)}")
        lines.append("Ready to commit." if self.ok else ("Nothing to commit." if not self.problems
                                                         else "Fix the problems before committing."))
        return "\n".join(lines)


@dataclass
class CommitResult:
    upload_id: int
    source_id: str
    rows_added: int
    rows_changed: int


@dataclass
class UndoResult:
    upload_id: int
    file_name: str
    rows_removed: int
    rows_restored: int


def _show(value, status) -> str:
    return f"{value:g}" if status == "published" and pd.notna(value) else str(status)


# ---- reading the file ---------------------------------------------------------------------------------

def _decode(name: str, data: bytes) -> str:
    """UTF-8 text (BOM allowed); refuse binary content and other encodings, naming the byte offset."""
    nul = data.find(b"\x00")
    if nul >= 0:
        raise UploadRefused(f"{name} is not a text file: it contains binary data (a NUL byte at byte {nul}).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadRefused(
            f"{name} is not UTF-8 text: byte {exc.start} (0x{data[exc.start]:02X}) cannot be read. "
            f"In Excel use Save As > 'CSV UTF-8 (Comma delimited)' and load it again.") from None
    bad = re.search(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]", text)
    if bad:
        offset = len(text[:bad.start()].encode("utf-8"))
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


def _xlsx_rows(name: str, data: bytes) -> list[list[str]]:
    """Rows of the first sheet as text; refuse a workbook with any formula (in any sheet)."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), data_only=False, read_only=False)
    except Exception as exc:  # noqa: BLE001 - any failure to open is a refusal
        raise UploadRefused(f"{name} could not be opened as an Excel .xlsx workbook ({type(exc).__name__}).") from None
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("=")):
                    raise UploadRefused(f"{name} contains a formula (sheet '{ws.title}', cell {cell.coordinate}). "
                                        f"Only values can be loaded: paste as values, or save as CSV UTF-8.")
    ws = wb.worksheets[0]
    return [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]


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
        try:
            rows = list(csv.reader(io.StringIO(_decode(name, data), newline="")))
        except csv.Error as exc:
            raise UploadRefused(f"{name} could not be read as CSV ({exc}).") from None
    rows = [r for r in rows if any(str(c).strip() for c in r)]
    if not rows:
        raise UploadRefused(f"{name} is empty.")
    header = [str(h).strip() for h in rows[0]]
    while header and not header[-1]:
        header.pop()
    dup = [h for h in header if header.count(h) > 1]
    if dup:
        raise UploadRefused(f"{name}: the header names column '{dup[0]}' twice.")
    if not rows[1:]:
        raise UploadRefused(f"{name} has a header but no data rows.")
    problems, body, index = [], [], []
    for i, r in enumerate(rows[1:], start=1):
        r = [str(c) for c in r]
        if len(r) > len(header) and not any(c.strip() for c in r[len(header):]):
            r = r[:len(header)]
        if len(r) != len(header):
            problems.append(Problem(i, None, f"has {len(r)} fields, expected {len(header)} (truncated or malformed row)"))
            continue
        body.append(r)
        index.append(i)
    return header, pd.DataFrame(body, columns=header, index=index, dtype=object).astype(str), problems


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

def _in(values: pd.Series, allowed: set) -> pd.Series:
    """Membership test (much faster than Series.isin on string arrays against a large set)."""
    return pd.Series([v in allowed for v in values], index=values.index, dtype=bool)


def _each(mask: pd.Series, field_name: str, message) -> list[Problem]:
    """A Problem for each True row of `mask`; `message(row_label)` builds the text."""
    return [Problem(int(i), field_name, message(i)) for i in mask.index[mask.to_numpy(dtype=bool)]]


def parse_values(text: pd.Series, symbols: dict[str, str], field_name: str) -> tuple[pd.Series, pd.Series, list[Problem]]:
    """Numbers and statuses from cells; other text (not a number, not a DfE symbol) is a problem."""
    t = text.astype(str).str.strip()
    sym = t.str.lower().map(symbols)
    num = pd.to_numeric(t.str.replace(",", "", regex=False).where(sym.isna()), errors="coerce").astype("float64")
    bad = (num.isna() | ~np.isfinite(num.fillna(0))) & sym.isna()
    allowed = ", ".join(repr(k) for k in symbols if k) or "none"
    problems = _each(bad, field_name, lambda i: f"'{t[i]}' is neither a number nor a DfE symbol ({allowed})"
                     if t[i] else "is empty: give a number or a DfE symbol (c, x, z)")
    status = sym.where(num.isna(), "published")
    return num.where(~bad), status.where(~bad), problems


def parse_optional_numbers(text: pd.Series, field_name: str) -> tuple[pd.Series, list[Problem]]:
    """Optional counts: blank or a DfE symbol is missing; other text is a problem; negatives are problems."""
    t = text.astype(str).str.strip()
    missing = t.eq("") | t.str.lower().isin(EES_SYMBOLS) | t.str.upper().eq("NA")
    num = pd.to_numeric(t.str.replace(",", "", regex=False).where(~missing), errors="coerce").astype("float64")
    bad = num.isna() & ~missing
    problems = _each(bad, field_name, lambda i: f"'{t[i]}' is not a number")
    neg = num < 0
    problems += _each(neg, field_name, lambda i: f"{num[i]:g} is negative: a count cannot be")
    return num.where(~bad & ~neg), problems


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
            c = c.where(_in(c, known), old.fillna(c))
            if col not in df:
                field_of[rows] = "old_la_code"
        code[rows] = c
    bad = supported & ~_in(code, known)
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
    problems += _each(ident.isna(), "time_identifier",
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
    problems += _each(bad, "time_period", lambda i: f"time_period '{tp[i]}' does not fit {df.at[i, 'time_identifier'].strip()} "
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
    code = code.where(_in(code, known) | ~_in(alias, known), alias)
    scope = code.str[:3].map(FINGERTIPS_OUT_OF_SCOPE)
    skip = ~_in(code, known) & scope.notna()
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
    problems = _each(mapped.isna(), field_name,
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
            extra[key_name] = pd.to_numeric(df[cols[norm_name]].str.strip(), errors="coerce").astype("float64")
    period = df[cols["timeperiod"]].str.strip()
    return _finish_fingertips(df, code, ind, bd, period, value, status, extra, problems + p, notes, ctx)


READERS = {"template": read_template, "ees": read_ees, "fingertips": read_fingertips,
           "fingertips_extract": read_fingertips_extract}


# ---- checks against the database ----------------------------------------------------------------------

def _range(unit: str, lo_pub: float | None, hi_pub: float | None) -> tuple[float | None, float | None, str]:
    """Allowed (min, max, wording) for a unit. A % series that is itself published outside 0-100
    (take-up over a population estimate, or a gap in points) is not bounded."""
    if unit == "%":
        if (lo_pub is not None and lo_pub < 0) or (hi_pub is not None and hi_pub > 100):
            return None, None, ""
        return 0.0, 100.0, "a percentage (0 to 100)"
    if unit in ("per 100,000", "per 10,000", "count", "£"):
        return 0.0, None, f"a {unit} figure (0 or more)" if unit != "count" else "a count (0 or more)"
    if unit == "rank":
        return 1.0, None, "a rank (1 or more)"
    return None, None, ""


def _kinds(labels: pd.Series) -> pd.Series:
    """`period_kind` of each label (vectorised)."""
    t = labels.fillna("").astype(str)
    return pd.Series(np.select([t.str.fullmatch(r"\d{4}/\d{2}"), t.str.fullmatch(r"\d{4}-\d{2}"),
                                t.str.fullmatch(r"\d{4}")], ["academic", "financial", "calendar"], "other"),
                     index=labels.index)


def check_rows(obs: pd.DataFrame, ctx: dict, today: dt.date) -> list[Problem]:
    """Problems that need the database: codes, periods the indicator cannot have, ranges, duplicates."""
    problems: list[Problem] = []
    ind_ok = _in(obs["indicator_id"], ctx["indicators"])
    problems += _each(~ind_ok & obs["indicator_id"].notna(), "indicator_id",
                      lambda i: f"unknown indicator '{obs.at[i, 'indicator_id']}'")
    problems += _each(obs["area_code"].notna() & ~_in(obs["area_code"], ctx["areas"]), "area_code",
                      lambda i: f"unknown area code '{obs.at[i, 'area_code']}'")
    problems += _each(obs["breakdown"].notna() & ~obs["breakdown"].isin(BREAKDOWNS), "breakdown",
                      lambda i: f"breakdown '{obs.at[i, 'breakdown']}' is not one of {', '.join(BREAKDOWNS)}")
    rules = ctx["rules"]
    known = obs[ind_ok & obs["period"].notna() & obs["year"].notna()]
    if len(known):
        rule = known["indicator_id"].map(rules)
        kind = _kinds(known["period"])
        allowed = rule.map(lambda r: r["kinds"] or {"academic", "financial", "calendar"})
        wrong_kind = pd.Series([k not in a for k, a in zip(kind, allowed)], index=known.index)
        year = known["year"].astype(int)
        future = ~wrong_kind & (year > today.year)
        published = known["status"].eq("published")
        not_collected = ~wrong_kind & ~future & published & pd.Series(
            [y in r["not_collected"] for y, r in zip(year, rule)], index=known.index)
        problems += _each(wrong_kind, "period", lambda i: f"{known.at[i, 'indicator_id']} is published for "
                          f"{' or '.join(KIND_EXAMPLE[k] for k in sorted(allowed[i]))}, not '{known.at[i, 'period']}'")
        problems += _each(future, "period", lambda i: f"'{known.at[i, 'period']}' ends in {year[i]}, after the "
                                                      f"current year ({today.year})")
        problems += _each(not_collected, "period", lambda i: f"{known.at[i, 'indicator_id']} was not collected in "
                                                             f"'{known.at[i, 'period']}': a value cannot be given (use x)")
        lo = rule.map(lambda r: r["range"][0]).astype("float64")
        hi = rule.map(lambda r: r["range"][1]).astype("float64")
        v = known["value"].astype("float64")
        outside = v.notna() & ((lo.notna() & (v < lo)) | (hi.notna() & (v > hi)))
        problems += _each(outside, "value", lambda i: f"{v[i]:g} is outside the range of {rule[i]['range'][2]}")
        num, den = known["numerator"].astype("float64"), known["denominator"].astype("float64")
        over = rule.map(lambda r: r["unit"] == "%").astype(bool) & num.notna() & den.notna() & (num > den)
        problems += _each(over, "numerator", lambda i: f"numerator {num[i]:g} is larger than the denominator {den[i]:g}")
    keyed = obs.dropna(subset=OBS_KEY)
    dup = keyed.duplicated(OBS_KEY, keep="first")
    if dup.any():
        first = keyed.drop_duplicates(OBS_KEY).set_index(OBS_KEY)["row"]
        for i in dup.index[dup.to_numpy()]:
            key = tuple(keyed.loc[i, OBS_KEY])
            problems.append(Problem(int(i), "period", f"duplicate of row {int(first.loc[key])} "
                                                      f"({', '.join(map(str, key))})"))
    return problems


def _equal(a: pd.Series, b: pd.Series) -> pd.Series:
    """NaN-aware numeric equality."""
    a, b = pd.to_numeric(a, errors="coerce").astype("float64"), pd.to_numeric(b, errors="coerce").astype("float64")
    return (a.isna() & b.isna()) | ((a - b).abs() <= 1e-9)


def diff(obs: pd.DataFrame, existing: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """(new rows, changed rows with previous values, number unchanged) of `obs` against `existing`.

    A row is unchanged when status and value agree and any counts it gives agree.
    """
    prev = existing.rename(columns={c: f"previous_{c}" for c in existing.columns if c not in OBS_KEY})
    merged = obs.merge(prev.assign(_held=True), on=OBS_KEY, how="left")
    merged.index = obs.index
    is_new = merged["_held"].isna()
    same = (merged["status"].eq(merged["previous_status"]) & _equal(merged["value"], merged["previous_value"])
            & (merged["numerator"].isna() | _equal(merged["numerator"], merged["previous_numerator"]))
            & (merged["denominator"].isna() | _equal(merged["denominator"], merged["previous_denominator"])))
    changed = ~is_new & ~same
    cols = ["row", *OBS_KEY, "year", "value", "status", "numerator", "denominator", "lower_ci", "upper_ci"]
    prev_cols = ["previous_value", "previous_status", "previous_source_id", "previous_numerator",
                 "previous_denominator", "previous_lower_ci", "previous_upper_ci"]
    return (merged.loc[is_new, cols], merged.loc[changed, cols + prev_cols], int((~is_new & same).sum()))


def _context(con) -> dict:
    indicators, areas = uq.known_codes(con)
    return {"indicators": indicators, "areas": areas, "area_table": uq.areas_for_mapping(con), "kinds": {},
            "rules": {}}


def _as_set(value) -> set:
    return set(value) if isinstance(value, (list, tuple, np.ndarray)) else set()


def _add_rules(con, ctx: dict, indicator_ids) -> None:
    ids = sorted({i for i in indicator_ids if isinstance(i, str) and i in ctx["indicators"]})
    if not ids:
        return
    for r in uq.indicator_rules(con, ids).itertuples():
        kinds, held = _as_set(r.kinds), _as_set(r.published_in_not_collected)
        nc = [int(x) for x in str(r.not_collected or "").split(";") if x.strip() and int(x) not in held]
        lo = None if pd.isna(r.published_min) else float(r.published_min)
        hi = None if pd.isna(r.published_max) else float(r.published_max)
        ctx["rules"][r.indicator_id] = {"unit": r.unit, "kinds": kinds, "not_collected": nc,
                                        "range": _range(r.unit, lo, hi)}
        ctx["kinds"][r.indicator_id] = kinds


def validate(con, name: str, data: bytes, indicator_id: str | None = None, value_column: str | None = None,
             numerator_column: str | None = None, denominator_column: str | None = None,
             breakdown: str | None = None, today: dt.date | None = None) -> Report:
    """Read and check an uploaded file against the database `con` (read-only); never writes.

    Raises UploadRefused for a file that cannot be read at all; row problems go in the report.
    """
    name = Path(str(name)).name or "upload"
    sha = hashlib.sha256(data).hexdigest()
    header, df, problems = read_rows(name, data)
    fmt = detect_format(header)
    opts = {"indicator_id": indicator_id or None, "value_column": value_column or None,
            "numerator_column": numerator_column or None, "denominator_column": denominator_column or None,
            "breakdown": breakdown or None}
    ctx = _context(con)
    # Fingertips readers need the period kinds of the indicators they may map to while parsing.
    _add_rules(con, ctx, {indicator_id, *(v[0] for v in (*FINGERTIPS_IDS.values(), *EES_MEASURES.values()))})
    parsed = READERS[fmt](df, opts, ctx)
    obs = parsed.obs
    _add_rules(con, ctx, set(obs["indicator_id"].dropna()) - set(ctx["rules"]))
    problems = problems + parsed.problems
    problems += check_rows(obs, ctx, today or dt.date.today())
    problems.sort(key=lambda p: (p.row or 0, p.field or ""))
    report = Report(name, sha, len(data), fmt, obs, problems, parsed.notes)
    if obs.empty:
        report.notes.append("no rows left to load after skipping")
        return report
    bad_rows = {p.row for p in problems}
    clean = obs[~obs["row"].isin(bad_rows)].dropna(subset=OBS_KEY)
    existing = uq.existing_rows(con, clean)
    report.new, report.changed, report.unchanged = diff(clean, existing)
    return report


def validate_file(con, path: Path | str, **options) -> Report:
    """`validate` for a file on disk (refuses one over the size limit before reading it)."""
    path = Path(path)
    if not path.is_file():
        raise UploadRefused(f"{path} does not exist.")
    if path.stat().st_size > MAX_BYTES:
        raise UploadRefused(f"{path.name} is {path.stat().st_size / 1024 / 1024:.1f} MB; the limit is "
                            f"{MAX_BYTES // 1024 // 1024} MB.")
    return validate(con, path.name, path.read_bytes(), **options)


# ---- commit and undo ------------------------------------------------------------------------------------

def _to_write(report: Report) -> pd.DataFrame:
    rows = pd.concat([report.new, report.changed], ignore_index=True)
    rows = rows.reindex(columns=OBS_COLUMNS)
    for col in ("value", "numerator", "denominator", "lower_ci", "upper_ci"):
        rows[col] = pd.to_numeric(rows[col], errors="coerce").astype("float64")
    rows["year"] = rows["year"].astype("int64")
    return rows


def commit(report: Report, path: Path | None = None, officer: str = "", licence: str = DEFAULT_LICENCE,
           attribution: str = DEFAULT_ATTRIBUTION, replace: bool = False, now: dt.datetime | None = None) -> CommitResult:
    """Write a validated upload atomically; refuses reports with problems, nothing new, or unconfirmed changes."""
    if report.problems:
        raise CommitRefused(f"{len(report.problems):,} problems must be fixed before this file can be loaded.")
    if not len(report.new) and not len(report.changed):
        raise CommitRefused("Nothing to load: every row is already in the database with the same value.")
    if len(report.changed) and not replace:
        raise CommitRefused(f"{len(report.changed):,} rows would change existing values: confirm that they should "
                            f"be replaced (--replace on the command line).")
    rows = _to_write(report)
    officer = (officer or "").strip() or "officer"
    licence = (licence or "").strip() or DEFAULT_LICENCE
    attribution = (attribution or "").strip() or DEFAULT_ATTRIBUTION
    stamp = (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds")

    def change(con) -> CommitResult:
        uq.ensure_upload_columns(con)
        existing = uq.existing_rows(con, rows)
        new, changed, _ = diff(rows.assign(row=0), existing)
        if len(new) != len(report.new) or len(changed) != len(report.changed):
            raise CommitRefused("The database changed since this file was checked: check it again.")
        upload_id = uq.next_upload_id(con)
        source_id = f"{store.UPLOAD_SOURCE_PREFIX}{upload_id}"
        uq.insert_source(con, {"source_id": source_id, "title": report.file_name,
                               "publisher": f"Local upload by {officer}", "licence": licence,
                               "attribution": attribution, "retrieved": f"uploaded {stamp}; sha256 {report.sha256}"})
        prev = pd.concat([new.assign(was_new=True), changed.assign(was_new=False)], ignore_index=True)
        for col in ("previous_value", "previous_status", "previous_source_id", "previous_numerator",
                    "previous_denominator", "previous_lower_ci", "previous_upper_ci"):
            if col not in prev:
                prev[col] = None
        prev.loc[prev["was_new"], ["previous_value", "previous_numerator", "previous_denominator",
                                   "previous_lower_ci", "previous_upper_ci"]] = np.nan
        for col in ("previous_value", "previous_numerator", "previous_denominator", "previous_lower_ci", "previous_upper_ci"):
            prev[col] = pd.to_numeric(prev[col], errors="coerce").astype("float64")
        uq.record_previous(con, upload_id, prev)
        uq.replace_observations(con, rows.assign(source_id=source_id))
        if uq.duplicate_keys(con):
            raise CommitRefused("The upload would leave a key held twice; nothing was written.")
        uq.insert_upload(con, {"upload_id": upload_id, "file_name": report.file_name, "sha256": report.sha256,
                               "loaded_at": stamp, "rows_added": len(new), "rows_changed": len(changed),
                               "format": report.format})
        return CommitResult(upload_id, source_id, len(new), len(changed))

    return store.atomic_update(change, path)


def undo_last(path: Path | None = None) -> UndoResult:
    """Undo the most recent upload that is not already undone: remove its new rows, restore what it changed."""
    def change(con) -> UndoResult:
        last = uq.last_active_upload(con)
        if last is None:
            raise CommitRefused("There is no upload to undo.")
        removed, restored = uq.undo_upload(con, int(last["upload_id"]))
        return UndoResult(int(last["upload_id"]), str(last["file_name"]), removed, restored)

    return store.atomic_update(change, path)


def template_bytes() -> bytes:
    """The tidy template offered for download."""
    return TEMPLATE_PATH.read_bytes()

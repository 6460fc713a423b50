"""One formatter for the whole app: every value at its source's published precision, DfE symbols for gaps.

Precision: an indicator's `decimals` is the precision its main source publishes (e.g. KS2 progress to 2
decimals). A source that publishes fewer decimals in a year (LAIT's whole numbers for some years) is shown
with those, never padded ("60", not "60.0"): `shown_decimals` works that out from the values of one source
and year. The delivery plan's own figures are shown as the plan prints them (48.4).

Missing values use the DfE symbols (https://analysisfunction.civilservice.gov.uk/policy-store/symbols-in-tables-definitions-and-help/):
`c` suppressed, `x` not available, `z` not applicable; a value missing with no status is `x`.
"""
from __future__ import annotations

import math
from typing import Iterable

import pandas as pd
from derby_oa.vocabulary import NO_DATA_LABEL, PLAN_SOURCE

SYMBOLS = {"c": "c", "x": "x", "z": "z"}
SYMBOL_WORDS = {"c": "c (suppressed)", "x": "x (not available)", "z": "z (not applicable)"}
MAX_DECIMALS = 3
MINUS = "\u2212"
UNIT_WORDS = {"%": "points", "score": "points", "per 100,000": "per 100,000", "rank": "places", "count": ""}


def is_missing(value) -> bool:
    """True for None, NaN and pandas' missing markers."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def symbol(status: str | None = None) -> str:
    """The DfE symbol for a missing value: its status (c, x, z) if it has one, else x."""
    return SYMBOLS.get(str(status).strip().lower(), "x") if status is not None and not is_missing(status) else "x"


def decimals_of(value, cap: int = MAX_DECIMALS) -> int:
    """How many decimals a stored value carries (0 for 60.0, 1 for 62.9, 2 for -0.95), at most `cap`."""
    if is_missing(value):
        return 0
    v = float(value)
    for d in range(cap + 1):
        if abs(round(v, d) - v) < 1e-9 * max(1.0, abs(v)):
            return d
    return cap


def precision(values: Iterable, cap: int = MAX_DECIMALS) -> int:
    """The precision of a set of published values (one source, one year): the most decimals any carries."""
    return max((decimals_of(v, cap) for v in values if not is_missing(v)), default=0)


def shown_decimals(values: Iterable, decimals: int | None, source_id: str | None = None) -> int:
    """Decimals to show values of one source and year: the indicator's published precision (`decimals`),
    fewer when the source published fewer; the plan's own figures as printed."""
    own = precision(values)
    if source_id == PLAN_SOURCE or decimals is None or is_missing(decimals):
        return own
    return min(int(decimals), own)


def number(value, decimals: int, status: str | None = None, thousands: bool = True) -> str:
    """A number at `decimals` with a true minus sign, or the DfE symbol when missing."""
    if is_missing(value):
        return symbol(status)
    d = int(decimals)
    text = f"{abs(float(value)):{',' if thousands else ''}.{d}f}"
    negative = float(value) < 0 and float(text.replace(",", "")) != 0
    return (MINUS if negative else "") + text


def value(value, unit: str | None, decimals: int, status: str | None = None, missing: str | None = None) -> str:
    """A value with its unit: '70.7%', '-0.95', '59.9 per 100,000'; the DfE symbol (or `missing`) when absent."""
    if is_missing(value):
        return missing if missing is not None else symbol(status)
    text = number(value, decimals)
    if unit == "%":
        return text + "%"
    if unit == "per 100,000":
        return text + " per 100,000"
    return text


def _with_unit(v, unit, d):
    return value(v, unit, d)


def amount(diff, unit: str | None, decimals: int) -> str:
    """A size of difference with its unit word: '2.9 points', '1 point', '26.4 per 100,000'."""
    text = number(abs(float(diff)), decimals)
    word = UNIT_WORDS.get(unit or "", "")
    if word == "points" and text == "1":
        word = "point"
    return f"{text} {word}".strip()


def signed(diff, unit: str | None, decimals: int) -> str:
    """A signed difference: '+4.3 points', '\u22120.2 points', '0.0 points'; 'x' when missing."""
    if is_missing(diff):
        return "x"
    r = round(float(diff), int(decimals))
    return ("+" if r > 0 else MINUS if r < 0 else "") + amount(diff, unit, decimals)


def cell(value, decimals: int, status: str | None = None) -> str:
    """A table cell: the number at its precision (no unit), or the DfE symbol."""
    return number(value, decimals, status)


def text_cell(value, missing: str = "x") -> str:
    """Any table cell shown as text: never 'None' or 'nan'."""
    if is_missing(value):
        return missing
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def column(values: Iterable, decimals: int, statuses: Iterable | None = None) -> list[str]:
    """A table column of numbers at one precision, missing values as symbols."""
    vals = list(values)
    sts = list(statuses) if statuses is not None else [None] * len(vals)
    return [cell(v, decimals, s) for v, s in zip(vals, sts)]


def display_table(table: pd.DataFrame, decimals: int, keep: tuple[str, ...] = ("Year",)) -> pd.DataFrame:
    """A copy of `table` for the screen: numeric columns at `decimals` (published values keep fewer when they
    have fewer), missing cells as DfE symbols, text cells never 'None'."""
    out = table.copy()
    for col in out.columns:
        if col in keep:
            continue
        if pd.api.types.is_numeric_dtype(out[col]):
            out[col] = [number(v, min(int(decimals), decimals_of(v, int(decimals)))) for v in out[col]]
        else:
            out[col] = [text_cell(v, "") for v in out[col]]
    return out


def quantity(value, unit: str | None) -> str:
    """A programme figure with its unit in words: '\u00a32,000,000', '30%', '89,000'; 'x' when missing."""
    if is_missing(value):
        return "x"
    d = decimals_of(value, 2)
    if unit == "GBP":
        return "\u00a3" + number(value, d)
    return _with_unit(value, unit, d)


def retrieved_text(text) -> str:
    """A source's retrieval note for readers: 'commit <hash> (2026-04-08)' becomes 'pinned file of 2026-04-08'."""
    if is_missing(text):
        return "x"
    import re
    m = re.fullmatch(r"commit ([0-9a-f]{7,40})\s*(?:\((\d{4}-\d{2}-\d{2})\))?", str(text).strip())
    if not m:
        return str(text)
    return (f"pinned published file of {m.group(2)}" if m.group(2)
            else "pinned published file (version and hash in data/manifest.tsv)")


def with_unit_words(value: float | None, decimals: int = 1, unit: str = "") -> str:
    """Map and ward labels (thousands separators, unit words, "no data"): `12.3%`, `12,345`, `123.4 per 100,000`, or "no data"."""
    if is_missing(value):
        return NO_DATA_LABEL
    text = f"{value:,.{decimals}f}"
    if unit == "%":
        return text + "%"
    if unit and unit not in ("score", "count", "rank"):
        return f"{text} {unit}"
    return text

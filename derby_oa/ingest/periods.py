"""Period labels: academic `2015/16`, financial `2015-16`, calendar `2016`; year is the end year."""
from __future__ import annotations

import re


def academic(end_year: int) -> str:
    """`2016` -> `2015/16`."""
    return f"{end_year - 1}/{end_year % 100:02d}"


def financial(end_year: int) -> str:
    """`2016` -> `2015-16`."""
    return f"{end_year - 1}-{end_year % 100:02d}"


_ACADEMIC = re.compile(r"^(\d{4})/(\d{2})$")
_SPAN = re.compile(r"^(\d{4})-(\d{2}|\d{4})$")
_YEAR = re.compile(r"^(\d{4})$")
_EES = re.compile(r"^(\d{4})(\d{2})$")
_POOLED = re.compile(r"^(\d{4})/\d{2}\s*-\s*(?:\d{2}|\d{4})/(\d{2})$")  # 2013/14-15/16


def end_year(label: str) -> int:
    """End year of a period label (`2015/16` -> 2016, `2014-16` -> 2016, `201516` -> 2016)."""
    label = str(label).strip()
    if m := _YEAR.match(label):
        return int(m.group(1))
    if m := (_ACADEMIC.match(label) or _SPAN.match(label) or _POOLED.match(label)):
        start, end = int(m.group(1)), m.group(2)
        if len(end) == 4:
            return int(end)
        two = int(end)
        return start - start % 100 + two + (100 if two < start % 100 else 0)
    if m := _EES.match(label):
        return int(m.group(1)) + 1
    raise ValueError(f"unrecognised period label '{label}'")


def normalise(label: str) -> str:
    """Canonical label for free-form inputs: `201516` -> `2015/16`; others unchanged."""
    label = str(label).strip()
    if m := _EES.match(label):
        return academic(int(m.group(1)) + 1)
    return label

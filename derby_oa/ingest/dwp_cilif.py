"""DWP/ONS Children in low income families: local area statistics, tables 2 (local authorities) and
4 (wards, May 2023 boundaries): children aged 0-15 in relative low income after housing costs,
number and percentage, FYE 2024 and FYE 2025 (indicator `cilif_ahc`, periods `2023-24`, `2024-25`).

The tables publish a number and a percentage; the population they divide by is not published. The
denominator stored is the one the two imply (number / percentage, rounded to a whole child), so a
Wilson interval can be given; the value is always the published percentage. England is not a row
of table 2: its figure is the sum of the English local authorities' numbers over the sum of their
implied denominators (shown to one decimal, like the others). Only Derby's 18 May 2023 wards and
the local authorities in the area list are kept; the ward figures are published for the wards
themselves, so they are not best-fit estimates. No figures exist for the 2003-2023 wards.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from derby_oa import config, stats
from derby_oa.errors import InputError
from derby_oa.ingest import Bundle, Context
from derby_oa.ingest.periods import financial

SOURCE_ID = "dwp_cilif"
INDICATOR = "cilif_ahc"
WARD_FILE = "dwp_cilif/4_AHC_Relative_Ward.csv"
LA_FILE = "dwp_cilif/2_AHC_Relative_LA.csv"
FILES = (WARD_FILE, LA_FILE)
SUPPRESSED = ("[low]", "[c]")  # DWP: "[low]" = fewer than a handful of children, not shown
MISSING = ("", "..", "[x]", "[z]", "-")
_FYE = re.compile(r"FYE\s+(\d{4})")


def _number(text: str, file: str, row: int, field: str, percent: bool = False) -> float | None:
    t = text.strip().replace(",", "")
    if percent:
        t = t.rstrip("%").strip()
    if t in SUPPRESSED or t in MISSING:
        return None
    try:
        return float(t)
    except ValueError:
        raise InputError(file, f"'{text}' is not a number", row=row, field=field) from None


def read_table(path: Path, code_col: str) -> pd.DataFrame:
    """Rows of a DWP local-area CSV: area_code, fye (end year), number, pct.

    The header is the first row starting with "Local Authority"; `code_col` is the 0-based index of
    the area code column (the last "Area Code" for wards). Rows after the first blank row are notes.
    """
    file = "/".join(Path(path).parts[-2:])
    try:
        rows = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(file, f"cannot be read as CSV ({exc})") from None
    head = next((i for i, r in enumerate(rows) if r and r[0].startswith("Local Authority")), None)
    if head is None:
        raise InputError(file, "no header row starting 'Local Authority'")
    header = [h.replace("\n", " ") for h in rows[head]]
    numbers = [(i, int(m.group(1))) for i, h in enumerate(header) if h.startswith("Number") and (m := _FYE.search(h))]
    pcts = {int(m.group(1)): i for i, h in enumerate(header) if h.startswith("Percentage") and (m := _FYE.search(h))}
    if not numbers or any(y not in pcts for _, y in numbers):
        raise InputError(file, "missing 'Number of children FYE ...' or 'Percentage of children FYE ...' columns",
                         row=head + 1, field="Number of children")
    out = []
    for n, r in enumerate(rows[head + 1:], start=head + 2):
        if not any(c.strip() for c in r):
            break
        if len(r) < len(header):
            raise InputError(file, f"has {len(r)} fields, expected {len(header)}", row=n, field=header[len(r)])
        for col, year in numbers:
            out.append({"area_code": r[code_col].strip(), "fye": year,
                        "number": _number(r[col], file, n, header[col]),
                        "pct": _number(r[pcts[year]], file, n, header[pcts[year]], percent=True),
                        "suppressed": r[col].strip() in SUPPRESSED or r[pcts[year]].strip() in SUPPRESSED})
    return pd.DataFrame(out)


def observations(df: pd.DataFrame) -> pd.DataFrame:
    """Observation rows: published % with implied denominator and Wilson interval."""
    rows = []
    for r in df.itertuples():
        base = {"indicator_id": INDICATOR, "area_code": r.area_code, "period": financial(r.fye), "year": r.fye,
                "breakdown": "all", "source_id": SOURCE_ID}
        if r.pct is None or r.number is None or pd.isna(r.pct) or pd.isna(r.number):
            rows.append({**base, "value": None, "status": "c" if r.suppressed else "x"})
            continue
        den = round(r.number * 100 / r.pct) if r.pct > 0 else None
        row = {**base, "value": r.pct, "status": "published", "numerator": r.number, "denominator": den}
        if den and 0 <= r.number <= den:
            row["lower_ci"], row["upper_ci"] = (round(v, 4) for v in stats.wilson(r.number, den))
        rows.append(row)
    return pd.DataFrame(rows)


def england(la: pd.DataFrame) -> pd.DataFrame:
    """England per year: sum of English LA numbers over the sum of their implied denominators."""
    eng = la[la["area_code"].str.match(r"E0[6-9]") & la["number"].notna() & la["pct"].gt(0)].copy()
    eng["den"] = (eng["number"] * 100 / eng["pct"]).round()
    rows = []
    for year, part in eng.groupby("fye"):
        num, den = float(part["number"].sum()), float(part["den"].sum())
        lo, hi = stats.wilson(num, den)
        rows.append({"indicator_id": INDICATOR, "area_code": config.ENGLAND, "period": financial(int(year)),
                     "year": int(year), "breakdown": "all", "value": round(100 * num / den, 1), "status": "published",
                     "numerator": num, "denominator": den, "lower_ci": round(lo, 4), "upper_ci": round(hi, 4),
                     "source_id": SOURCE_ID})
    return pd.DataFrame(rows)


def load(paths: dict[str, Path], ctx: Context) -> Bundle:
    """Derby's May 2023 wards and every known local authority, plus England (summed)."""
    wards = read_table(paths[WARD_FILE], code_col=3)
    la = read_table(paths[LA_FILE], code_col=1)
    a = ctx.areas
    derby_wards = set(a.loc[(a["area_type"] == "ward") & (a["vintage"] == config.WARD_VINTAGE_CURRENT)
                            & (a["parent_code"] == config.DERBY), "area_code"])
    got = set(wards["area_code"]) & derby_wards
    notes = []
    if got != derby_wards:
        notes.append(f"wards missing from {WARD_FILE}: {', '.join(sorted(derby_wards - got))}")
    las = set(a.loc[a["area_type"] == "la", "area_code"])
    known = la[la["area_code"].isin(las)]
    missing = sorted(las - set(known["area_code"]))
    if missing:
        notes.append(f"{len(missing)} local authorities in the area list are not in table 2 (county councils and "
                     f"former codes, e.g. {missing[0]}); they have no figure")
    obs = pd.concat([observations(wards[wards["area_code"].isin(derby_wards)]), observations(known), england(la)],
                    ignore_index=True)
    fit = obs[obs["area_code"].isin(derby_wards)][["indicator_id", "area_code", "period", "source_id"]].assign(
        ward_vintage=config.WARD_VINTAGE_CURRENT, geography="ward (May 2023)", method="published for the ward",
        best_fit=False, coverage=100.0, units=1, units_with_data=1)
    return Bundle(SOURCE_ID, observations=obs, ward_fit=fit, notes=notes)

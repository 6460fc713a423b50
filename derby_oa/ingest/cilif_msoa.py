"""DWP Stat-Xplore export: children in relative low income families before housing costs, number
by MSOA (keyed by name), FYE 2015 .. FYE 2022 (the last provisional).

Counts only. The export does not state the ages counted; Stat-Xplore's Children in Low Income
Families counts dependent children aged 0-19 (Derby's FYE 2022 total, 21,177, exceeds DWP's own
under-16 after-housing-costs count for FYE 2024, 18,258). The denominator is the mid-2015
population aged 0-15 (IoD 2019 File 6), the only child population by LSOA (2011) to hand, so the
figure (`cilif_bhc_msoa`) is "per 100 children aged 0-15", a ratio for comparing wards and years,
not DWP's percentage, and it has no confidence interval. An MSOA count is shared among its LSOAs
by their children aged 0-15 and summed by ward (`wards_bestfit.best_fit(how="counts")`); Derby's
figure is the sum over its 31 MSOAs.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from derby_oa import config
from derby_oa.errors import InputError
from derby_oa.storage.schema import conform_observations
from derby_oa.ingest import Bundle, Context, small_area
from derby_oa.ingest.periods import financial

SOURCE_ID = "dwp_cilif_msoa"
INDICATOR = "cilif_bhc_msoa"
TABLE = "dwp_cilif/children_relative_low_income_msoa_14-22.csv"
FILES = (TABLE, *small_area.LSOA11_FILES)
_YEAR = re.compile(r"^(\d{4})/(\d{2})( \(p\))?$")


def read_table(path: Path, msoa_names: set[str]) -> pd.DataFrame:
    """msoa_name, fye (end year), number for the MSOAs named."""
    file = "/".join(Path(path).parts[-2:])
    try:
        rows = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(file, f"cannot be read as CSV ({exc})") from None
    if not rows or rows[0][:1] != ["Year"]:
        raise InputError(file, "first row should start with 'Year' and the financial years", row=0, field="Year")
    years = {i: int(m.group(1)) + 1 for i, h in enumerate(rows[0]) if (m := _YEAR.match(h.strip()))}
    if not years:
        raise InputError(file, "no year columns like '2014/15'", row=0, field="Year")
    out = []
    for n, r in enumerate(rows[1:], start=1):
        if not r or r[0].strip() not in msoa_names:
            continue
        for col, fye in years.items():
            text = r[col].strip().replace(",", "") if col < len(r) else ""
            try:
                out.append((r[0].strip(), fye, float(text)))
            except ValueError:
                raise InputError(file, f"'{text}' is not a number", row=n, field=rows[0][col]) from None
    return pd.DataFrame(out, columns=["msoa_name", "fye", "number"])


def load(paths: dict[str, Path], ctx: Context) -> Bundle:
    """Ward (both vintages) and Derby rows, FYE 2015-2022."""
    lsoas = small_area.lsoa11(paths, ctx)
    table = read_table(Path(paths[TABLE]), set(lsoas["msoa_name"]))
    notes = []
    missing = set(lsoas["msoa_name"]) - set(table["msoa_name"])
    if missing:
        notes.append(f"no row for {', '.join(sorted(missing))} (wards using them are x)")
    kids = lsoas.groupby("msoa_name")["pop_0_15"].sum()
    obs, fits, derby = [], [], []
    for fye, part in table.groupby("fye"):
        period = financial(int(fye))
        data = pd.DataFrame({"unit_code": part["msoa_name"], "status": "published", "numerator": part["number"],
                             "denominator": part["msoa_name"].map(kids)})
        o, m = small_area.fit_both(lsoas, data, "counts", ctx, unit="msoa_name", weight="pop_0_15",
                                   indicator_id=INDICATOR, period=period, year=int(fye), source_id=SOURCE_ID,
                                   geography="MSOA 2011", decimals=4, wilson=False)
        obs += o
        fits += m
        if not missing:
            num, den = float(data["numerator"].sum()), float(data["denominator"].sum())
            derby.append({"indicator_id": INDICATOR, "area_code": config.DERBY, "period": period, "year": int(fye),
                          "breakdown": "all", "value": round(100 * num / den, 4), "status": "published",
                          "numerator": num, "denominator": den, "source_id": SOURCE_ID})
    obs.append(pd.DataFrame(derby))
    return Bundle(SOURCE_ID, observations=conform_observations(pd.concat(obs, ignore_index=True)),
                  ward_fit=pd.concat(fits, ignore_index=True), notes=notes)

"""NCMP child obesity by MSOA (PHE small-area data, 2019 update): % obese in Reception and Year 6,
eight rolling three-year periods 2008/09-2010/11 .. 2015/16-2017/18, keyed by MSOA name.

Carried to Derby's wards (both vintages) as the mean of the MSOA rates carried by the ward's
LSOAs, weighted by their children aged 0-15 (mid-2015) -- `wards_bestfit.best_fit(how="rates")`.
Suppressed cells (`s`) stay suppressed: a ward drawing on a suppressed MSOA is `c`. Only rates are
published, so there are no counts and no confidence intervals. Indicators `obesity_reception_3yr`
and `obesity_year6_3yr`; periods like `2015/16-17/18`.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from derby_oa.errors import InputError
from derby_oa.storage.schema import conform_observations
from derby_oa.ingest import Bundle, Context, small_area
from derby_oa.ingest.csvfile import read_strict

SOURCE_ID = "phe_ncmp_msoa"
TABLES = {"ncmp_small_area/Reception_obesity_rates.csv": "obesity_reception_3yr",
          "ncmp_small_area/Year6_obesity_rates.csv": "obesity_year6_3yr"}
FILES = (*TABLES, *small_area.LSOA11_FILES)
SUPPRESSED = "s"
_PERIOD = re.compile(r"^(\d{4})/(\d{2}) to (\d{4})/(\d{2}) \| %$")


def period_label(header: str) -> tuple[str, int] | None:
    """`2015/16 to 2017/18 | %` -> ("2015/16-17/18", 2018); None for other columns."""
    m = _PERIOD.match(header.strip())
    if not m:
        return None
    return f"{m.group(1)}/{m.group(2)}-{m.group(3)[2:]}/{m.group(4)}", int(m.group(3)) + 1


def read_table(path: Path, msoa_names: set[str]) -> pd.DataFrame:
    """Long rows for the MSOAs named: msoa_name, period, year, value, status."""
    file = "/".join(Path(path).parts[-2:])
    raw = read_strict(path, ["MSOA name", "LA name"], name=file)
    periods = {c: period_label(c) for c in raw.columns if period_label(c)}
    if not periods:
        raise InputError(file, "no period columns like '2015/16 to 2017/18 | %'", row=0, field="MSOA name")
    sel = raw[raw["MSOA name"].str.strip().isin(msoa_names)]
    rows = []
    for i, r in sel.iterrows():
        for col, (label, year) in periods.items():
            text = r[col].strip()
            if text == SUPPRESSED:
                rows.append((r["MSOA name"].strip(), label, year, None, "c"))
                continue
            try:
                v = float(text)
            except ValueError:
                raise InputError(file, f"'{text}' is neither a percentage nor 's'", row=int(i) + 1, field=col) from None
            rows.append((r["MSOA name"].strip(), label, year, v, "published"))
    return pd.DataFrame(rows, columns=["msoa_name", "period", "year", "value", "status"])


def load(paths: dict[str, Path], ctx: Context) -> Bundle:
    """Ward rows (both vintages) and ward_fit rows for both school years and all periods."""
    lsoas = small_area.lsoa11(paths, ctx)
    names = set(lsoas["msoa_name"])
    obs, fits, notes = [], [], []
    for name, indicator in TABLES.items():
        table = read_table(Path(paths[name]), names)
        missing = names - set(table["msoa_name"])
        if missing:
            notes.append(f"{name}: no row for {', '.join(sorted(missing))} (wards using them are x)")
        n_s = int((table["status"] == "c").sum())
        if n_s:
            notes.append(f"{indicator}: {n_s} suppressed MSOA cells")
        for (period, year), part in table.groupby(["period", "year"]):
            data = part.rename(columns={"msoa_name": "unit_code"})
            o, m = small_area.fit_both(lsoas, data, "rates", ctx, unit="msoa_name", weight="pop_0_15",
                                       indicator_id=indicator, period=period, year=int(year), source_id=SOURCE_ID,
                                       geography="MSOA 2011", decimals=4)
            obs += o
            fits += m
    return Bundle(SOURCE_ID, observations=conform_observations(pd.concat(obs, ignore_index=True)),
                  ward_fit=pd.concat(fits, ignore_index=True), notes=notes)

"""English Indices of Deprivation 2025 by LSOA (2021): File 1 (IMD rank and decile) and File 3
(IDACI rank and decile), Excel workbooks. Only Derby's LSOAs are read.

Ward figures (both vintages, LSOAs placed by centroid, so best fits): `imd2025_decile`, the mean
of LSOA IMD deciles weighted by Census 2021 usual residents, and `idaci2025_decile`, the mean of
LSOA IDACI deciles weighted by residents aged 15 and under. Not official ward deciles; there is
no Derby or England figure (see docs/methods-wards.md). Period `2025`.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from derby_oa import config
from derby_oa.errors import InputError
from derby_oa.storage.schema import conform_observations
from derby_oa.ingest import Bundle, Context, rda, small_area

SOURCE_ID = "mhclg_iod2025"
FILE1 = "iod2025/File_1_IoD2025_Index_of_Multiple_Deprivation.xlsx"
FILE3 = "iod2025/File_3_IoD2025_Supplementary_Indices_IDACI_and_IDAOPI.xlsx"
FILES = (FILE1, FILE3, *small_area.LSOA21_FILES)
PERIOD, YEAR = "2025", 2025
CODE, LAD = "LSOA code (2021)", "Local Authority District code (2024)"


def read_deciles(path: Path, decile_prefix: str, lad: str = config.DERBY) -> pd.DataFrame:
    """lsoa_code, decile for the LSOAs of `lad` from the data sheet (the one that is not 'Notes')."""
    import openpyxl

    file = Path(path).name
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InputError(file, f"cannot be read as an Excel workbook ({type(exc).__name__})") from None
    try:
        sheets = [ws for ws in wb.worksheets if ws.title.strip().lower() != "notes"]
        if not sheets:
            raise InputError(file, "no data sheet")
        rows = sheets[0].iter_rows(values_only=True)
        header = [str(h or "").strip() for h in next(rows)]
        try:
            i_code, i_lad = header.index(CODE), header.index(LAD)
            i_dec = next(i for i, h in enumerate(header) if h.startswith(decile_prefix))
        except (ValueError, StopIteration):
            raise InputError(file, f"missing column '{CODE}', '{LAD}' or '{decile_prefix}...'", row=1,
                             field=decile_prefix) from None
        out = []
        for n, r in enumerate(rows, start=2):
            if r[i_lad] != lad:
                continue
            d = r[i_dec]
            if not isinstance(d, (int, float)) or not 1 <= d <= 10:
                raise InputError(file, f"decile '{d}' is not 1-10", row=n, field=header[i_dec])
            out.append((str(r[i_code]), float(d)))
    finally:
        wb.close()
    return pd.DataFrame(out, columns=["lsoa_code", "decile"])


def load(paths: dict[str, Path], ctx: Context) -> Bundle:
    """Ward rows for the IMD 2025 and IDACI 2025 deciles."""
    lsoas = small_area.lsoa21(paths, ctx)
    obs, fits, notes = [], [], []
    for ind, path, prefix, weight in (
            ("imd2025_decile", FILE1, "Index of Multiple Deprivation (IMD) Decile", "residents"),
            ("idaci2025_decile", FILE3, "Income Deprivation Affecting Children Index (IDACI) Decile", "children_0_15")):
        dec = rda.cached(Path(paths[path]), f"-{config.DERBY}-{ind}", lambda p: read_deciles(p, prefix))
        if set(dec["lsoa_code"]) != set(lsoas["lsoa_code"]):
            diff = sorted(set(dec["lsoa_code"]) ^ set(lsoas["lsoa_code"]))
            notes.append(f"{Path(path).name}: Derby LSOAs differ from the boundary file ({', '.join(diff[:3])})")
        data = pd.DataFrame({"unit_code": dec["lsoa_code"], "status": "published", "value": dec["decile"]})
        o, m = small_area.fit_both(lsoas, data, "rates", ctx, unit="lsoa_code", weight=weight, indicator_id=ind,
                                   period=PERIOD, year=YEAR, source_id=SOURCE_ID, geography="LSOA 2021",
                                   lsoa_vintage="2021", decimals=4)
        obs += o
        fits += m
    return Bundle(SOURCE_ID, observations=conform_observations(pd.concat(obs, ignore_index=True)),
                  ward_fit=pd.concat(fits, ignore_index=True), notes=notes)

"""DfE children's services statistical neighbours (LAIT workbooks, April 2021 and May 2025).

Sheet `LA SN Groups`: two rows of column letters/numbers, then the header `LA num, LA Name,
LA number, GOInd, GOReg, SN1, SNP, ..., SN10, SNP`; each `SNk` (an old LA number) is followed by
its closeness label, kept as published (`Very Close` in 2021, `Very close` in 2025).
Only Derby's group becomes `area_groups`. Data rows in errors are counted from below the header.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from derby_oa.config import DERBY_LA_NUMBER, SN_GROUP_CURRENT, SN_GROUP_PLAN
from derby_oa.errors import InputError
from derby_oa.ingest import Bundle, Context

SOURCE_ID = "dfe_statistical_neighbours"
SHEET = "LA SN Groups"
GROUPS = {
    "lait/sn_april_2021.xlsx": (SN_GROUP_PLAN, "Derby's statistical neighbours (April 2021)"),
    "lait/sn_may_2025.xlsx": (SN_GROUP_CURRENT, "Derby's statistical neighbours (May 2025)"),
}
FILES = tuple(GROUPS)
N_NEIGHBOURS = 10


def read_sheet(path: Path) -> pd.DataFrame:
    """The SN sheet below its header row, all text, with the header as column labels (SNP repeated)."""
    file = Path(path).name
    try:
        grid = pd.read_excel(path, sheet_name=SHEET, header=None, dtype=str).fillna("")
    except Exception as exc:
        raise InputError(file, f"cannot read sheet '{SHEET}' ({type(exc).__name__}: {exc})") from None
    starts = grid.index[grid[0].str.strip() == "LA num"]
    if not len(starts):
        raise InputError(file, "no header row starting 'LA num'", field="LA num")
    header = grid.loc[starts[0]].str.strip()
    needed = ["LA num", "LA Name"] + [f"SN{k}" for k in range(1, N_NEIGHBOURS + 1)]
    missing = [c for c in needed if c not in set(header)]
    if missing:
        raise InputError(file, f"missing column(s) {', '.join(missing)}", field=missing[0])
    body = grid.loc[starts[0] + 1:].reset_index(drop=True)
    body.columns = list(header)
    return body


def neighbours_of(path: Path, la_number: int) -> pd.DataFrame:
    """`member_order, la_number, la_name, closeness` of one LA's ten statistical neighbours."""
    file = Path(path).name
    body = read_sheet(path)
    rows = body.index[body["LA num"].str.strip() == str(la_number)]
    if len(rows) != 1:
        raise InputError(file, f"{len(rows)} rows for LA {la_number} (expected 1)", field="LA num")
    row, cells = int(rows[0]), body.iloc[int(rows[0])]
    names = dict(zip(body["LA num"].str.strip(), body["LA Name"].str.strip()))
    out = []
    for k in range(1, N_NEIGHBOURS + 1):
        col = list(body.columns).index(f"SN{k}")
        number, closeness = str(cells.iloc[col]).strip(), str(cells.iloc[col + 1]).strip()
        if not number.isdigit():
            raise InputError(file, f"'{number}' is not an LA number", row=row + 1, field=f"SN{k}")
        out.append({"member_order": k, "la_number": int(number), "la_name": names.get(number, ""),
                    "closeness": closeness})
    sn = pd.DataFrame(out)
    sn.attrs["row"] = row + 1
    return sn


def load(paths: dict[str, Path], ctx: Context) -> Bundle:
    """Derby's 2021 and 2025 statistical neighbour groups as `area_groups` (GSS codes)."""
    la_codes = ctx.areas.dropna(subset=["la_number"]).set_index("la_number")["area_code"]
    frames = []
    for name, (group_id, group_name) in GROUPS.items():
        sn = neighbours_of(paths[name], DERBY_LA_NUMBER)
        code = sn["la_number"].map(la_codes)
        if code.isna().any():
            i = int(code.isna().to_numpy().nonzero()[0][0])
            raise InputError(Path(paths[name]).name, f"LA number {sn['la_number'][i]} is not in the area list",
                             row=sn.attrs["row"], field=f"SN{i + 1}")
        frames.append(pd.DataFrame({"group_id": group_id, "group_name": group_name, "area_code": code,
                                    "member_order": sn["member_order"], "closeness": sn["closeness"],
                                    "source_id": SOURCE_ID}))
    return Bundle(SOURCE_ID, area_groups=pd.concat(frames, ignore_index=True))

"""NCMP obesity prevalence (Fingertips 90319 / 90323) from two vintages of Trafford Data Lab extracts.

Only single school years (`2015/16`) and all-persons rows are kept: pooled 3- and 5-year periods
(`2019/20 - 23/24`) and the deprivation-quintile rows (`inequality` set) are dropped. The older
vintage (v2025-02) reaches back to 2010/11; the latest wins where both have a row, and rows whose
values differ between vintages are counted in the notes. Areas are mapped as in `fingertips`.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from derby_oa.ingest import Bundle, Context
from derby_oa.ingest.fingertips import REQUIRED, read_table, to_observations

SOURCE_ID = "ohid_ncmp_obesity"
KEY = ["indicator_id", "area_code", "period", "breakdown"]
ALL_PERSONS = {"", "NA", "Persons"}
# (older, newer) vintage per indicator
VINTAGES = {
    "obesity_reception": ("trafford_themes/v2025-02/obese_reception.csv", "trafford_themes/latest/obese_reception.csv"),
    "obesity_year6": ("trafford_themes/v2025-02/obese_year6.csv", "trafford_themes/latest/obese_year6.csv"),
}
FILES = tuple(f for pair in VINTAGES.values() for f in pair)


def read_vintage(path: Path, indicator_id: str, areas: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Single-year, all-persons observations from one obesity extract."""
    file = "/".join(Path(path).parts[-2:])  # vintage folder and name
    raw = read_table(path, REQUIRED + ["inequality"])
    keep = raw["inequality"].str.strip().isin(ALL_PERSONS) & raw["period"].str.fullmatch(r"\s*\d{4}/\d{2}\s*")
    return to_observations(raw[keep], file, indicator_id, SOURCE_ID, areas)


def combine(older: pd.DataFrame, newer: pd.DataFrame, label: str) -> tuple[pd.DataFrame, list[str]]:
    """Newer rows plus older rows for keys the newer lacks; a note if overlapping rows disagree."""
    both = older.merge(newer, on=KEY, suffixes=("_old", "_new"))
    same = (both["status_old"] == both["status_new"]) & (
        (both["value_old"] == both["value_new"]) | (both["value_old"].isna() & both["value_new"].isna()))
    notes = []
    if (~same).any():
        first = both[~same].iloc[0]
        notes.append(f"{label}: {int((~same).sum())} of {len(both)} overlapping rows differ between vintages; "
                     f"the latest wins (e.g. {first.area_code} {first.period}: {first.value_old} -> {first.value_new})")
    only_old = older.merge(newer[KEY], on=KEY, how="left", indicator=True)["_merge"].eq("left_only").to_numpy()
    return pd.concat([newer, older[only_old]], ignore_index=True), notes


def load(paths: dict[str, Path], ctx: Context) -> Bundle:
    """Reception and Year 6 obesity, 2010/11 onwards, latest vintage first."""
    frames, notes = [], []
    for indicator_id, (old_name, new_name) in VINTAGES.items():
        older, skipped_old = read_vintage(paths[old_name], indicator_id, ctx.areas)
        newer, skipped_new = read_vintage(paths[new_name], indicator_id, ctx.areas)
        combined, diff = combine(older, newer, indicator_id)
        frames.append(combined)
        notes += skipped_old + skipped_new + diff
    return Bundle(SOURCE_ID, observations=pd.concat(frames, ignore_index=True), notes=notes)

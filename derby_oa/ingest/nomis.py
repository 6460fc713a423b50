"""Nomis claimant rate and APS employment rate (Trafford Data Lab extracts; Derby, its CIPFA peers, England).

Period labels are kept exactly as the file gives them, since neither fits the academic/financial
styles: monthly claimant counts `March 2023` (year 2023) and rolling APS years `Oct 2021-Sep 2022`
(year = end year, 2022). So that each `year` has one value and trends read as annual series, only
March of each year is kept for the claimant rate and only calendar-year windows (`Jan 2023-Dec 2023`)
for the employment rate; the other months are counted in the notes.
Only the claimant measure "as a proportion of residents aged 16-64" is kept; the count is of all
claimants, not the numerator of that rate, so it is not stored. Trafford's wards are skipped.
"""
from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from derby_oa.errors import InputError
from derby_oa.ingest import Bundle, Context
from derby_oa.ingest.fingertips import read_table, to_observations

SOURCE_ID = "nomis_labour_market"
REQUIRED = ["area_code", "area_name", "period", "indicator", "value"]
# file -> (indicator_id, the file's indicator text to keep)
MEASURES = {
    "trafford_themes/latest/claimant_count.csv": ("claimant_rate", "Claimants as a proportion of residents aged 16-64"),
    "trafford_themes/latest/employment_rate.csv": ("employment_rate", "Employment rate - aged 16-64"),
}
ANNUAL = {"claimant_rate": re.compile(r"March \d{4}"), "employment_rate": re.compile(r"Jan (\d{4})-Dec \1")}
FILES = tuple(MEASURES)
_MONTH = re.compile(r"([A-Z][a-z]+) (\d{4})")
_ROLLING = re.compile(r"([A-Z][a-z]{2}) (\d{4})-([A-Z][a-z]{2}) (\d{4})")


def nomis_period(label: str) -> tuple[str, int]:
    """(`label`, end year) for `March 2023` or `Oct 2021-Sep 2022`; ValueError otherwise."""
    label = label.strip()
    if m := _MONTH.fullmatch(label):
        datetime.strptime(m.group(1), "%B")
        return label, int(m.group(2))
    if m := _ROLLING.fullmatch(label):
        datetime.strptime(m.group(1), "%b"), datetime.strptime(m.group(3), "%b")
        return label, int(m.group(4))
    raise ValueError(label)


def read_measure(path: Path, indicator_id: str, text: str, areas: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Observations for the rows whose `indicator` is `text`."""
    file = Path(path).name
    raw = read_table(path, REQUIRED)
    keep = raw["indicator"].str.strip() == text
    if not keep.any():
        raise InputError(file, f"no rows for indicator '{text}'", field="indicator")
    return to_observations(raw[keep], file, indicator_id, SOURCE_ID, areas, period=nomis_period)


def load(paths: dict[str, Path], ctx: Context) -> Bundle:
    """Claimant rate (monthly) and employment rate (rolling years)."""
    frames, notes = [], []
    for name, (indicator_id, text) in MEASURES.items():
        obs, skipped = read_measure(paths[name], indicator_id, text, ctx.areas)
        annual = obs["period"].map(lambda p: bool(ANNUAL[indicator_id].fullmatch(p)))
        frames.append(obs[annual])
        notes += skipped + [f"{indicator_id}: kept {int(annual.sum())} annual periods of {len(obs)}"]
    return Bundle(SOURCE_ID, observations=pd.concat(frames, ignore_index=True), notes=notes)

"""SQL for targets: plan and local targets with their data, and adding or removing local targets.

Writes go through `store.atomic_update`, so a refused or failed change leaves the database as it was.
"""
from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from derby_oa.storage import store
from derby_oa.errors import InputError
from derby_oa.storage.write_lock import WriteBusy

__all__ = [
    "target_rows", "target_row", "target_observations", "commitment_activity",
    "local_targets", "validation_lookups", "insert_target", "delete_local_target", "target_sources",
    "observations_for", "plan_values", "area_names",
]

TARGET_FILE = "Local target"
# Plan activity rows that are the measurable commitments behind the Priority 3 targets.
COMMITMENT_ACTIVITY = ("stp_employer_encounters_per_pupil", "p3_activities_employer_experiences",
                       "bsf_schools_linked_employer", "p3_extra_curricular_funding",
                       "p3_active_schools_pupils", "bsf_derby_college_learners")


def _df(con, sql: str, params: list | None = None) -> pd.DataFrame:
    return con.execute(sql, params or []).df()


def target_rows(con) -> pd.DataFrame:
    """Every target (plan first, then local) with its indicator's title, unit, polarity and decimals."""
    return _df(con, """SELECT t.*, i.title, i.short_title, i.unit, i.polarity, i.decimals FROM targets t
                       LEFT JOIN indicators i ON i.indicator_id = t.indicator_id
                       ORDER BY t.origin != 'plan', t.priority, t.target_id""")


def target_row(con, target_id: str) -> dict | None:
    """One target as a dict, or None if there is no such target."""
    df = target_rows(con)
    df = df[df["target_id"] == target_id]
    return None if df.empty else df.iloc[0].to_dict()


def target_observations(con, indicator_id: str, area_code: str, breakdown: str) -> pd.DataFrame:
    """One area's series for an indicator and breakdown: year, period, value, status, counts, source."""
    return _df(con, """SELECT year, period, value, status, numerator, denominator, source_id FROM observations
                       WHERE indicator_id = ? AND area_code = ? AND breakdown = ? ORDER BY year, period""",
               [indicator_id, area_code, breakdown])


def observations_for(con, indicator_ids: list[str], area_codes: list[str]) -> pd.DataFrame:
    """Observations of several indicators for several areas, every breakdown, ordered by year."""
    return _df(con, """SELECT indicator_id, area_code, breakdown, year, period, value, status, numerator, denominator,
                       source_id FROM observations WHERE list_contains(?, indicator_id) AND list_contains(?, area_code)
                       ORDER BY indicator_id, area_code, breakdown, year, period""", [indicator_ids, area_codes])


def plan_values(con, indicator_ids: list[str]) -> pd.DataFrame:
    """The plan's own quoted figures (with a year) for several indicators."""
    return _df(con, """SELECT indicator_id, area_code, breakdown, year, value FROM plan_figures
                       WHERE list_contains(?, indicator_id) AND year IS NOT NULL AND value IS NOT NULL
                       ORDER BY figure_id""", [indicator_ids])


def area_names(con, codes: list[str]) -> dict[str, str]:
    """Display names of area codes (unknown codes are left out)."""
    return dict(con.execute("SELECT area_code, area_name FROM areas WHERE list_contains(?, area_code)",
                            [codes]).fetchall())


def commitment_activity(con) -> pd.DataFrame:
    """The plan's Priority 3 programme figures that stand behind its qualitative targets."""
    return _df(con, """SELECT activity_id, label, value, unit, period, plan_section, plan_quote FROM plan_activity
                       WHERE list_contains(?, activity_id) ORDER BY activity_id""", [list(COMMITMENT_ACTIVITY)])


def local_targets(con) -> pd.DataFrame:
    """Targets added by officers."""
    return target_rows(con).query("origin == 'local'").reset_index(drop=True)


def validation_lookups(con) -> dict:
    """What a new local target is checked against: indicator units, area codes, target ids, period labels."""
    units = dict(con.execute("SELECT indicator_id, unit FROM indicators").fetchall())
    areas = {r[0] for r in con.execute("SELECT area_code FROM areas").fetchall()}
    ids = dict(con.execute("SELECT target_id, origin FROM targets").fetchall())
    periods = {(r[0], int(r[1])): r[2] for r in con.execute(
        "SELECT DISTINCT indicator_id, year, first(period ORDER BY period) FROM observations GROUP BY 1, 2").fetchall()}
    return {"units": units, "areas": areas, "target_ids": ids, "periods": periods}


def insert_target(con, row: dict) -> None:
    """Insert one complete `targets` row (validated by `targets.local`; call inside a store update)."""
    cols = list(row)
    con.execute(f"INSERT INTO targets ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                [row[c] for c in cols])


def delete_local_target(target_id: str, path: Path | None = None) -> None:
    """Remove a local target; the plan's own targets (and unknown ids) are refused and nothing changes."""
    def change(con: duckdb.DuckDBPyConnection) -> None:
        row = con.execute("SELECT origin FROM targets WHERE target_id = ?", [target_id]).fetchone()
        if row is None:
            raise InputError(TARGET_FILE, f"there is no target '{target_id}'", field="target_id")
        if row[0] != "local":
            raise InputError(TARGET_FILE, f"'{target_id}' is one of the delivery plan's own targets and cannot be "
                             "removed or edited", field="target_id")
        con.execute("DELETE FROM targets WHERE target_id = ? AND origin = 'local'", [target_id])

    try:
        store.atomic_update(change, path, what="removing a local target")
    except WriteBusy as exc:  # another write held the lock too long: shown like any other refusal
        raise InputError(TARGET_FILE, str(exc)) from None


def target_sources(con) -> pd.DataFrame:
    """Sources of the observations behind the targets (target and comparator areas), and the plan."""
    return _df(con, """SELECT s.* FROM sources s WHERE s.source_id = 'plan_2017' OR s.source_id IN (
                         SELECT DISTINCT o.source_id FROM observations o JOIN targets t USING (indicator_id)
                         WHERE o.area_code IN (t.area_code, coalesce(t.comparator_area_code, t.area_code)))
                       ORDER BY s.source_id != 'plan_2017', s.title""")

"""Officers' local targets: validation, and adding one to the database."""
from __future__ import annotations

import math
import re
from pathlib import Path

from derby_oa import config
from derby_oa.storage import store
from derby_oa.errors import InputError
from derby_oa.storage.write_lock import WriteBusy
from derby_oa.queries import targets as target_queries
from derby_oa.analysis.targets.common import (
    BREAKDOWNS,
    LOCAL_FILE,
    LOCAL_KINDS,
    RELATIVE_KINDS,
    UNIT_RANGES,
    parse_year,
    period_label,
)


def _text(fields: dict, key: str) -> str:
    value = fields.get(key)
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value).strip()

def _number(fields: dict, key: str, label: str, required: bool) -> float | None:
    text = _text(fields, key).replace(",", "")
    if text == "":
        if required:
            raise InputError(LOCAL_FILE, f"{label} is required", field=key)
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(LOCAL_FILE, f"{label} '{fields.get(key)}' is not a number", field=key) from None
    if not math.isfinite(value):
        raise InputError(LOCAL_FILE, f"{label} must be a finite number", field=key)
    return value

def _check_range(value: float, unit: str, key: str, label: str) -> None:
    lo, hi = UNIT_RANGES.get(unit, (None, None))
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        span = f"between {lo:g} and {hi:g}" if hi is not None else f"at least {lo:g}"
        raise InputError(LOCAL_FILE, f"{label} {value:g} is outside the range for unit '{unit}' "
                                     f"(must be {span})", field=key)

def validate_local_target(fields: dict, lookups: dict) -> dict:
    """A complete `targets` row for an officer's target, or InputError naming the first bad field.

    `lookups` (from queries.targets.validation_lookups): units {indicator: unit}, areas {codes},
    target_ids {id: origin}, periods {(indicator, year): period label}.
    """
    def fail(key, message):
        raise InputError(LOCAL_FILE, message, field=key)

    units = lookups["units"]
    indicator_id = _text(fields, "indicator_id")
    if indicator_id not in units:
        fail("indicator_id", f"unknown indicator '{indicator_id}'" if indicator_id else "an indicator is required")
    unit = units[indicator_id]
    kind = _text(fields, "kind")
    if kind not in LOCAL_KINDS:
        fail("kind", f"kind '{kind}' is not allowed for a local target: use one of {', '.join(LOCAL_KINDS)}")
    breakdown = _text(fields, "breakdown") or "all"
    if breakdown not in BREAKDOWNS:
        fail("breakdown", f"unknown breakdown '{breakdown}': use one of {', '.join(BREAKDOWNS)}")
    area_code = _text(fields, "area_code") or config.DERBY
    if area_code not in lookups["areas"]:
        fail("area_code", f"unknown area code '{area_code}'")
    years = {}
    for key, label in (("baseline_year", "the baseline year"), ("target_year", "the target year")):
        text = _text(fields, key)
        if not text:
            fail(key, f"{label} is required")
        try:
            years[key] = parse_year(fields[key])
        except ValueError as exc:
            fail(key, str(exc))
        if not 1990 <= years[key] <= 2100:
            fail(key, f"{label} {years[key]} is outside 1990 to 2100")
    by, ty = years["baseline_year"], years["target_year"]
    if ty <= by:
        fail("target_year",
             f"the target year ({period_label(ty)}) must be after the baseline year ({period_label(by)})")
    baseline_value = _number(fields, "baseline_value", "the baseline value", True)
    _check_range(baseline_value, unit, "baseline_value", "the baseline value")
    target_value = _number(fields, "target_value", "the target value", kind == "absolute")
    if target_value is not None:
        if kind != "absolute":
            fail("target_value", "a target value is used only by 'absolute' targets; leave it empty for "
                                 f"'{kind}' (the comparator's own value is the line)")
        _check_range(target_value, unit, "target_value", "the target value")
    comp_area = comp_bd = None
    if kind in RELATIVE_KINDS:
        comp_area = _text(fields, "comparator_area_code") or config.ENGLAND
        if comp_area not in lookups["areas"]:
            fail("comparator_area_code", f"unknown comparator area code '{comp_area}'")
        comp_bd = _text(fields, "comparator_breakdown") or breakdown
        if comp_bd not in BREAKDOWNS:
            fail("comparator_breakdown", f"unknown comparator breakdown '{comp_bd}'")
        if (comp_area, comp_bd) == (area_code, breakdown):
            fail("comparator_area_code", "the comparator must differ from the target's own area and breakdown")
    target_id = _text(fields, "target_id") or f"local_{indicator_id}_{breakdown}_{kind}_{ty}"
    if not re.fullmatch(r"[A-Za-z0-9_\-]{1,80}", target_id):
        fail("target_id", f"target id '{target_id}' may use only letters, digits, '_' and '-' (at most 80)")
    if target_id in lookups["target_ids"]:
        whose = "one of the plan's own targets" if lookups["target_ids"][target_id] == "plan" else "a local target"
        fail("target_id", f"a target with id '{target_id}' already exists ({whose})")
    words = _text(fields, "plan_words")
    if len(words) > 500:
        fail("plan_words", "the description is longer than 500 characters")
    priority = _text(fields, "priority")
    if len(priority) > 20:
        fail("priority", "the priority is longer than 20 characters")
    periods = lookups.get("periods", {})
    return {
        "target_id": target_id, "origin": "local", "priority": priority or None, "indicator_id": indicator_id,
        "breakdown": breakdown, "area_code": area_code,
        "baseline_period": periods.get((indicator_id, by), period_label(by)), "baseline_year": by,
        "baseline_value": baseline_value,
        "target_period": periods.get((indicator_id, ty), period_label(ty)), "target_year": ty, "kind": kind,
        "comparator_area_code": comp_area, "comparator_breakdown": comp_bd, "target_value": target_value,
        "plan_section": "Local target (added by an officer)", "plan_words": words or None,
    }


def add_local_target(fields: dict, path: Path | None = None) -> dict:
    """Validate `fields` against the database and insert it as a local target, atomically.

    Raises InputError (naming the field) and writes nothing when the target is not valid.
    """
    def change(con) -> dict:
        row = validate_local_target(fields, target_queries.validation_lookups(con))
        target_queries.insert_target(con, row)
        return row

    try:
        return store.atomic_update(change, path, what="adding a local target")
    except WriteBusy as exc:  # another write held the lock too long: shown like any other refusal
        raise InputError(LOCAL_FILE, str(exc)) from None

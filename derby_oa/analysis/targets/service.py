"""Database entry points: assess every target, labels and headlines."""
from __future__ import annotations

import pandas as pd

from derby_oa import config, queries
from derby_oa.analysis.targets.common import (
    BREAKDOWN_LABELS,
    COHORT_FROM,
    MEASURABLE_KINDS,
    NOT_ASSESSABLE,
    RELATIVE_KINDS,
    RULES,
    fmt_value,
    period_label,
    with_cohorts,
)
from derby_oa.analysis.targets.assessment import Assessment, _unmeasured, assess, commitment_phrase


def assess_many(con, rows: list[dict] | None = None) -> list[Assessment]:
    """Assess targets (all of them by default) with the data fetched once for all."""
    from derby_oa.queries import targets as target_queries

    every = target_queries.target_rows(con)
    rows = [_clean(r) for r in (every.to_dict("records") if rows is None else rows)]
    if not rows:
        return []
    inds = sorted({r["indicator_id"] for r in rows if r.get("indicator_id")})
    known = set(queries.indicators(con)["indicator_id"]) if inds else set()
    metas = {i: queries.indicator(con, i) for i in inds if i in known}
    codes = sorted({c for r in rows for c in (r.get("area_code") or config.DERBY,
                                              r.get("comparator_area_code") or config.ENGLAND)})
    obs = target_queries.observations_for(con, list(metas), codes)
    cohort_ids = sorted({COHORT_FROM[i] for i in metas if i in COHORT_FROM})
    if cohort_ids:  # pupil cohorts published with another measure of the same collection (see COHORT_FROM)
        labels = {i: queries.indicator(con, i)["short_title"] or i for i in cohort_ids
                  if i in set(queries.indicators(con)["indicator_id"])}
        obs = with_cohorts(obs, target_queries.observations_for(con, cohort_ids, codes),
                           {k: f"the EYFSP {v} table" for k, v in labels.items()})
    groups = {key: grp for key, grp in obs.groupby(["indicator_id", "area_code", "breakdown"], sort=False)}
    plan = target_queries.plan_values(con, list(metas))
    plan_lookup = {(r.indicator_id, r.area_code, r.breakdown, int(r.year)): float(r.value) for r in plan.itertuples()}
    names = target_queries.area_names(con, codes)
    commitments = {}
    for r in every.to_dict("records"):
        if r["kind"] == "commitment":
            commitments.setdefault(r.get("priority"), []).append(commitment_phrase(_clean(r)))
    empty = obs.iloc[0:0]
    out = []
    for t in rows:
        ind = t.get("indicator_id") or None
        meta = metas.get(ind, {}) if ind else {}
        if t["kind"] not in MEASURABLE_KINDS:
            out.append(_unmeasured(t, meta, commitments.get(t.get("priority"), [])))
            continue
        if not ind or not meta:
            out.append(Assessment(t, NOT_ASSESSABLE, RULES[t["kind"]], f"Not assessable: unknown indicator '{ind}'.",
                                  meta=meta))
            continue
        area, bd = t.get("area_code") or config.DERBY, t.get("breakdown") or "all"
        derby = groups.get((ind, area, bd), empty)
        comp = comp_plan = comp_name = None
        if t["kind"] in RELATIVE_KINDS:
            carea, cbd = t.get("comparator_area_code") or config.ENGLAND, t.get("comparator_breakdown") or bd
            comp = groups.get((ind, carea, cbd), empty)
            if t.get("baseline_year") is not None and t.get("origin") == "plan":
                comp_plan = plan_lookup.get((ind, carea, cbd, int(t["baseline_year"])))
            comp_name = names.get(carea, carea)
        out.append(assess(t, meta, derby, comp, comp_plan, names.get(area, area), comp_name))
    return out

def _clean(row: dict) -> dict:
    return {k: (None if not isinstance(v, (list, dict)) and pd.isna(v) else v) for k, v in row.items()}

def assess_target(con, target: dict | str) -> Assessment:
    """Assess one target (a row dict or a target id) against the data in the database."""
    from derby_oa.queries import targets as target_queries

    if isinstance(target, str):
        row = target_queries.target_row(con, target)
        if row is None:
            raise KeyError(target)
        target = row
    return assess_many(con, [target])[0]

def assess_all(con) -> pd.DataFrame:
    """Every target's status: target_id, indicator_id, breakdown, kind, status, rule, detail and more.

    `status` is exactly one of "met", "not met", "on track", "off track", "not assessable".
    """
    rows = [a.summary() for a in assess_many(con)]
    cols = list(Assessment({"target_id": "", "kind": ""}, "", "", "").summary())
    return pd.DataFrame(rows, columns=cols)

AREA_SHORT = {config.ENGLAND: "England", config.EAST_MIDLANDS: "East Midlands", config.DERBY: "Derby"}

def target_label(target: dict) -> str:
    """A short name for a target: 'GLD (FSM pupils): exceed England by 2020/21'."""
    kind = target.get("kind")
    if kind not in MEASURABLE_KINDS:
        words = str(target.get("plan_words") or target.get("target_id"))
        return words if len(words) <= 90 else words[:87].rstrip() + "..."
    name = target.get("short_title") or target.get("title") or target.get("indicator_id")
    bd = target.get("breakdown") or "all"
    if bd != "all":
        name += f" ({BREAKDOWN_LABELS.get(bd, bd)})"
    if target.get("area_code") not in (None, config.DERBY):
        name += f", {AREA_SHORT.get(target['area_code'], target['area_code'])}"
    by = target.get("target_period") or (period_label(target["target_year"]) if target.get("target_year") else "")
    comp = AREA_SHORT.get(target.get("comparator_area_code"), target.get("comparator_area_code") or "")
    cbd = target.get("comparator_breakdown")
    if cbd and cbd != bd:
        comp += f" {BREAKDOWN_LABELS.get(cbd, cbd)}"
    if kind == "exceed_comparator":
        aim = f"exceed {comp}"
    elif kind == "close_gap":
        aim = f"close the gap to {comp}"
    else:
        aim = f"reach {fmt_value(target.get('target_value'), target.get('unit') or '', target.get('decimals') or 1)}"
    return f"{name}: {aim} by {by}"

def headline(a: Assessment) -> str:
    """One line of evidence for a tile: the last judgement, else the latest values."""
    if a.judgements:
        return "; ".join(j["short"] for j in a.judgements)
    if a.latest_year is None or not a.measurable:
        return a.detail
    unit, dec = a.meta.get("unit", ""), a.meta.get("decimals", 1)
    text = f"{period_label(a.latest_year)}: {a.area_label} {fmt_value(a.latest_value, unit, dec)}"
    if a.comparator_label and a.latest_comparator is not None:
        text += f", {a.comparator_label} {fmt_value(a.latest_comparator, unit, dec)}"
    return text

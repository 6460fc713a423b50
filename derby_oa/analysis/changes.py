"""What changed between two states of the database, and the sentences that say so (pure; no SQL, no Streamlit).

- `diff` compares two observation snapshots: a key (indicator, area, pupil group, period) present only in the new
  one is a **new** figure, only in the old one a **removed** figure, and in both with a different value or status a
  **revision** (old and new value kept). Indicators present in only one snapshot are **new** or **removed**
  indicators. Values are compared exactly as stored: a revision in the last decimal is still a revision.
- `tile_changes` compares two sets of tile states: every change in direction of travel, comparison with
  England, quartile among local authorities or a plan target's status.
- `summary_sentences` turns both into sentences, each naming its source.
"""
from __future__ import annotations

import datetime as dt
import math

import pandas as pd

from derby_oa import config
from derby_oa.analysis import narrative

KEY = ["indicator_id", "area_code", "breakdown", "period"]
NEW, REVISED, REMOVED = "new", "revised", "removed"
NEW_INDICATOR, REMOVED_INDICATOR = "new indicator", "removed indicator"
ITEM_COLUMNS = ["kind", "indicator_id", "breakdown", "area_code", "period", "year", "old_value", "new_value",
                "old_status", "new_status", "source_id"]
STATE_FIELDS = {"direction": "direction of travel", "vs_england": "comparison with England",
                "quartile": "quartile among local authorities (A = best)", "targets": "plan target status"}
HEADLINE_AREAS = (config.DERBY, config.ENGLAND)


def _same(a, b) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return False
    return float(a) == float(b)


def diff(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Items that changed from snapshot `old` to snapshot `new` (columns ITEM_COLUMNS).

    Snapshots: indicator_id, area_code, breakdown, period, year, value, status, source_id (one row per KEY).
    """
    cols = KEY + ["year", "value", "status", "source_id"]
    old = old[cols] if old is not None and len(old) else pd.DataFrame(columns=cols)
    new = new[cols] if new is not None and len(new) else pd.DataFrame(columns=cols)
    m = old.merge(new, on=KEY, how="outer", suffixes=("_old", "_new"), indicator=True)
    both = m[m["_merge"] == "both"]
    v_old, v_new = both["value_old"].astype("float64"), both["value_new"].astype("float64")
    value_changed = ~((v_old == v_new) | (v_old.isna() & v_new.isna()))
    status_changed = both["status_old"].astype(str) != both["status_new"].astype(str)
    revised = both[value_changed | status_changed]
    added = m[m["_merge"] == "right_only"]
    gone = m[m["_merge"] == "left_only"]

    def items(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
        out = pd.DataFrame({
            "kind": kind, "indicator_id": frame["indicator_id"], "breakdown": frame["breakdown"],
            "area_code": frame["area_code"], "period": frame["period"],
            "year": frame["year_new"].fillna(frame["year_old"]),
            "old_value": frame["value_old"].astype("float64"), "new_value": frame["value_new"].astype("float64"),
            "old_status": frame["status_old"], "new_status": frame["status_new"],
            "source_id": frame["source_id_new"].fillna(frame["source_id_old"])})
        return out

    old_ind, new_ind = set(old["indicator_id"]), set(new["indicator_id"])
    parts = [items(added[~added["indicator_id"].isin(new_ind - old_ind)], NEW), items(revised, REVISED),
             items(gone[~gone["indicator_id"].isin(old_ind - new_ind)], REMOVED)]
    for ind in sorted(new_ind - old_ind):
        src = new.loc[new["indicator_id"] == ind, "source_id"].mode()
        parts.append(pd.DataFrame([{"kind": NEW_INDICATOR, "indicator_id": ind,
                                    "source_id": src.iat[0] if len(src) else None}]))
    for ind in sorted(old_ind - new_ind):
        src = old.loc[old["indicator_id"] == ind, "source_id"].mode()
        parts.append(pd.DataFrame([{"kind": REMOVED_INDICATOR, "indicator_id": ind,
                                    "source_id": src.iat[0] if len(src) else None}]))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=ITEM_COLUMNS)
    out = pd.concat(parts, ignore_index=True).reindex(columns=ITEM_COLUMNS)
    out["year"] = pd.to_numeric(out["year"], errors="coerce").astype("Int64")
    return out.sort_values(["kind", "indicator_id", "breakdown", "area_code", "year"], na_position="first",
                           kind="stable").reset_index(drop=True)


def describe(items: pd.DataFrame) -> str:
    """One line for the build report: counts of each kind of change."""
    if items is None or not len(items):
        return "no change to any figure"
    counts = items["kind"].value_counts()
    words = {NEW: "new figures", REVISED: "revised figures", REMOVED: "removed figures",
             NEW_INDICATOR: "new indicators", REMOVED_INDICATOR: "removed indicators"}
    return "; ".join(f"{int(counts[k]):,} {w}" for k, w in words.items() if k in counts)


def tile_changes(before: pd.DataFrame, after: pd.DataFrame) -> list[dict]:
    """Every change in a tile's direction, comparison with England, quartile or target status.

    Frames: tile_key, title, period, direction, vs_england, quartile, targets, sources. Returns dicts with
    tile_key, title, field (words), old, new, period, sources.
    """
    if before is None or after is None or not len(before) or not len(after):
        return []
    old = before.set_index("tile_key")
    out = []
    for row in after.to_dict("records"):
        key = row["tile_key"]
        if key not in old.index:
            continue
        was = old.loc[key]
        for field, words in STATE_FIELDS.items():
            a, b = _text(was.get(field)), _text(row.get(field))
            if a != b:
                out.append({"tile_key": key, "title": row["title"], "field": words, "old": a or "none",
                            "new": b or "none", "period": row.get("period"), "old_period": was.get("period"),
                            "sources": row.get("sources") or ""})
    return out


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def _value(v, unit: str | None, decimals) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "no value"
    d = 1 if decimals is None or (isinstance(decimals, float) and math.isnan(decimals)) else int(decimals)
    return narrative.format_value(float(v), unit or "", d)


def _source(row: dict) -> str:
    title = row.get("source_title")
    return f"Source: {title}." if isinstance(title, str) and title else f"Source: {row.get('source_id') or 'unknown'}."


def _group(breakdown) -> str:
    from derby_oa.analysis.headlines import BREAKDOWN_LABELS

    if not isinstance(breakdown, str) or not breakdown:
        return ""
    label = BREAKDOWN_LABELS.get(breakdown, breakdown)
    return f" ({label if label[:2].isupper() else label[:1].lower() + label[1:]})"


def item_sentences(items: pd.DataFrame, limit: int = 60) -> list[str]:
    """Sentences for new figures, revisions and indicator changes (Derby and England named; other areas counted).

    `items` holds ITEM_COLUMNS plus title, area_name, unit, decimals, source_title (as stored in the history).
    """
    if items is None or not len(items):
        return []
    out: list[str] = []
    for kind in (NEW_INDICATOR, REMOVED_INDICATOR):
        for r in items[items["kind"] == kind].to_dict("records"):
            verb = "New indicator" if kind == NEW_INDICATOR else "Indicator no longer held"
            out.append(f"{verb}: {r.get('title') or r['indicator_id']}. {_source(r)}")
    figures = items[items["kind"].isin([NEW, REVISED, REMOVED])]
    for (kind, ind, bd, period), grp in figures.groupby(["kind", "indicator_id", "breakdown", "period"],
                                                         sort=False, dropna=False):
        rows = grp.to_dict("records")
        first = rows[0]
        title = f"{first.get('title') or ind}{_group(bd)}"
        named = [r for r in rows if r["area_code"] in HEADLINE_AREAS]
        named.sort(key=lambda r: HEADLINE_AREAS.index(r["area_code"]))
        others = len(rows) - len(named)
        more = f"{' and' if named else ''} {others:,} other area{'s' if others != 1 else ''}" if others else ""
        if kind == NEW:
            parts = ", ".join(f"{r.get('area_name') or r['area_code']} {_value(r['new_value'], r.get('unit'), r.get('decimals'))}"
                              for r in named)
            text = f"New figures: {title}, {period}: {parts}{more}."
        elif kind == REVISED:
            parts = ", ".join(f"{r.get('area_name') or r['area_code']} from {_value(r['old_value'], r.get('unit'), r.get('decimals'))} "
                              f"to {_value(r['new_value'], r.get('unit'), r.get('decimals'))}" for r in named)
            text = f"Revised: {title}, {period}: {parts}{more}."
        else:
            parts = ", ".join(f"{r.get('area_name') or r['area_code']} (was {_value(r['old_value'], r.get('unit'), r.get('decimals'))})"
                              for r in named)
            text = f"Withdrawn: {title}, {period}: {parts}{more}."
        out.append(f"{text.replace(': .', '.').replace(':  ', ': ')} {_source(first)}")
    if len(out) > limit:
        rest = len(out) - limit
        out = out[:limit] + [f"... and {rest:,} more (see the table)."]
    return out


def state_sentences(changes: list[dict], source_titles: dict[str, str] | None = None) -> list[str]:
    """Sentences for changes in tiles' direction, significance, quartile or target status."""
    out = []
    for c in changes:
        srcs = [s for s in str(c.get("sources") or "").split("; ") if s]
        named = "; ".join((source_titles or {}).get(s, s) for s in srcs) or "the figures above"
        when = f" (latest {c['period']})" if c.get("period") else ""
        out.append(f"{c['title']}{when}: {c['field']} changed from {c['old']} to {c['new']}. Source: {named}.")
    return out


def since_label(since: dt.date | dt.datetime) -> str:
    """'2 November 2026'."""
    return f"{since.day} {since:%B %Y}"


def no_change_sentence(since: dt.date | dt.datetime) -> str:
    return f"No new data since {since_label(since)}: no figure, indicator or tile status has changed."

"""Every ward indicator at once (no Streamlit): one ward's profile with its rank among Derby's wards,
and two wards compared with each other, Derby and England across all indicators.

Input is `queries.wards.latest_ward_values` (one row per indicator, breakdown and ward at the
latest period with ward figures) and `latest_reference_values` (Derby and England in the same
periods). Each (indicator, breakdown) pair is one *measure*. A ward without a figure is "no data":
it is never ranked, plotted or compared as zero.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from derby_oa import config, vocabulary
from derby_oa.analysis.wards import ranking as wards

MEASURE_COLUMNS = ["indicator_id", "breakdown", "period", "year", "title", "short_title", "theme", "unit", "decimals",
                   "polarity", "definition", "series_breaks"]
BETTER = {"low": "higher", "high": "lower", None: "neither"}  # worse end -> which end is better


def _missing(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def breakdown_label(breakdown: str) -> str:
    """"" for all pupils, else " (FSM)" and so on."""
    if breakdown == "all":
        return ""
    return f" ({wards.BREAKDOWN_LABELS.get(breakdown, breakdown.replace('_', ' '))})"


def measure_key(indicator_id: str, breakdown: str) -> str:
    """A measure's id: the indicator id, with `:breakdown` unless it is `all`."""
    return indicator_id if breakdown == "all" else f"{indicator_id}:{breakdown}"


def measures(latest: pd.DataFrame) -> pd.DataFrame:
    """One row per measure (key, label, period and the indicator's metadata), outcome indicators
    first in the query's order, then the context indicators in wards.CONTEXT_ORDER."""
    seen: dict[str, dict] = {}
    for r in latest[MEASURE_COLUMNS].to_dict("records"):
        key = measure_key(r["indicator_id"], r["breakdown"])
        if key not in seen:
            seen[key] = {"key": key, "label": f"{r['title']}{breakdown_label(r['breakdown'])}", **r}
    order = {ind: i for i, ind in enumerate(wards.CONTEXT_ORDER)}
    rows = sorted(seen.values(), key=lambda r: order.get(r["indicator_id"], -1))  # stable: query order kept
    return pd.DataFrame(rows, columns=["key", "label", *MEASURE_COLUMNS])


def meta_of(row: Mapping) -> dict:
    """The metadata dict (unit, decimals, polarity, ...) of a measure row."""
    return {k: row.get(k) for k in MEASURE_COLUMNS if k in row}


def with_ranks(latest: pd.DataFrame) -> pd.DataFrame:
    """`latest` plus key, rank (Int64; 1 = highest, ties share the best rank, NA without data) and
    n_ranked (wards with data for the measure)."""
    df = latest.copy()
    df["key"] = [measure_key(i, b) for i, b in zip(df["indicator_id"], df["breakdown"])]
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    df["rank"] = df.groupby("key")["value"].rank(ascending=False, method="min").astype("Int64")
    df["n_ranked"] = df.groupby("key")["value"].transform("count").astype(int)
    return df


def _by_measure(ranked: pd.DataFrame) -> dict[str, dict[str, dict]]:
    """measure key -> area code -> row (plain dicts: fast to look up, whatever the frame's dtypes)."""
    out: dict[str, dict[str, dict]] = {}
    for r in ranked.to_dict("records"):
        out.setdefault(r["key"], {})[r["area_code"]] = r
    return out


def _reference(reference: pd.DataFrame) -> dict[tuple[str, str], float | None]:
    out = {}
    for r in reference.itertuples():
        out[(measure_key(r.indicator_id, r.breakdown), r.area_code)] = None if _missing(r.value) else float(r.value)
    return out


def _rank_short(rank, n: int) -> str:
    return wards.rank_text(rank, n).replace(" wards with data (1 = highest)", " (1 = highest)")


def _each_measure(latest: pd.DataFrame, reference: pd.DataFrame):
    """Each measure's record, with the ranked ward rows by measure and ward and Derby's and England's values."""
    by_measure, ref = _by_measure(with_ranks(latest)), _reference(reference)
    for m in measures(latest).to_dict("records"):
        yield m, by_measure, ref


def profile(latest: pd.DataFrame, reference: pd.DataFrame, ward_code: str) -> pd.DataFrame:
    """One ward's figure for every measure, with its rank among Derby's wards, Derby and England.

    Columns: Indicator, Period, Value, Rank among wards, Better when, Derby, England, Status, Source,
    key. A measure the ward has no figure for reads "no data" and "not ranked (no data)".
    """
    cols = ["Indicator", "Period", "Value", "Rank among wards", "Better when", "Derby", "England", "Status",
            "Source", "key"]
    if latest.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for m, by_measure, ref in _each_measure(latest, reference):
        meta = meta_of(m)
        part = by_measure.get(m["key"], {})
        row = part.get(ward_code, {})
        n_ranked = next(iter(part.values()))["n_ranked"] if part else 0
        value = row.get("value")
        status = row.get("status")
        counts = meta.get("unit") != "count"  # a ward's count is not compared with Derby's or England's total
        rows.append({
            "Indicator": m["label"], "Period": m["period"], "Value": wards.fmt_status(value, status, meta),
            "Rank among wards": _rank_short(row.get("rank"), int(n_ranked)),
            "Better when": BETTER[vocabulary.worse_end(meta)],
            "Derby": wards.fmt(ref.get((m["key"], config.DERBY)), meta) if counts else "",
            "England": wards.fmt(ref.get((m["key"], config.ENGLAND)), meta) if counts else "",
            "Status": "no row" if _missing(status) else str(status),
            "Source": "" if _missing(row.get("source_title")) else str(row["source_title"]),
            "key": m["key"]})
    return pd.DataFrame(rows, columns=cols)


def compare_all(latest: pd.DataFrame, reference: pd.DataFrame, code_a: str, code_b: str) -> pd.DataFrame:
    """Two wards across every measure, as numbers (NaN = no data).

    Columns: key, label, period, unit, decimals, polarity, a, b, derby, england, gap (a - b), rank_a,
    rank_b, n_ranked, ward_min, ward_max (over the wards with data). Derby and England are left out
    for counts (a ward's count is not comparable with a city's or country's).
    """
    cols = ["key", "label", "period", "unit", "decimals", "polarity", "definition", "title", "a", "b", "status_a",
            "status_b", "derby",
            "england", "gap", "rank_a", "rank_b", "n_ranked", "ward_min", "ward_max"]
    if latest.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for m, by_measure, ref in _each_measure(latest, reference):
        part = by_measure.get(m["key"], {})
        ra, rb = part.get(code_a, {}), part.get(code_b, {})
        a = None if _missing(ra.get("value")) else float(ra["value"])
        b = None if _missing(rb.get("value")) else float(rb["value"])
        values = [float(r["value"]) for r in part.values() if not _missing(r["value"])]
        counts = m.get("unit") == "count"
        d = int(m.get("decimals") or 0)
        rows.append({**{k: m.get(k) for k in ("key", "label", "period", "unit", "decimals", "polarity", "definition",
                                              "title")},
                     "a": a, "b": b, "status_a": ra.get("status"), "status_b": rb.get("status"),
                     "derby": None if counts else ref.get((m["key"], config.DERBY)),
                     "england": None if counts else ref.get((m["key"], config.ENGLAND)),
                     "gap": None if a is None or b is None else round(a - b, d),
                     "rank_a": ra.get("rank"), "rank_b": rb.get("rank"), "n_ranked": len(values),
                     "ward_min": min(values, default=None), "ward_max": max(values, default=None)})
    out = pd.DataFrame(rows, columns=cols)
    for c in ("a", "b", "derby", "england", "gap", "ward_min", "ward_max"):
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float)
    return out


def compare_all_table(cmp: pd.DataFrame, name_a: str, name_b: str) -> pd.DataFrame:
    """The two-ward comparison as a readable table: each value in its unit, or "no data"."""
    rows = []
    for r in cmp.to_dict("records"):
        meta = {"unit": r["unit"], "decimals": r["decimals"]}
        counts = r["unit"] == "count"
        rows.append({"Indicator": r["label"], "Period": r["period"], name_a: wards.fmt_status(r["a"], r["status_a"], meta),
                     name_b: wards.fmt_status(r["b"], r["status_b"], meta),
                     f"Gap ({name_a} minus {name_b})": wards.fmt_difference(None if _missing(r["gap"]) else r["gap"], meta),
                     "Derby": "" if counts else wards.fmt(r["derby"], meta),
                     "England": "" if counts else wards.fmt(r["england"], meta),
                     f"{name_a}: rank": _rank_short(r["rank_a"], r["n_ranked"]),
                     f"{name_b}: rank": _rank_short(r["rank_b"], r["n_ranked"]),
                     "Better when": BETTER[vocabulary.worse_end(r)]})
    return pd.DataFrame(rows)


def position(value: float | None, lo: float, hi: float) -> float | None:
    """Where `value` sits on the range of Derby's wards: 0 = lowest ward, 100 = highest (outside
    0-100 for Derby or England beyond the range); 50 when all wards have one value; None if missing."""
    if _missing(value) or _missing(lo) or _missing(hi):
        return None
    if hi == lo:
        return 50.0
    return round(100 * (float(value) - lo) / (hi - lo), 1)


def dot_frame(cmp: pd.DataFrame, name_a: str, name_b: str) -> pd.DataFrame:
    """Long frame for the dot chart: one row per measure and area with a figure.

    Columns: measure (label), area, value, label (formatted), position (see `position`), order
    (the measure's place in the table). Areas without a figure are left out, never drawn at zero.
    """
    rows = []
    for i, r in enumerate(cmp.to_dict("records")):
        meta = {"unit": r["unit"], "decimals": r["decimals"]}
        for area, col in ((name_a, "a"), (name_b, "b"), ("Derby", "derby"), ("England", "england")):
            pos = position(r[col], r["ward_min"], r["ward_max"])
            if pos is None:
                continue
            rows.append({"measure": r["label"], "area": area, "value": r[col], "label": wards.fmt(r[col], meta),
                         "position": pos, "order": i})
    return pd.DataFrame(rows, columns=["measure", "area", "value", "label", "position", "order"])


def trend_frame(history: pd.DataFrame, ward_code: str) -> pd.DataFrame:
    """Rows for charts.trend_chart from `queries.wards.ward_history`: series, year, period, value.

    The ward's figures from different sources are different series (never joined); Derby and England
    are kept only within the years the ward has figures for.
    """
    h = history.copy()
    h["value"] = pd.to_numeric(h["value"], errors="coerce").astype(float)
    mine = h[h["area_code"] == ward_code]
    if mine.empty:
        return pd.DataFrame(columns=["series", "year", "period", "value"])
    lo, hi = mine["year"].min(), mine["year"].max()
    several = mine["source_id"].nunique() > 1
    series = [f"{n} ({s})" if several and c == ward_code else n
              for c, n, s in zip(h["area_code"], h["area_name"], h["source_id"])]
    out = h.assign(series=series)
    out = out[(out["area_code"] == ward_code) | out["year"].between(lo, hi)]
    return out[["series", "year", "period", "value"]].reset_index(drop=True)


def trend_options(history_counts: Mapping[str, int]) -> list[str]:
    """Measure keys with figures for the ward in two or more periods (a trend can be drawn)."""
    return [k for k, n in history_counts.items() if n >= 2]

"""Where are children worst off (no Streamlit): wards ranked on child poverty and deprivation
together, and a ward outcome set against a deprivation measure with a fitted line.

Input is `ward_profiles.with_ranks(latest)` or `queries.wards.latest_ward_values` (long; one row
per measure and ward). Everything here is descriptive: a ward above or below the line is doing
better or worse than wards with similar deprivation, which says nothing about why.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from derby_oa import vocabulary
from derby_oa.analysis.wards import ranking as wards
from derby_oa.analysis.wards.profiles import measures

# The parts of the "children worst off" ranking: the first family member each vintage has, in order.
# A family is matched on indicator id and title; within a family, rates come before deciles/ranks and
# newer (by period) before older.
FAMILIES = (
    ("Children in low-income families", re.compile(r"low.?income|child.?poverty|cilif", re.IGNORECASE)),
    ("Income deprivation affecting children (IDACI)", re.compile(r"idaci|affecting children", re.IGNORECASE)),
)
# Used only when no ward has any child-poverty measure: the IoD income domain and the IMD.
FALLBACK = ("iod_income_decile", "imd_decile")
RULE = ("Wards are ranked on each part from 1 (worst off) to the number of wards with a figure; ties share "
        "the better rank. The combined score is the mean of a ward's ranks over the parts it has a figure for, "
        "and the wards are ordered by it (1 = worst off). A ward with no figure on any part is not ranked. "
        "Parts: the newest measure of children in low-income families, and the newest IDACI measure (a rate "
        "before a decile), where the database holds them for these wards; if it holds neither, the IoD 2019 "
        "income domain and the IMD, said so on the page.")
DESCRIPTIVE = ("This is descriptive, not causal: a ward above or below the line differs from wards with similar "
               "deprivation, for reasons the chart cannot show (and ward figures rest on small numbers).")


def _missing(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def need_parts(latest: pd.DataFrame) -> tuple[list[str], bool]:
    """Measure keys for the worst-off ranking and whether they are the fallback (no child measure).

    One measure per family in FAMILIES: among the family's measures (breakdown `all`), a % or rate
    before a decile, rank or score, then the newest period.
    """
    m = measures(latest)
    m = m[m["breakdown"] == "all"]
    parts = []
    for _, pattern in FAMILIES:
        hits = m[[bool(pattern.search(f"{i} {t}")) for i, t in zip(m["indicator_id"], m["title"])]]
        if len(hits):
            hits = hits.assign(_rate=~hits["unit"].isin(["rank", "score"]))
            parts.append(hits.sort_values(["_rate", "year"], ascending=False, kind="stable")["key"].iloc[0])
    if parts:
        return parts, False
    return [k for k in FALLBACK if k in set(m["key"])], True


def worse_end(meta) -> str:
    """The worse end of a need measure: from `vocabulary.worse_end`, else high for rates and low for ranks."""
    end = vocabulary.worse_end(meta)
    if end:
        return end
    return "low" if meta.get("unit") in ("rank", "score") else "high"


def worst_off(ranked: pd.DataFrame, parts: list[str]) -> pd.DataFrame:
    """Wards ranked on the parts together (see RULE).

    `ranked` is `ward_profiles.with_ranks(latest)`. Returns one row per ward, worst off first:
    area_code, area_name, score (mean rank, NaN without any part), rank (Int64), n_parts, and per
    part `<key>` (value), `<key> label` and `<key> rank` (1 = worst off).
    """
    wards_df = ranked[["area_code", "area_name"]].drop_duplicates().reset_index(drop=True)
    out = wards_df.copy()
    rank_cols = []
    for key in parts:
        part = ranked[ranked["key"] == key]
        if part.empty:
            continue
        meta = part.iloc[0].to_dict()
        values = part.set_index("area_code")["value"].astype(float)
        low_worse = worse_end(meta) == "low"
        r = values.rank(ascending=low_worse, method="min").astype("Int64")
        out[key] = out["area_code"].map(values)
        out[f"{key} label"] = [wards.fmt(v, meta) for v in out[key]]
        out[f"{key} rank"] = out["area_code"].map(r).astype("Int64")
        rank_cols.append(f"{key} rank")
    ranks = out[rank_cols].astype(float) if rank_cols else pd.DataFrame(index=out.index)
    out["n_parts"] = ranks.notna().sum(axis=1).astype(int)
    out["score"] = ranks.mean(axis=1) if rank_cols else np.nan
    out["rank"] = out["score"].rank(method="min").astype("Int64")
    return out.sort_values(["score", "area_name"], na_position="last").reset_index(drop=True)


def worst_off_table(table: pd.DataFrame, parts: list[str], labels: dict[str, str]) -> pd.DataFrame:
    """The worst-off ranking for display: rank, ward, combined score, then each part's value and rank."""
    rows = []
    for r in table.to_dict("records"):
        row = {"Rank (1 = worst off)": "not ranked (no data)" if _missing(r["rank"]) else str(int(r["rank"])),
               "Ward": r["area_name"],
               "Mean of part ranks": "no data" if _missing(r["score"]) else f"{r['score']:.1f}",
               "Parts with a figure": f"{r['n_parts']} of {len(parts)}"}
        for key in parts:
            if f"{key} rank" not in r:
                continue
            rank = r[f"{key} rank"]
            row[labels.get(key, key)] = r[f"{key} label"]
            row[f"{labels.get(key, key)}: rank"] = "not ranked" if _missing(rank) else str(int(rank))
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Fit:
    """A least-squares line y = intercept + slope * x over n wards, with r squared and the residual SD."""

    slope: float
    intercept: float
    r2: float
    n: int
    residual_sd: float

    def predict(self, x):
        return self.intercept + self.slope * np.asarray(x, dtype=float)


def fit_line(x, y) -> Fit | None:
    """Ordinary least squares of y on x; None with fewer than 3 points or no spread in x."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    if len(x) < 3 or np.ptp(x) == 0:
        return None
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (intercept + slope * x)
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1 - float((resid ** 2).sum()) / total if total > 0 else 1.0
    sd = float(np.sqrt((resid ** 2).sum() / (len(x) - 2))) if len(x) > 2 else 0.0
    return Fit(float(slope), float(intercept), r2, int(len(x)), sd)


def scatter(ranked: pd.DataFrame, x_key: str, y_key: str) -> tuple[pd.DataFrame, Fit | None, list[str]]:
    """Wards with both figures, the fitted line and the wards left out (names, no data on either).

    Frame columns: area_code, area_name, x, y, x_label, y_label, predicted, residual, verdict. The
    verdict is "better than its deprivation predicts" / "worse than ..." for a ward more than one
    residual standard deviation from the line (direction from the outcome's polarity; "above/below
    the line" when neither end is better), else "about as predicted".
    """
    xs = ranked[ranked["key"] == x_key].set_index("area_code")
    ys = ranked[ranked["key"] == y_key].set_index("area_code")
    x_meta = xs.iloc[0].to_dict() if len(xs) else {}
    y_meta = ys.iloc[0].to_dict() if len(ys) else {}
    codes = list(dict.fromkeys(list(xs.index) + list(ys.index)))
    names = {**xs["area_name"].to_dict(), **ys["area_name"].to_dict()} if len(xs) or len(ys) else {}
    df = pd.DataFrame({"area_code": codes, "area_name": [names[c] for c in codes],
                       "x": [xs["value"].get(c, np.nan) for c in codes],
                       "y": [ys["value"].get(c, np.nan) for c in codes]})
    df[["x", "y"]] = df[["x", "y"]].astype(float)
    left_out = sorted(df.loc[df["x"].isna() | df["y"].isna(), "area_name"])
    df = df.dropna(subset=["x", "y"]).reset_index(drop=True)
    df["x_label"] = [wards.fmt(v, x_meta) for v in df["x"]]
    df["y_label"] = [wards.fmt(v, y_meta) for v in df["y"]]
    fit = fit_line(df["x"], df["y"])
    if fit is None:
        df["predicted"] = np.nan
        df["residual"] = np.nan
        df["verdict"] = "no line (fewer than 3 wards)"
        return df, None, left_out
    df["predicted"] = fit.predict(df["x"])
    df["residual"] = df["y"] - df["predicted"]
    end = vocabulary.worse_end(y_meta)
    verdicts = []
    for res in df["residual"]:
        if fit.residual_sd == 0 or abs(res) <= fit.residual_sd:
            verdicts.append("about as predicted")
        elif end is None:
            verdicts.append("above the line" if res > 0 else "below the line")
        else:
            better = (res > 0) == (end == "low")
            verdicts.append(f"{'better' if better else 'worse'} than its deprivation predicts")
    df["verdict"] = verdicts
    return df, fit, left_out


def scatter_table(df: pd.DataFrame, x_title: str, y_title: str, y_meta) -> pd.DataFrame:
    """The scatter as a table: ward, both values, the value the line predicts, the difference and verdict."""
    d = int(y_meta.get("decimals") or 0)
    return pd.DataFrame({"Ward": df["area_name"], x_title: df["x_label"], y_title: df["y_label"],
                         "Predicted by the line": [wards.fmt(v, y_meta) for v in df["predicted"]],
                         "Difference from the line": ["no data" if _missing(v) else f"{v:+,.{d}f}" for v in df["residual"]],
                         "Reading": df["verdict"]})


def default_pair(ranked: pd.DataFrame, parts: list[str]) -> tuple[str | None, str | None]:
    """Default (deprivation, outcome) keys for the scatter: the first need part, and the first
    outcome measure (not context, not a need part) with at least 3 wards; else any other measure."""
    m = measures(ranked)
    counts = ranked.groupby("key")["value"].count().to_dict()
    x = parts[0] if parts else None
    others = [r for r in m.to_dict("records") if r["key"] != x and counts.get(r["key"], 0) >= 3
              and r["key"] not in parts]
    outcome = next((r["key"] for r in others if r["theme"] != "context"), None)
    education = next((r["key"] for r in others if "education" in r["key"]), None)  # young people's education
    y = outcome or education or next((r["key"] for r in others if r.get("unit") != "count"), None)
    return x, y


def deprivation_options(ranked: pd.DataFrame, parts: list[str]) -> list[str]:
    """Measures offered as the deprivation axis: the need parts, then context measures (not counts)."""
    m = measures(ranked)
    context = [k for k, t, u in zip(m["key"], m["theme"], m["unit"]) if t == "context" and u != "count"]
    return list(dict.fromkeys([*parts, *context]))


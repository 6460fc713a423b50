"""Small trend lines for the headline tiles: Derby against England (pure; Vega-Lite dicts, no Streamlit, no SQL).

Rules: Derby is a solid dark-blue line with round points, England a dashed turquoise line with square points, so
the two differ by more than colour. A series break (or a year with no value) ends a line; the next year starts a
new one, never joined. The latest point of each series is drawn larger and labelled with its value, and a thin
dashed rule marks a series break. Shared by the overview tiles and the board pack (through vl-convert).
"""
from __future__ import annotations

import pandas as pd

from derby_oa import config
from derby_oa.viz import theme
from derby_oa.viz.charts import segment_series
from derby_oa.analysis.comparisons import prefer_published
from derby_oa.series import all_breaks

SERIES = ("Derby", "England")
COLOURS = {"Derby": theme.DARK_BLUE, "England": theme.TURQUOISE}
SHAPES = {"Derby": "circle", "England": "square"}
DASHES = {"Derby": [1, 0], "England": [5, 3]}
WIDTH, HEIGHT = 300, 50


def trend_frame(obs: pd.DataFrame, indicator_id: str, breakdown: str, decimals: int) -> pd.DataFrame:
    """Derby's and England's series for one tile: columns series, year, period, value (rounded as published).

    `obs` is the overview's observations (area_code, indicator_id, breakdown, year, period, value, status ...).
    """
    cols = ["series", "year", "period", "value"]
    if obs is None or obs.empty:
        return pd.DataFrame(columns=cols)
    sub = obs[(obs["indicator_id"] == indicator_id) & (obs["breakdown"] == breakdown)
              & obs["area_code"].isin([config.DERBY, config.ENGLAND]) & obs["value"].notna()]
    if sub.empty:
        return pd.DataFrame(columns=cols)
    sub = prefer_published(sub)
    out = sub.assign(series=sub["area_code"].map({config.DERBY: "Derby", config.ENGLAND: "England"}),
                     value=sub["value"].astype(float).round(int(decimals)), year=sub["year"].astype(int))
    return out[cols].sort_values(["series", "year"]).reset_index(drop=True)


def _fmt(value: float, decimals: int, unit: str) -> str:
    text = f"{value:,.{int(decimals)}f}"
    return text + ("%" if unit == "%" else "")


def spec(frame: pd.DataFrame, meta: dict, width: int = WIDTH, height: int = HEIGHT,
         label_latest: bool = False) -> dict | None:
    """The Vega-Lite spec of one sparkline, or None when Derby has fewer than two years to draw.

    `frame`: columns series ("Derby" | "England"), year, value (NaN where missing), optional period.
    `meta`: decimals, unit, series_breaks.
    """
    data = frame[frame["series"].isin(SERIES)]
    derby = data[(data["series"] == "Derby") & data["value"].notna()]
    if derby["year"].nunique() < 2:
        return None
    decimals, unit = int(meta.get("decimals", 1)), meta.get("unit") or ""
    breaks = all_breaks(meta)  # series breaks and years that stand alone (KS4 teacher-assessed grades)
    seg = segment_series(data[["series", "year", "value"]], breaks)
    seg = seg[seg["value"].notna()].copy()
    seg["year"] = seg["year"].astype(int)
    seg["value"] = seg["value"].astype(float)
    latest = seg.sort_values("year").groupby("series", sort=False).tail(1).copy()
    latest["label"] = [_fmt(v, decimals, unit) for v in latest["value"]]
    lo, hi = int(seg["year"].min()), int(seg["year"].max())
    order = [s for s in SERIES if s in set(seg["series"])]
    x = {"field": "year", "type": "quantitative", "axis": None,
         "scale": {"domain": [lo - 0.3, hi + 0.3], "nice": False}}
    y = {"field": "value", "type": "quantitative", "axis": None, "scale": {"zero": False, "nice": False}}
    colour = {"field": "series", "type": "nominal", "legend": None,
              "scale": {"domain": order, "range": [COLOURS[s] for s in order]}}
    shape = {"field": "series", "type": "nominal", "legend": None,
             "scale": {"domain": order, "range": [SHAPES[s] for s in order]}}
    dash = {"field": "series", "type": "nominal", "legend": None,
            "scale": {"domain": order, "range": [DASHES[s] for s in order]}}
    records = [{"series": r.series, "year": int(r.year), "value": float(r.value), "segment": r.segment}
               for r in seg.itertuples()]
    layers = []
    rules = [{"year": b - 0.5} for b in breaks if lo < b <= hi]
    if rules:
        layers.append({"data": {"values": rules}, "mark": {"type": "rule", "strokeDash": [2, 2],
                                                             "color": theme.DARK_GREY, "strokeWidth": 1},
                       "encoding": {"x": {**x, "field": "year"}}, "name": "series_break"})
    layers.append({"data": {"values": records}, "name": "lines",
                   "mark": {"type": "line", "strokeWidth": 2.6, "interpolate": "linear"},
                   "encoding": {"x": x, "y": y, "color": colour, "strokeDash": dash, "detail":
                                {"field": "segment", "type": "nominal"}}})
    # A single-year segment (a year between two breaks or gaps) still shows as a point.
    layers.append({"data": {"values": records}, "name": "points",
                   "mark": {"type": "point", "filled": True, "size": 14, "opacity": 0.9},
                   "encoding": {"x": x, "y": y, "color": colour, "shape": shape}})
    latest_records = [{"series": r.series, "year": int(r.year), "value": float(r.value), "label": r.label}
                      for r in latest.itertuples()]
    layers.append({"data": {"values": latest_records}, "name": "latest",
                   "mark": {"type": "point", "filled": True, "size": 90, "opacity": 1, "stroke": "#FFFFFF", "strokeWidth": 1},
                   "encoding": {"x": x, "y": y, "color": colour, "shape": shape}})
    ends = seg[seg["year"].isin([lo, hi])].drop_duplicates("year")
    labels = period_names(frame)
    layers.append({"data": {"values": [{"year": int(y), "label": labels.get(int(y), str(int(y))),
                                        "align": "left" if y == lo else "right"} for y in sorted(ends["year"])]},
                   "name": "period_labels",
                   "mark": {"type": "text", "fontSize": 12, "color": "#505A5F", "baseline": "top"},
                   "encoding": {"x": x, "y": {"value": height + 3}, "text": {"field": "label", "type": "nominal"},
                                "align": {"field": "align", "type": "nominal", "scale": None}}})
    if label_latest:
        layers.append({"data": {"values": latest_records}, "name": "latest_label",
                       "mark": {"type": "text", "align": "right", "dx": -7, "fontSize": 11, "fontWeight": "bold"},
                       "encoding": {"x": x, "y": y, "text": {"field": "label", "type": "nominal"},
                                    "color": colour,
                                    "yOffset": {"value": 0}}})
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "width": width, "height": height,
            "padding": {"left": 4, "right": 6, "top": 6, "bottom": 16}, "background": "#FFFFFF",
            "config": {"view": {"stroke": None}, "font": theme.FONT},
            "layer": layers}


def period_names(frame: pd.DataFrame) -> dict[int, str]:
    """End year to period label (2024/25) from the frame's own periods."""
    if "period" not in frame.columns:
        return {}
    return {int(y): str(p) for y, p in zip(frame["year"], frame["period"]) if isinstance(p, str) and p}


def alt_text(frame: pd.DataFrame, meta: dict, title: str) -> str:
    """Words for the line (its alt text): first and latest year of each series, and any break."""
    parts = []
    decimals, unit = int(meta.get("decimals", 1)), meta.get("unit") or ""
    for name in SERIES:
        s = frame[(frame["series"] == name) & frame["value"].notna()].sort_values("year")
        if len(s) < 1:
            continue
        first, last = s.iloc[0], s.iloc[-1]
        label = lambda r: r["period"] if "period" in r and isinstance(r["period"], str) else str(int(r["year"]))
        parts.append(f"{name} {_fmt(first['value'], decimals, unit)} in {label(first)} to "
                     f"{_fmt(last['value'], decimals, unit)} in {label(last)}")
    names = period_names(frame)
    breaks = [b for b in meta.get("series_breaks", []) if len(frame) and frame["year"].min() < b <= frame["year"].max()]
    note = f"; new series from {', '.join(names.get(b, str(b)) for b in breaks)} (not joined)" if breaks else ""
    return f"Trend in {title}: " + "; ".join(parts) + note


def segments(spec_dict: dict, series: str) -> list[list[int]]:
    """Years joined by each drawn line of `series` in a sparkline spec (for checks)."""
    out: dict[str, list[int]] = {}
    for layer in spec_dict.get("layer", []):
        if layer.get("name") != "lines":
            continue
        for row in layer["data"]["values"]:
            if row["series"] == series:
                out.setdefault(row["segment"], []).append(row["year"])
    return [sorted(v) for v in out.values()]


def to_svg(spec_dict: dict) -> str:
    """The sparkline as SVG text through vl-convert (offline)."""
    import vl_convert as vlc

    return vlc.vegalite_to_svg(spec_dict)

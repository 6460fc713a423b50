"""Altair chart builders: pure functions from tidy frames to chart specs.

Lines are drawn per *segment*: a segment ends at a missing year (not collected, suppressed) and at
a series break, so a line never joins two years that are not comparable.
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from . import theme

FMT = {0: ",.0f", 1: ",.1f", 2: ",.2f", 3: ",.3f"}


def value_format(decimals: int) -> str:
    """d3 number format for an indicator's decimals."""
    return FMT.get(int(decimals), ",.2f")


def segment_series(df: pd.DataFrame, breaks: list[int], by: str = "series") -> pd.DataFrame:
    """Add `segment`: a new segment starts after a missing year and at each series-break year.

    `df` holds one row per (series, year), including rows whose value is missing.
    """
    out = df.sort_values([by, "year"]).copy()
    seg = []
    for _, grp in out.groupby(by, sort=False):
        n, prev_year, prev_missing = 0, None, True
        for year, value in zip(grp["year"], grp["value"]):
            missing = pd.isna(value)
            gap = prev_year is not None and year - prev_year > 1
            crosses_break = prev_year is not None and any(prev_year < b <= year for b in breaks)
            if not missing and (prev_missing or gap or crosses_break):
                n += 1
            seg.append(f"{n}" if not missing else "")
            prev_year, prev_missing = year, missing
    out["segment"] = seg
    out["segment"] = out[by].astype(str) + "|" + out["segment"]
    return out


def _annotations(meta: dict, years: list[int]) -> pd.DataFrame:
    lo, hi = (min(years), max(years)) if years else (0, 0)
    rows = [{"year": y, "label": "not collected"} for y in meta.get("not_collected", []) if lo <= y <= hi]
    rows += [{"year": b - 0.5, "label": "series break"} for b in meta.get("series_breaks", []) if lo < b <= hi]
    return pd.DataFrame(rows, columns=["year", "label"])


def trend_chart(df: pd.DataFrame, meta: dict, highlight: str | None = "Derby", height: int = 320,
                title: str | None = None) -> alt.LayerChart:
    """Line-and-point trend per series with gaps at missing years and series breaks.

    `df` columns: series, year, period, value (NaN where missing), optional lower/upper band.
    Not-collected years and series breaks are marked with labelled vertical rules.
    """
    data = segment_series(df, meta.get("series_breaks", []))
    data = data.assign(shown=data["value"].notna())
    order = list(dict.fromkeys(data["series"]))
    if highlight in order:
        order.remove(highlight)
        order.insert(0, highlight)
    fmt = value_format(meta.get("decimals", 1))
    colour = alt.Color("series:N", sort=order, scale=alt.Scale(range=theme.CATEGORICAL), legend=alt.Legend(title=None, orient="bottom"))
    shape = alt.Shape("series:N", sort=order, scale=alt.Scale(range=theme.SHAPES), legend=alt.Legend(title=None, orient="bottom"))
    dash = alt.StrokeDash("series:N", sort=order, scale=alt.Scale(range=theme.DASHES), legend=None)
    x = alt.X("year:Q", title="Year (academic or financial year ending)", axis=alt.Axis(format="d", tickMinStep=1))
    y = alt.Y("value:Q", title=meta.get("unit", ""), scale=alt.Scale(zero=False))
    tooltip = [alt.Tooltip("series:N", title="Area"), alt.Tooltip("period:N", title="Period"),
               alt.Tooltip("value:Q", title=meta.get("short_title") or "Value", format=fmt)]
    present = data[data["shown"]]
    lines = alt.Chart(present).mark_line().encode(x=x, y=y, color=colour, strokeDash=dash, detail="segment:N")
    points = alt.Chart(present).mark_point(filled=True, size=80).encode(x=x, y=y, color=colour, shape=shape, tooltip=tooltip)
    layers = [lines, points]
    if {"lower", "upper"} <= set(present.columns) and present["lower"].notna().any():
        band = alt.Chart(present.dropna(subset=["lower", "upper"])).mark_errorbar(ticks=True).encode(
            x=x, y=alt.Y("lower:Q", title=meta.get("unit", "")), y2="upper:Q", color=colour)
        layers.insert(0, band)
    notes = _annotations(meta, present["year"].tolist())
    if len(notes):
        rule = alt.Chart(notes).mark_rule(strokeDash=[4, 4], color=theme.DARK_GREY).encode(x="year:Q")
        text = alt.Chart(notes).mark_text(angle=270, align="right", baseline="bottom", dy=-3, dx=-4,
                                          color=theme.DARK_GREY, fontSize=11).encode(
            x="year:Q", y=alt.value(0), text="label:N")
        layers += [rule, text]
    chart = alt.layer(*layers).properties(height=height, width="container")
    if title:
        chart = chart.properties(title=title)
    return chart


def gap_chart(df: pd.DataFrame, meta: dict, height: int = 260, title: str | None = None) -> alt.LayerChart:
    """Gap in points between two groups over time, per area (e.g. FSM minus non-FSM).

    `df` columns: series (e.g. "Derby gap"), year, period, value (the gap, NaN where missing).
    """
    chart = trend_chart(df, {**meta, "unit": "Gap (percentage points)"}, highlight=None, height=height, title=title)
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color=theme.DARK_GREY).encode(y="y:Q")
    return alt.layer(chart, zero)


def ranked_bar_chart(df: pd.DataFrame, meta: dict, reference: float | None = None, reference_label: str = "Derby",
                     height: int | None = None, title: str | None = None) -> alt.LayerChart:
    """Horizontal bars of areas ranked by value, with an optional reference rule.

    `df` columns: area_name, value (NaN = no data, drawn as a labelled empty row).
    """
    data = df.copy()
    data["label"] = data["value"].map(lambda v: "no data" if pd.isna(v) else format(v, value_format(meta.get("decimals", 1))[1:]))
    descending = meta.get("polarity") != "lower_is_better"
    order = data.sort_values("value", ascending=not descending, na_position="last")["area_name"].tolist()
    y = alt.Y("area_name:N", sort=order, title=None)
    bars = alt.Chart(data).mark_bar(color=theme.DARK_BLUE).encode(
        x=alt.X("value:Q", title=meta.get("unit", "")), y=y,
        tooltip=[alt.Tooltip("area_name:N", title="Area"), alt.Tooltip("label:N", title="Value")])
    labels = alt.Chart(data).mark_text(align="left", dx=4, color="#0B0C0C").encode(
        x=alt.X("value:Q"), y=y, text="label:N")
    missing = alt.Chart(data[data["value"].isna()]).mark_text(align="left", dx=4, color=theme.DARK_GREY).encode(
        x=alt.value(0), y=y, text="label:N")
    layers = [bars, labels, missing]
    if reference is not None and not pd.isna(reference):
        ref = pd.DataFrame({"value": [reference], "label": [f"{reference_label} {reference:{value_format(meta.get('decimals', 1))[1:]}}"]})
        layers.append(alt.Chart(ref).mark_rule(color=theme.ORANGE, strokeDash=[6, 3], size=2).encode(x="value:Q"))
        layers.append(alt.Chart(ref).mark_text(align="left", dx=4, dy=-6, color="#0B0C0C").encode(
            x="value:Q", y=alt.value(0), text="label:N"))
    chart = alt.layer(*layers).properties(height=height or max(180, 24 * len(data)), width="container")
    return chart.properties(title=title) if title else chart


def export_image(chart: alt.TopLevelMixin, fmt: str) -> bytes:
    """PNG or SVG bytes of a chart through vl-convert (no network)."""
    import vl_convert as vlc

    spec = chart.properties(width=800).to_dict() if getattr(chart, "width", None) == "container" else chart.to_dict()
    if fmt == "svg":
        return vlc.vegalite_to_svg(spec).encode("utf-8")
    if fmt == "png":
        return vlc.vegalite_to_png(spec, scale=2)
    raise ValueError(f"unknown image format {fmt!r}: use 'png' or 'svg'")

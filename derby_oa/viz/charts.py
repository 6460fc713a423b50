"""Altair chart builders: pure functions from tidy frames to chart specs.

Lines are drawn per *segment*: a segment ends at a missing year (not collected, suppressed) and at
a series break, so a line never joins two years that are not comparable.
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from derby_oa.viz import theme
from derby_oa.viz.theme import N, Q
from derby_oa.series import all_breaks
from derby_oa.analysis.narrative import period_label

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


CONTEXT_LABEL = "Each statistical neighbour"
PREFERRED_ORDER = ["Derby", "England", "East Midlands", "Statistical neighbours (average)"]


def period_labels(df: pd.DataFrame) -> dict[int, str]:
    """End year to period label, from the frame's own period column (one label per year)."""
    out: dict[int, str] = {}
    like = df["period"].dropna().iloc[0] if "period" in df and df["period"].notna().any() else None
    for year, period in zip(df["year"], df["period"] if "period" in df else [None] * len(df)):
        if pd.isna(year):
            continue
        y = int(year)
        if y not in out or (isinstance(period, str) and len(period) == 7 and len(out[y]) != 7):
            out[y] = period if isinstance(period, str) and period else period_label(y, like)
    return out


def year_axis(labels: dict[int, str], title: str = "Period") -> alt.X:
    """Quantitative year axis whose ticks read as period labels (2015/16), one tick per year."""
    years = sorted(labels)
    mapping = ", ".join(f"'{y}': '{labels[y]}'" for y in years)
    angle = -40 if len(years) > 8 else 0
    axis = alt.Axis(values=years, labelExpr=f"({{{mapping}}})[datum.value] || ''", labelAngle=angle,
                    labelOverlap=False, grid=False)
    return alt.X(field="year", type=Q, title=title, axis=axis,
                 scale=alt.Scale(domain=[min(years) - 0.5, max(years) + 0.5], nice=False) if years else alt.Undefined)


def gap_notes(meta: dict, years: list[int]) -> pd.DataFrame:
    """Bands for not-collected years and rules for series breaks within the years shown.

    Columns: start, end (x extent; equal for a rule), label, kind ("not collected" | "series break" |
    "not comparable": a year that stands alone, e.g. KS4 teacher-assessed grades).
    """
    if not years:
        return pd.DataFrame(columns=["start", "end", "label", "kind"])
    lo, hi = min(years), max(years)
    rows = []
    missing = sorted(y for y in meta.get("not_collected", []) if lo <= y <= hi)
    run: list[int] = []
    for y in missing + [None]:
        if run and (y is None or y != run[-1] + 1):
            rows.append({"start": run[0] - 0.5, "end": run[-1] + 0.5, "label": "not collected",
                         "kind": "not collected"})
            run = []
        if y is not None:
            run.append(y)
    rows += [{"start": b - 0.5, "end": b - 0.5, "label": "series break", "kind": "series break"}
             for b in meta.get("series_breaks", []) if lo < b <= hi]
    rows += [{"start": y - 0.5, "end": y + 0.5, "label": "teacher-assessed: not comparable", "kind": "not comparable"}
             for y in meta.get("not_comparable", []) if lo <= y <= hi]
    return pd.DataFrame(rows, columns=["start", "end", "label", "kind"])


def _series_order(series: list[str], highlight: str | None) -> list[str]:
    order = [s for s in PREFERRED_ORDER if s in series] + [s for s in series if s not in PREFERRED_ORDER]
    if highlight in order:
        order.remove(highlight)
        order.insert(0, highlight)
    return order


def _cycle(values: list, n: int) -> list:
    return [values[i % len(values)] for i in range(n)]


def trend_chart(df: pd.DataFrame, meta: dict, highlight: str | None = "Derby", height: int = 320,
                title: str | None = None, context: list[str] | None = None) -> alt.LayerChart:
    """Line-and-point trend per series with gaps at missing years and series breaks.

    `df` columns: series, year, period, value (NaN where missing), optional lower/upper band.
    Series named in `context` (e.g. each statistical neighbour) are drawn as thin grey lines under one
    legend entry. Not-collected years are shaded and labelled; series breaks are labelled dashed rules.
    One legend carries colour and point shape together, so no series is told apart by colour alone.
    """
    context = [c for c in (context or []) if c in set(df["series"])]
    data = segment_series(df, all_breaks(meta))
    data = data.assign(shown=data["value"].notna(), area=data["series"])
    if context:
        data.loc[data["series"].isin(context), "series"] = CONTEXT_LABEL
    order = _series_order(list(dict.fromkeys(data.loc[data["series"] != CONTEXT_LABEL, "series"])), highlight)
    n = len(order)
    colours, shapes, dashes = _cycle(theme.CATEGORICAL, n), _cycle(theme.SHAPES, n), _cycle(theme.DASHES, n)
    if context:
        order, colours, shapes, dashes = (order + [CONTEXT_LABEL], colours + ["#6F777B"], shapes + ["circle"],
                                          dashes + [[1, 0]])
    fmt = value_format(meta.get("decimals", 1))
    legend = alt.Legend(title=None, orient="bottom", columns=min(4, len(order)), symbolStrokeWidth=2, labelLimit=320)
    colour = alt.Color(field="series", type=N, scale=alt.Scale(domain=order, range=colours), sort=order, legend=legend)
    shape = alt.Shape(field="series", type=N, scale=alt.Scale(domain=order, range=shapes), sort=order, legend=legend)
    dash = alt.StrokeDash(field="series", type=N, scale=alt.Scale(domain=order, range=dashes), sort=order, legend=None)
    x = year_axis(period_labels(data))
    xs = x.to_dict().get("scale", alt.Undefined)

    def xq(field: str) -> alt.X:  # annotation layers share the year scale (and its fixed domain)
        return alt.X(field=field, type=Q, scale=xs, title=x.to_dict().get("title"))
    y = alt.Y(field="value", type=Q, title=meta.get("unit", ""), scale=alt.Scale(zero=False))
    tooltip = [alt.Tooltip(field="area", type=N, title="Area"), alt.Tooltip(field="period", type=N, title="Period"),
               alt.Tooltip(field="value", type=Q, title=meta.get("short_title") or "Value", format=fmt)]
    present = data[data["shown"]]
    main, ctx = present[present["series"] != CONTEXT_LABEL], present[present["series"] == CONTEXT_LABEL]
    layers = []
    notes = gap_notes(meta, data["year"].dropna().astype(int).tolist())
    if len(notes):
        bands = notes[notes["kind"].isin(["not collected", "not comparable"])]
        rules = notes[notes["kind"] == "series break"]
        if len(bands):
            layers.append(alt.Chart(bands).mark_rect(color="#F3F2F1").encode(x=xq("start"), x2=alt.X2(field="end")))
            layers.append(alt.Chart(bands.assign(mid=(bands["start"] + bands["end"]) / 2)).mark_text(
                angle=270, align="right", baseline="middle", dy=0, dx=-4, color=theme.DARK_GREY, fontSize=11).encode(
                x=xq("mid"), y=alt.value(0), text=alt.Text(field="label", type=N)))
        if len(rules):
            layers.append(alt.Chart(rules).mark_rule(strokeDash=[4, 4], color=theme.DARK_GREY).encode(x=xq("start")))
            layers.append(alt.Chart(rules).mark_text(angle=270, align="right", baseline="bottom", dx=-4, dy=-3,
                                                     color=theme.DARK_GREY, fontSize=11).encode(
                x=xq("start"), y=alt.value(0), text=alt.Text(field="label", type=N)))
    if {"lower", "upper"} <= set(main.columns) and main["lower"].notna().any():
        layers.append(alt.Chart(main.dropna(subset=["lower", "upper"])).mark_errorbar(ticks=True).encode(
            x=x, y=alt.Y(field="lower", type=Q, title=meta.get("unit", "")), y2=alt.Y2(field="upper"),
            color=colour))
    if len(ctx):
        layers.append(alt.Chart(ctx).mark_line(strokeWidth=1, opacity=0.7).encode(
            x=x, y=y, color=colour,
            detail=alt.Detail(field="segment", type=N)))
        layers.append(alt.Chart(ctx).mark_point(filled=True, size=25, opacity=0.8).encode(
            x=x, y=y, color=colour, shape=shape, tooltip=tooltip))
    layers.append(alt.Chart(main).mark_line().encode(
        x=x, y=y, color=colour,
        strokeDash=dash, detail=alt.Detail(field="segment", type=N)))
    layers.append(alt.Chart(main).mark_point(filled=True, size=80).encode(
        x=x, y=y, color=colour, shape=shape, tooltip=tooltip))
    chart = alt.layer(*layers).resolve_scale(color="shared", shape="shared").properties(
        height=height, width="container")
    if title:
        chart = chart.properties(title=title)
    return chart


def line_segments(spec: dict) -> list[list[int]]:
    """Years joined by each drawn line segment in a trend chart spec (`chart.to_dict()`); for checks."""
    datasets = spec.get("datasets", {})
    out = []
    for layer, inherited in _layers_with_data(spec):
        mark = layer.get("mark")
        kind = mark.get("type") if isinstance(mark, dict) else mark
        if kind != "line":
            continue
        data = layer.get("data") or inherited or {}
        rows = data.get("values") or datasets.get(data.get("name"), [])
        by_seg: dict[str, list[int]] = {}
        for row in rows:
            by_seg.setdefault(row["segment"], []).append(int(row["year"]))
        out += [sorted(v) for v in by_seg.values()]
    return out


def _layers_with_data(spec: dict, inherited: dict | None = None):
    """Leaf layers with the data they inherit from the nearest parent that has some."""
    here = spec.get("data") or inherited
    for layer in spec.get("layer", []):
        if "layer" in layer:
            yield from _layers_with_data(layer, here)
        else:
            yield layer, here


def _layers(spec: dict):
    for layer in spec.get("layer", []):
        if "layer" in layer:
            yield from _layers(layer)
        else:
            yield layer


def gap_chart(df: pd.DataFrame, meta: dict, height: int = 260, title: str | None = None) -> alt.LayerChart:
    """Gap in points between two groups over time, per area (e.g. FSM minus non-FSM).

    `df` columns: series (e.g. "Derby gap"), year, period, value (the gap, NaN where missing).
    """
    unit = "Gap (percentage points)" if meta.get("unit") == "%" else f"Gap ({meta.get('unit') or 'points'})"
    chart = trend_chart(df, {**meta, "unit": unit}, highlight=None, height=height)
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color=theme.DARK_GREY).encode(y=alt.Y(field="y", type=Q))
    # The trend chart is kept whole: when its layers share one dataset Altair lifts it to the parent, so
    # taking the layers out alone would leave them empty (a single-year gap drew nothing).
    inner = alt.layer(*chart.layer, data=chart.data) if chart.data is not alt.Undefined else alt.layer(*chart.layer)
    out = alt.layer(zero, inner).resolve_scale(color="shared", shape="shared").properties(
        height=height, width="container")
    return out.properties(title=title) if title else out


def ranked_bar_chart(df: pd.DataFrame, meta: dict, reference: float | None = None, reference_label: str = "Derby",
                     height: int | None = None, title: str | None = None) -> alt.LayerChart:
    """Horizontal bars of areas ranked by value, with an optional reference rule.

    `df` columns: area_name, value (NaN = no data, drawn as a labelled empty row).
    """
    data = df.copy()
    data["label"] = data["value"].map(lambda v: "no data" if pd.isna(v) else format(v, value_format(meta.get("decimals", 1))[1:]))
    descending = meta.get("polarity") != "lower_is_better"
    order = data.sort_values("value", ascending=not descending, na_position="last")["area_name"].tolist()
    y = alt.Y(field="area_name", type=N, sort=order, title=None)
    bars = alt.Chart(data).mark_bar(color=theme.DARK_BLUE).encode(
        x=alt.X(field="value", type=Q, title=meta.get("unit", "")), y=y,
        tooltip=[alt.Tooltip(field="area_name", type=N, title="Area"), alt.Tooltip(field="label", type=N, title="Value")])
    labels = alt.Chart(data).mark_text(align="left", dx=4, color="#0B0C0C").encode(
        x=alt.X(field="value", type=Q), y=y, text=alt.Text(field="label", type=N))
    missing = alt.Chart(data[data["value"].isna()]).mark_text(align="left", dx=4, color=theme.DARK_GREY).encode(
        x=alt.value(0), y=y, text=alt.Text(field="label", type=N))
    layers = [bars, labels, missing]
    if reference is not None and not pd.isna(reference):
        ref = pd.DataFrame({"value": [reference], "label": [f"{reference_label} {reference:{value_format(meta.get('decimals', 1))[1:]}}"]})
        layers.append(alt.Chart(ref).mark_rule(color=theme.ORANGE, strokeDash=[6, 3], size=2).encode(x=alt.X(field="value", type=Q)))
        layers.append(alt.Chart(ref).mark_text(align="left", dx=4, dy=-6, color="#0B0C0C").encode(
            x=alt.X(field="value", type=Q), y=alt.value(0), text=alt.Text(field="label", type=N)))
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


def ward_dot_chart(df: pd.DataFrame, names: tuple[str, str], height: int | None = None) -> alt.LayerChart:
    """Two wards, Derby and England on every measure at once: one row per measure, each area a dot
    placed on the range of Derby's wards (0 = lowest ward, 100 = highest), with a grey bar for that
    range. Colour and shape both tell the areas apart.

    `df` is `ward_profiles.dot_frame` (measure, area, value, label, position, order).
    """
    areas = [names[0], names[1], "Derby", "England"]
    colours = [theme.ORANGE, theme.DARK_PINK, theme.DARK_BLUE, theme.TURQUOISE]
    shapes = ["circle", "square", "diamond", "triangle-up"]
    order = df.sort_values("order")["measure"].drop_duplicates().tolist()
    y = alt.Y(field="measure", type=N, sort=order, title=None, axis=alt.Axis(labelLimit=360))
    ranges = pd.DataFrame({"measure": order, "lo": 0, "hi": 100})
    band = alt.Chart(ranges).mark_rule(color="#D9D9D9", size=10).encode(
        x=alt.X(field="lo", type=Q, title="Position among Derby's wards (0 = lowest ward, 100 = highest ward)"), x2=alt.X2(field="hi"), y=y)
    legend = alt.Legend(title=None, orient="bottom")
    dots = alt.Chart(df).mark_point(filled=True, size=110, opacity=0.9).encode(
        x=alt.X(field="position", type=Q), y=y,
        color=alt.Color(field="area", type=N, scale=alt.Scale(domain=areas, range=colours), legend=legend),
        shape=alt.Shape(field="area", type=N, scale=alt.Scale(domain=areas, range=shapes), legend=legend),
        tooltip=[alt.Tooltip(field="measure", type=N, title="Measure"), alt.Tooltip(field="area", type=N, title="Area"),
                 alt.Tooltip(field="label", type=N, title="Value")])
    return alt.layer(band, dots).properties(height=height or max(160, 30 * len(order)), width="container")


def ward_scatter_chart(df: pd.DataFrame, x_title: str, y_title: str, line: pd.DataFrame | None,
                       height: int = 420) -> alt.LayerChart:
    """A ward outcome (y) against a deprivation measure (x), every ward labelled, with the fitted
    line (`line`: x, y at the ends) when there is one. Wards the line does not predict well are
    marked by shape and colour together (`verdict`).

    `df` is `ward_need.scatter` (area_name, x, y, x_label, y_label, verdict).
    """
    verdicts = sorted(df["verdict"].unique().tolist())
    palette = {"about as predicted": theme.DARK_GREY}
    colours = [palette.get(v, theme.TURQUOISE if v.startswith(("better", "above")) else theme.DARK_PINK)
               for v in verdicts]
    shapes = ["circle" if v.startswith("about") else "triangle-up" if v.startswith(("better", "above"))
              else "triangle-down" if v.startswith(("worse", "below")) else "square" for v in verdicts]
    x = alt.X(field="x", type=Q, title=x_title, scale=alt.Scale(zero=False))
    y = alt.Y(field="y", type=Q, title=y_title, scale=alt.Scale(zero=False))
    legend = alt.Legend(title=None, orient="bottom")
    points = alt.Chart(df).mark_point(filled=True, size=110).encode(
        x=x, y=y, color=alt.Color(field="verdict", type=N, scale=alt.Scale(domain=verdicts, range=colours), legend=legend),
        shape=alt.Shape(field="verdict", type=N, scale=alt.Scale(domain=verdicts, range=shapes), legend=legend),
        tooltip=[alt.Tooltip(field="area_name", type=N, title="Ward"), alt.Tooltip(field="x_label", type=N, title=x_title),
                 alt.Tooltip(field="y_label", type=N, title=y_title), alt.Tooltip(field="verdict", type=N, title="Reading")])
    labels = alt.Chart(df).mark_text(align="left", dx=7, dy=-6, fontSize=12, color="#0B0C0C").encode(
        x=x, y=y, text=alt.Text(field="area_name", type=N))
    layers = []
    if line is not None and len(line):
        layers.append(alt.Chart(line).mark_line(color=theme.DARK_BLUE, strokeDash=[6, 3]).encode(x=alt.X(field="x", type=Q), y=alt.Y(field="y", type=Q)))
    return alt.layer(*layers, points, labels).properties(height=height, width="container")

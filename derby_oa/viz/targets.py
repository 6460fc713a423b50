"""Altair builder for a target's chart: actual values, comparator, trajectory and projection.

Series are told apart by colour, line dash and point shape together (never colour alone). Lines
break at missing years and at series breaks; not-collected years and breaks are labelled rules.
"""
from __future__ import annotations

import altair as alt
import pandas as pd

from derby_oa.viz import theme
from derby_oa.viz.theme import N, Q
from derby_oa.viz.charts import segment_series, value_format
from derby_oa.series import all_breaks

ROLE_STYLE = {  # role: (colour, dash, shape)
    "actual": (theme.DARK_BLUE, [1, 0], "circle"),
    "comparator": (theme.TURQUOISE, [6, 3], "square"),
    "trajectory": (theme.ORANGE, [2, 2], "diamond"),
    "projection": (theme.DARK_PINK, [8, 2, 2, 2], "triangle-up"),
    "comparator_projection": (theme.TURQUOISE, [1, 3], "cross"),
}
POINT_ROLES = ("actual", "comparator", "trajectory")


def _segments(frame: pd.DataFrame, breaks: list[int]) -> pd.DataFrame:
    """Segment ids: actual and comparator break at gaps and series breaks; other roles are one line each."""
    observed = frame[frame["role"].isin(["actual", "comparator"])]
    other = frame[~frame["role"].isin(["actual", "comparator"])].assign(segment=lambda d: d["series"] + "|1")
    parts = [segment_series(observed, breaks, by="series")] if len(observed) else []
    return pd.concat(parts + [other], ignore_index=True)


def target_chart(frame: pd.DataFrame, events: pd.DataFrame, meta: dict, target_year: int,
                 height: int = 340, title: str | None = None) -> alt.LayerChart:
    """The target chart from `targets.chart_frame` and `targets.chart_events`.

    Layers: projection interval band, lines per segment, points (actual, comparator, baseline and target
    of the trajectory), Derby's 95% intervals where counts exist, a labelled target point, and labelled
    rules for not-collected years and series breaks.
    """
    data = _segments(frame, all_breaks(meta))
    present = data[data["value"].notna()]
    roles = [r for r in ROLE_STYLE if r in set(present["role"])]
    order = [present.loc[present["role"] == r, "series"].iloc[0] for r in roles]
    colours = [ROLE_STYLE[r][0] for r in roles]
    dashes = [ROLE_STYLE[r][1] for r in roles]
    shapes = [ROLE_STYLE[r][2] for r in roles]
    fmt = value_format(meta.get("decimals", 1))
    unit = meta.get("unit", "")
    legend = alt.Legend(title=None, orient="bottom", columns=2, labelLimit=400)
    colour = alt.Color(field="series", type=N, scale=alt.Scale(domain=order, range=colours), legend=legend)
    dash = alt.StrokeDash(field="series", type=N, scale=alt.Scale(domain=order, range=dashes), legend=legend)
    shape = alt.Shape(field="series", type=N, scale=alt.Scale(domain=order, range=shapes), legend=legend)
    x = alt.X(field="year", type=Q, title="Year (academic year ending)", axis=alt.Axis(format="d", tickMinStep=1))
    y = alt.Y(field="value", type=Q, title=unit, scale=alt.Scale(zero=False))
    tooltip = [alt.Tooltip(field="series", type=N, title="Series"), alt.Tooltip(field="period", type=N, title="Period"),
               alt.Tooltip(field="value", type=Q, title=meta.get("short_title") or "Value", format=fmt)]
    layers = []
    band = present[(present["role"] == "projection") & present["lower"].notna()]
    if len(band):
        layers.append(alt.Chart(band).mark_area(opacity=0.15, color=theme.DARK_PINK).encode(
            x=x, y=alt.Y(field="lower", type=Q, title=unit), y2=alt.Y2(field="upper"),
            tooltip=tooltip + [alt.Tooltip(field="lower", type=Q, title="95% interval from", format=fmt),
                               alt.Tooltip(field="upper", type=Q, title="95% interval to", format=fmt)]))
    layers.append(alt.Chart(present).mark_line().encode(x=x, y=y, color=colour, strokeDash=dash, detail=alt.Detail(field="segment", type=N)))
    points = present[present["role"].isin(POINT_ROLES)]
    layers.append(alt.Chart(points).mark_point(filled=True, size=90).encode(
        x=x, y=y, color=colour, shape=shape, tooltip=tooltip))
    ci = present[(present["role"] == "actual") & present["lower"].notna()]
    if len(ci):
        layers.append(alt.Chart(ci).mark_errorbar(ticks=True, color=theme.DARK_BLUE).encode(
            x=x, y=alt.Y(field="lower", type=Q, title=unit), y2=alt.Y2(field="upper")))
    goal = present[(present["role"] == "trajectory") & (present["year"] == target_year)]
    if len(goal):
        label = goal.assign(label="target " + goal["period"])
        layers.append(alt.Chart(label).mark_text(align="left", dx=9, dy=-9, color="#0B0C0C", fontWeight="bold").encode(
            x=x, y=y, text=alt.Text(field="label", type=N)))
    if len(events):
        layers.append(alt.Chart(events).mark_rule(strokeDash=[4, 4], color=theme.DARK_GREY).encode(x=alt.X(field="year", type=Q)))
        layers.append(alt.Chart(events).mark_text(angle=270, align="right", baseline="bottom", dy=-3, dx=-4,
                                                  color=theme.DARK_GREY, fontSize=11).encode(
            x=alt.X(field="year", type=Q), y=alt.value(0), text=alt.Text(field="label", type=N)))
    chart = alt.layer(*layers).resolve_scale(color="shared").properties(height=height, width="container")
    return chart.properties(title=title) if title else chart

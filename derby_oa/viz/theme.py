"""The GOV.UK Analysis Function palette and an Altair theme that uses it."""
from __future__ import annotations

import altair as alt

DARK_BLUE, TURQUOISE, DARK_PINK, ORANGE = "#12436D", "#28A197", "#801650", "#F46A25"
DARK_GREY, LIGHT_PURPLE = "#3D3D3D", "#A285D1"
CATEGORICAL = [DARK_BLUE, TURQUOISE, DARK_PINK, ORANGE, DARK_GREY, LIGHT_PURPLE]
FOCUS, FOCUS_OUTLINE = "#12436D", "#BFBFBF"
NO_DATA_GREY = "#BFBFBF"
# Sequential dark blue ramp (Analysis Function guidance), darkest = highest class.
SEQUENTIAL = ["#12436D", "#2073BC", "#6BACE6", "#A6CDF0", "#D6E8F8"]
# Point shapes so that no series is told apart by colour alone.
SHAPES = ["circle", "square", "triangle-up", "diamond", "cross", "triangle-down"]
DASHES = [[1, 0], [6, 3], [2, 2], [8, 2, 2, 2], [4, 4], [1, 3]]
FONT = "Arial, Helvetica, sans-serif"

# Status colours for target and comparison badges, with the word always shown beside them.
STATUS_COLOURS = {
    "better": TURQUOISE, "met": TURQUOISE, "on track": TURQUOISE, "improving": TURQUOISE,
    "similar": "#505A5F", "no clear change": "#505A5F", "cannot be judged": "#505A5F",
    "not assessable": "#505A5F",
    "worse": DARK_PINK, "off track": DARK_PINK, "worsening": DARK_PINK, "not met": DARK_PINK,
    "increasing and getting better": TURQUOISE, "decreasing and getting better": TURQUOISE,
    "increasing and getting worse": DARK_PINK, "decreasing and getting worse": DARK_PINK,
}


@alt.theme.register("derby_oa", enable=True)
def derby_theme() -> alt.theme.ThemeConfig:
    """Altair theme: Analysis Function colours, Arial, readable axis labels."""
    return {
        "config": {
            "font": FONT,
            "range": {"category": CATEGORICAL, "ramp": SEQUENTIAL[::-1]},
            "axis": {"labelFontSize": 13, "titleFontSize": 13, "labelColor": "#0B0C0C", "titleColor": "#0B0C0C",
                     "gridColor": "#E5E5E5"},
            "legend": {"labelFontSize": 13, "titleFontSize": 13, "symbolSize": 120},
            "title": {"fontSize": 16, "anchor": "start", "color": "#0B0C0C"},
            "view": {"stroke": None},
            "line": {"strokeWidth": 2.5},
            "point": {"size": 70, "filled": True},
        }
    }

# Encoding types, written out: explicit channel objects (alt.X(field=..., type=Q)) instead of "value:Q" strings,
# whose parsing costs milliseconds per channel in Altair 6.
Q, N = "quantitative", "nominal"

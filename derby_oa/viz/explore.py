"""The explorer's chart: a trend per area or the areas ranked in one year, with its caption and table."""
from __future__ import annotations

import altair as alt
import pandas as pd

from derby_oa.analysis import explore
from derby_oa.viz import charts


def chart(df: pd.DataFrame, meta: dict, kind: str = "line",
          year: int | None = None) -> tuple[alt.TopLevelMixin, str, pd.DataFrame]:
    """(chart, caption, table behind it) for one indicator's selected rows.

    `line`: a trend per area (and group), gaps at missing years and series breaks, at most
    MAX_LINE_SERIES lines. `bar`: the areas ranked in one year (`year`, default the latest shown).
    """
    title = meta.get("title", "")
    unit = meta.get("unit", "")
    if kind == "bar":
        shown = df[df["year"] == (year if year is not None else int(df["year"].max()))]
        several = shown["breakdown"].nunique() > 1
        bars = pd.DataFrame({
            "area_name": [explore.series_label(a, b, several_breakdowns=several)
                          for a, b in zip(shown["area_name"], shown["breakdown"])],
            "value": shown["value"].where(shown["status"].eq("published")).to_numpy(),
        })
        period = shown["period"].iloc[0] if len(shown) else str(year)
        spec = charts.ranked_bar_chart(bars, meta)
        caption = (f"{title} ({unit}), {period}: areas ranked"
                   + ("; highest first" if meta.get("polarity") != "lower_is_better" else "; lowest (best) first")
                   + ". Areas without a published value are listed as 'no data'.")
        return spec, caption, bars.rename(columns={"area_name": "Area", "value": unit or "Value"})
    lines = explore.line_frame(df)
    names = list(dict.fromkeys(lines["series"]))
    if len(names) > explore.MAX_LINE_SERIES:
        lines = lines[lines["series"].isin(names[:explore.MAX_LINE_SERIES])]
    spec = charts.trend_chart(lines, meta, highlight=names[0] if names else None)
    years = lines.loc[lines["value"].notna(), "year"]
    span = f", years ending {int(years.min())} to {int(years.max())}" if len(years) else ""
    caption = (f"{title} ({unit}){span}. Lines break at missing years and at series breaks; "
               f"points are shaped and lines dashed per area.")
    if len(names) > explore.MAX_LINE_SERIES:
        caption += f" Showing the first {explore.MAX_LINE_SERIES} of {len(names)} series: the table has them all."
    table = lines.rename(columns={"series": "Series", "year": "Year ending", "period": "Period", "value": unit or "Value",
                                  "status": "Status"})
    return spec, caption, table

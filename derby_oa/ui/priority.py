"""A priority page: each indicator as a trend against comparators, with its table and downloads."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from .. import charts, comparisons, queries
from . import widgets
from .connection import get_con

BREAKDOWN_LABELS = {"all": "All pupils", "fsm": "FSM pupils", "non_fsm": "Non-FSM pupils",
                    "disadvantaged": "Disadvantaged pupils", "non_disadvantaged": "Other pupils",
                    "boys": "Boys", "girls": "Girls", "eal": "EAL pupils"}


def indicator_section(con, indicator_id: str, key: str) -> None:
    """Trend of one indicator for Derby, England, East Midlands and statistical neighbours."""
    meta = queries.indicator(con, indicator_id)
    st.subheader(meta["title"])
    options = queries.breakdowns(con, indicator_id) or ["all"]
    breakdown = st.radio("Pupil group", options, format_func=lambda b: BREAKDOWN_LABELS.get(b, b), horizontal=True,
                         key=f"bd-{key}") if len(options) > 1 else options[0]
    df = comparisons.comparison_frame(con, indicator_id, breakdown)
    published = df[df["value"].notna()] if len(df) else df
    if published.empty:
        st.info("No data: nothing has been published or loaded for this indicator and group yet.")
        return
    chart = charts.trend_chart(df, meta, title=None)
    years = f"{int(published['year'].min())} to {int(published['year'].max())}"
    caption = (f"{meta['title']} ({BREAKDOWN_LABELS.get(breakdown, breakdown)}), Derby against England, East Midlands "
               f"and the average of Derby's statistical neighbours (bars: their range), years ending {years}. "
               f"{meta.get('series_notes') or ''}")
    table = df[["series", "period", "value", "status"]].rename(columns={"series": "Area", "period": "Period",
                                                                        "value": meta["unit"], "status": "Status"})
    widgets.chart_block(chart, table, f"{indicator_id}-{breakdown}", caption, key=f"chart-{key}")
    st.caption(f"Definition: {meta['definition']}")


def baseline_cards(con, indicator_ids: list[str]) -> None:
    """The plan's quoted baseline figures for indicators without a published series here."""
    figs = queries.plan_figures(con)
    figs = figs[figs["indicator_id"].isin(indicator_ids)]
    if figs.empty:
        return
    st.subheader("Baseline figures quoted in the delivery plan")
    st.caption("These figures come from the plan itself (Derby Opportunity Area delivery plan, DfE 2017, OGL v3.0); "
               "no published series for them is held here.")
    for ind, grp in figs.groupby("indicator_id", sort=False):
        meta = queries.indicator(con, ind)
        parts = [f"{r.area_name} {r.value:g}{'%' if meta['unit'] == '%' else ''}" for r in grp.itertuples()]
        period = grp["period"].iloc[0] or "date not stated"
        with st.container(border=True):
            st.markdown(f"**{meta['title']}** ({period}): " + "; ".join(parts))
            st.caption(f"Plan section: {grp['plan_section'].iloc[0]}. \u201c{grp['plan_quote'].iloc[0]}\u201d")


def render(title: str, intro: str, indicator_ids: list[str], baseline_ids: list[str]) -> None:
    """A whole priority page."""
    widgets.presentation_mode()
    con = get_con()
    st.title(title)
    st.markdown(intro)
    available = set(queries.indicators(con)["indicator_id"])
    for i, ind in enumerate(x for x in indicator_ids if x in available):
        indicator_section(con, ind, key=f"{ind}-{i}")
    baseline_cards(con, baseline_ids)
    widgets.source_note(queries.sources(con).query("observations > 0"))

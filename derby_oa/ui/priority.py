"""A priority page: headline tiles, every indicator at a glance, then one indicator in depth (trend against
England, the region and statistical neighbours; the pupil-group gap; rank, quartile and significance by year)
and the plan's baseline figures that have no published series here.

URL state: `ind` (indicator), `bd` (pupil group), `sn` (neighbours: average, each, none), `group` (neighbour
group) and `gapref` (what the disadvantaged gap is measured against).
"""
from __future__ import annotations

import functools


import pandas as pd
import streamlit as st

from derby_oa.viz import charts, exports
from derby_oa.analysis import comparisons, headlines, narrative
from derby_oa import config, formatting, queries
from derby_oa.analysis.headlines import BREAKDOWN_LABELS
from derby_oa.queries import overview as overview_queries
from derby_oa.ui import tiles as tiles_view
from derby_oa.viz.priority import (
    baseline_figures,
    glance_table,
    group_words,
    indicators_with_data,
    year_table,
    trend_table,
)
from derby_oa.ui import connection, widgets
from derby_oa.ui.connection import get_con

NEIGHBOUR_MODES = {"average": "Average and range", "each": "Each neighbour", "none": "Hide neighbours"}
GROUP_LABELS = {config.SN_GROUP_CURRENT: "May 2025 group (current)", config.SN_GROUP_PLAN: "April 2021 group"}
# ---------------------------------------------------------------- cached per database file

@st.cache_data(show_spinner=False, max_entries=64)
def _glance_cached(key: tuple, ids: tuple[str, ...], group_id: str) -> pd.DataFrame:
    return glance_table(get_con(), list(ids), group_id)


@st.cache_data(show_spinner=False, max_entries=256)
def _depth_cached(key: tuple, ind: str, breakdown: str, group_id: str, page: str):
    """One indicator in depth, for one choice: its tile and the year-by-year table."""
    con = get_con()
    meta = queries.indicator(con, ind)
    frame = comparisons.comparison_frame(con, ind, breakdown, group_id=group_id, neighbours="none")
    tile = headlines.compute_tile(
        meta, headlines.with_plan_figures(frame.assign(breakdown=breakdown, indicator_id=ind),
                                          queries.plan_figures(con, ind)),
        headlines.Headline(ind, breakdown, page), plan_baseline=(ind, breakdown) in headlines.plan_target_pairs(con))
    positions = comparisons.positions_frame(con, ind, breakdown, group_id)
    return tile, year_table(frame, positions, meta)


@st.cache_data(show_spinner=False, max_entries=64)
def _baseline_cards_cached(key: tuple, ids: tuple[str, ...]) -> list[tuple[str, str]]:
    """The plan's baseline cards as (Markdown body, caption): figures the plan quotes that have no series here."""
    con = get_con()
    figs = baseline_figures(con, list(ids))
    src = queries.sources(con).set_index("source_id")
    plan = src.loc["plan_2017"] if "plan_2017" in src.index else None
    cards = []
    for ind, grp in figs.groupby("indicator_id", sort=False):
        meta = queries.indicator(con, ind)
        suffix = "%" if meta["unit"] == "%" else f" {meta['unit']}" if meta["unit"] == "per 100,000" else ""
        parts = [f"{widgets.md_escape(str(r.area_name or r.area_code))} **{r.value:g}{suffix}**"
                 for r in grp.itertuples()]
        dated = grp["period"].dropna().astype(str).str.strip()
        period = dated[dated != ""].iloc[0] if (dated != "").any() else "date not stated in the plan"
        body = f"**{widgets.md_escape(meta['title'])}**  \n{' · '.join(parts)}  \n{widgets.md_escape(str(period))}"
        caption = (f"\u201c{grp['plan_quote'].iloc[0]}\u201d ({grp['plan_section'].iloc[0]}). Source: "
                   + (f"{plan['title']} ({plan['publisher']}), {plan['licence']}." if plan is not None
                      else "Derby Opportunity Area delivery plan."))
        cards.append((body, caption))
    return cards


# ---------------------------------------------------------------- page sections

def _choice(name: str, options: list[str], default: str, labels: dict, widget, label: str, key: str, **kw) -> str:
    """A widget whose value lives in the URL (`name`); invalid links fall back with a notice."""
    chosen = widgets.qp_choice(name, options, default, labels)
    if key in st.session_state and st.session_state[key] not in options:
        del st.session_state[key]
    value = widget(label, options, index=options.index(chosen), format_func=lambda o: labels.get(o, o), key=key, **kw)
    widgets.qp_set(**{name: value})
    return value


@st.cache_resource(show_spinner=False, max_entries=128)
def _trend_parts(key: tuple, meta_items: tuple, breakdown: str, neighbours: str, group_id: str,
                 grouped: bool):
    """Frame, chart, table and caption of one trend, built once per database file and choice."""
    meta = dict(meta_items)
    con = get_con()
    ind = meta["indicator_id"]
    frame = comparisons.comparison_frame(con, ind, breakdown, group_id=group_id, neighbours=neighbours)
    shown = frame[frame["value"].notna()] if len(frame) else frame
    if shown.empty:
        return frame, None, None, None
    members = queries.group_members(con, group_id)
    named = set(frame["series"]) & set(members["area_name"])  # neighbours drawn by name (too few to average)
    context = members["area_name"].tolist() if neighbours == "each" or named else None
    chart = charts.trend_chart(frame, meta, context=context)
    labels = charts.period_labels(frame)
    years = sorted(int(y) for y in frame["year"].unique())
    gaps = narrative.gaps_note(meta, labels, years)
    comparators = [s for s in charts.PREFERRED_ORDER if s in set(shown["series"])]
    drawn = set(shown["series"])
    n = len(members) if neighbours != "none" and (comparisons.SN_AVERAGE in drawn or
                                                  drawn & set(members["area_name"])) else 0
    coverage = comparisons.sn_coverage(frame) if neighbours == "average" else None
    group_name = GROUP_LABELS.get(group_id, group_id)
    caption = narrative.trend_caption(meta["title"], group_words(breakdown) if grouped else None,
                                      labels[int(shown["year"].min())], labels[int(shown["year"].max())],
                                      [c for c in comparators if c != comparisons.SN_AVERAGE] +
                                      (["Derby's statistical neighbours"] if n else []),
                                      neighbours, n, group_name, gaps)
    if neighbours == "average" and n:
        if coverage:
            lo, hi = coverage
            caption += (f" The average is of the neighbours with a value: {lo if lo == hi else f'{lo} to {hi}'} "
                        f"of {n}, and is shown only where at least {comparisons.SN_MIN} have one.")
        else:
            caption += (f" Fewer than {comparisons.SN_MIN} of the {n} neighbours have a value, so no average is "
                        "drawn: those that have one are shown by name.")
    return frame, chart, trend_table(frame, meta), caption


def _hashable(meta: dict) -> tuple:
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(meta.items()))


def trend_section(meta: dict, breakdown: str, neighbours: str, group_id: str, key: str,
                  grouped: bool = True) -> pd.DataFrame:
    """The trend chart with its caption, table and downloads; returns the frame it drew."""
    frame, chart, table, caption = _trend_parts(connection.db_key(), _hashable(meta), breakdown, neighbours,
                                                group_id, grouped)
    if chart is None:
        st.info("No data: nothing has been published or loaded for this indicator and pupil group yet.")
        return frame
    widgets.chart_block(chart, table, f"{meta['indicator_id']}-{breakdown}-trend", caption, key=f"trend-{key}")
    return frame


@st.cache_resource(show_spinner=False, max_entries=128)
def _gap_parts(key: tuple, meta_items: tuple, group: str, reference: str):
    """Gap frame and chart, built once per database file and choice."""
    meta = dict(meta_items)
    gaps = comparisons.gap_frame(get_con(), meta["indicator_id"], group, reference)
    if gaps["value"].notna().sum() == 0:
        return gaps, None
    return gaps, charts.gap_chart(gaps[["series", "year", "period", "value"]], meta)


def gap_section(con, meta: dict, key: str, page: str) -> None:
    """Pupil-group gap over time: Derby's gap against England's (e.g. FSM minus non-FSM)."""
    ind = meta["indicator_id"]
    if ind not in comparisons.GAP_PAIRS:
        return
    group, reference = comparisons.GAP_PAIRS[ind]
    available = set(queries.breakdowns(con, ind))
    refs = [r for r in comparisons.GAP_REFERENCES.get(group, [reference]) if r in available]
    if group not in available or not refs:
        return
    if len(refs) > 1:
        labels = {r: ("against other pupils (DfE disadvantage gap)" if r == "non_disadvantaged"
                      else f"against {group_words(r)}") for r in refs}
        reference = _choice("gapref", refs, reference if reference in refs else refs[0], labels, st.radio,
                            "Measure the gap", f"{page}-gapref-{ind}", horizontal=True)
    else:
        reference = refs[0]
    st.subheader("Gap: " + comparisons.GAP_LABELS.get((group, reference),
                                                      f"{group_words(group)} against {group_words(reference)}"))
    gaps, chart = _gap_parts(connection.db_key(), _hashable(meta), group, reference)
    if chart is None:
        st.info("No year has both groups published, so the gap cannot be shown.")
        return
    d = int(meta.get("decimals", 1))
    latest = gaps[gaps["value"].notna()]["year"].max()
    at = gaps[gaps["year"] == latest].set_index("series")["value"]
    g_lab, r_lab = group_words(group), group_words(reference)
    sentence = narrative.gap_pair_sentence(gaps.loc[gaps["year"] == latest, "period"].iat[0], at.get("Derby gap"),
                                           at.get("England gap"), g_lab, r_lab, meta["unit"], d)
    labels = charts.period_labels(gaps)
    caption = (f"Gap in {meta['short_title'] or meta['title']}: {g_lab} minus {r_lab}, Derby's gap against "
               f"England's ({'percentage points' if meta['unit'] == '%' else meta['unit']}; below zero means "
               f"{g_lab} are behind). {sentence} "
               f"{narrative.gaps_note(meta, labels, sorted(int(y) for y in gaps['year'].unique()))}").strip()
    mixed = gaps[gaps["mixed"].fillna(False).astype(bool)]
    if len(mixed):
        caption += (" In " + ", ".join(sorted(set(mixed["period"].astype(str)))) + " the two groups' figures come "
                    "from different publications or are rounded differently (e.g. whole numbers against one "
                    "decimal), so the gap carries both roundings.")
    g_col, r_col = BREAKDOWN_LABELS[group], BREAKDOWN_LABELS[reference]
    gd = max(d, 1) if meta["unit"] == "%" else d
    table = gaps.assign(value=[formatting.number(v, max(formatting.decimals_of(a, gd), formatting.decimals_of(b, gd)))
                               for v, a, b in zip(gaps["value"], gaps["group_value"], gaps["reference_value"])],
                        group_value=[formatting.number(v, formatting.decimals_of(v, gd)) for v in gaps["group_value"]],
                        reference_value=[formatting.number(v, formatting.decimals_of(v, gd)) for v in gaps["reference_value"]],
                        mixed=gaps["mixed"].map(lambda m: "different sources or rounding" if m else "")).rename(columns={
        "series": "Series", "period": "Period", "value": "Gap", "group_value": g_col, "reference_value": r_col})
    table = table.rename(columns={"mixed": "Note"})
    widgets.chart_block(chart, table[["Series", "Period", g_col, r_col, "Gap", "Note"]], f"{ind}-{group}-{reference}-gap",
                        caption, key=f"gap-{key}")


def year_section(meta: dict, table: pd.DataFrame, breakdown: str, key: str) -> None:
    """Rank among neighbours, quartile among LAs and significance against England, for every year."""
    st.subheader("Year by year: rank, quartile and significance")
    if table.empty:
        st.info("No Derby values to rank or compare.")
        return
    st.caption("Rank 1 is best by the indicator's polarity (ties share the best rank); quartiles follow the LAIT "
               "convention, A (best quarter) to D, among local authorities with a value that year. Compared with "
               "England uses Derby's Wilson 95% interval where pupil counts are published; otherwise it cannot be "
               "judged.")
    widgets.reading_table(table, f"{meta['title']}: rank, quartile and significance by year")
    st.download_button("Download CSV", functools.partial(exports.to_csv_bytes, table),
                       f"{widgets.slug(meta['indicator_id'] + '-' + breakdown)}-by-year.csv", "text/csv",
                       key=f"csv-years-{key}")


def baseline_cards(indicator_ids: list[str], columns: int = 3) -> None:
    """The plan's quoted baseline figures for indicators without a published series here, with their source."""
    cards = _baseline_cards_cached(connection.db_key(), tuple(indicator_ids))
    if not cards:
        return
    st.subheader("Baseline figures quoted in the delivery plan")
    st.caption("No published series for these is held here, so they are shown as the plan quotes them.")
    for start in range(0, len(cards), columns):
        cols = st.columns(columns)
        for col, (body, caption) in zip(cols, cards[start:start + columns]):
            with col.container(border=True):
                st.markdown(body)
                st.caption(caption)


def glance_section(ids: list[str], group_id: str, page: str) -> None:
    table = _glance_cached(connection.db_key(), tuple(ids), group_id)
    if table.empty:
        return
    st.subheader("Every indicator at a glance (all pupils)")
    st.caption("Latest year for Derby against England, at the published precision; change since 2015/16 (the "
               "plan's own figure where it sets a target, else the published figure; or the first comparable "
               "year); rank among statistical neighbours and LAIT quartile band among all local authorities in "
               "that year, 1 and A = best. x: not available; z: not applicable.")
    widgets.reading_table(table, "Every indicator at a glance")
    st.download_button("Download CSV", functools.partial(exports.to_csv_bytes, table), f"{page}-at-a-glance.csv", "text/csv",
                       key=f"csv-glance-{page}")


def render(title: str, intro: str, indicator_ids: list[str], baseline_ids: list[str], page: str | None = None) -> None:
    """A whole priority page."""
    present = widgets.presentation_mode()
    con = get_con()
    page = page or widgets.slug(title)
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.title(title)
    if not present:
        with right:
            tiles_view.presentation_toggle(present)
    st.markdown(intro)

    mine = [h for h in headlines.HEADLINES if h.priority == page]
    if mine:
        tiles_view.render_grid(tiles_view.cached_tiles(tuple(mine)), tiles_view.target_statuses(), present)

    ids = indicators_with_data(con, indicator_ids)
    groups = [g for g in GROUP_LABELS if len(queries.group_members(con, g))]
    group_id = groups[0] if groups else config.SN_GROUP_CURRENT
    if not ids:
        st.info("No data has been published or loaded for this priority's indicators yet.")
    else:
        if not present:
            glance_section(ids, group_id, page)
        st.header("One indicator in depth")
        titles = {i: queries.indicator(con, i)["title"] for i in ids}
        linked = st.query_params.get("ind")
        ind = _choice("ind", ids, ids[0], titles, st.selectbox, "Indicator", f"{page}-ind")
        if linked in ids and linked != ind:  # the reader chose another indicator: its groups differ
            widgets.qp_set(bd=None, gapref=None)
        meta = queries.indicator(con, ind)
        found = set(queries.breakdowns(con, ind))
        options = [b for b in BREAKDOWN_LABELS if b in found] or ["all"]
        c1, c2, c3 = st.columns([2, 2, 2])
        with c1:
            if len(options) > 1:
                breakdown = _choice("bd", options, "all" if "all" in options else options[0], BREAKDOWN_LABELS,
                                    st.radio, "Pupil group", f"{page}-bd-{ind}", horizontal=True)
            else:
                breakdown = options[0]
                widgets.qp_set(bd=None)
        neighbours = "none"
        if groups:
            with c2:
                neighbours = _choice("sn", list(NEIGHBOUR_MODES), "average", NEIGHBOUR_MODES, st.radio,
                                     "Statistical neighbours", f"{page}-sn", horizontal=True)
            if len(groups) > 1:
                with c3:
                    group_id = _choice("group", groups, groups[0], GROUP_LABELS, st.radio, "Neighbour group",
                                       f"{page}-group", horizontal=True)
        grouped = len(options) > 1 or meta.get("theme") in ("early_years", "schools")  # pupils, not people
        st.subheader(f"{meta['title']}: {group_words(breakdown)}" if grouped else meta["title"])
        tile, years = _depth_cached(connection.db_key(), ind, breakdown, group_id, page)
        if tile.has_data:
            st.markdown(f"**{widgets.md_escape(tile.sentence)}** Direction of travel: **{widgets.md_escape(tile.direction_text)}**"
                        f"{f' ({tile.since.basis})' if tile.since else ''}; compared with England: "
                        f"**{tile.vs_england}** ({tile.vs_basis}).")
        trend_section(meta, breakdown, neighbours, group_id, key=f"{page}-{ind}-{breakdown}", grouped=grouped)
        st.caption(f"Definition: {meta['definition']} {meta.get('series_notes') or ''}".strip())
        gap_section(con, meta, key=f"{page}-{ind}", page=page)
        year_section(meta, years, breakdown, key=f"{page}-{ind}-{breakdown}")
        if not present:
            widgets.copy_link()
    baseline_cards(baseline_ids + [i for i in indicator_ids if i not in baseline_ids])
    with st.expander("How direction of travel, significance, ranks and gaps are worked out"):
        st.markdown(tiles_view.RULES_MARKDOWN)
    if present:
        tiles_view.presentation_toggle(present)
    used = set(overview_queries.observations_for(
        con, [(i, b) for i in indicator_ids + baseline_ids for b in BREAKDOWN_LABELS], [config.DERBY])["source_id"])
    widgets.source_note(queries.sources(con).query("source_id in @used_ids", local_dict={"used_ids": sorted(used)}))

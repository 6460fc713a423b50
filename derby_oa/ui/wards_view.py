"""Streamlit parts of the Wards page: URL-backed choices, the ward map with selection, the
comparison of two wards, the LSOA drill-down, the ranked chart and the plan's ward figures.

URL parameters: vintage, indicator, period, breakdown (when not `all`), map (`hex` for the hex
tiles), ward and compare (ward codes). Invalid values give a short notice and the defaults.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from .. import charts, config, exports, maps, queries, wards
from ..queries import wards as ward_queries
from . import widgets

ORANGE, PINK = "#F46A25", "#801650"  # outlines of the first and second ward on the maps
MAP_STYLES = {"boundaries": "Ward boundaries", "hex": "Equal-size hex tiles (one per ward)"}
CLICK_TARGETS = {"a": "first ward", "b": "second ward"}
HEX_LAYOUT = config.GEO_DIR / "hex_layout.csv"
BREAKDOWN_LABELS = {"all": "All", "fsm": "FSM", "non_fsm": "Non-FSM", "disadvantaged": "Disadvantaged",
                    "non_disadvantaged": "Other pupils", "boys": "Boys", "girls": "Girls", "eal": "EAL"}


@dataclass
class View:
    """Everything the page sections need to agree on."""

    vintage: str
    wards: pd.DataFrame  # area_code, area_name of the vintage
    indicator: str | None
    meta: dict | None
    period: str | None
    breakdown: str
    ward_a: str
    ward_b: str
    has_boundaries: bool
    values: pd.DataFrame | None = None  # queries.wards.ward_values
    reference: pd.DataFrame | None = None  # Derby and England

    @property
    def names(self) -> dict[str, str]:
        return dict(zip(self.wards["area_code"], self.wards["area_name"]))

    @property
    def title(self) -> str:
        if not self.meta:
            return ""
        bd = "" if self.breakdown == "all" else f" ({BREAKDOWN_LABELS.get(self.breakdown, self.breakdown)})"
        return f"{self.meta['title']}{bd}"


# --- URL-backed state -----------------------------------------------------------------------------

def _seed(key: str, options: list, url_name: str, default, labels: dict | None = None) -> None:
    """Give widget `key` its value from the URL (or `default`) unless it already holds a valid one."""
    if st.session_state.get(key) in options:
        return
    st.session_state[key] = widgets.qp_choice(url_name, options, default, labels)


def _drop_params(*names: str) -> None:
    for name in names:
        st.query_params.pop(name, None)


def _on_pick(map_key: str, vintage: str) -> None:
    """Map selection callback: the clicked ward becomes the first (or second) ward."""
    code = wards.selected_ward(st.session_state.get(map_key))
    if code:
        target = st.session_state.get("wards-click-target", "a")
        st.session_state[f"wards-{target}-{vintage}"] = code


def choose(con) -> View:
    """Render the boundary, indicator, period and breakdown controls; seed the ward choices."""
    available = ward_queries.ward_indicators(con)
    titles = dict(zip(available["indicator_id"], available["title"]))
    c1, c2, c3 = st.columns([2, 3, 1])
    _seed("wards-vintage", list(wards.VINTAGES), "vintage", wards.PLAN, wards.VINTAGE_LABELS)
    vintage = c1.radio("Ward boundaries", list(wards.VINTAGES), format_func=wards.VINTAGE_LABELS.get,
                       key="wards-vintage", on_change=_drop_params, args=("period", "breakdown"),
                       help="The plan used the 17 wards of 2003-2023. Derby has had 18 wards since May 2023.")
    ward_list = ward_queries.ward_list(con, vintage)
    codes = list(ward_list["area_code"])
    names = dict(zip(ward_list["area_code"], ward_list["area_name"]))

    options = wards.indicator_options(available, vintage)
    requested = st.query_params.get("indicator")
    key = f"wards-indicator-{vintage}"
    if st.session_state.get(key) not in options:
        notice = wards.indicator_notice(available, vintage, requested, titles)
        if notice:
            st.info(widgets.md_escape(notice))  # it quotes the link's indicator
            _drop_params("period", "breakdown")  # they belonged to the indicator that is not shown
        st.session_state[key] = requested if requested in options else wards.default_indicator(options)
    indicator = meta = period = None
    breakdown = "all"
    if options:
        indicator = c2.selectbox("Indicator", options, format_func=lambda i: titles.get(i, i), key=key,
                                 on_change=_drop_params, args=("period", "breakdown"),
                                 help="Every indicator with figures for Derby's wards on these boundaries, "
                                      "including any loaded by officers.")
        meta = queries.indicator(con, indicator)
        periods = ward_queries.ward_periods(con, indicator, vintage)["period"].tolist()
        pkey = f"wards-period-{vintage}-{indicator}"
        _seed(pkey, periods, "period", periods[-1])
        period = c3.selectbox("Period", periods, key=pkey, on_change=_drop_params, args=("breakdown",))
        bds = ward_queries.ward_breakdowns(con, indicator, vintage, period)
        if len(bds) > 1:
            bkey = f"wards-breakdown-{vintage}-{indicator}-{period}"
            _seed(bkey, bds, "breakdown", "all" if "all" in bds else bds[0], BREAKDOWN_LABELS)
            breakdown = st.radio("Pupil group", bds, format_func=lambda b: BREAKDOWN_LABELS.get(b, b),
                                 key=bkey, horizontal=True)
        elif bds:
            breakdown = bds[0]
    else:
        c2.markdown(f"**Indicator**: no indicator has ward figures on the {wards.VINTAGE_LABELS[vintage]} "
                    "in this database yet.")

    a, b = wards.default_pair(ward_list)
    all_wards = pd.concat([ward_queries.ward_list(con, v) for v in wards.VINTAGES], ignore_index=True)
    for param in ("ward", "compare"):  # a ward of the other boundaries -> the ward of the same name
        same = wards.same_named_ward(st.query_params.get(param), ward_list, all_wards)
        if same and same != st.query_params.get(param):
            st.query_params[param] = same
    _seed(f"wards-a-{vintage}", codes, "ward", a, names)
    _seed(f"wards-b-{vintage}", codes, "compare", b, names)
    view = View(vintage, ward_list, indicator, meta, period, breakdown, st.session_state[f"wards-a-{vintage}"],
                st.session_state[f"wards-b-{vintage}"], ward_queries.has_boundaries(con, vintage))
    if indicator:
        view.values = ward_queries.ward_values(con, indicator, period, vintage, breakdown)
        view.reference = ward_queries.reference_values(con, indicator, period, breakdown)
    return view


def sync_url(view: View, map_style: str | None) -> None:
    """Write the view into the URL so a link reopens it."""
    widgets.qp_set(vintage=view.vintage, indicator=view.indicator, period=view.period,
                   breakdown=None if view.breakdown == "all" else view.breakdown,
                   map="hex" if map_style == "hex" else None, ward=view.ward_a, compare=view.ward_b)


# --- map ------------------------------------------------------------------------------------------

def legend_html(legend: list, title: str, no_data_names: list[str]) -> str:
    """The map legend as accessible HTML: a swatch and words per class; no-data wards named."""
    items = []
    for label, colour in legend:
        r, g, b, _ = colour
        if label == "No data":
            swatch = ("background: repeating-linear-gradient(45deg, #B1B4B6 0 3px, #0B0C0C 3px 4px); "
                      "border: 2px solid #0B0C0C;")
            label = (f"No data ({len(no_data_names)} ward{'s' if len(no_data_names) != 1 else ''}: "
                     f"{', '.join(no_data_names)})" if no_data_names else "No data (none)")
        else:
            swatch = f"background: rgb({r},{g},{b}); border: 1px solid #505A5F;"
        items.append(f"<li style='list-style:none;margin:2px 0'><span aria-hidden='true' style='display:inline-block;"
                     f"width:22px;height:14px;vertical-align:middle;margin-right:6px;{swatch}'></span>{label}</li>")
    return (f"<div role='group' aria-label='Map legend'><b>{title}</b><ul style='padding-left:0;margin:4px 0'>"
            + "".join(items) + "</ul></div>")


def _source_text(view: View) -> str:
    src = view.values.dropna(subset=["value"])
    titles = sorted({f"{t} ({p})" if isinstance(p, str) else str(t)
                     for t, p in zip(src["source_title"], src["publisher"]) if isinstance(t, str)})
    return "; ".join(titles) or "no source (no ward has a value)"


def map_table(view: View) -> pd.DataFrame:
    """The mapped values as a table: ward, value, rank, status, source."""
    ranked = wards.ranking(view.values, view.meta)
    n = int(ranked["value"].notna().sum())
    src = view.values.set_index("area_code")["source_title"]
    return pd.DataFrame({"Ward": ranked["area_name"], "Code": ranked["area_code"], "Value": ranked["label"],
                         "Rank": [wards.rank_text(r, n) for r in ranked["rank"]], "Status": ranked["status"],
                         "Source": ranked["area_code"].map(src).fillna("")})


def map_section(con, view: View) -> str | None:
    """Choropleth (or hex map) of the chosen indicator, its legend and its table. Returns the map style."""
    hex_ok = view.vintage == wards.PLAN and HEX_LAYOUT.is_file()
    styles = [s for s, ok in (("boundaries", view.has_boundaries), ("hex", hex_ok)) if ok]
    if not view.has_boundaries:
        st.info("Ward boundaries are not available yet: they are loaded with the published data "
                "(`python -m derby_oa build` with the data mirror or the network)."
                + (" The hex map shows every ward as one equal-sized tile instead." if hex_ok else
                   " There is no hex layout for the 18 May 2023 wards, so no map can be drawn here."))
    elif view.vintage != wards.PLAN:
        st.caption("The hex map covers the 17 plan-period wards only; the May 2023 wards are shown on their boundaries.")
    if not styles or view.indicator is None:
        return None
    style = styles[0]
    if len(styles) > 1:
        _seed("wards-map-style", styles, "map", "boundaries", MAP_STYLES)
        c1, c2 = st.columns(2)
        style = c1.radio("Map", styles, format_func=MAP_STYLES.get, key="wards-map-style", horizontal=True,
                         help="Hex tiles give every ward the same area, so the small inner-city wards are "
                              "as visible as the large outer ones (for board screens).")
        c2.radio("A click on the map chooses the", list(CLICK_TARGETS), format_func=CLICK_TARGETS.get,
                 key="wards-click-target", horizontal=True)
    else:
        st.radio("A click on the map chooses the", list(CLICK_TARGETS), format_func=CLICK_TARGETS.get,
                 key="wards-click-target", horizontal=True)

    meta, values = view.meta, dict(zip(view.values["area_code"], view.values["value"]))
    title = f"{view.title}, {view.period}"
    short = f"{meta.get('short_title') or meta['title']}{view.title[len(meta['title']):]}, {view.period}"
    kwargs = dict(title=short, source=_source_text(view), unit=meta["unit"] or "", decimals=int(meta["decimals"] or 0))
    outlines = {view.ward_b: PINK, view.ward_a: ORANGE}
    if style == "hex":
        layout = pd.read_csv(HEX_LAYOUT)
        deck, legend = maps.hex_map(layout, values, **kwargs)
        deck.layers.append(maps.hex_outline_layer(layout, outlines))
        shown = layout["area_code"].tolist()
    else:
        bounds = ward_queries.boundaries(con, view.vintage)
        deck, legend = maps.ward_choropleth(bounds, values, vintage=view.vintage, **kwargs)
        deck.layers.append(maps.outline_layer(bounds, outlines, vintage=view.vintage))
        shown = bounds["area_code"].tolist()
    names = view.names
    no_data = sorted(names[c] for c in shown if pd.isna(values.get(c)))
    map_key = f"wards-map-{style}-{view.vintage}"
    st.pydeck_chart(deck, height=480, key=map_key, on_select=functools.partial(_on_pick, map_key, view.vintage),
                    selection_mode="single-object",
                    alt=f"Map of Derby's {len(shown)} wards coloured by {title}; the values are in the table below.")
    st.markdown(legend_html(legend, title, no_data), unsafe_allow_html=True)
    st.caption(f"Outlined: {names.get(view.ward_a, view.ward_a)} (orange, first ward) and "
               f"{names.get(view.ward_b, view.ward_b)} (pink, second ward). Classes: 5 quantile groups of "
               "the wards with data; hatched grey = no data (never zero). Hover for ward, value, rank and "
               "source; click a ward to choose it.")
    table = map_table(view)
    with st.expander("Table of the mapped values", expanded=not view.has_boundaries):
        st.dataframe(table, hide_index=True, width="stretch")
        st.download_button("Download CSV", exports.to_csv_bytes(table),
                           f"{widgets.slug(f'wards-{view.indicator}-{view.period}')}.csv", "text/csv",
                           key="wards-map-csv")
    if view.vintage == wards.CURRENT and view.meta["source_id"] == "mhclg_iod2019":
        st.caption(wards.BEST_FIT_2023)
    return style


# --- comparison -----------------------------------------------------------------------------------

def ward_pickers(view: View) -> None:
    """The two ward lists (their values are also set by clicks on the map)."""
    names = view.names
    c1, c2 = st.columns(2)
    view.ward_a = c1.selectbox("First ward", list(names), format_func=names.get, key=f"wards-a-{view.vintage}")
    view.ward_b = c2.selectbox("Second ward", list(names), format_func=names.get, key=f"wards-b-{view.vintage}")


def _delta_colour(meta: dict) -> str:
    return {"higher_is_better": "normal", "lower_is_better": "inverse"}.get(meta.get("polarity"), "off")


def compare_section(con, view: View) -> None:
    """Two wards side by side: values, the gap, each against Derby and England, and context."""
    names = view.names
    if view.ward_a == view.ward_b:
        st.info("Choose two different wards to see the gap between them.")
    if view.indicator is not None:
        cmp = wards.compare(view.values, view.reference, view.ward_a, view.ward_b,
                            {**view.meta, "title": view.title}, view.period)
        st.markdown(f"**{cmp.sentence()}**")
        cols = st.columns(3)
        for col, fig in zip(cols, (cmp.a, cmp.b)):
            delta = None if fig.vs_derby is None else f"{wards.fmt_difference(fig.vs_derby, view.meta)} vs Derby"
            col.metric(fig.name, fig.label, delta=delta, delta_color=_delta_colour(view.meta),
                       help=f"{fig.rank}. Derby {cmp.derby.label}, England {cmp.england.label}.")
        words = wards.difference_unit(view.meta)
        cols[2].metric(f"Gap{f' ({words})' if words else ''}",
                       wards.fmt_difference(cmp.gap, view.meta, signed=False).removesuffix(f" {words}") if words
                       else wards.fmt_difference(cmp.gap, view.meta, signed=False),
                       help="The difference between the two wards, in the indicator's unit.")
        st.dataframe(cmp.table(), hide_index=True, width="stretch")
    codes = {names.get(view.ward_a, view.ward_a): view.ward_a}
    codes.setdefault(names.get(view.ward_b, view.ward_b), view.ward_b)
    codes.update({"Derby": config.DERBY, "England": config.ENGLAND})
    context = ward_queries.ward_context(con, list(codes.values()))
    st.markdown("**Context: deprivation and children**")
    if context.empty:
        st.caption("No deprivation or population figures are loaded yet (they come with the published data).")
    else:
        st.dataframe(wards.context_table(context, codes), hide_index=True, width="stretch")
        st.caption(wards.CONTEXT_NOTE)
    caveat = wards.SMALL_NUMBERS
    per_year = [(names.get(c, c), wards.children_per_year(context, c)) for c in (view.ward_a, view.ward_b)]
    known = [f"{n} about {v:,.0f}" for n, v in per_year if v is not None]
    if known:
        caveat += (" Children per year of age (mid-2015 children aged 0-15 divided by 16): "
                   + "; ".join(known) + ".")
    if view.vintage == wards.CURRENT:
        caveat += " " + wards.BEST_FIT_2023
    st.caption(caveat)


# --- drill-down -----------------------------------------------------------------------------------

def drilldown_section(con, view: View) -> None:
    """The LSOAs in the first ward, coloured by IMD 2019 decile, with their table."""
    name = view.names.get(view.ward_a, view.ward_a)
    lsoas = ward_queries.lsoas_of_ward(con, view.ward_a, view.vintage)
    if lsoas.empty:
        st.info("The LSOAs of each ward and their deprivation deciles are not loaded yet (they come with the "
                "published data).")
        return
    n, n1 = len(lsoas), int((lsoas["imd_decile"] == 1).sum())
    st.markdown(f"**{n1} of {n} LSOAs in {name}** are in England's most deprived 10% (IMD 2019 decile 1).")
    if lsoas["geometry_wkb"].notna().all():
        bounds = lsoas.assign(layer="lsoa", vintage="2011")
        outline = ward_queries.boundaries(con, view.vintage, codes=[view.ward_a])
        deck, legend = maps.lsoa_decile_map(bounds, dict(zip(lsoas["area_code"], lsoas["imd_decile"])),
                                            ward_outlines=outline if len(outline) else None,
                                            ward_vintage=view.vintage, height=420)
        st.pydeck_chart(deck, height=420, key=f"wards-lsoa-map-{view.vintage}",
                        alt=f"Map of the {n} LSOAs in {name} coloured by IMD 2019 decile; table below.")
        st.markdown(legend_html(legend, "IMD 2019 decile (1 = most deprived 10% in England)", []),
                    unsafe_allow_html=True)
    else:
        st.caption("LSOA boundaries are not loaded, so the LSOAs are listed without a map.")
    table = pd.DataFrame({"LSOA": lsoas["area_code"], "Name": lsoas["area_name"],
                          "IMD 2019 decile": lsoas["imd_decile"].astype("Int64"),
                          "IMD 2019 rank (of 32,844)": lsoas["imd_rank"].astype("Int64"),
                          "Population mid-2015": lsoas["population_total"].astype("Int64"),
                          "How assigned to the ward": lsoas["method"]})
    with st.expander(f"Table of the LSOAs in {name}"):
        st.dataframe(table, hide_index=True, width="stretch")
        st.download_button("Download CSV", exports.to_csv_bytes(table), f"lsoas-{widgets.slug(name)}.csv",
                           "text/csv", key="wards-lsoa-csv")
    st.caption("Source: MHCLG, English Indices of Deprivation 2019 (File 1); ONS LSOA (2011) boundaries. "
               + (wards.BEST_FIT_2023 if view.vintage == wards.CURRENT else
                  "LSOAs nest exactly in the 2003-2023 wards (ONS LSOA11-WD19 lookup)."))


# --- ranking --------------------------------------------------------------------------------------

def ranking_section(view: View) -> None:
    """All wards ranked for the indicator, with Derby's value as a rule."""
    meta = view.meta
    ranked = wards.ranking(view.values, meta)
    ref = view.reference.set_index("area_code")["value"] if len(view.reference) else pd.Series(dtype=float)
    derby = ref.get(config.DERBY)
    derby = None if derby is None or pd.isna(derby) else float(derby)
    chart = charts.ranked_bar_chart(ranked[["area_name", "value"]], meta, reference=derby, reference_label="Derby")
    n = int(ranked["value"].notna().sum())
    caption = (f"{view.title}, {view.period}: {n} of {len(ranked)} wards have a figure; wards without one are "
               "listed as 'no data'. " + (f"Dashed line: Derby {wards.fmt(derby, meta)}." if derby is not None
                                          else "There is no Derby figure for this measure."))
    table = ranked.rename(columns={"area_name": "Ward", "area_code": "Code", "value": "Value", "rank": "Rank",
                                   "label": "Label", "status": "Status"})
    widgets.chart_block(chart, table, f"wards-ranked-{view.indicator}-{view.period}", caption, key="wards-ranked")


# --- plan figures, methods, sources ---------------------------------------------------------------

def plan_figures_section(con) -> None:
    """The ward figures quoted in the delivery plan, with its words."""
    figs = ward_queries.plan_ward_figures(con)
    if figs.empty:
        st.caption("The plan quotes no ward figures.")
        return
    table = pd.DataFrame({"Ward": figs["area_name"], "Indicator": figs["title"], "Period": figs["period"],
                          "Value": [wards.fmt(v, {"unit": u, "decimals": 1}) for v, u in zip(figs["value"], figs["unit"])],
                          "Plan's words": figs["plan_quote"], "Plan section": figs["plan_section"]})
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption("Source: Derby Opportunity Area delivery plan 2017-2020 (Department for Education), Open Government "
               "Licence v3.0. The plan gives ward GLD for these two wards only; the other wards have no figure.")


def sources_note(con, view: View) -> None:
    """Attribution for the sources behind the page's figures and maps."""
    ids = {"plan_2017"}
    for df in (view.values, view.reference):
        if df is not None and len(df):
            ids |= set(df["source_id"].dropna())
    if view.has_boundaries:
        ids |= {"ons_boundaries_2003_2023" if view.vintage == wards.PLAN else "ons_boundaries_2023", "mhclg_iod2019"}
    src = queries.sources(con)
    widgets.source_note(src[src["source_id"].isin(ids)])

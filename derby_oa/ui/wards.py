"""Streamlit parts of the Wards page: URL-backed choices, the ward map with selection, the
comparison of two wards, the LSOA drill-down, the ranked chart and the plan's ward figures.

URL parameters: vintage, indicator, period, breakdown (when not `all`), map (`hex` for the hex
tiles), ward and compare (ward codes), profile (the profiled ward, when not the first ward), and
against and outcome (the scatter's measures, when not the defaults). Invalid values give a short
notice and the defaults.
"""
from __future__ import annotations

import functools
import html
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from derby_oa.viz import charts, exports, maps
from derby_oa import config, queries
from derby_oa.analysis.wards import need as ward_need, profiles as ward_profiles, ranking as wards
from derby_oa.queries import schools as school_queries
from derby_oa.queries import wards as ward_queries
from derby_oa.ui import connection, widgets

ORANGE, PINK = "#F46A25", "#801650"  # outlines of the first and second ward on the maps
MAP_STYLES = {"boundaries": "Ward boundaries", "hex": "Equal-size hex tiles (one per ward)"}
CLICK_TARGETS = {"a": "first ward", "b": "second ward", "p": "ward profile"}
HEX_LAYOUTS = {wards.PLAN: config.GEO_DIR / "hex_layout.csv", wards.CURRENT: config.GEO_DIR / "hex_layout_2023.csv"}
BREAKDOWN_LABELS = wards.BREAKDOWN_LABELS


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
    ward_p: str = ""  # the profiled ward
    values: pd.DataFrame | None = None  # queries.wards.ward_values
    reference: pd.DataFrame | None = None  # Derby and England
    latest: pd.DataFrame | None = None  # queries.wards.latest_ward_values, small numbers suppressed
    latest_ref: pd.DataFrame | None = None  # queries.wards.latest_reference_values

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
        if target == "p":
            _profile_chosen(vintage)


def _profile_chosen(vintage: str) -> None:
    """The reader chose the profiled ward: from now on it no longer follows the first ward."""
    st.session_state[f"wards-p-{vintage}-chosen"] = True


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
    for param in ("ward", "compare", "profile"):  # a ward of the other boundaries -> the ward of the same name
        same = wards.same_named_ward(st.query_params.get(param), ward_list, all_wards)
        if same and same != st.query_params.get(param):
            st.query_params[param] = same
    _seed(f"wards-a-{vintage}", codes, "ward", a, names)
    _seed(f"wards-b-{vintage}", codes, "compare", b, names)
    pkey = f"wards-p-{vintage}"
    if "profile" in st.query_params and st.query_params["profile"] in codes:
        _profile_chosen(vintage)
    if not st.session_state.get(f"{pkey}-chosen"):  # until chosen, the profile follows the first ward
        st.session_state.pop(pkey, None)
    _seed(pkey, codes, "profile", st.session_state[f"wards-a-{vintage}"], names)
    view = View(vintage, ward_list, indicator, meta, period, breakdown, st.session_state[f"wards-a-{vintage}"],
                st.session_state[f"wards-b-{vintage}"], ward_queries.has_boundaries(con, vintage),
                ward_p=st.session_state[f"wards-p-{vintage}"])
    if indicator:
        view.values = wards.suppress_small_numbers(ward_queries.ward_values(con, indicator, period, vintage, breakdown),
                                                   meta.get("unit"))
        view.reference = ward_queries.reference_values(con, indicator, period, breakdown)
    view.latest, view.latest_ref = _latest(vintage)
    return view


@connection.per_database(8)
def _latest(vintage: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every ward indicator at its latest period (small numbers suppressed), and Derby's and England's."""
    con = connection.get_con()
    return (wards.suppress_small_numbers(ward_queries.latest_ward_values(con, vintage)),
            ward_queries.latest_reference_values(con, vintage))


@connection.per_database(8)
def _ranked(vintage: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """The latest ward values with each ward's rank per measure, and the measures' labels by key."""
    latest = _latest(vintage)[0]
    found = ward_profiles.measures(latest)
    return ward_profiles.with_ranks(latest), dict(zip(found["key"], found["label"]))


def sync_url(view: View, map_style: str | None, scatter: tuple[str | None, str | None] = (None, None)) -> None:
    """Write the view into the URL so a link reopens it (`scatter`: the against and outcome
    measures when they are not the defaults)."""
    widgets.qp_set(vintage=view.vintage, indicator=view.indicator, period=view.period,
                   breakdown=None if view.breakdown == "all" else view.breakdown,
                   map="hex" if map_style == "hex" else None, ward=view.ward_a, compare=view.ward_b,
                   profile=None if view.ward_p == view.ward_a else view.ward_p,
                   against=scatter[0], outcome=scatter[1])


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
        label = html.escape(label)
        items.append(f"<li style='list-style:none;margin:2px 0'><span aria-hidden='true' style='display:inline-block;"
                     f"width:22px;height:14px;vertical-align:middle;margin-right:6px;{swatch}'></span>{label}</li>")
    return (f"<div role='group' aria-label='Map legend'><b>{html.escape(title)}</b><ul style='padding-left:0;margin:4px 0'>"
            + "".join(items) + "</ul></div>")


def _source_text(view: View) -> str:
    src = view.values.dropna(subset=["value"])
    titles = sorted({f"{t} ({p})" if isinstance(p, str) else str(t)
                     for t, p in zip(src["source_title"], src["publisher"]) if isinstance(t, str)})
    return "; ".join(titles) or "no source (no ward has a value)"


def map_section(con, view: View) -> str | None:
    """Choropleth (or hex map) of the chosen indicator, its legend and its table. Returns the map style."""
    hex_path = HEX_LAYOUTS[view.vintage]
    hex_ok = hex_path.is_file()
    styles = [s for s, ok in (("boundaries", view.has_boundaries), ("hex", hex_ok)) if ok]
    if not view.has_boundaries:
        st.info("Ward boundaries are not available yet: they are loaded with the published data "
                "(`python -m derby_oa build` with the data mirror or the network)."
                + (" The hex map shows every ward as one equal-sized tile instead." if hex_ok else
                   " There is no hex layout for these wards, so no map can be drawn here."))
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
    symbols = {c: wards.symbol_label(s, bool(here))
               for c, v, s, here in zip(view.values["area_code"], view.values["value"], view.values["status"],
                                        view.values["suppressed"])
               if pd.isna(v) and s in wards.SYMBOLS}
    title = f"{view.title}, {view.period}"
    short = f"{meta.get('short_title') or meta['title']}{view.title[len(meta['title']):]}, {view.period}"
    kwargs = dict(title=short, source=_source_text(view), unit=meta["unit"] or "", decimals=int(meta["decimals"] or 0),
                  dark_low=maps.dark_is_low(meta), missing_labels=symbols)
    outlines = {view.ward_b: PINK, view.ward_a: ORANGE}
    if style == "hex":
        layout = pd.read_csv(hex_path)
        deck, legend = maps.hex_map(layout, values, **kwargs)
        deck.layers.append(maps.hex_outline_layer(layout, outlines))
        shown = layout["area_code"].tolist()
    else:
        bounds = ward_queries.boundaries(con, view.vintage)
        deck, legend = maps.ward_choropleth(bounds, values, vintage=view.vintage, **kwargs)
        deck.layers.append(maps.outline_layer(bounds, outlines, vintage=view.vintage))
        shown = bounds["area_code"].tolist()
    names = view.names
    no_data = sorted(names[c] + (f" ({symbols[c].split(' ')[0]})" if c in symbols else "")
                     for c in shown if pd.isna(values.get(c)))
    map_key = f"wards-map-{style}-{view.vintage}"
    st.pydeck_chart(deck, height=480, key=map_key, on_select=functools.partial(_on_pick, map_key, view.vintage),
                    selection_mode="single-object",
                    alt=f"Map of Derby's {len(shown)} wards coloured by {title}; the values are in the table below.")
    st.markdown(legend_html(legend, f"{title}. {maps.direction_note(meta)}", no_data), unsafe_allow_html=True)
    st.caption(f"Outlined: {names.get(view.ward_a, view.ward_a)} (orange, first ward) and "
               f"{names.get(view.ward_b, view.ward_b)} (pink, second ward). Classes: up to 5 groups of about "
               "equal numbers of wards, never more than the distinct values and never overlapping; hatched "
               "grey = no data (never zero). Hover for ward, value, rank and source; click a ward to choose it.")
    table = wards.map_table(view.values, view.meta)
    with st.expander("Table of the mapped values", expanded=not view.has_boundaries):
        st.dataframe(table, hide_index=True, width="stretch")
        st.download_button("Download CSV", functools.partial(exports.to_csv_bytes, table),
                           f"{widgets.slug(f'wards-{view.indicator}-{view.period}')}.csv", "text/csv",
                           key="wards-map-csv")
    if view.vintage == wards.CURRENT and view.meta["source_id"] == "mhclg_iod2019":
        st.caption(wards.BEST_FIT_2023)
    if view.values["suppressed"].any() or view.values["source_id"].astype(str).str.startswith("upload:").any():
        st.caption(wards.SUPPRESSION_NOTE)
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
    """The LSOAs in the profiled ward, coloured by IMD 2019 decile, with their table."""
    name = view.names.get(view.ward_p, view.ward_p)
    lsoas = ward_queries.lsoas_of_ward(con, view.ward_p, view.vintage)
    if lsoas.empty:
        st.info("The LSOAs of each ward and their deprivation deciles are not loaded yet (they come with the "
                "published data).")
        return
    n, n1 = len(lsoas), int((lsoas["imd_decile"] == 1).sum())
    st.markdown(f"**{n1} of {n} LSOAs in {name}** are in England's most deprived 10% (IMD 2019 decile 1).")
    if not lsoas["geometry_wkb"].notna().all():
        st.caption("LSOA boundaries are not loaded, so the LSOAs are listed without a map.")
    elif not st.toggle(f"Draw the map of the LSOAs in {name}", key="wards-lsoa-map-on",
                       help="One map is drawn at a time unless you ask for more: the table below lists every LSOA."):
        st.caption("The map of these LSOAs is drawn when you turn it on; the table below lists each with its decile.")
    else:
        bounds = lsoas.assign(layer="lsoa", vintage="2011")
        outline = ward_queries.boundaries(con, view.vintage, codes=[view.ward_p])
        deck, legend = maps.lsoa_decile_map(bounds, dict(zip(lsoas["area_code"], lsoas["imd_decile"])),
                                            ward_outlines=outline if len(outline) else None,
                                            ward_vintage=view.vintage, height=420)
        st.pydeck_chart(deck, height=420, key=f"wards-lsoa-map-{view.vintage}",
                        alt=f"Map of the {n} LSOAs in {name} coloured by IMD 2019 decile; table below.")
        st.markdown(legend_html(legend, "IMD 2019 decile (1 = most deprived 10% in England). Darker = worse "
                                "(more deprived)", []),
                    unsafe_allow_html=True)
    table = pd.DataFrame({"LSOA": lsoas["area_code"], "Name": lsoas["area_name"],
                          "IMD 2019 decile": lsoas["imd_decile"].astype("Int64"),
                          "IMD 2019 rank (of 32,844)": lsoas["imd_rank"].astype("Int64"),
                          "Population mid-2015": lsoas["population_total"].astype("Int64"),
                          "How assigned to the ward": lsoas["method"]})
    with st.expander(f"Table of the LSOAs in {name}"):
        st.dataframe(table, hide_index=True, width="stretch")
        st.download_button("Download CSV", functools.partial(exports.to_csv_bytes, table), f"lsoas-{widgets.slug(name)}.csv",
                           "text/csv", key="wards-lsoa-csv")
    st.caption("Source: MHCLG, English Indices of Deprivation 2019 (File 1); ONS LSOA (2011) boundaries. "
               + (wards.BEST_FIT_2023 if view.vintage == wards.CURRENT else
                  "LSOAs nest exactly in the 2003-2023 wards (ONS LSOA11-WD19 lookup)."))


# --- ranking --------------------------------------------------------------------------------------

def ranking_section(view: View) -> None:
    """All wards ranked for the indicator, with Derby's value as a rule."""
    chart, table, caption = _ranking_parts(view.vintage, view.indicator, view.period, view.breakdown)
    widgets.chart_block(chart, table, f"wards-ranked-{view.indicator}-{view.period}", caption, key="wards-ranked")


@connection.per_database(64)
def _ranking_parts(vintage: str, indicator: str, period: str, breakdown: str):
    con = connection.get_con()
    meta = queries.indicator(con, indicator)
    values = wards.suppress_small_numbers(ward_queries.ward_values(con, indicator, period, vintage, breakdown),
                                          meta.get("unit"))
    reference = ward_queries.reference_values(con, indicator, period, breakdown)
    ranked = wards.ranking(values, meta)
    ref = reference.set_index("area_code")["value"] if len(reference) else pd.Series(dtype=float)
    derby = ref.get(config.DERBY)
    derby = None if derby is None or pd.isna(derby) else float(derby)
    chart = charts.ranked_bar_chart(ranked[["area_name", "value"]], meta, reference=derby, reference_label="Derby")
    n = int(ranked["value"].notna().sum())
    bd = "" if breakdown == "all" else f" ({BREAKDOWN_LABELS.get(breakdown, breakdown)})"
    caption = (f"{meta['title']}{bd}, {period}: {n} of {len(ranked)} wards have a figure; wards without one are "
               "listed as 'no data'. " + (f"Dashed line: Derby {wards.fmt(derby, meta)}." if derby is not None
                                          else "There is no Derby figure for this measure."))
    table = ranked.rename(columns={"area_name": "Ward", "area_code": "Code", "value": "Value", "rank": "Rank",
                                   "label": "Label", "status": "Status"})
    return chart, table, caption


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


# --- every indicator at once ----------------------------------------------------------------------

def compare_all_section(view: View) -> None:
    """The two wards across every ward indicator: a table and a dot chart, with Derby and England."""
    names = view.names
    name_a, name_b = names.get(view.ward_a, view.ward_a), names.get(view.ward_b, view.ward_b)
    if view.latest is None or view.latest.empty:
        st.caption(f"No indicator has ward figures on the {wards.VINTAGE_LABELS[view.vintage]} yet.")
        return
    if view.ward_a == view.ward_b:
        return
    chart, table, caption = _compare_all_parts(view.vintage, view.ward_a, view.ward_b, name_a, name_b)
    widgets.chart_block(chart, table, f"wards-{name_a}-{name_b}-all-indicators", caption, key="wards-all-dots")


@connection.per_database(64)
def _compare_all_parts(vintage: str, ward_a: str, ward_b: str, name_a: str, name_b: str):
    latest, latest_ref = _latest(vintage)
    cmp = ward_profiles.compare_all(latest, latest_ref, ward_a, ward_b)
    table = ward_profiles.compare_all_table(cmp, name_a, name_b)
    dots = ward_profiles.dot_frame(cmp, name_a, name_b)
    chart = charts.ward_dot_chart(dots, (name_a, name_b))
    n_missing = int(cmp["a"].isna().sum() + cmp["b"].isna().sum())
    caption = (f"{len(cmp)} ward indicators, each at its latest period with ward figures. Each row is one indicator: "
               "the grey bar spans Derby's wards from the lowest (0) to the highest (100), and each dot shows where "
               "an area sits on it (Derby or England can fall outside the wards' range; counts have no Derby or "
               "England dot). " + (f"{n_missing} ward figure{'s are' if n_missing != 1 else ' is'} missing: a ward "
                                   "with no data has no dot (never a dot at zero) and reads 'no data' in the table."
                                   if n_missing else "Both wards have a figure for every indicator."))
    return chart, table, caption


# --- ward profile ---------------------------------------------------------------------------------

def profile_section(con, view: View) -> None:
    """One ward: every indicator with its rank among Derby's wards, a trend, its LSOAs and schools."""
    names = view.names
    view.ward_p = st.selectbox("Ward to profile", list(names), format_func=names.get, key=f"wards-p-{view.vintage}",
                               on_change=_profile_chosen, args=(view.vintage,),
                               help="Follows the first ward until you choose another here, or click a ward on the "
                                    "map with 'ward profile' chosen.")
    name = names.get(view.ward_p, view.ward_p)
    table = _profile_table(view.vintage, view.ward_p)
    if table.empty:
        st.caption("No indicator has ward figures for these boundaries yet.")
    else:
        n_data = int((~table["Value"].isin([wards.NO_DATA, *wards.SYMBOLS])).sum())
        st.markdown(f"**{widgets.md_escape(name)}: {n_data} of {len(table)} ward indicators have a figure.** Rank 1 is "
                    "the highest value among Derby's wards with a figure; 'Better when' says whether high or low is "
                    "better (neither for counts and populations).")
        shown = table.drop(columns=["key"])
        st.dataframe(shown, hide_index=True, width="stretch")
        st.download_button("Download CSV", functools.partial(exports.to_csv_bytes, shown), f"ward-profile-{widgets.slug(name)}.csv",
                           "text/csv", key="wards-profile-csv")
        _trend(con, view, name)
    st.subheader(f"Inside {name}: its neighbourhoods by deprivation")
    drilldown_section(con, view)
    st.subheader(f"Schools in {name}")
    schools = ward_queries.schools_in_ward(con, view.ward_p, view.vintage)
    if schools.empty:
        st.caption(f"No school in the database is located in {name}." if school_queries.has_schools(con)
                   else "No school data is loaded for the wards yet.")
    else:
        shown = wards.school_table(schools)
        st.markdown(f"**{len(shown)} school{'s' if len(shown) != 1 else ''} in {widgets.md_escape(name)}**")
        st.dataframe(shown, hide_index=True, width="stretch")
        st.download_button("Download CSV", functools.partial(exports.to_csv_bytes, shown), f"schools-{widgets.slug(name)}.csv",
                           "text/csv", key="wards-profile-schools-csv")
        st.caption(wards.SCHOOLS_NOTE)


@connection.per_database(64)
def _profile_table(vintage: str, ward: str) -> pd.DataFrame:
    latest, latest_ref = _latest(vintage)
    return ward_profiles.profile(latest, latest_ref, ward)


def _trend(con, view: View, name: str) -> None:
    """A small trend chart of one of the ward's indicators that has two or more periods."""
    counts = ward_queries.ward_period_counts(con, view.ward_p)
    keys = {ward_profiles.measure_key(i, b): (i, b) for i, b in zip(counts["indicator_id"], counts["breakdown"])}
    options = ward_profiles.trend_options(dict(zip(keys, counts["n"])))
    labels = _ranked(view.vintage)[1]
    options = [k for k in options if k in labels]
    if not options:
        st.caption(f"No indicator has figures for {name} in more than one period, so there is no trend to show.")
        return
    key = st.selectbox("Trend of", options, format_func=labels.get, key=f"wards-trend-{view.vintage}-{view.ward_p}")
    chart, table = _trend_parts(view.vintage, view.ward_p, *keys[key], name)
    widgets.chart_block(chart, table, f"ward-trend-{name}-{key}",
                        f"{labels[key]} in {name}, with Derby and England over the same years. Lines break at missing "
                        "years and series breaks, and figures from different sources are separate lines.",
                        key="wards-trend")


@connection.per_database(64)
def _trend_parts(vintage: str, ward: str, indicator_id: str, breakdown: str, name: str):
    con = connection.get_con()
    meta = queries.indicator(con, indicator_id)
    history = ward_queries.ward_history(con, indicator_id, breakdown, [ward, config.DERBY, config.ENGLAND])
    history = wards.suppress_small_numbers(history, meta.get("unit"))
    if meta.get("unit") == "count":
        history = history[history["area_code"] == ward]
    frame = ward_profiles.trend_frame(history, ward)
    chart = charts.trend_chart(frame, meta, highlight=name, height=240)
    table = frame.assign(value=[wards.fmt(v, meta) for v in frame["value"]]).rename(
        columns={"series": "Area", "year": "Year", "period": "Period", "value": "Value"})
    return chart, table


# --- where are children worst off -----------------------------------------------------------------

def need_section(view: View) -> tuple[str | None, str | None]:
    """Wards ranked on child poverty and deprivation together, and the outcome-against-deprivation
    scatter. Returns the scatter's (against, outcome) keys when they differ from the defaults."""
    if view.latest is None or view.latest.empty:
        st.caption("No ward figures are loaded for these boundaries yet.")
        return None, None
    ranked, labels, parts, fallback, table, (x_default, y_default), xs, ys = _need_parts(view.vintage)
    if fallback:
        st.markdown("*No child-poverty measure (children in low-income families, IDACI) has ward figures on these "
                    "boundaries yet, so the wards are ranked on the IoD 2019 income domain and the IMD instead.*")
    if parts:
        st.markdown("**Wards ranked, worst off first**, on: " + "; ".join(widgets.md_escape(labels[k]) for k in parts) + ".")
        st.dataframe(table, hide_index=True, width="stretch")
        st.download_button("Download CSV", functools.partial(exports.to_csv_bytes, table), f"wards-worst-off-{view.vintage}.csv",
                           "text/csv", key="wards-need-csv")
        st.caption(ward_need.RULE)
    st.subheader("Doing better or worse than its deprivation predicts")
    if not xs or not ys or x_default is None or y_default is None:
        st.caption("Fewer than three wards have figures for an outcome and a deprivation measure, so no line can be fitted.")
        return None, None
    c1, c2 = st.columns(2)
    _seed(f"wards-x-{view.vintage}", xs, "against", x_default if x_default in xs else xs[0], labels)
    _seed(f"wards-y-{view.vintage}", ys, "outcome", y_default if y_default in ys else ys[0], labels)
    x_key = c1.selectbox("Deprivation measure (across)", xs, format_func=labels.get, key=f"wards-x-{view.vintage}")
    y_key = c2.selectbox("Ward outcome (up)", ys, format_func=labels.get, key=f"wards-y-{view.vintage}")
    chart, table, caption = _scatter_parts(view.vintage, x_key, y_key)
    widgets.chart_block(chart, table, f"wards-scatter-{y_key}-{x_key}", caption, key="wards-scatter")
    return (None if x_key == x_default else x_key), (None if y_key == y_default else y_key)


@connection.per_database(8)
def _need_parts(vintage: str):
    """The worst-off ranking and the scatter's choices: (ranked, labels, parts, fallback, table, defaults, xs, ys)."""
    latest = _latest(vintage)[0]
    ranked, labels = _ranked(vintage)
    parts, fallback = ward_need.need_parts(latest)
    table = ward_need.worst_off_table(ward_need.worst_off(ranked, parts), parts, labels) if parts else None
    defaults = ward_need.default_pair(ranked, parts)
    counts = ranked.groupby("key")["value"].count()
    xs = [k for k in ward_need.deprivation_options(ranked, parts) if counts.get(k, 0) >= 3]
    ys = [k for k in ward_profiles.measures(latest)["key"] if counts.get(k, 0) >= 3
          and labels.get(k) and ranked.loc[ranked["key"] == k, "unit"].iloc[0] != "count"]
    return ranked, labels, parts, fallback, table, defaults, xs, ys


@connection.per_database(64)
def _scatter_parts(vintage: str, x_key: str, y_key: str):
    """The outcome-against-deprivation scatter: (chart, table, caption)."""
    ranked, labels = _ranked(vintage)
    df, fit, left_out = ward_need.scatter(ranked, x_key, y_key)
    y_meta = ranked[ranked["key"] == y_key].iloc[0].to_dict()
    line = None
    if fit is not None:
        xr = [df["x"].min(), df["x"].max()]
        line = pd.DataFrame({"x": xr, "y": fit.predict(xr)})
    chart = charts.ward_scatter_chart(df, labels[x_key], labels[y_key], line)
    table = ward_need.scatter_table(df, labels[x_key], labels[y_key], y_meta)
    fit_text = (f"Dashed line: least-squares fit over {fit.n} wards (R² = {fit.r2:.2f}). Wards more than one "
                "residual standard deviation from the line are marked." if fit else "Fewer than three wards: no line.")
    caption = (f"{labels[y_key]} against {labels[x_key]}, each ward labelled. {fit_text} "
               + (f"Not plotted (no data on one or both): {', '.join(left_out)}. " if left_out else "")
               + ward_need.DESCRIPTIVE)
    return chart, table, caption

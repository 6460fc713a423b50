"""Explorer: any indicators, areas, years and groups as a tidy table, a pivot or a chart, with downloads.

Every choice lives in the URL (`q`, `ind`, `area`, `group`, `bd`, `from`, `to`, `view`, `chart`).
"""
import streamlit as st

from derby_oa import config
from derby_oa.analysis import explore
from derby_oa.viz import exports
from derby_oa.queries import explore as xq
from derby_oa.ui import explore as explore_view, widgets
from derby_oa.ui.connection import get_con

widgets.presentation_mode()
con = get_con()
st.title("Explorer")
st.caption("Choose indicators, areas, years and pupil groups; see a table, a pivot (areas by years) or a chart, and "
           "download the data with each indicator's definition, source and licence.")
qp = st.query_params


def notice(name: str, rejected: list[str], fallback: str) -> None:
    st.info(f"The link asked for {name} = '{widgets.md_escape(', '.join(rejected))}', which is not available "
            f"here; {fallback}.")


# Indicators: searchable by title and definition.
catalogue = xq.search_indicators(con, "")
titles = dict(zip(catalogue["indicator_id"], catalogue["title"]))
search = st.text_input("Search indicators by title or definition", value=qp.get("q", ""), key="ex-q",
                       placeholder="e.g. free school meals, absence, obesity")
found = xq.search_indicators(con, search) if search.strip() else catalogue
default_ind = ["gld"] if "gld" in titles else catalogue["indicator_id"].head(1).tolist()
chosen, rejected = explore.parse_list(qp.get("ind"), titles)
if rejected:
    notice("indicators", rejected, "those are left out" if chosen else "showing the default indicator")
if not chosen:
    chosen = default_ind
if len(chosen) > explore.MAX_INDICATORS:
    notice("indicators", chosen[explore.MAX_INDICATORS:], f"the explorer shows up to {explore.MAX_INDICATORS} at once")
    chosen = chosen[:explore.MAX_INDICATORS]
options = list(dict.fromkeys(chosen + found["indicator_id"].tolist()))
if search.strip():
    st.caption(f"{len(found):,} indicators match '{widgets.md_escape(search.strip())}'.")
indicators = st.multiselect(f"Indicators (up to {explore.MAX_INDICATORS})", options, default=chosen,
                            max_selections=explore.MAX_INDICATORS, key="ex-ind",
                            format_func=lambda i: f"{titles.get(i, i)} [{i}]")

# Areas: single areas and named groups.
area_table = xq.area_choices(con, include=explore.split_list(qp.get("area")))
area_label = explore.area_labels(area_table)
areas, rejected = explore.parse_list(qp.get("area"), area_label)
if rejected:
    notice("areas", rejected, "those are left out" if areas else "showing Derby, England and the East Midlands")
groups_all = xq.group_choices(con)
groups, rejected = explore.parse_list(qp.get("group"), groups_all)
if rejected:
    notice("area groups", rejected, "those are left out")
if not areas and not groups:
    areas = [config.DERBY, config.ENGLAND, config.EAST_MIDLANDS]
c1, c2 = st.columns([3, 2])
areas = c1.multiselect("Areas", list(area_label), default=areas, key="ex-area", format_func=area_label.get)
groups = c2.multiselect("Add groups of areas", list(groups_all), default=groups, key="ex-group",
                        format_func=groups_all.get)
codes = list(dict.fromkeys(areas + [c for g in groups for c in xq.group_codes(con, g)]))

# Pupil groups and years.
bd_options = xq.breakdowns(con, indicators) or ["all"]
breakdowns, rejected = explore.parse_list(qp.get("bd"), bd_options)
unknown = [b for b in rejected if b not in explore.BREAKDOWN_LABELS]  # known groups these indicators lack: quietly
if unknown:
    notice("pupil groups", unknown, "those are left out" if breakdowns else "showing all pupils")
if not breakdowns:
    breakdowns = ["all"] if "all" in bd_options else bd_options[:1]
breakdowns = st.multiselect("Pupil groups (breakdowns)", bd_options, default=breakdowns, key="ex-bd",
                            format_func=lambda b: explore.BREAKDOWN_LABELS.get(b, b))
years = xq.years(con, indicators)
year_from = year_to = None
if years:
    year_from = explore.parse_year(qp.get("from"), years)
    year_to = explore.parse_year(qp.get("to"), years)
    for name in ("from", "to"):
        if qp.get(name) is not None and explore.parse_year(qp.get(name), years) is None:
            notice(f"the year '{name}'", [qp.get(name)], f"using {years[0] if name == 'from' else years[-1]}")
    year_from = year_from if year_from is not None else years[0]
    year_to = year_to if year_to is not None else years[-1]
    if year_from > year_to:
        year_from, year_to = year_to, year_from
    if len(years) > 1:
        year_from, year_to = st.select_slider("Years (ending)", options=years, value=(year_from, year_to),
                                              key="ex-years")

c3, c4 = st.columns(2)
view = widgets.qp_choice("view", list(explore.VIEWS), "chart")
view = c3.radio("Show", explore.VIEWS, index=explore.VIEWS.index(view), horizontal=True, key="ex-view",
                format_func=lambda v: {"table": "Tidy table", "pivot": "Pivot (areas by years)", "chart": "Chart"}[v])
kind = widgets.qp_choice("chart", list(explore.CHART_KINDS), "line")
kind = c4.radio("Chart", explore.CHART_KINDS, index=explore.CHART_KINDS.index(kind), horizontal=True,
                key="ex-chart", format_func=lambda k: {"line": "Line (trend)", "bar": "Bar (one year)"}[k],
                disabled=view != "chart")

widgets.qp_set(q=search.strip() or None, ind=explore.join_list(indicators) or None,
               area=explore.join_list(areas) or None, group=explore.join_list(groups) or None,
               bd=explore.join_list(breakdowns) or None, view=view, chart=kind,
               **{"from": year_from, "to": year_to})

data = xq.observations(con, indicators, codes, breakdowns, year_from, year_to) if indicators and codes else None
if not indicators or not codes:
    st.info("Choose at least one indicator and one area.")
elif data is None or data.empty:
    st.info("No data: nothing has been published or loaded for this selection.")
else:
    if view == "table":
        st.dataframe(explore.tidy_table(data), hide_index=True, width="stretch")
    elif view == "pivot":
        st.dataframe(explore.pivot(data), hide_index=True, width="stretch")
    else:
        for ind in indicators:
            parts = explore_view.chart_parts(ind, tuple(codes), tuple(breakdowns), year_from, year_to, kind)
            if parts is None:
                st.info(f"{titles.get(ind, ind)}: no data for these areas, groups and years.")
                continue
            title, chart, caption, table = parts
            st.subheader(title)
            widgets.chart_block(chart, table, f"{ind}-{kind}", caption, key=f"ex-chart-{ind}")
    st.caption(f"{len(data):,} rows. Missing values show the DfE symbol: c suppressed, x not available, "
               f"z not applicable.")
    defs = xq.definitions(con, data[["indicator_id", "source_id"]])
    d1, d2 = st.columns(2)  # files are made when a button is pressed (deferred), not on every rerun
    d1.download_button("Download CSV (tidy)", lambda: exports.to_csv_bytes(explore.tidy_table(data)),
                       "derby-oa-explorer.csv", "text/csv", key="ex-csv")
    d2.download_button("Download XLSX (data, definitions and sources, pivot)",
                       lambda: exports.to_xlsx_bytes(explore.workbook_sheets(data, defs)), "derby-oa-explorer.xlsx",
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="ex-xlsx")
    with st.expander("Definitions, sources and licences"):
        st.dataframe(explore.definitions_sheet(defs), hide_index=True, width="stretch")
    widgets.source_note(defs.drop_duplicates("source_id")[["source", "publisher", "licence"]]
                        .rename(columns={"source": "title"}))

widgets.copy_link()

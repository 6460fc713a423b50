"""Data & sources: every publication with licence and attribution, indicator definitions, the build log."""
import streamlit as st

from derby_oa import formatting, queries
from derby_oa.analysis.wards import ranking as wards
from derby_oa.ui import widgets
from derby_oa.ui.connection import get_con

widgets.presentation_mode()
con = get_con()
st.title("Data & sources")
st.markdown(
    "Every figure on this dashboard comes from a named publication. Statistics are Crown copyright, "
    "published under the [Open Government Licence v3.0](https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/). "
    "Boundaries: *Contains OS data © Crown copyright and database right.* "
    "Missing values use the DfE symbols: **c** suppressed, **x** not available, **z** not applicable."
)
if not queries.has_published_data(con):
    st.warning("Only the delivery plan's own figures are loaded (the embedded default). Published data "
               "will appear after `python -m derby_oa build` can reach the data mirror or the network.")

st.header("Sources")
src = queries.sources(con)
titles = dict(zip(src["source_id"], src["title"]))
shown = src.assign(retrieved=src["retrieved"].map(formatting.retrieved_text),
                   observations=src["observations"].map(lambda n: formatting.number(n, 0)))
# wraps, so that every licence column fits a 1366 px screen
widgets.fit_table(formatting.display_table(shown.drop(columns="source_id").rename(columns=str.capitalize), 0),
                  "Sources")


def _build_detail(row) -> str:
    """A build-log line for readers: reference sources load groups or boundaries, not observations."""
    detail = formatting.text_cell(row["detail"], "")
    if row["status"] == "loaded" and detail.startswith("0 observations"):
        return "reference data (neighbour groups or boundaries), no statistics" + detail[len("0 observations"):]
    return detail


log = queries.build_log(con)
st.header("Last build")
st.dataframe(log.assign(source=log["source"].map(lambda s: titles.get(s, s)),
                        detail=[_build_detail(r) for r in log.to_dict("records")]),
             hide_index=True, width="stretch")

st.header("Indicator definitions")
themes = ["all", "early_years", "schools", "horizons", "wellbeing", "context"]
theme = widgets.qp_choice("theme", themes, "all")
theme = st.selectbox("Theme", themes, index=themes.index(theme), key="ds-theme")
ind = queries.indicators(con, None if theme == "all" else theme)
curated = widgets.qp_choice("scope", ["curated", "all"], "curated") == "curated"
curated = st.toggle("Show only the dashboard's curated indicators (hide other LAIT measures)", value=curated,
                    key="ds-curated")
widgets.qp_set(theme=theme, scope="curated" if curated else "all")
if curated:
    ind = ind[~ind["indicator_id"].str.startswith("lait_")]
ind = ind.assign(source_id=ind["source_id"].map(lambda s: titles.get(s, formatting.text_cell(s, ""))))
st.dataframe(formatting.display_table(
    ind[["indicator_id", "title", "theme", "unit", "polarity", "decimals", "definition", "series_notes", "source_id"]]
    .rename(columns={"source_id": "source", "decimals": "published decimals"}), 0),
    hide_index=True, width="stretch")

st.header("Methods")
with st.expander("Ward figures and maps: methods (IoD2019 aggregation, LSOA-ward lookups, boundary simplification)"):
    st.markdown(wards.methods_markdown())

st.header("Figures transcribed from the delivery plan")
figs = queries.plan_figures(con)
figs = figs.assign(value=figs["value"].map(lambda v: formatting.number(v, formatting.decimals_of(v))))
st.dataframe(formatting.display_table(figs[["figure_id", "indicator_id", "area_name", "period", "breakdown", "value",
                                            "plan_section", "plan_quote", "note"]], 0), hide_index=True, width="stretch")
with st.expander("Programme activity figures in the plan"):
    act = queries.plan_activity(con)
    act = act.assign(value=[formatting.quantity(v, u) for v, u in zip(act["value"], act["unit"])])
    st.dataframe(formatting.display_table(act, 0), hide_index=True, width="stretch")

widgets.copy_link()

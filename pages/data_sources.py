"""Data & sources: every publication with licence and attribution, indicator definitions, the build log."""
import streamlit as st

from derby_oa import queries, wards
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
widgets.fit_table(src.rename(columns=str.capitalize), "Sources")  # wraps: every licence column fits 1366 px

st.header("Last build")
st.dataframe(queries.build_log(con), hide_index=True, width="stretch")

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
st.dataframe(ind[["indicator_id", "title", "theme", "unit", "polarity", "definition", "series_notes", "source_id"]],
             hide_index=True, width="stretch")

st.header("Methods")
with st.expander("Ward figures and maps: methods (IoD2019 aggregation, LSOA-ward lookups, boundary simplification)"):
    st.markdown(wards.methods_markdown())

st.header("Figures transcribed from the delivery plan")
st.dataframe(queries.plan_figures(con)[["figure_id", "indicator_id", "area_name", "period", "breakdown", "value",
                                        "plan_section", "plan_quote", "note"]], hide_index=True, width="stretch")
with st.expander("Programme activity figures in the plan"):
    st.dataframe(queries.plan_activity(con), hide_index=True, width="stretch")

widgets.copy_link()

"""Derby Opportunity Area dashboard: the Streamlit entry point (`streamlit run app.py`)."""
import streamlit as st

import derby_oa.viz.theme  # noqa: F401  (registers the Altair theme)
from derby_oa.ui import incidents
from derby_oa.ui.widgets import APP_RAN, PAGE_PATH, page_chrome, routed_by_app

st.set_page_config(page_title="Derby Opportunity Area dashboard", page_icon=":bar_chart:", layout="wide")

# URL paths are the file names (e.g. /early_years), so a link stays valid however Streamlit first
# routes it (see derby_oa.ui.widgets.ensure_app_navigation). The overview is served at /.
OVERVIEW = "pages/overview.py"


PAGES = {
    "Board": [st.Page(OVERVIEW, title="Board overview", default=True)],
    "Priorities": [
        st.Page("pages/early_years.py", title="1. Early years"),
        st.Page("pages/schools.py", title="2. Schools"),
        st.Page("pages/horizons.py", title="3. Broadening horizons"),
        st.Page("pages/wellbeing.py", title="Wellbeing and transitions"),
    ],
    "Places": [st.Page("pages/wards.py", title="Wards")],
    "Targets": [st.Page("pages/targets.py", title="Targets and trajectories")],
    "Explore": [
        st.Page("pages/explore.py", title="Explorer"),
        st.Page("pages/sql.py", title="SQL console"),
        st.Page("pages/load_data.py", title="Load new data"),
    ],
    "About": [
        st.Page("pages/data_sources.py", title="Data & sources"),
        st.Page("pages/accessibility.py", title="Accessibility"),
    ],
}

position = "hidden" if st.query_params.get("present") == "1" else "sidebar"
page = st.navigation(PAGES, position=position)
st.session_state[APP_RAN] = True
st.session_state[PAGE_PATH] = page.url_path  # for the page's "Link to this view"
with routed_by_app():  # pages check that they run here (widgets.ensure_app_navigation)
    page_chrome()  # officer sign-in panel; drafts notice for officers
    incidents.run_page(page)  # an unexpected error: a short message and an incident id; details to the log

"""Derby Opportunity Area dashboard: the Streamlit entry point (`streamlit run app.py`)."""
import streamlit as st

import derby_oa.theme  # noqa: F401  (registers the Altair theme)
from derby_oa.ui.widgets import APP_RAN

st.set_page_config(page_title="Derby Opportunity Area dashboard", page_icon=":bar_chart:", layout="wide")

PAGES = {
    "Board": [st.Page("pages/overview.py", title="Board overview", url_path="overview", default=True)],
    "Priorities": [
        st.Page("pages/early_years.py", title="1. Early years", url_path="early-years"),
        st.Page("pages/schools.py", title="2. Schools", url_path="schools"),
        st.Page("pages/horizons.py", title="3. Broadening horizons", url_path="horizons"),
        st.Page("pages/wellbeing.py", title="Wellbeing and transitions", url_path="wellbeing"),
    ],
    "Places": [st.Page("pages/wards.py", title="Wards", url_path="wards")],
    "Targets": [st.Page("pages/targets.py", title="Targets and trajectories", url_path="targets")],
    "Explore": [
        st.Page("pages/explore.py", title="Explorer", url_path="explore"),
        st.Page("pages/sql.py", title="SQL console", url_path="sql"),
        st.Page("pages/load_data.py", title="Load new data", url_path="load"),
    ],
    "About": [
        st.Page("pages/data_sources.py", title="Data & sources", url_path="data"),
        st.Page("pages/accessibility.py", title="Accessibility", url_path="accessibility"),
    ],
}

st.session_state[APP_RAN] = True
position = "hidden" if st.query_params.get("present") == "1" else "sidebar"
st.navigation(PAGES, position=position).run()

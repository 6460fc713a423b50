"""Board overview: one screen with the headline indicators of every priority."""
import streamlit as st

from derby_oa import queries
from derby_oa.ui import widgets
from derby_oa.ui.connection import get_con

widgets.presentation_mode()
con = get_con()
st.title("Derby Opportunity Area: board overview")
for ind in ["gld", "ks2_rwm_expected", "ks4_attainment8", "absence_unauth_primary"]:
    meta = queries.indicator(con, ind)
    latest = queries.latest_period(con, ind, "E06000015")
    if latest is None:
        st.write(f"{meta['title']}: no data")
        continue
    df = queries.series(con, ind, ["E06000015", "E92000001"])
    row = df[df["period"] == latest[0]].set_index("area_code")["value"]
    st.metric(meta["short_title"], f"{row.get('E06000015')}", help=f"England {row.get('E92000001')} ({latest[0]})")

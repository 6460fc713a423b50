"""Wards: where in Derby the gaps are. Map, two-ward comparison, ward profile, where children are
worst off, and ranking."""
import streamlit as st

from derby_oa.analysis.wards import ranking as wards
from derby_oa.ui import school_layer, ward_fit as ward_fit_view, wards as wards_view, widgets
from derby_oa.ui.connection import get_con

widgets.presentation_mode()
con = get_con()
st.title("Wards: where in Derby the gaps are")
st.markdown("In 2016, 47.2% of children in Arboretum reached a good level of development against 85.8% in "
            "Allestree (delivery plan). Choose an indicator, then click a ward on the map or pick two wards "
            "to compare them with each other, with Derby and with England.")

view = wards_view.choose(con)

st.header("Map")
map_style = wards_view.map_section(con, view)
ward_fit_view.fit_note(con, view.indicator, view.period, view.vintage)

st.header("Compare two wards")
wards_view.ward_pickers(view)
wards_view.compare_section(con, view)
st.subheader("Every ward indicator at once")
wards_view.compare_all_section(view)

st.header("Ward profile")
wards_view.profile_section(con, view)

st.header("Where are children worst off?")
scatter = wards_view.need_section(view)

st.header("Schools on the map")
school_layer.school_layer_section(con, view.vintage)

if view.indicator is not None:
    st.header("All wards ranked")
    wards_view.ranking_section(view)

st.header("Ward figures quoted in the delivery plan")
wards_view.plan_figures_section(con)

with st.expander("Methods: how the ward figures and maps are made"):
    st.markdown(wards.methods_markdown())

wards_view.sync_url(view, map_style, scatter)
widgets.copy_link()
wards_view.sources_note(con, view)

"""Targets and trajectories: is Derby on track for the plan's 2020/21 targets, and what would it take."""
import streamlit as st

from derby_oa.analysis import targets
from derby_oa.queries import targets as target_queries
from derby_oa.ui import targets as view
from derby_oa.ui import widgets
from derby_oa.ui.connection import get_con

present = widgets.presentation_mode()
con = get_con()
st.title("Targets and trajectories")
st.markdown("Is Derby on track for the delivery plan's 2020/21 targets, and what would it take? Every target of the "
            "plan is held as data; the status of each follows the rule written beside it.")
items = view.assessments()
view.status_counts(items)
view.tiles(items)

measurable = [a for a in items if a.measurable]
if measurable:
    ids = [a.target["target_id"] for a in measurable]
    labels = {a.target["target_id"]: targets.target_label(a.target) for a in measurable}
    chosen = view.target_choice(ids, labels)
    a = next(x for x in measurable if x.target["target_id"] == chosen)
    view.target_detail(a, key=f"target-chart-{chosen}")
    view.scenario_control(a, key=f"improve-{chosen}")
    if not present:
        widgets.copy_link()

with st.expander("How each status is decided", expanded=not present):
    view.rules_text()
with st.expander("All targets in a table"):
    st.dataframe(view.summary_table(items), hide_index=True, width="stretch")
view.priority3_section(con, items)
if not present:
    view.local_targets_section(con)
widgets.source_note(target_queries.target_sources(con))

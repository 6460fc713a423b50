"""Board overview: one screen with the headline indicators of every priority, Derby against England."""
import functools
import streamlit as st

from derby_oa.viz import exports
from derby_oa.analysis import headlines
from derby_oa import queries
from derby_oa.ui import since_view
from derby_oa.ui import tiles as tiles_view
from derby_oa.ui import widgets
from derby_oa.ui.connection import get_con

present = widgets.presentation_mode()
con = get_con()

if not present:
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.title("Derby Opportunity Area: board overview")
    with right:
        tiles_view.presentation_toggle(present)
    st.markdown("Each tile shows Derby's latest figure against England, the gap and how it has moved since "
                "2015/16: from the plan's own figure where the plan sets a target (as on the Targets page), "
                "otherwise from the published figure, with the other beside it where they differ. Every "
                "sentence is written from the data.")
DEFAULT_ONLY = ("Only the delivery plan's own 2015/16 figures are loaded (the embedded default); trends appear "
                "once the published data is built.")
published = queries.has_published_data(con)
if not published and not present:
    st.warning(DEFAULT_ONLY)

tiles = tiles_view.cached_tiles()
tiles_view.render_grid(tiles, tiles_view.target_statuses(), present,
                       heading="Derby Opportunity Area: how Derby compares with England" if present else None)
if present:  # below the tiles, so that they fill the shared screen
    if not published:
        st.warning(DEFAULT_ONLY)
    tiles_view.presentation_toggle(present)
since_view.render(present)

with st.expander("How the tiles are worked out"):
    st.markdown(tiles_view.RULES_MARKDOWN)
with st.expander("The headline figures as a table"):
    table = tiles_view.table(tiles)
    st.dataframe(table, hide_index=True, width="stretch")
    st.download_button("Download CSV", functools.partial(exports.to_csv_bytes, table), "board-headlines.csv", "text/csv",
                       key="csv-headlines")

if not present:
    st.subheader("Explore each priority")
    cols = st.columns(4)
    for col, (path, label) in zip(cols, [("pages/early_years.py", headlines.PRIORITIES["early_years"]),
                                         ("pages/schools.py", headlines.PRIORITIES["schools"]),
                                         ("pages/horizons.py", headlines.PRIORITIES["horizons"]),
                                         ("pages/wellbeing.py", headlines.PRIORITIES["wellbeing"])]):
        col.page_link(path, label=label)
    widgets.copy_link()
used_ids = sorted({s for t in tiles for s in t.sources})
widgets.source_note(queries.sources(con).query("source_id in @used_ids"))

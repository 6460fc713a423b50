"""Load new data: check a file row by row, see what would change, commit atomically (as a draft or published),
publish a draft, undo the last upload. Officers only: a visitor sees why and no write controls.

URL state: `view` (load or history), and for EES and Fingertips files `ind` (indicator), `col`, `num` and `den`
(EES value, numerator and denominator columns) and `bd` (pupil group).
"""
import streamlit as st

from derby_oa import queries
from derby_oa.ui import auth, uploads, widgets
from derby_oa.ui.connection import get_con
from derby_oa.uploads import loader

widgets.presentation_mode()
st.title("Load new data")
officer = auth.require_officer("load new data, publish uploads or undo them")
if officer is None:
    widgets.copy_link()
    st.stop()
con = get_con()
if message := st.session_state.pop("load-message", None):
    st.success(widgets.md_escape(message))
st.markdown(
    "Load a **DfE Explore Education Statistics** tidy CSV, a **Fingertips** CSV export, or the dashboard's own "
    "**tidy template**. The file is checked row by row first; nothing is written until you commit, and the "
    "last upload can be undone. A committed upload stays a **draft**, seen only by signed-in officers, until "
    "an officer publishes it; viewers and the board see published figures only.")
st.caption(f"Files: CSV in UTF-8 (in Excel: Save As > CSV UTF-8) or .xlsx without formulas, {loader.limits_text()}. "
           f"Rows are numbered from the first row under the header (row 1).")
st.download_button("Download the tidy template (CSV)", loader.template_bytes(), "upload_template.csv", "text/csv",
                   key="load-template",
                   help="Columns: " + ", ".join(loader.TEMPLATE_COLUMNS) + ". Its example rows are real published "
                        "figures; values may be numbers or DfE symbols c (suppressed), x (not available), "
                        "z (not applicable).")

view = widgets.qp_choice("view", list(uploads.VIEWS), "load", uploads.VIEWS)
view = st.radio("Show", list(uploads.VIEWS), index=list(uploads.VIEWS).index(view), format_func=uploads.VIEWS.get,
                horizontal=True, key="load-view")

catalogue = queries.indicators(con)
titles = dict(zip(catalogue["indicator_id"], catalogue["title"]))
ind = widgets.qp_choice("ind", [""] + list(titles), "", {"": "the indicator named in the file"})
bd = widgets.qp_choice("bd", [""] + list(loader.BREAKDOWNS), "", {"": "the group named in the file"})
col, num, den = (st.query_params.get(name, "") for name in ("col", "num", "den"))

if view == "load":
    uploads.load_section(con, officer, titles, ind, bd, col, num, den)
else:
    widgets.qp_set(view=view, ind=ind or None, col=col or None, num=num or None, den=den or None, bd=bd or None)
    uploads.history_section(con)

widgets.copy_link()

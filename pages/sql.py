"""SQL console: officers' own read-only queries, with worked examples (the query lives in the URL as `q`).

A query from a link is put in the box but runs only when the reader presses Run (or chooses an example).
Signed-in officers only (their connection includes draft uploads).
"""
import functools
import streamlit as st

from derby_oa.viz import exports
from derby_oa import queries
from derby_oa.console import guard as sql_guard
from derby_oa.ui import auth, widgets
from derby_oa.ui.connection import get_con

widgets.presentation_mode()
st.title("SQL console")
if auth.require_officer("use the SQL console") is None:
    widgets.copy_link()
    st.stop()
con = get_con()
st.markdown("Run your own query against the dashboard's database: one read-only `SELECT` (or `WITH ... SELECT`, "
            "`DESCRIBE`, `SHOW`). The same guard serves `python -m derby_oa sql \"QUERY\"` on the command line.")
st.caption(sql_guard.limits_text())

examples = list(sql_guard.EXAMPLES)
default_query = sql_guard.EXAMPLES[examples[2]]


def use_example() -> None:
    st.session_state["sql-q"] = sql_guard.EXAMPLES[st.session_state["sql-example"]]
    st.session_state["sql-go"] = True


st.selectbox("Worked examples", examples, index=None, placeholder="Choose an example to copy into the box",
             key="sql-example", on_change=use_example)
if "sql-q" not in st.session_state:  # first run of the session: the link's query (or a worked example)
    st.session_state["sql-q"] = st.query_params.get("q", default_query)
query = st.text_area("Query", height=180, key="sql-q")
widgets.qp_set(q=query.strip() or None)

if st.button("Run", type="primary", key="sql-run") or st.session_state.pop("sql-go", False):
    try:
        st.session_state["sql-last"] = (query, sql_guard.run(query, con))
    except sql_guard.QueryRefused as exc:
        st.session_state["sql-last"] = (query, exc)
ran, result = st.session_state.get("sql-last", (None, None))
if ran != query:
    st.caption("Press Run to run the query.")
elif isinstance(result, sql_guard.QueryRefused):
    st.error(f"Not run: {widgets.md_escape(result.reason)}")
elif result is not None:
    st.caption(f"{len(result.frame):,} rows in {result.seconds:.2f} s.")
    st.dataframe(result.frame, hide_index=True, width="stretch")
    c1, c2 = st.columns(2)
    c1.download_button("Download CSV", functools.partial(exports.to_csv_bytes, result.frame), "query.csv", "text/csv", key="sql-csv")
    c2.download_button("Download XLSX", functools.partial(exports.to_xlsx_bytes, {"Query result": result.frame}), "query.xlsx",
                       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key="sql-xlsx")

with st.expander("Tables and columns"):
    st.dataframe(queries.table_columns(con), hide_index=True, width="stretch")
    st.caption("Data model: areas, indicators and observations (one row per indicator, area, period and pupil "
               "group); sources carry each publication's licence and attribution.")

widgets.copy_link()

"""Load new data: check a file row by row, see what would change, commit atomically (as a draft or published),
publish a draft, undo the last upload. Officers only: a visitor sees why and no write controls.

URL state: `view` (load or history), and for EES and Fingertips files `ind` (indicator), `col`, `num` and `den`
(EES value, numerator and denominator columns) and `bd` (pupil group).
"""
import functools
import streamlit as st

from derby_oa import config, queries
from derby_oa.viz import exports
from derby_oa.uploads import loader
from derby_oa.queries import uploads as upload_queries
from derby_oa.ui import auth, connection, widgets
from derby_oa.ui.connection import get_con

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

VIEWS = {"load": "Load a file", "history": "Upload history, publish and undo"}
view = widgets.qp_choice("view", list(VIEWS), "load", VIEWS)
view = st.radio("Show", list(VIEWS), index=list(VIEWS).index(view), format_func=VIEWS.get, horizontal=True,
                key="load-view")

catalogue = queries.indicators(con)
titles = dict(zip(catalogue["indicator_id"], catalogue["title"]))
breakdown_options = list(loader.BREAKDOWNS)
ind = widgets.qp_choice("ind", [""] + list(titles), "", {"": "the indicator named in the file"})
bd = widgets.qp_choice("bd", [""] + breakdown_options, "", {"": "the group named in the file"})
col = st.query_params.get("col", "")
num = st.query_params.get("num", "")
den = st.query_params.get("den", "")

if view == "load":
    with st.expander("Options for EES and Fingertips files", expanded=bool(ind or bd or col or num or den)):
        ind = st.selectbox("Indicator the file holds (leave empty to use the one named in the file)",
                           [""] + list(titles), index=([""] + list(titles)).index(ind), key="load-ind",
                           format_func=lambda i: titles.get(i, "(named in the file)") if i else "(named in the file)")
        col = st.text_input("EES: value column (e.g. gld_percent)", value=col, key="load-col").strip()
        c1, c2 = st.columns(2)
        num = c1.text_input("EES: numerator column (optional)", value=num, key="load-num").strip()
        den = c2.text_input("EES: denominator column (optional)", value=den, key="load-den").strip()
        bd = st.selectbox("Fingertips: pupil group (leave empty for the file's own)", [""] + breakdown_options,
                          index=([""] + breakdown_options).index(bd), key="load-bd",
                          format_func=lambda b: b or "(as in the file)")
    widgets.qp_set(view=view, ind=ind or None, col=col or None, num=num or None, den=den or None, bd=bd or None)
    committed = st.session_state.get("load-committed", 0)  # a new uploader after each commit: the file is detached
    upload = st.file_uploader("File to check", type=["csv", "xlsx"], key=f"load-file-{committed}" if committed
                              else "load-file", max_upload_size=loader.MAX_BYTES // 1024 // 1024)
    st.caption(f"Recorded as 'Local upload by {widgets.md_escape(officer)}' (your sign-in).")
    licence = st.text_input("Licence of the data", value=loader.DEFAULT_LICENCE, key="load-licence")
    attribution = st.text_area("Attribution to show with the data", value=loader.DEFAULT_ATTRIBUTION,
                               key="load-attribution", height=80)
    if upload is not None:
        try:
            report = loader.validate(con, upload.name, upload.getvalue(), indicator_id=ind or None,
                                     value_column=col or None, numerator_column=num or None,
                                     denominator_column=den or None, breakdown=bd or None)
        except loader.UploadRefused as exc:
            st.error(f"Refused: {widgets.md_escape(exc)}")
            report = None
        if report is not None:
            (st.success if report.ok else st.warning)(widgets.md_escape(report.summary()))
            st.info("  \n".join(widgets.md_escape(line) for line in report.derby_summary()))
            for note in report.notes:
                st.caption(f"Note: {widgets.md_escape(note)}")
            if report.problems:
                st.subheader(f"Problems ({len(report.problems):,})")
                st.dataframe(report.problems_frame().head(loader.MAX_PROBLEMS_SHOWN), hide_index=True,
                             width="stretch")
                st.download_button("Download all problems (CSV)", functools.partial(exports.to_csv_bytes, report.problems_frame()),
                                   "problems.csv", "text/csv", key="load-problems")
            if len(report.changed):
                st.subheader(f"Changed values ({len(report.changed):,})")
                st.dataframe(report.changed[["row", "indicator_id", "area_code", "area_name", "period", "breakdown",
                                             "previous_value", "previous_status", "value", "status",
                                             "previous_source_id"]], hide_index=True, width="stretch")
            if len(report.new):
                st.subheader(f"New rows ({len(report.new):,})")
                st.dataframe(report.new[["row", "indicator_id", "area_code", "area_name", "period", "breakdown",
                                         "value", "status", "numerator", "denominator"]], hide_index=True,
                             width="stretch")
            replace = False
            if len(report.changed):
                replace = st.checkbox(f"Replace the {len(report.changed):,} existing values shown above",
                                      key="load-replace")
            publish = st.radio("When committed", ["draft", "publish"], horizontal=True, key="load-publish",
                               format_func={"draft": "Keep as a draft (officers only) until published",
                                            "publish": "Publish now (everyone sees it)"}.get) == "publish"
            if st.button("Commit this upload", type="primary", disabled=not report.ok, key="load-commit"):
                con.close()  # release this run's cursor before the file is swapped
                try:
                    result = loader.commit(report, config.db_path(), officer=officer, licence=licence,
                                           attribution=attribution, replace=replace, published=publish)
                except loader.CommitRefused as exc:
                    st.error(f"Not loaded: {widgets.md_escape(exc)}")
                else:
                    connection.reset()
                    st.session_state["load-committed"] = committed + 1
                    st.session_state["load-message"] = (
                        f"Loaded upload {result.upload_id} ({report.file_name}): {result.rows_added:,} new rows and "
                        f"{result.rows_changed:,} changed values (source '{result.source_id}'). "
                        + ("It is published: everyone sees it. " if result.published else
                           "It is a draft: only signed-in officers see it until it is published. ")
                        + "Publish or undo it under 'Upload history, publish and undo'.")
                    st.rerun()
else:
    widgets.qp_set(view=view, ind=ind or None, col=col or None, num=num or None, den=den or None, bd=bd or None)
    history = upload_queries.uploads(con)
    if history.empty:
        st.info("No files have been uploaded yet.")
    else:
        st.dataframe(history, hide_index=True, width="stretch")
        last = upload_queries.last_active_upload(con)
        label = f"Undo upload {last['upload_id']} ({widgets.md_escape(last['file_name'])})" if last else ""
        if last is not None and st.button(label, key="load-undo"):
            con.close()
            try:
                undone = loader.undo_last(config.db_path())
            except loader.CommitRefused as exc:
                st.error(f"Not undone: {widgets.md_escape(exc)}")
            else:
                connection.reset()
                st.session_state["load-message"] = (
                    f"Undid upload {undone.upload_id} ({undone.file_name}): {undone.rows_removed:,} rows "
                    f"removed and {undone.rows_restored:,} values restored.")
                st.rerun()
        waiting = connection.drafts()
        if len(waiting):
            names = {int(r.upload_id): f"Upload {r.upload_id} ({r.file_name}), loaded {r.loaded_at}"
                     for r in waiting.itertuples()}
            chosen = st.selectbox("Draft to publish", list(names), format_func=names.get, key="load-draft")
            if st.button(f"Publish upload {chosen}", type="primary", key="load-publish-draft"):
                con.close()
                try:
                    name = loader.publish(chosen, config.db_path())
                except loader.CommitRefused as exc:
                    st.error(f"Not published: {widgets.md_escape(exc)}")
                else:
                    connection.reset()
                    st.session_state["load-message"] = f"Published upload {chosen} ({name}): everyone now sees it."
                    st.rerun()
        else:
            st.caption("No drafts: every upload that is not undone is published.")

widgets.copy_link()

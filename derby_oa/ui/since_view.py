"""The overview's "Since last meeting" view and the board pack button.

URL state: `since` (the last meeting's date, YYYY-MM-DD; absent = 30 days ago).
"""
from __future__ import annotations

import functools

import datetime as dt
from pathlib import Path

import streamlit as st

from derby_oa import config
from derby_oa.viz import exports
from derby_oa.build import history
from derby_oa.ui import widgets

DEFAULT_DAYS = 30


def _default() -> dt.date:
    return dt.date.today() - dt.timedelta(days=DEFAULT_DAYS)


def chosen_date() -> dt.date:
    """The meeting date from the URL (`since`), or 30 days ago; a bad value is named and replaced."""
    value = st.query_params.get("since")
    if not value:
        return _default()
    try:
        day = dt.date.fromisoformat(value)
        if day > dt.date.today():
            raise ValueError
        return day
    except ValueError:
        st.info(f"The link asked for changes since '{widgets.md_escape(value)}', which is not a past date "
                f"(YYYY-MM-DD); showing the last {DEFAULT_DAYS} days instead.")
        return _default()


def _mtime(path) -> float:
    return path.stat().st_mtime if path.is_file() else 0.0


@st.cache_data(show_spinner=False, max_entries=16)
def _since_cached(db: str, hist_mtime: float, db_mtime: float, day: dt.date) -> history.SinceReport:
    return history.since(Path(db), day)


def report_for(day: dt.date) -> history.SinceReport:
    """What changed since `day`, cached per history and database file."""
    db = config.db_path()
    return _since_cached(str(db), _mtime(history.history_path(db)), _mtime(db), day)


def _pack_bytes(day: dt.date):
    def make() -> bytes:
        from derby_oa.storage import db
        from derby_oa import pack

        con = db.connect(config.db_path())
        try:
            return pack.build_pack(con, day, config.db_path())
        finally:
            con.close()
    return make


def render(present: bool = False) -> None:
    """The view: the meeting date, the headline, each change as a sentence with its source, the table, the pack."""
    box = st.expander("Since last meeting", expanded=False) if present else st.container()
    with box:
        if not present:
            st.subheader("Since last meeting")
        left, right = st.columns([1, 2], vertical_alignment="bottom")
        day = left.date_input("Date of the last meeting", value=chosen_date(), max_value=dt.date.today(),
                              format="DD/MM/YYYY", key="since-date",
                              help="New and revised figures, and changes in the tiles' status, recorded after this "
                                   "date by builds and uploads.")
        widgets.qp_set(since=None if day == _default() else day.isoformat())
        with right:
            st.download_button("Download the board pack (PDF)", _pack_bytes(day),
                               f"derby-oa-board-pack-{dt.date.today().isoformat()}.pdf", "application/pdf",
                               key="board-pack", on_click="ignore",
                               help="A4 landscape: what changed, the tiles with their lines, each priority's "
                                    "charts and tables, targets, ward highlights, sources and licence. Takes a few "
                                    "seconds.")
        report = report_for(day)
        st.markdown(f"**{widgets.md_escape(report.headline)}**")
        for note in report.notes:
            st.caption(widgets.md_escape(note))
        if report.tile_sentences:
            st.markdown("**The tiles**\n\n" + "\n".join(f"- {widgets.md_escape(s)}" for s in report.tile_sentences))
        if report.figure_sentences:
            st.markdown("**The figures**\n\n" + "\n".join(f"- {widgets.md_escape(s)}"
                                                          for s in report.figure_sentences))
        if len(report.items):
            with st.expander("Every changed figure as a table"):
                table = report.table()
                st.dataframe(table, hide_index=True, width="stretch")
                st.download_button("Download CSV", functools.partial(exports.to_csv_bytes, table), "changes-since-last-meeting.csv",
                                   "text/csv", key="csv-changes")

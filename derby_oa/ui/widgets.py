"""Shared page widgets: chart blocks with table and downloads, URL state, presentation mode."""
from __future__ import annotations

import contextlib
import re
import threading

import altair as alt
import pandas as pd
import streamlit as st

from .. import charts, exports
from ..text import md_escape  # noqa: F401  (the one escaping function, re-exported for pages)

PRESENT_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"] {display: none;}
.block-container {padding-top: 0.5rem; max-width: 100%;}
html, body, [class*="css"] {font-size: 20px;}
</style>
"""
FOCUS_CSS = """
<style>
a:focus, button:focus, input:focus, [tabindex]:focus {outline: 3px solid #12436D !important;
  box-shadow: 0 0 0 5px #BFBFBF !important;}
</style>
"""


def slug(text: str) -> str:
    """File-name friendly slug."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "data"


def qp_choice(name: str, options: list[str], default: str, labels: dict | None = None) -> str:
    """Read a URL parameter that must be one of `options`; notice and default when it is not."""
    value = st.query_params.get(name)
    if value is None:
        return default
    if value in options:
        return value
    st.info(f"The link asked for {name} = '{md_escape(value)}', which is not available here; showing "
            f"{(labels or {}).get(default, default)} instead.")
    return default


def qp_set(**params) -> None:
    """Write page state into the URL (None removes a parameter)."""
    for key, value in params.items():
        if value is None or value == "":
            st.query_params.pop(key, None)
        elif st.query_params.get(key) != str(value):
            st.query_params[key] = str(value)


APP_RAN = "_derby_oa_app_ran"  # set by app.py before it routes to a page
_routing = threading.local()  # `.active` while app.py runs a page in this script thread


@contextlib.contextmanager
def routed_by_app():
    """app.py runs the page inside this: a page run outside it (legacy pages/ mode) reruns through app.py."""
    _routing.active = True
    try:
        yield
    finally:
        _routing.active = False


def page_chrome() -> None:
    """What app.py shows around every page: the officer sign-in panel and, for an officer, the drafts notice."""
    from . import auth, connection, incidents

    auth.sign_in_panel()  # viewing is open; officers sign in here (derby_oa.ui.auth)
    try:
        connection.drafts_notice()  # an officer sees when a page includes unpublished uploads
    except Exception as exc:  # noqa: BLE001
        incidents.report(exc, "drafts notice")


def ensure_app_navigation() -> None:
    """Make sure the page runs inside app.py's navigation, with its sign-in panel.

    With a `pages/` folder, the first session after a server start that opens a page URL
    (a board-paper link such as /wards) is run by Streamlit's legacy multipage mode, which skips
    app.py and its `st.navigation`. Switching that mode off and rerunning makes app.py route the
    same URL to the same page. AppTest's `switch_page` runs the page file directly on every run
    (after app.py ran once in the session): there the page shows app.py's chrome itself.
    """
    if getattr(_routing, "active", False):
        return
    if not st.session_state.get(APP_RAN):
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
        st.rerun()
    page_chrome()


def presentation_mode() -> bool:
    """Presentation mode from `?present=1` or the sidebar toggle; hides the sidebar, enlarges type.

    Called first on every page, so it also makes sure the page runs inside app.py's navigation.
    """
    ensure_app_navigation()
    on = st.query_params.get("present") == "1"
    st.markdown(FOCUS_CSS, unsafe_allow_html=True)
    if on:
        st.markdown(PRESENT_CSS, unsafe_allow_html=True)
    return on


def chart_block(chart: alt.TopLevelMixin, table: pd.DataFrame, name: str, caption: str,
                alt_text: str | None = None, key: str | None = None) -> None:
    """A chart with its caption, its data as a table, CSV download and PNG/SVG export."""
    st.altair_chart(chart, theme=None, width="stretch", key=key)
    st.caption(caption)
    with st.expander("Data table and downloads"):
        st.dataframe(table, hide_index=True, width="stretch")
        base = slug(name)
        c1, c2, c3 = st.columns(3)
        c1.download_button("Download CSV", exports.to_csv_bytes(table), f"{base}.csv", "text/csv",
                           key=f"csv-{key or base}")
        if c2.toggle("Prepare PNG and SVG", key=f"img-{key or base}"):
            c2.download_button("Download PNG", charts.export_image(chart, "png"), f"{base}.png", "image/png",
                               key=f"png-{key or base}")
            c3.download_button("Download SVG", charts.export_image(chart, "svg"), f"{base}.svg", "image/svg+xml",
                               key=f"svg-{key or base}")


def copy_link(params: dict | None = None) -> None:
    """Show the page's shareable link (query string) for board papers."""
    from urllib.parse import quote, urlencode  # values such as SQL text need escaping to survive a paste

    qs = urlencode(params if params is not None else st.query_params.to_dict(), safe=",:/", quote_via=quote)
    # Written through session state: a keyed widget would otherwise keep showing the first link of the session.
    st.session_state["copy-link"] = f"?{qs}" if qs else "?"
    st.text_input("Link to this view (copy and paste)", key="copy-link",
                  help="Add this to the dashboard address; it reopens this exact view.")


def source_note(sources: pd.DataFrame) -> None:
    """A short attribution line for the sources used on a page."""
    if len(sources):
        st.caption("Sources: " + "; ".join(md_escape(f"{r.title} ({r.publisher}), {r.licence}")
                                           for r in sources.itertuples()))

"""Shared page widgets: chart blocks with table and downloads, URL state, presentation mode."""
from __future__ import annotations

import contextlib
import functools
import re
import threading
from collections import OrderedDict
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from derby_oa.viz import charts, exports
from derby_oa.text import md_escape  # noqa: F401  (the one escaping function, re-exported for pages)

# Presentation mode: type scales with the screen (about 17 px at 1366x768, 23 px at 1920x1080); on the Wards page
# the map comes straight after the title, so that it is in the first screen.
PRESENT_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"] {display: none;}
.block-container {padding-top: 0.5rem; max-width: 100%;}
html, body, [class*="css"] {font-size: clamp(16px, 0.9vw + 0.6vh, 30px);}
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"]:has(> [class*="st-key-wards-map-"]
  [data-testid="stDeckGlJsonChart"]) > * {order: 3;}
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] > :has(h1) {order: 0 !important;}
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] > [class*="st-key-wards-map-"]:has(
  [data-testid="stDeckGlJsonChart"]) {order: 1 !important;}
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"]:has(> [class*="st-key-wards-map-"]
  [data-testid="stDeckGlJsonChart"]) > [class*="st-key-wards-map-"] + * {order: 2 !important;}
</style>
"""
FOCUS_CSS = """
<style>
@media (max-width: 1440px) {[data-testid="stMainBlockContainer"] {padding-left: 1.5rem; padding-right: 1.5rem;}}
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
    from derby_oa.ui import auth, connection, incidents

    auth.sign_in_panel()  # viewing is open; officers sign in here (derby_oa.ui.auth)
    try:
        connection.drafts_notice()  # an officer sees when a page includes unpublished uploads
    except Exception as exc:  # noqa: BLE001
        incidents.report(exc, "drafts notice")


OVERVIEW_STEM = "overview"  # pages/overview.py, the default page, is served at /
PAGE_PATH = "_derby_oa_page_path"  # the current page's URL path ("" for the overview), set by app.py
SMALL_TABLE_ROWS = 60  # tables up to this many rows are plain HTML (`st.table`): no data grid to load
LINK_KEY = "view-link"  # the container of "Link to this view" (CSS class st-key-view-link)


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
        from derby_oa.ui import present_nav

        st.markdown(PRESENT_CSS, unsafe_allow_html=True)
        present_nav.render()
    return on


_KEPT: "OrderedDict[tuple, tuple]" = OrderedDict()  # (form, id(chart)) -> (chart, what was made from it)
_KEPT_LOCK = threading.Lock()


def _per_chart(form: str, chart: alt.TopLevelMixin, make):
    """`make(chart)`, made once per chart object and form. Charts from the pages' caches are the same object
    on every rerun; the chart is kept with its result, so its id is not reused meanwhile."""
    key = (form, id(chart))
    with _KEPT_LOCK:
        kept = _KEPT.get(key)
        if kept is not None and kept[0] is chart:
            _KEPT.move_to_end(key)
            return kept[1]
    made = make(chart)
    with _KEPT_LOCK:
        _KEPT[key] = (chart, made)
        while len(_KEPT) > 384:
            _KEPT.popitem(last=False)
    return made


def vega_spec(chart: alt.TopLevelMixin) -> dict:
    """The chart's Vega-Lite dict with its data as named datasets, converted (and validated) once per chart object
    (the conversion is most of a chart page's server time)."""
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec

    return _per_chart("vega", chart, _convert_altair_to_vega_lite_spec)


def static_svg(chart: alt.TopLevelMixin) -> str:
    """The chart as SVG text through vl-convert (the same spec the interactive chart draws), made once per chart."""
    return _per_chart("svg", chart, lambda c: charts.export_image(c, "svg").decode("utf-8"))


def show_chart(chart: alt.TopLevelMixin, key: str | None = None, caption: str | None = None) -> bool:
    """Draw an Altair chart from its kept Vega-Lite dict (the app's theme off, the container's width).

    In presentation mode (the board's shared screen) the chart is a static SVG image of the same spec, so the
    page loads no chart library; the interactive chart is one toggle away. The image carries `caption` (shown
    as text, and its alternative text); returns True when it did."""
    if st.query_params.get("present") == "1" and not st.toggle(
            "Interactive chart", key=f"interactive-{key}", help="Hover for values; the picture shows the same data."):
        st.image(static_svg(chart), width="stretch", caption=md_escape(caption) if caption else None)
        return bool(caption)
    spec = vega_spec(chart)
    st.vega_lite_chart({**spec, "datasets": dict(spec.get("datasets") or {})}, theme=None, width="stretch", key=key)
    return False


def chart_block(chart: alt.TopLevelMixin, table: pd.DataFrame, name: str, caption: str,
                alt_text: str | None = None, key: str | None = None) -> None:
    """A chart with its caption, its data as a table, CSV download and PNG/SVG export (files made on click)."""
    if not show_chart(chart, key=key, caption=caption):
        st.caption(caption)
    with st.expander("Data table and downloads"):
        data_table(table, alt_text or f"Data behind the chart: {caption}")
        base = slug(name)
        c1, c2, c3 = st.columns(3)
        c1.download_button("Download CSV", functools.partial(exports.to_csv_bytes, table), f"{base}.csv", "text/csv",
                           key=f"csv-{key or base}")
        c2.download_button("Download PNG", functools.partial(charts.export_image, chart, "png"), f"{base}.png",
                           "image/png", key=f"png-{key or base}")
        c3.download_button("Download SVG", functools.partial(charts.export_image, chart, "svg"), f"{base}.svg",
                           "image/svg+xml", key=f"svg-{key or base}")


def data_table(table: pd.DataFrame, label: str) -> None:
    """A table behind a chart or map: plain HTML up to SMALL_TABLE_ROWS rows (no data grid for the browser to
    load), the sortable grid for longer ones."""
    if len(table) <= SMALL_TABLE_ROWS:
        st.table(table, hide_index=True, alt=label)
    else:
        st.dataframe(table, hide_index=True, width="stretch")


def current_page_path() -> str:
    """The URL path of the page running now ("" for the overview at /)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is not None:  # the page Streamlit is running (also when it routed a page file directly)
        info = ctx.pages_manager.get_pages().get(ctx.pages_manager.current_page_script_hash)
        if info is not None and info.get("script_path"):
            stem = Path(info["script_path"]).stem  # app.py serves each page at its file name
            return "" if stem == OVERVIEW_STEM else stem
    return st.session_state.get(PAGE_PATH, "")


def view_link(params: dict | None = None) -> str:
    """The whole link to this view: the app's address, the page's path and its URL parameters.

    In a browser the address comes from `st.context.url`; without one (AppTest) the link starts at
    the page's path, e.g. `/explore?ind=gld&view=pivot`.
    """
    from urllib.parse import quote, urlencode  # values such as SQL text need escaping to survive a paste

    qs = urlencode(params if params is not None else st.query_params.to_dict(), safe=",:/", quote_via=quote)
    path = current_page_path()
    root = (st.context.url or "").rstrip("/")
    if path and root.endswith(f"/{path}"):  # st.context.url already names the page
        root = root[: -len(path) - 1]
    return f"{root}/{path}" + (f"?{qs}" if qs else "")


def copy_link(params: dict | None = None) -> None:
    """Show the page's shareable link for board papers, with a copy button."""
    with st.container(key=LINK_KEY):
        st.caption("Link to this view: copy it into a paper or an email; it reopens this exact view.")
        st.code(view_link(params), language=None, wrap_lines=True)


TABLE_CSS = """
<style>
.oa-table-wrap {width: 100%; overflow-x: auto;}
table.oa-table {width: 100%; border-collapse: collapse; table-layout: auto; font-size: 0.85rem; line-height: 1.3;}
table.oa-table th, table.oa-table td {border: 1px solid #B1B4B6; padding: 0.2rem 0.35rem; vertical-align: top;
  white-space: normal; overflow-wrap: anywhere; word-break: normal; color: #0B0C0C;}
table.oa-table th {background: #F3F2F1; font-weight: 700; text-align: left;}
table.oa-table td.oa-num {text-align: right; white-space: nowrap;}
</style>
"""


def _cell(value, decimals: int | None = None) -> tuple[str, bool]:
    """A cell's text (missing = 'x', not available) and whether it is a number."""
    import html as _html
    import math

    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "x", True
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = f"{value:,.{decimals}f}" if decimals is not None and isinstance(value, float) else f"{value:,}"
        return text.replace("-", "\u2212"), True
    return _html.escape(str(value)), False


def reading_table(table: pd.DataFrame, label: str) -> None:
    """A table read rather than explored: plain HTML (`st.table`) whose long headers and cells wrap to fit a
    1366 px screen; no data grid for the browser to load."""
    st.table(table, hide_index=True, alt=label)


def fit_table(table: pd.DataFrame, label: str, decimals: dict[str, int] | None = None) -> None:
    """A table that fits the page width: long headers and text wrap instead of hiding (for 1366 px screens).

    Every value is shown as text (escaped), missing values as 'x'. Use for reading tables; keep `st.dataframe`
    for tables a reader sorts or scrolls.
    """
    import html as _html

    head = "".join(f"<th scope=\"col\">{_html.escape(str(c))}</th>" for c in table.columns)
    rows = []
    for rec in table.itertuples(index=False):
        cells = []
        for col, value in zip(table.columns, rec):
            text, number = _cell(value, (decimals or {}).get(col))
            cells.append(f'<td class="oa-num">{text}</td>' if number else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    st.markdown(f'{TABLE_CSS}<div class="oa-table-wrap"><table class="oa-table" aria-label="{_html.escape(label)}">'
                f'<thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>',
                unsafe_allow_html=True)


def source_note(sources: pd.DataFrame) -> None:
    """A short attribution line for the sources used on a page."""
    if len(sources):
        st.caption("Sources: " + "; ".join(md_escape(f"{r.title} ({r.publisher}), {r.licence}")
                                           for r in sources.itertuples()))

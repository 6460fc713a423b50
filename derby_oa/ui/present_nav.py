"""Presentation mode's page switcher: previous and next page, a compact menu of every page, and the way out.

Every link keeps `present=1`, so the board moves through the pages without leaving presentation mode. The
switcher sits in the bottom-right corner (fixed), over nothing that matters, and takes no height on the page.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

# The app's pages in navigation order (app.py registers the same files; a test holds the two together).
PAGES: tuple[tuple[str, str], ...] = (
    ("pages/overview.py", "Board overview"),
    ("pages/early_years.py", "1. Early years"),
    ("pages/schools.py", "2. Schools"),
    ("pages/horizons.py", "3. Broadening horizons"),
    ("pages/wellbeing.py", "Wellbeing and transitions"),
    ("pages/wards.py", "Wards"),
    ("pages/targets.py", "Targets and trajectories"),
    ("pages/explore.py", "Explorer"),
    ("pages/sql.py", "SQL console"),
    ("pages/load_data.py", "Load new data"),
    ("pages/data_sources.py", "Data & sources"),
    ("pages/accessibility.py", "Accessibility"),
)
PRESENT = {"present": "1"}
NAV_KEY = "oa-present-nav"

NAV_CSS = """
<style>
.st-key-oa-present-nav {position: fixed; right: 0.6rem; bottom: 0.5rem; z-index: 999990; width: auto !important;
  background: #FFFFFF; border: 1px solid #B1B4B6; padding: 0.15rem 0.4rem; box-shadow: 0 1px 4px rgba(0,0,0,0.15);}
.st-key-oa-present-nav a, .st-key-oa-present-nav button {font-size: clamp(13px, 1.5vh, 20px) !important;
  min-height: 0 !important; padding-top: 0.1rem !important; padding-bottom: 0.1rem !important;}
.st-key-oa-present-nav p {font-size: clamp(13px, 1.5vh, 20px) !important;}
</style>
"""


def current_page() -> str | None:
    """The running page's file as `pages/NAME.py`, or None outside a page run."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        info = ctx.pages_manager.get_pages().get(ctx.page_script_hash) if ctx else None
    except Exception:  # Streamlit internals moved: the switcher still offers every page
        return None
    path = Path(str(info.get("script_path", ""))) if info else None
    return f"pages/{path.name}" if path and path.parent.name == "pages" else None


def neighbours(page: str | None) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
    """The pages before and after `page` in the navigation order (None at either end or when unknown)."""
    paths = [p for p, _ in PAGES]
    if page not in paths:
        return None, None
    i = paths.index(page)
    return (PAGES[i - 1] if i > 0 else None), (PAGES[i + 1] if i + 1 < len(PAGES) else None)


def render() -> None:
    """The switcher (only in presentation mode): previous, a menu of all pages, next, and leave."""
    page = current_page()
    before, after = neighbours(page)
    st.markdown(NAV_CSS, unsafe_allow_html=True)
    with st.container(key=NAV_KEY, horizontal=True, vertical_alignment="center", gap="small", width="content"):
        if before:
            st.page_link(before[0], label=f"\u25C0 {before[1]}", query_params=PRESENT,
                         help="Previous page (stays in presentation mode)")
        with st.popover("Pages", help="Go to any page, staying in presentation mode"):
            for path, label in PAGES:
                st.page_link(path, label=label + (" (this page)" if path == page else ""), query_params=PRESENT,
                             disabled=path == page)
            if page:
                st.page_link(page, label="Leave presentation mode")
        if after:
            st.page_link(after[0], label=f"{after[1]} \u25B6", query_params=PRESENT,
                         help="Next page (stays in presentation mode)")

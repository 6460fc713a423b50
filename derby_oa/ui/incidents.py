"""Unexpected page errors: the reader sees a short message and an incident id, the server log the details.

`app.py` runs every page through `run_page`. Streamlit's own reruns and stops are not errors (they are
BaseException) and pass through. With `DERBY_OA_PAGE_ERRORS=raise` (set by the test suite) errors are
re-raised after logging, so a test still fails on them.
"""
from __future__ import annotations

import logging
import os
import sys
import uuid

import streamlit as st



class _Stderr(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is at the time (the server's log)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


LOG = logging.getLogger("derby_oa.incidents")
if not LOG.handlers:  # to the server's stderr (its log), whatever Streamlit does with its own loggers
    _handler = _Stderr()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    LOG.addHandler(_handler)
    LOG.setLevel(logging.INFO)
    LOG.propagate = False


def report(exc: BaseException, where: str) -> str:
    """Log `exc` with a new incident id and show the reader a short message; returns the id."""
    incident = uuid.uuid4().hex[:10]
    LOG.error("incident %s on page %s: %s", incident, where, type(exc).__name__, exc_info=exc)
    st.error(f"Sorry, this page could not be shown because of an unexpected error (incident {incident}). "
             "Please try again, or tell the dashboard's officers the incident number.", icon=":material/error:")
    return incident


def run_page(page) -> None:
    """Run a `st.navigation` page, turning any unexpected error into an incident."""
    try:
        page.run()
    except Exception as exc:  # noqa: BLE001 - everything a reader could otherwise see as a traceback
        report(exc, getattr(page, "url_path", "") or "/")
        if os.environ.get("DERBY_OA_PAGE_ERRORS") == "raise":
            raise

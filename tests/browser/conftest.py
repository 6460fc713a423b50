"""Session fixtures for the real-browser tests: one app server on the full database, one chromium."""
from __future__ import annotations

import shutil

import pytest

import browser_support as bs


@pytest.fixture(scope="session", autouse=True)
def _fresh_outputs():
    """Screenshots and axe reports in test-output/ are those of this run only."""
    for folder in (bs.SCREENSHOTS, bs.OUTPUT / "axe"):
        shutil.rmtree(folder, ignore_errors=True)
    yield


@pytest.fixture(scope="session")
def app_server(full_db):
    """The app served on a free loopback port against the full database; stopped at the end."""
    with bs.StreamlitServer(db=full_db, log=bs.OUTPUT / "server-browser-tests.log") as server:
        yield server


@pytest.fixture(scope="session")
def playwright_session():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_session):
    browser = bs.launch_browser(playwright_session)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def warm_server(app_server, browser):
    """The server after one visit to its root page (which runs app.py and registers st.navigation)."""
    context, log = bs.new_context(browser, app_server)
    page = context.new_page()
    bs.open_page(page, app_server.url + "/")
    context.close()
    return app_server


@pytest.fixture
def session(browser, warm_server):
    """A new browser context (a new Streamlit session) on the warm server. Closed after the test."""
    context, log = bs.new_context(browser, warm_server)
    yield bs.BrowserSession(context.new_page(), log, warm_server)
    context.close()

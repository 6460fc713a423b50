"""Real browser: an anonymous visitor sees no write controls (issue 10), and link text stays text.

The server is started with no `.streamlit/secrets.toml` in reach of a sign-in, so every session is a
visitor's: the Load data and SQL pages say why, and show no uploader, query box or write button.
"""
from __future__ import annotations

from urllib.parse import quote

import pytest

import browser_support as bs

MAIN = '[data-testid="stMain"]'
WRITE_WORDS = ("Commit", "Undo", "Publish", "Remove", "Add local target", "Run")


@pytest.mark.parametrize("stem", ["load_data", "sql"])
def test_anonymous_visitor_sees_no_write_controls(session, stem):
    session.open(bs.page_by_stem(stem))
    page = session.page
    assert "Sign in as an officer" in page.inner_text(MAIN)
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
    assert page.locator(f"{MAIN} textarea").count() == 0
    buttons = [b.inner_text().strip() for b in page.locator(f"{MAIN} button").all()]
    assert not [b for b in buttons if b.startswith(WRITE_WORDS)], buttons
    assert page.locator('[data-testid="stDataFrame"]').count() == 0  # no query result, no upload history
    assert not bs.exception_texts(page)
    bs.screenshot(page, f"anonymous-{stem}")


def test_link_parameter_in_markdown_is_not_a_link_or_an_image(session):
    attack = "[x](https://evil.example) ![p](https://evil.example/p.png)"
    session.open(bs.page_by_stem("wards"), query="indicator=" + quote(attack))
    page = session.page
    shown = page.inner_text(MAIN).replace("\u2060", "")  # the word joiner that stops GFM's bare-address links
    assert "[x](https://evil.example)" in shown  # shown as the characters it is
    assert page.locator('a[href*="evil.example"]').count() == 0
    assert page.locator('img[src*="evil.example"]').count() == 0
    assert not [u for u in session.log.foreign if "evil.example" in u]

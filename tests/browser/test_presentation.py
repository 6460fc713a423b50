"""Presentation mode on projector-sized screens: every tile on one screen, type that scales, a page switcher that
keeps `present=1`, the Wards map in the first screen, and tables that fit 1366 px."""
from __future__ import annotations

import pytest

import browser_support as bs

SCREENS = [(1366, 768), (1920, 1080)]
TILE_BOXES = """els => els.map(e => {const r = e.getBoundingClientRect();
  return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}})"""
FONT_PX = "el => parseFloat(getComputedStyle(el).fontSize)"


def _page(browser, server, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height})
    log = bs.RequestLog(f"127.0.0.1:{server.port}").attach(context)
    return context, context.new_page(), log


@pytest.mark.parametrize("width,height", SCREENS, ids=[f"{w}x{h}" for w, h in SCREENS])
def test_every_tile_fits_one_screen(browser, warm_server, width, height):
    context, page, log = _page(browser, warm_server, width, height)
    try:
        bs.open_page(page, f"{warm_server.url}/?present=1")
        bs.screenshot(page, f"overview-presentation-{width}x{height}")
        boxes = page.eval_on_selector_all(".oa-grid.oa-present .oa-tile", TILE_BOXES)
        assert len(boxes) == 15  # 14 headline tiles and the key
        outside = [b for b in boxes if b["top"] < 0 or b["bottom"] > height or b["left"] < 0 or b["right"] > width]
        assert not outside, f"tiles outside the {width}x{height} screen: {outside}"
        assert page.locator(".oa-present .oa-line img").count() == 14  # every headline tile has its line
        sentence = page.locator(".oa-present .oa-sentence").first.evaluate(FONT_PX)
        value = page.locator(".oa-present .oa-value").first.evaluate(FONT_PX)
        # type scales with the screen: 1.65vh for the sentence (at least 12 px), 3.3vh for the value
        assert sentence == pytest.approx(max(12.0, 0.0165 * height), abs=0.6)
        assert value == pytest.approx(max(20.0, 0.033 * height), abs=0.6)
        assert not log.foreign, f"requests outside the machine: {log.foreign}"
        assert not bs.exception_texts(page)
    finally:
        context.close()


def test_page_switcher_keeps_presentation_mode(browser, warm_server):
    context, page, _ = _page(browser, warm_server, 1366, 768)
    try:
        bs.open_page(page, f"{warm_server.url}/?present=1")
        page.get_by_role("link", name="1. Early years").click()
        page.wait_for_url("**/early_years?*", timeout=bs.PAGE_TIMEOUT_MS)
        bs.wait_rendered(page)
        assert "present=1" in page.url
        assert not page.locator(bs.SIDEBAR).is_visible()
        assert page.locator(".oa-grid.oa-present").count() == 1
        page.get_by_role("button", name="Pages").click()
        page.get_by_role("link", name="Targets and trajectories").click()
        page.wait_for_url("**/targets?*", timeout=bs.PAGE_TIMEOUT_MS)
        bs.wait_rendered(page)
        assert "present=1" in page.url
        assert not page.locator(bs.SIDEBAR).is_visible()
        assert not bs.exception_texts(page)
    finally:
        context.close()


def test_wards_map_is_in_the_first_screen(browser, warm_server):
    context, page, _ = _page(browser, warm_server, 1366, 768)
    try:
        bs.open_page(page, f"{warm_server.url}/wards?present=1", timeout_ms=300_000)  # the heaviest page
        bs.screenshot(page, "wards-presentation-1366x768")
        first = page.locator(bs.DECK).first.bounding_box()
        assert first is not None
        assert first["y"] >= 0 and first["y"] + first["height"] <= 768, f"the map is not in the first screen: {first}"
    finally:
        context.close()


OVERFLOW = """el => { const s = el.querySelector('.dvn-scroller') || el;
  return {scroll: s.scrollWidth, client: s.clientWidth, right: el.getBoundingClientRect().right}; }"""


def test_tables_fit_1366_pixels(browser, warm_server):
    context, page, _ = _page(browser, warm_server, 1366, 768)
    try:
        bs.open_page(page, f"{warm_server.url}/early_years")
        # the reading tables on the page (those in "Data table and downloads" expanders are the charts' data)
        # plain HTML tables (no data grid to load): every indicator at a glance, and year by year
        assert page.locator('[data-testid="stDataFrame"]').count() == 0
        grids = page.locator('[data-testid="stTable"]:not([data-testid="stExpander"] [data-testid="stTable"])')
        assert grids.count() == 2
        for i in range(grids.count()):
            grid = grids.nth(i)
            grid.scroll_into_view_if_needed()
            size = grid.evaluate(OVERFLOW)
            assert size["scroll"] <= size["client"] + 1, f"table {i} scrolls sideways at 1366 px: {size}"
            assert size["right"] <= 1366
        headers = grids.first.inner_text()
        bs.screenshot(page, "early-years-tables-1366")
        bs.open_page(page, f"{warm_server.url}/data_sources")
        table = page.locator("table.oa-table").first
        size = table.evaluate("el => ({scroll: el.parentElement.scrollWidth, client: el.parentElement.clientWidth})")
        assert size["scroll"] <= size["client"] + 1, f"the sources table is cut off at 1366 px: {size}"
        text = table.inner_text()
        assert "Licence" in text and "Open Government Licence v3.0" in text and "Attribution" in text
        assert headers is not None
    finally:
        context.close()

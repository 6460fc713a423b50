"""Real-browser tests: every page of app.py in Debian's chromium against the full database.

Each page must render (charts and maps drawn) with no exception element and no request to any
host but the app's; screenshots are kept in test-output/screenshots/. Interactions: a permalink,
a ward pair in the URL, presentation mode and a download.
"""
from __future__ import annotations

import re

import pytest

import browser_support as bs
from derby_oa import config

PAGES = bs.app_pages()
ALL_PAGES = bs.app_pages(include_hidden=True)
ACTIVE_NAV = '[data-testid="stSidebarNavLink"][aria-current="page"]'


def _main_text(page) -> str:
    return page.inner_text('[data-testid="stMain"]')


def _fmt(value: float, decimals: int | None) -> str:
    return f"{value:.{1 if decimals is None else int(decimals)}f}"


def _check_overview(page, con) -> None:
    """Derby's latest GLD, as published, is on the board overview next to its name."""
    meta = con.execute("SELECT title, short_title, decimals FROM indicators WHERE indicator_id = 'gld'").fetchone()
    year, value = con.execute("""SELECT year, value FROM observations WHERE indicator_id = 'gld' AND area_code = ?
                                 AND breakdown = 'all' AND status = 'published' ORDER BY year DESC LIMIT 1""",
                              [config.DERBY]).fetchone()
    text = _main_text(page)
    assert re.search(r"\bGLD\b|good level of development", text, re.I), "no GLD headline on the overview"
    assert _fmt(value, meta[2]) in text, f"Derby's GLD {value} ({year}) is not shown on the overview"


def _check_wards(page, con) -> None:
    """The ward map is drawn on a visible canvas of real size."""
    canvas = page.locator(f"{bs.DECK} canvas").first
    canvas.wait_for(state="visible")
    box = canvas.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 200, f"ward map canvas too small: {box}"


TARGET_STATUS = re.compile(r"\b(on track|off track|met|not met|not assessable|cannot be judged)\b", re.I)


def _check_targets(page, con) -> None:
    """Every measurable plan target has a status in words on the targets page."""
    n_targets = con.execute("""SELECT count(*) FROM targets WHERE origin = 'plan'
                               AND kind IN ('exceed_comparator', 'close_gap', 'absolute')""").fetchone()[0]
    statuses = TARGET_STATUS.findall(_main_text(page))
    assert n_targets and len(statuses) >= n_targets, \
        f"{len(statuses)} target statuses shown for {n_targets} plan targets: {statuses[:12]}"


KEY_CONTENT = {"overview": _check_overview, "wards": _check_wards, "targets": _check_targets}


@pytest.mark.parametrize("spec", ALL_PAGES, ids=[p.id for p in ALL_PAGES])
def test_page_renders_offline_without_exception(spec, session, con_full):
    page = session.page
    session.open(spec)
    bs.screenshot(page, spec.id)
    errors = bs.exception_texts(page)
    assert not errors, f"{spec.url_path}: exception on the page:\n" + "\n---\n".join(errors)
    assert not session.log.foreign, f"{spec.url_path}: requests left the machine: {session.log.foreign}"
    assert not bs.dialog_texts(page), f"{spec.url_path}: a dialog opened: {bs.dialog_texts(page)}"
    assert page.locator(ACTIVE_NAV).inner_text().strip() == spec.title, "the sidebar does not mark this page"
    assert page.locator("h1").count() >= 1, f"{spec.url_path}: no page heading"
    for marks in page.locator(f"{bs.VEGA} .marks").all():
        box = marks.bounding_box()
        assert box and box["height"] > 0 and box["width"] > 0, f"{spec.url_path}: an empty chart"
    if spec.stem in KEY_CONTENT:
        KEY_CONTENT[spec.stem](page, con_full)


def _fresh_server_cases() -> list[bs.PageSpec]:
    """A page whose url_path differs from its file name, and one whose url_path is its file name."""
    others = [p for p in PAGES if not p.default]
    differ = [p for p in others if p.url_path != p.stem][:1]
    same = [p for p in others if p.url_path == p.stem][:1]
    return differ + same


@pytest.mark.parametrize("spec", _fresh_server_cases(), ids=lambda p: p.url_path)
def test_first_request_to_a_fresh_server_can_be_a_deep_link(spec, full_db, browser):
    """A link straight to a page, as the first request after the server starts, opens that page of app.py."""
    with bs.StreamlitServer(db=full_db, log=bs.OUTPUT / f"server-fresh-{spec.url_path}.log") as server:
        context, log = bs.new_context(browser, server)
        try:
            page = context.new_page()
            bs.open_page(page, server.page_url(spec))
            bs.screenshot(page, f"fresh-server-{spec.url_path}")
            dialogs = bs.dialog_texts(page)
            assert not dialogs, f"a dialog opened on the deep link: {dialogs}"
            nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
            missing = [p.title for p in PAGES if p.title not in nav]
            assert not missing, f"the navigation is not app.py's (missing {missing}): {nav[:300]!r}"
            assert page.locator(ACTIVE_NAV).inner_text().strip() == spec.title
            assert not bs.exception_texts(page)
        finally:
            context.close()


def test_presentation_mode_hides_the_sidebar(session):
    page = session.page
    spec = next(p for p in PAGES if p.default)
    session.open(spec)
    assert page.locator(bs.SIDEBAR).is_visible(), "the sidebar should show outside presentation mode"
    session.open(spec, "present=1")
    bs.screenshot(page, f"{spec.url_path}-presentation")
    assert not page.locator(bs.SIDEBAR).is_visible(), "presentation mode still shows the sidebar"
    assert page.locator("h1").first.is_visible()
    assert not bs.exception_texts(page)


def test_download_button_delivers_the_chart_data(session, tmp_path):
    """The first chart's 'Download CSV' on the first page that has one delivers its table."""
    page = session.page
    for spec in PAGES:
        session.open(spec)
        expander = page.locator('[data-testid="stExpander"]', has_text="Data table and downloads").first
        if expander.count():
            break
    else:
        pytest.fail("no page has a 'Data table and downloads' section")
    expander.locator("summary").click()
    button = expander.get_by_role("button", name="Download CSV")
    button.wait_for(state="visible")
    with page.expect_download() as info:
        button.click()
    download = info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    text = target.read_text(encoding="utf-8-sig")
    lines = [line for line in text.splitlines() if line.strip()]
    assert download.suggested_filename.endswith(".csv")
    assert len(lines) >= 2, f"the CSV has no data rows: {text[:200]!r}"
    assert "Derby" in text, "the chart's CSV has no Derby row"
    assert not session.log.foreign


LINK = ".st-key-view-link code"  # "Link to this view" (derby_oa.ui.widgets.copy_link)


def _shown_link(page) -> str:
    return page.locator(LINK).inner_text().strip()


def _open_in_new_session(browser, server, link: str, name: str):
    """Open `link` as someone given it would: a new browser context (a new Streamlit session)."""
    context, log = bs.new_context(browser, server)
    other = context.new_page()
    bs.open_page(other, link)
    bs.screenshot(other, name)
    return context, log, other


def test_permalink_reopens_the_chosen_view(session, browser):
    """Choose the pivot view on the Explorer, copy the whole link, open it in a new session: the same view opens."""
    page = session.page
    explore = bs.page_by_stem("explore", PAGES)
    session.open(explore, "ind=gld")
    page.locator('[data-testid="stRadio"] label', has_text="Pivot (areas by years)").click()
    page.wait_for_function("sel => (document.querySelector(sel) || {}).textContent?.includes('view=pivot')", arg=LINK)
    bs.wait_rendered(page)
    link = _shown_link(page)
    assert link.startswith(session.server.url + "/explore?"), link
    assert "view=pivot" in link and "ind=gld" in link, link
    context, log, other = _open_in_new_session(browser, session.server, link, "permalink-explore-pivot")
    try:
        assert other.get_by_role("radio", name="Pivot (areas by years)").is_checked()
        assert other.locator('[data-testid="stDataFrame"]').count() >= 1, "the pivot is not shown"
        assert other.locator(bs.VEGA).count() == 0, "the link opened the chart view"
        assert _shown_link(other) == link, "the reopened view differs from the link"
        assert not bs.exception_texts(other) and not log.foreign
    finally:
        context.close()


def _ward_pair(con):
    """Two wards that are not the default pair (codes and names)."""
    from derby_oa.analysis.wards import ranking as wards
    from derby_oa.queries import wards as ward_queries

    ward_list = ward_queries.ward_list(con, config.WARD_VINTAGE_PLAN)
    defaults = set(wards.default_pair(ward_list))
    return [(r.area_code, r.area_name) for r in ward_list.itertuples() if r.area_code not in defaults][-2:]


def test_ward_pair_link_reopens_in_a_new_session(session, browser, con_full):
    """The Wards page's link, opened in a new session, compares the same two wards."""
    (a, name_a), (b, name_b) = _ward_pair(con_full)
    session.open(bs.page_by_stem("wards", PAGES), f"vintage={config.WARD_VINTAGE_PLAN}&ward={a}&compare={b}")
    link = _shown_link(session.page)
    assert link.startswith(session.server.url + "/wards?") and f"ward={a}" in link and f"compare={b}" in link, link
    context, log, other = _open_in_new_session(browser, session.server, link, "permalink-wards-pair")
    try:
        assert other.get_by_role("combobox", name="First ward").input_value() == name_a
        assert other.get_by_role("combobox", name="Second ward").input_value() == name_b
        assert _shown_link(other) == link
        assert not bs.exception_texts(other) and not log.foreign
    finally:
        context.close()


def test_ward_pair_in_the_url_shows_that_comparison(session, con_full):
    """?ward=A&compare=B (two wards that are not the defaults) compares exactly those two wards."""
    (a, name_a), (b, name_b) = _ward_pair(con_full)
    page = session.page
    session.open(bs.page_by_stem("wards", PAGES), f"vintage={config.WARD_VINTAGE_PLAN}&ward={a}&compare={b}")
    bs.screenshot(page, "wards-pair-from-url")
    assert not bs.exception_texts(page)
    first = page.get_by_role("combobox", name="First ward").input_value()
    second = page.get_by_role("combobox", name="Second ward").input_value()
    assert (first, second) == (name_a, name_b)
    text = _main_text(page)
    section = text[text.index("Compare two wards"):]
    assert name_a in section[:2000] and name_b in section[:2000], section[:600]
    assert f"ward={a}" in page.url and f"compare={b}" in page.url, page.url


def test_ward_profile_link_shows_that_ward(session, con_full):
    """?profile=C opens the profile of ward C beside the pair, with the every-indicator dot chart, the
    worst-off ranking and the scatter drawn, and the link keeps the profile."""
    (a, name_a), (b, name_b) = _ward_pair(con_full)
    from derby_oa.queries import wards as ward_queries

    wards_ = ward_queries.ward_list(con_full, config.WARD_VINTAGE_PLAN)
    c, name_c = next((r.area_code, r.area_name) for r in wards_.itertuples() if r.area_code not in (a, b))
    page = session.page
    session.open(bs.page_by_stem("wards", PAGES), f"vintage={config.WARD_VINTAGE_PLAN}&ward={a}&compare={b}&profile={c}")
    bs.screenshot(page, "wards-profile-from-url")
    assert not bs.exception_texts(page) and not session.log.foreign
    assert page.get_by_role("combobox", name="Ward to profile").input_value() == name_c
    text = _main_text(page)
    for heading in ("Every ward indicator at once", "Ward profile", f"Inside {name_c}", "Where are children worst off?"):
        assert heading in text, f"no section {heading!r}"
    assert page.locator(f"{bs.VEGA} .marks").count() >= 3, "the dot chart, scatter and ranking are not all drawn"
    assert f"profile={c}" in _shown_link(page)

"""Permalinks: every page registered in app.py opens the exact view its URL describes, and survives bad links.

For each page: open it under AppTest with query parameters, check the widgets show them and the URL keeps
them (a round trip), and check that an invalid parameter gives a short st.info notice and the default
without an exception. Presentation mode (`present=1`) is checked on every page.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from apptest_support import OFFICER, run_page  # the console and the loader are for officers
from derby_oa.ui import widgets

ROOT = Path(__file__).resolve().parent.parent
DERBY, ENGLAND = "E06000015", "E92000001"


def registered_pages() -> list[str]:
    """Page files registered in app.py's navigation."""
    return sorted(set(re.findall(r'"(pages/[a-z_]+\.py)"', (ROOT / "app.py").read_text())))


def infos(at) -> list[str]:
    """Info notices as the reader sees them (link text is escaped Markdown: backslashes, word joiners)."""
    return [i.value.replace("\\", "").replace("\u2060", "") for i in at.info]


def link(at) -> str:
    """The page's "Link to this view" (AppTest has no browser address, so it starts at the page's path)."""
    shown = [c.value for c in at.code if c.value.startswith("/")]
    assert len(shown) == 1, f"expected one link to this view, found {shown}"
    return shown[0]


def page_path(page: str) -> str:
    """The URL path a page is served at: / for the overview, /<file stem> for the others."""
    return "/" if page == "pages/overview.py" else "/" + Path(page).stem


def test_every_registered_page_is_covered():
    covered = {"pages/explore.py", "pages/sql.py", "pages/load_data.py", "pages/data_sources.py",
               "pages/accessibility.py", "pages/overview.py", "pages/early_years.py", "pages/schools.py",
               "pages/horizons.py", "pages/wellbeing.py", "pages/wards.py", "pages/targets.py"}
    assert set(registered_pages()) == covered


@pytest.mark.parametrize("page", registered_pages())
def test_presentation_mode_from_the_url(page, full_db):
    at = run_page(full_db, page, {"present": "1"})
    assert not at.exception, at.exception
    assert any(widgets.PRESENT_CSS.strip() in m.value for m in at.markdown)
    assert at.query_params.get("present") == ["1"] or at.query_params.get("present") == "1"


# ---- explorer ----------------------------------------------------------------------------------------------

EXPLORE = {"q": "good level", "ind": "gld,ks2_rwm_expected", "area": f"{DERBY},E08000026", "group": "sn_2021",
           "bd": "all,fsm", "from": "2017", "to": "2019", "view": "pivot", "chart": "bar"}


def _qp(at) -> dict[str, str]:
    return {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def test_explore_round_trip(full_db):
    at = run_page(full_db, "pages/explore.py", EXPLORE)
    assert not at.exception and not infos(at)
    assert at.text_input(key="ex-q").value == "good level"
    assert at.multiselect(key="ex-ind").value == ["gld", "ks2_rwm_expected"]
    assert at.multiselect(key="ex-area").value == [DERBY, "E08000026"]
    assert at.multiselect(key="ex-group").value == ["sn_2021"]
    assert at.multiselect(key="ex-bd").value == ["all", "fsm"]
    assert at.select_slider(key="ex-years").value == (2017, 2019)
    assert at.radio(key="ex-view").value == "pivot"
    assert at.radio(key="ex-chart").value == "bar"
    assert _qp(at) == EXPLORE
    pivot = at.dataframe[0].value
    assert [c for c in pivot.columns if "/" in c] == ["2016/17", "2017/18", "2018/19"]
    assert len(pivot) == 2 * 2 * 11  # 2 indicators x 2 groups x (Derby and its 10 neighbours, Coventry once)
    assert "view=pivot" in link(at) and "group=sn_2021" in link(at)


def test_explore_changes_go_into_the_url_and_reopen_identically(full_db):
    at = run_page(full_db, "pages/explore.py", {"ind": "gld", "area": DERBY})
    at.radio(key="ex-view").set_value("table").run()
    at.multiselect(key="ex-bd").set_value(["all", "boys", "girls"]).run()
    at.multiselect(key="ex-area").set_value([DERBY, ENGLAND]).run()
    assert not at.exception
    params = _qp(at)
    assert params["view"] == "table" and params["bd"] == "all,boys,girls" and params["area"] == f"{DERBY},{ENGLAND}"
    assert "bd=all,boys,girls" in link(at)
    again = run_page(full_db, "pages/explore.py", params)
    assert again.radio(key="ex-view").value == "table"
    assert again.multiselect(key="ex-bd").value == ["all", "boys", "girls"]
    assert again.multiselect(key="ex-area").value == [DERBY, ENGLAND]
    assert again.dataframe[0].value.equals(at.dataframe[0].value)


def test_explore_invalid_parameters_fall_back_with_notices(full_db):
    at = run_page(full_db, "pages/explore.py", {"ind": "nope", "area": "E99", "group": "sn_1999", "bd": "aliens",
                                                "from": "1066", "view": "sideways", "chart": "pie"})
    assert not at.exception
    notes = " ".join(infos(at))
    for word in ("nope", "E99", "sn_1999", "aliens", "1066", "sideways", "pie"):
        assert word in notes
    assert at.multiselect(key="ex-ind").value == ["gld"]
    assert at.multiselect(key="ex-area").value == [DERBY, ENGLAND, "E12000004"]
    assert at.multiselect(key="ex-bd").value == ["all"]
    assert at.radio(key="ex-view").value == "chart" and at.radio(key="ex-chart").value == "line"
    assert _qp(at)["view"] == "chart" and "ind" in _qp(at) and _qp(at)["ind"] == "gld"


def test_explore_link_with_too_many_indicators_keeps_the_first_six(full_db):
    many = ["gld", "ks2_rwm_expected", "ks4_progress8", "ks4_attainment8", "fsm_primary", "fsm_secondary",
            "neet_16_17", "claimant_rate"]
    at = run_page(full_db, "pages/explore.py", {"ind": ",".join(many)})
    assert not at.exception
    assert at.multiselect(key="ex-ind").value == many[:6]
    assert "neet_16_17, claimant_rate" in " ".join(infos(at))
    assert _qp(at)["ind"] == ",".join(many[:6])


# ---- SQL console -------------------------------------------------------------------------------------------

def test_sql_round_trip(full_db):
    query = "SELECT period, value FROM observations WHERE indicator_id = 'gld' AND area_code = 'E06000015' " \
            "AND breakdown = 'all' AND year = 2019"
    at = run_page(full_db, "pages/sql.py", {"q": query}, officer=OFFICER)
    assert not at.exception and not at.error
    assert at.text_area(key="sql-q").value == query
    at.button(key="sql-run").click().run()  # a query from a link waits for Run (tests/test_sql_page.py)
    assert at.dataframe[0].value.to_dict("records") == [{"period": "2018/19", "value": 70.7}]
    assert _qp(at)["q"] == query
    assert "q=SELECT%20period%2C" not in link(at) and "q=SELECT%20period," in link(at)


def test_sql_example_goes_into_the_box_and_the_url(full_db):
    at = run_page(full_db, "pages/sql.py", officer=OFFICER)
    at.selectbox(key="sql-example").set_value("Tables in the database").run()
    assert at.text_area(key="sql-q").value == "SHOW TABLES"
    assert _qp(at)["q"] == "SHOW TABLES"
    assert not at.warning and not at.exception
    assert "observations" in set(at.dataframe[0].value["name"])


def test_sql_refused_query_in_a_link_gives_a_notice_not_an_exception(full_db):
    at = run_page(full_db, "pages/sql.py", {"q": "DROP TABLE areas"}, officer=OFFICER)
    at.button(key="sql-run").click().run()
    assert not at.exception
    assert at.error and "Not run" in at.error[0].value and "DROP" in at.error[0].value


# ---- load data ---------------------------------------------------------------------------------------------

def test_load_round_trip(full_db):
    params = {"view": "load", "ind": "gld", "bd": "fsm", "col": "gld_percent", "num": "gld_number",
              "den": "number_of_children"}
    at = run_page(full_db, "pages/load_data.py", params, officer=OFFICER)
    assert not at.exception and not infos(at)
    assert at.radio(key="load-view").value == "load"
    assert at.selectbox(key="load-ind").value == "gld"
    assert at.selectbox(key="load-bd").value == "fsm"
    assert at.text_input(key="load-col").value == "gld_percent"
    assert (at.text_input(key="load-num").value, at.text_input(key="load-den").value) == \
        ("gld_number", "number_of_children")
    assert _qp(at) == params
    history = run_page(full_db, "pages/load_data.py", {"view": "history"}, officer=OFFICER)
    assert history.radio(key="load-view").value == "history"
    assert "No files have been uploaded yet." in infos(history)


def test_load_invalid_parameters_fall_back_with_notices(full_db):
    at = run_page(full_db, "pages/load_data.py", {"view": "upside-down", "ind": "nope", "bd": "aliens"},
                  officer=OFFICER)
    assert not at.exception
    notes = " ".join(infos(at))
    assert "upside-down" in notes and "nope" in notes and "aliens" in notes
    assert at.radio(key="load-view").value == "load"
    assert at.selectbox(key="load-ind").value == "" and at.selectbox(key="load-bd").value == ""
    assert _qp(at) == {"view": "load"}


# ---- data & sources, accessibility -------------------------------------------------------------------------

def test_data_sources_round_trip(full_db):
    at = run_page(full_db, "pages/data_sources.py", {"theme": "schools", "scope": "all"})
    assert not at.exception and not infos(at)
    assert at.selectbox(key="ds-theme").value == "schools" and at.toggle(key="ds-curated").value is False
    assert _qp(at) == {"theme": "schools", "scope": "all"}
    assert "theme=schools" in link(at)
    shown = next(d.value for d in at.dataframe if "indicator_id" in d.value.columns and "polarity" in d.value.columns)
    assert set(shown["theme"]) == {"schools"} and shown["indicator_id"].str.startswith("lait_").any()


def test_data_sources_invalid_parameters_fall_back_with_notices(full_db):
    at = run_page(full_db, "pages/data_sources.py", {"theme": "astrology", "scope": "everything"})
    assert not at.exception
    assert "astrology" in " ".join(infos(at)) and "everything" in " ".join(infos(at))
    assert at.selectbox(key="ds-theme").value == "all" and at.toggle(key="ds-curated").value is True
    assert _qp(at) == {"theme": "all", "scope": "curated"}


def test_accessibility_ignores_unknown_parameters(full_db):
    at = run_page(full_db, "pages/accessibility.py", {"ind": "nope", "present": "0"})
    assert not at.exception
    assert not any(widgets.PRESENT_CSS.strip() in m.value for m in at.markdown)
    assert link(at) == "/accessibility?ind=nope&present=0"


@pytest.mark.parametrize("page", registered_pages())
def test_link_to_this_view_names_the_page_and_its_parameters(page, full_db):
    """The link holds the page's path (not just `?...`), so pasted anywhere it opens this page."""
    at = run_page(full_db, page)
    assert not at.exception, at.exception
    shown = link(at)
    path, _, query = shown.partition("?")
    assert path == page_path(page), shown
    assert dict(parse_qsl(query, keep_blank_values=True)) == _qp(at), shown


def test_explorer_link_is_the_whole_view(full_db):
    at = run_page(full_db, "pages/explore.py", {"ind": "gld", "area": DERBY, "view": "pivot"})
    assert not at.exception
    path, _, query = link(at).partition("?")
    assert path == "/explore"
    assert dict(parse_qsl(query)) == _qp(at)
    assert {"ind": "gld", "view": "pivot"}.items() <= _qp(at).items()


# ---- pages built by other issues: written against their current code, with the parameters they support ------

def _raw_options(at, key: str, labels: dict[str, str]) -> list[str]:
    """A radio's option values (AppTest shows the formatted labels)."""
    back = {label: value for value, label in labels.items()}
    return [back.get(label, label) for label in at.radio(key=key).options]


def _other_selectbox_value(at, key: str) -> str:
    """Pick the second option of a selectbox through the UI and return its value."""
    at.selectbox(key=key).select_index(1).run()
    assert not at.exception
    return at.selectbox(key=key).value


PRIORITY_PAGES = {"pages/early_years.py": "early_years", "pages/schools.py": "schools",
                  "pages/horizons.py": "horizons", "pages/wellbeing.py": "wellbeing"}


@pytest.mark.parametrize("page", list(PRIORITY_PAGES))
def test_priority_page_round_trip(page, full_db):
    """`ind`, `sn` and `group` (and `bd` where the indicator has pupil groups) reopen the same view."""
    from derby_oa.analysis.headlines import BREAKDOWN_LABELS

    prefix = PRIORITY_PAGES[page]
    first = run_page(full_db, page)
    assert not first.exception
    chosen_ind = first.selectbox(key=f"{prefix}-ind").value
    params = {"ind": chosen_ind, "sn": "each", "group": "sn_2021"}
    bd_key = f"{prefix}-bd-{chosen_ind}"
    if any(w.key == bd_key for w in first.radio):
        groups = _raw_options(first, bd_key, BREAKDOWN_LABELS)
        params["bd"] = next(g for g in groups if g != first.radio(key=bd_key).value)
    at = run_page(full_db, page, params)
    assert not at.exception and not infos(at)
    assert at.selectbox(key=f"{prefix}-ind").value == chosen_ind
    assert at.radio(key=f"{prefix}-sn").value == "each"
    assert at.radio(key=f"{prefix}-group").value == "sn_2021"
    if "bd" in params:
        assert at.radio(key=bd_key).value == params["bd"]
    assert {k: _qp(at)[k] for k in params} == params
    assert all(f"{k}={v}" in link(at) for k, v in params.items())


def test_priority_page_chosen_indicator_goes_into_the_url_and_reopens(full_db):
    first = run_page(full_db, "pages/early_years.py")
    other = _other_selectbox_value(first, "early_years-ind")
    assert _qp(first)["ind"] == other
    at = run_page(full_db, "pages/early_years.py", {"ind": other})
    assert not at.exception and at.selectbox(key="early_years-ind").value == other


def test_priority_gap_reference_round_trip(full_db):
    first = run_page(full_db, "pages/early_years.py", {"ind": "gld"})
    assert first.radio(key="early_years-gapref-gld").value == "non_fsm"
    at = run_page(full_db, "pages/early_years.py", {"ind": "gld", "bd": "fsm", "gapref": "all"})
    assert not at.exception and not infos(at)
    assert at.radio(key="early_years-gapref-gld").value == "all" and at.radio(key="early_years-bd-gld").value == "fsm"
    assert _qp(at)["gapref"] == "all" and _qp(at)["bd"] == "fsm"


@pytest.mark.parametrize("page", list(PRIORITY_PAGES))
def test_priority_page_invalid_parameters_fall_back_with_notices(page, full_db):
    prefix = PRIORITY_PAGES[page]
    default = run_page(full_db, page)
    at = run_page(full_db, page, {"ind": "nope", "sn": "sideways", "group": "sn_1999"})
    assert not at.exception
    notes = " ".join(infos(at))
    assert "nope" in notes and "sideways" in notes and "sn_1999" in notes
    assert at.selectbox(key=f"{prefix}-ind").value == default.selectbox(key=f"{prefix}-ind").value
    assert at.radio(key=f"{prefix}-sn").value == "average"
    assert at.radio(key=f"{prefix}-group").value == default.radio(key=f"{prefix}-group").value


def test_wards_round_trip(full_db, con_full):
    codes = [r[0] for r in con_full.execute("SELECT area_code FROM areas WHERE area_type = 'ward' AND vintage = "
                                            "'2003-2023' ORDER BY area_code").fetchall()]
    params = {"vintage": "2003-2023", "indicator": "imd_rank", "period": "2019", "ward": codes[2],
              "compare": codes[4], "map": "hex"}
    at = run_page(full_db, "pages/wards.py", params)
    assert not at.exception and not infos(at)
    assert at.radio(key="wards-vintage").value == "2003-2023"
    assert at.selectbox(key="wards-indicator-2003-2023").value == "imd_rank"
    assert at.selectbox(key="wards-period-2003-2023-imd_rank").value == "2019"
    assert at.selectbox(key="wards-a-2003-2023").value == codes[2]
    assert at.selectbox(key="wards-b-2003-2023").value == codes[4]
    assert at.radio(key="wards-map-style").value == "hex"
    assert _qp(at) == params


def test_wards_current_boundaries_round_trip(full_db, con_full):
    codes = [r[0] for r in con_full.execute("SELECT area_code FROM areas WHERE area_type = 'ward' AND vintage = "
                                            "'2023' ORDER BY area_code").fetchall()]
    params = {"vintage": "2023", "indicator": "imd_rank", "period": "2019", "ward": codes[0], "compare": codes[1]}
    at = run_page(full_db, "pages/wards.py", params)
    assert not at.exception and not infos(at)
    assert at.radio(key="wards-vintage").value == "2023"
    assert (at.selectbox(key="wards-a-2023").value, at.selectbox(key="wards-b-2023").value) == (codes[0], codes[1])
    assert {k: _qp(at)[k] for k in params} == params


def test_wards_invalid_parameters_fall_back_with_notices(full_db):
    default = run_page(full_db, "pages/wards.py")
    at = run_page(full_db, "pages/wards.py", {"vintage": "1066", "indicator": "nope", "ward": "E05999999"})
    assert not at.exception
    notes = " ".join(infos(at))
    assert "1066" in notes and "nope" in notes and "E05999999" in notes
    assert at.radio(key="wards-vintage").value == default.radio(key="wards-vintage").value
    assert at.selectbox(key="wards-a-2003-2023").value == default.selectbox(key="wards-a-2003-2023").value


def test_targets_round_trip(full_db, con_full):
    from derby_oa.analysis import targets

    measurable = [a.target["target_id"] for a in targets.assess_many(con_full) if a.measurable]
    first = run_page(full_db, "pages/targets.py")
    target = next(t for t in measurable if t != first.selectbox(key="target-choice").value)
    at = run_page(full_db, "pages/targets.py", {"target": target, "improve": "1.5"})
    assert not at.exception and not [n for n in infos(at) if "The link asked" in n]  # no fallback notice
    assert at.selectbox(key="target-choice").value == target
    assert at.number_input(key=f"improve-{target}").value == 1.5
    assert _qp(at) == {"target": target, "improve": "1.5"}


def test_targets_invalid_parameters_fall_back_with_notices(full_db):
    default = run_page(full_db, "pages/targets.py")
    at = run_page(full_db, "pages/targets.py", {"target": "nope", "improve": "-4"})
    assert not at.exception
    notes = " ".join(infos(at))
    assert "nope" in notes and "-4" in notes
    assert at.selectbox(key="target-choice").value == default.selectbox(key="target-choice").value
    assert _qp(at)["improve"] == _qp(default)["improve"]


def test_overview_presentation_toggle_round_trip(full_db):
    at = run_page(full_db, "pages/overview.py", {"present": "1"})
    assert not at.exception
    assert at.toggle(key="present-toggle").value is True
    at.toggle(key="present-toggle").set_value(False).run()
    assert "present" not in _qp(at)
    off = run_page(full_db, "pages/overview.py", {"present": "banana"})
    assert not off.exception and off.toggle(key="present-toggle").value is False

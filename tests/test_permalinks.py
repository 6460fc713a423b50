"""Permalinks: every page registered in app.py opens the exact view its URL describes, and survives bad links.

For each page: open it under AppTest with query parameters, check the widgets show them and the URL keeps
them (a round trip), and check that an invalid parameter gives a short st.info notice and the default
without an exception. Presentation mode (`present=1`) is checked on every page.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import run_page
from derby_oa.ui import widgets

ROOT = Path(__file__).resolve().parent.parent
DERBY, ENGLAND = "E06000015", "E92000001"


def registered_pages() -> list[str]:
    """Page files registered in app.py's navigation."""
    return re.findall(r'st\.Page\("(pages/[a-z_]+\.py)"', (ROOT / "app.py").read_text())


def infos(at) -> list[str]:
    return [i.value for i in at.info]


def link(at) -> str:
    return at.text_input(key="copy-link").value


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


# ---- SQL console -------------------------------------------------------------------------------------------

def test_sql_round_trip(full_db):
    query = "SELECT period, value FROM observations WHERE indicator_id = 'gld' AND area_code = 'E06000015' " \
            "AND breakdown = 'all' AND year = 2019"
    at = run_page(full_db, "pages/sql.py", {"q": query})
    assert not at.exception and not at.error
    assert at.text_area(key="sql-q").value == query
    assert at.dataframe[0].value.to_dict("records") == [{"period": "2018/19", "value": 70.7}]
    assert _qp(at)["q"] == query
    assert "q=SELECT%20period%2C" not in link(at) and "q=SELECT%20period," in link(at)


def test_sql_example_goes_into_the_box_and_the_url(full_db):
    at = run_page(full_db, "pages/sql.py")
    at.selectbox(key="sql-example").set_value("Tables in the database").run()
    assert at.text_area(key="sql-q").value == "SHOW TABLES"
    assert _qp(at)["q"] == "SHOW TABLES"
    assert "observations" in set(at.dataframe[0].value["name"])


def test_sql_refused_query_in_a_link_gives_a_notice_not_an_exception(full_db):
    at = run_page(full_db, "pages/sql.py", {"q": "DROP TABLE areas"})
    assert not at.exception
    assert at.error and "Not run" in at.error[0].value and "DROP" in at.error[0].value


# ---- load data ---------------------------------------------------------------------------------------------

def test_load_round_trip(full_db):
    params = {"view": "load", "ind": "gld", "bd": "fsm", "col": "gld_percent"}
    at = run_page(full_db, "pages/load_data.py", params)
    assert not at.exception and not infos(at)
    assert at.radio(key="load-view").value == "load"
    assert at.selectbox(key="load-ind").value == "gld"
    assert at.selectbox(key="load-bd").value == "fsm"
    assert at.text_input(key="load-col").value == "gld_percent"
    assert _qp(at) == params
    history = run_page(full_db, "pages/load_data.py", {"view": "history"})
    assert history.radio(key="load-view").value == "history"
    assert "No files have been uploaded yet." in infos(history)


def test_load_invalid_parameters_fall_back_with_notices(full_db):
    at = run_page(full_db, "pages/load_data.py", {"view": "upside-down", "ind": "nope", "bd": "aliens"})
    assert not at.exception
    notes = " ".join(infos(at))
    assert "upside-down" in notes and "nope" in notes and "aliens" in notes
    assert at.radio(key="load-view").value == "load"
    assert at.selectbox(key="load-ind").value == "" and at.selectbox(key="load-bd").value == ""
    assert _qp(at) == {"view": "load"}


# ---- pages whose only URL state is presentation mode ---------------------------------------------------------

@pytest.mark.parametrize("page", ["pages/data_sources.py", "pages/accessibility.py"])
def test_static_pages_ignore_unknown_parameters(page, full_db):
    at = run_page(full_db, page, {"ind": "nope", "present": "0"})
    assert not at.exception
    assert not any(widgets.PRESENT_CSS.strip() in m.value for m in at.markdown)

"""The SQL console page (for a signed-in officer): a query from a link waits for Run; results of any
type are shown."""
from __future__ import annotations

import pytest

from derby_oa.console import guard as sql_guard

from apptest_support import OFFICER, run_page  # the console is for signed-in officers

QUERY = ("SELECT period, value FROM observations WHERE indicator_id = 'gld' AND area_code = 'E06000015' "
         "AND breakdown = 'all' AND year = 2019")


@pytest.fixture
def runs(monkeypatch):
    """The queries the page hands to the guard, in order."""
    seen = []
    real = sql_guard.run

    def recording(sql, con, *args, **kwargs):
        seen.append(sql)
        return real(sql, con, *args, **kwargs)

    monkeypatch.setattr(sql_guard, "run", recording)
    return seen


def test_a_query_in_the_link_is_prefilled_but_runs_only_when_run_is_pressed(full_db, runs):
    at = run_page(full_db, "pages/sql.py", {"q": QUERY}, officer=OFFICER)
    assert not at.exception and not at.error
    assert at.text_area(key="sql-q").value == QUERY
    assert runs == []
    assert "Press Run to run the query." in [c.value for c in at.caption]
    at.button(key="sql-run").click().run()
    assert runs == [QUERY]
    assert at.dataframe[0].value.to_dict("records") == [{"period": "2018/19", "value": 70.7}]
    at.text_area(key="sql-q").set_value("SELECT 1 AS one").run()  # an edit waits for Run again
    assert runs == [QUERY]
    assert "Press Run to run the query." in [c.value for c in at.caption]


def test_a_refused_query_from_a_link_is_refused_only_when_run(full_db, runs):
    at = run_page(full_db, "pages/sql.py", {"q": "DROP TABLE areas"}, officer=OFFICER)
    assert not at.error and runs == []
    at.button(key="sql-run").click().run()
    assert not at.exception
    assert at.error and "Not run" in at.error[0].value and "DROP" in at.error[0].value


def test_results_of_any_type_render_with_downloads(full_db):
    query = ("SELECT now() AS now, 1::HUGEINT << 100 AS huge, INTERVAL '1 day' AS span, [1, 2] AS list, "
             "{'a': 1} AS struct, '\\xAA'::BLOB AS blob, uuid() AS id, 1 AS load")
    at = run_page(full_db, "pages/sql.py", {"q": query}, officer=OFFICER)
    at.button(key="sql-run").click().run()
    assert not at.exception and not at.error
    row = at.dataframe[0].value.iloc[0]
    assert row["huge"] == "1267650600228229401496703205376" and row["list"] == "[1, 2]" and row["load"] == 1
    assert row["now"].endswith("+00:00")
    assert [b.label for b in at.get("download_button")][-2:] == ["Download CSV", "Download XLSX"]

"""The loader's dry run names areas and summarises Derby; after a commit the page lets the file go (issue 12)."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from apptest_support import OFFICER, run_page
from derby_oa.storage import db
from derby_oa.uploads import loader

HEADER = "indicator_id,area_code,period,breakdown,value,numerator,denominator"


@pytest.fixture
def db_copy(full_db, tmp_path) -> Path:
    path = tmp_path / "derby_oa.duckdb"
    path.write_bytes(full_db.read_bytes())
    return path


def _delete(path: Path, where: str) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute(f"DELETE FROM observations WHERE {where}")
    finally:
        con.close()


def _validate(path: Path, data: bytes) -> loader.Report:
    con = db.connect(path)
    try:
        return loader.validate(con, "mine.csv", data)
    finally:
        con.close()


def test_dry_run_names_each_area_and_summarises_derby(db_copy):
    _delete(db_copy, "indicator_id = 'gld' AND period = '2018/19' AND breakdown = 'girls' "
                     "AND area_code IN ('E06000015', 'E06000018')")
    data = "\n".join([HEADER,
                      "gld,E06000015,2018/19,girls,78.4,,",   # Derby: new
                      "gld,E06000015,2018/19,all,70.7,,",     # Derby: held unchanged
                      "gld,E06000015,2017/18,all,69.0,,",     # Derby: changed (published 69.5)
                      "gld,E06000015,2016/17,all,\"12,5\",,",  # Derby: a problem
                      "gld,E06000018,2018/19,girls,80.1,,"]).encode()  # Nottingham: new
    report = _validate(db_copy, data)
    assert report.new[["area_code", "area_name"]].values.tolist() == [["E06000015", "Derby"],
                                                                      ["E06000018", "Nottingham"]]
    assert report.changed[["area_code", "area_name"]].values.tolist() == [["E06000015", "Derby"]]
    previous = report.changed["previous_value"].iloc[0]
    assert report.derby_summary() == [
        "Derby (E06000015): 4 rows in the file: 1 new, 1 changed values, 1 already held unchanged, 1 with problems.",
        f"  changed: gld 2017/18 all: {previous:g} -> 69",
        "  new: gld 2018/19 girls: 78.4"]
    text = report.text()
    assert "  row 1: gld E06000015 Derby 2018/19 girls: 78.4" in text
    assert "  row 5: gld E06000018 Nottingham 2018/19 girls: 80.1" in text
    assert "Derby (E06000015): 4 rows in the file" in text


def test_a_file_without_derby_says_so(db_copy):
    report = _validate(db_copy, (HEADER + "\ngld,E92000001,2018/19,girls,78.4,,\n").encode())
    assert report.derby_summary() == ["Derby (E06000015): the file holds no rows for Derby."]


def test_after_a_commit_the_file_is_let_go_and_not_checked_again(db_copy):
    _delete(db_copy, "indicator_id = 'gld' AND period = '2018/19' AND breakdown = 'girls' AND area_code = 'E92000001'")
    data = (HEADER + "\ngld,E92000001,2018/19,girls,78.4,244297,311553\n").encode()
    at = run_page(db_copy, "pages/load_data.py", officer="A. Officer")  # loading is for signed-in officers
    at.file_uploader(key="load-file").set_value(("mine.csv", data, "text/csv")).run()
    assert not at.exception
    assert "1 new rows" in at.success[0].value
    assert "Derby (E06000015): the file holds no rows for Derby." in [i.value for i in at.info]
    at.button(key="load-commit").click().run()
    assert not at.exception and not at.error
    assert [s.value for s in at.success] == [
        "Loaded upload 1 (mine.csv): 1 new rows and 0 changed values (source 'upload:1'). It is a draft: only "
        "signed-in officers see it until it is published. Publish or undo it under 'Upload history, publish and "
        "undo'."]
    checks = [m.value for m in (*at.warning, *at.info) if "rows read" in m.value or "new rows" in m.value]
    assert checks == []  # no second check of the same file saying "0 new rows"
    assert len(at.file_uploader) == 1 and not at.file_uploader[0].value

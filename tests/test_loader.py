"""The loader: refused files, row problems, the diff, atomic commit, undo, and real EES and Fingertips files.

Every test that writes works on a copy of the full build in tmp_path. Good files are cut from the real
published files (the EES EYFSP tidy CSV and a Fingertips NEET extract) via the `raw` fixture.
"""
from __future__ import annotations

import io
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest

from apptest_support import run_page
from derby_oa.storage import db
from derby_oa.uploads import loader
from derby_oa.build.pipeline import build
from derby_oa.queries import uploads as upload_queries

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("observations", "sources", "uploads", "upload_rows", "areas", "indicators", "targets")
NEET = "neet_or_not_known_16_17"


def fingerprint(path: Path, tables=TABLES) -> dict[str, tuple]:
    """Row count and an order-independent hash of every row, per table."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*), sum(hash(x)::HUGEINT) FROM {t} x").fetchone() for t in tables}
    finally:
        con.close()


@pytest.fixture
def db_copy(full_db, tmp_path) -> Path:
    path = tmp_path / "derby_oa.duckdb"
    path.write_bytes(full_db.read_bytes())
    return path


@pytest.fixture
def default_copy(default_db, tmp_path) -> Path:
    """A copy of the embedded-default build, for refusals that happen before any row meets the database."""
    path = tmp_path / "derby_oa.duckdb"
    path.write_bytes(default_db.read_bytes())
    return path


def check(path: Path, name: str, data: bytes, **options) -> loader.Report:
    con = db.connect(path)
    try:
        return loader.validate(con, name, data, **options)
    finally:
        con.close()


def write(path: Path, sql: str) -> None:
    """Prepare a test copy (e.g. remove rows so that a real file brings them back as new)."""
    con = duckdb.connect(str(path))
    try:
        con.execute(sql)
    finally:
        con.close()


def template(*rows: str, header: str = "indicator_id,area_code,period,breakdown,value,numerator,denominator") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


# ---- files refused whole ---------------------------------------------------------------------------------

def _xlsx(rows: list[list], formula_cell: str | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    if formula_cell:
        ws[formula_cell] = "=70+0.7"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


TEMPLATE_ROWS = [loader.TEMPLATE_COLUMNS, ["gld", "E06000015", "2018/19", "all", 70.7, 2303, 3259]]
CP1252 = b"indicator_id,area_code,period,breakdown,value\ngld,E06000015,2018/19,all,\xa370\n"  # a pound sign
BAD_FILES = {
    "empty": ("empty.csv", b"", "is empty"),
    "only blank lines": ("blank.csv", b"\n \n\r\n", "is empty"),
    "header only": ("header.csv", template(), "has a header but no data rows"),
    "binary": ("picture.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file: it contains binary data (a NUL byte at byte 8)"),
    "control characters": ("ctrl.csv", b"indicator_id,area_code\x07,period,value\n", "not a text file: control character 0x07"),
    "Windows-1252 text": ("cp1252.csv", CP1252, "is not UTF-8 text: byte 72 (0xA3)"),
    "UTF-16": ("utf16.csv", "indicator_id,area_code\n".encode("utf-16"), "not a text file"),
    "over the size limit": ("big.csv", b"x" * (loader.MAX_BYTES + 1), "the limit is 20 MB"),
    "Excel with a formula": ("formula.xlsx", _xlsx(TEMPLATE_ROWS, formula_cell="E2"),
                             "contains a formula (sheet 'Sheet', cell E2)"),
    "Excel formula stored as text": ("text-formula.xlsx", _xlsx([loader.TEMPLATE_COLUMNS,
                                                                 ["gld", "E06000015", "2018/19", "all", "=1+1", "", ""]]),
                                     "contains a formula"),
    "old Excel": ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "only CSV (UTF-8) and .xlsx"),
    "zip named csv": ("archive.csv", b"PK\x03\x04" + b"\x00" * 50, "zip or Excel file, not CSV text"),
    "broken xlsx": ("broken.xlsx", b"PK\x03\x04not really a workbook", "could not be opened as an Excel .xlsx"),
    "unknown layout": ("other.csv", b"name,score\nAbbey,3\n", "do not match a layout the loader knows"),
    "duplicate column": ("dup.csv", b"indicator_id,area_code,period,value,value\ngld,E06000015,2018/19,1,2\n",
                         "names column 'value' twice"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_is_refused_with_its_message_and_the_database_is_unchanged(case, default_copy):
    name, data, message = BAD_FILES[case]
    before = fingerprint(default_copy)
    with pytest.raises(loader.UploadRefused) as refused:
        check(default_copy, name, data)
    assert message in str(refused.value)
    assert fingerprint(default_copy) == before


def test_encoding_refusal_names_the_right_byte(default_copy):
    data = "indicator_id,area_code,period,breakdown,value\ngld,E06000015,2018/19,all,70.7\n".encode() + b"# caf\xe9\n"
    offset = data.index(b"\xe9")
    assert offset == 82
    with pytest.raises(loader.UploadRefused, match=r"byte 82 \(0xE9\)"):
        check(default_copy, "latin1.csv", data)
    with pytest.raises(loader.UploadRefused, match=r"byte 85 \(0xE9\)"):  # the BOM's 3 bytes count too
        check(default_copy, "latin1-bom.csv", b"\xef\xbb\xbf" + data)


def test_size_limit_is_checked_before_reading_a_file_on_disk(default_copy, tmp_path):
    big = tmp_path / "big.csv"
    with open(big, "wb") as fh:
        fh.truncate(loader.MAX_BYTES + 1)
    con = db.connect(default_copy)
    try:
        with pytest.raises(loader.UploadRefused, match="limit is 20 MB"):
            loader.validate_file(con, big)
    finally:
        con.close()


# ---- row problems ------------------------------------------------------------------------------------------

BAD_ROWS = [  # (row, field, words in the message)
    ("gld_typo,E06000015,2018/19,all,70.7,,", "indicator_id", "unknown indicator 'gld_typo'"),
    ("gld,E06999999,2018/19,all,70.7,,", "area_code", "unknown area code 'E06999999'"),
    ("gld,E06000015,2018-19,all,70.7,,", "period", "gld is published for academic years like 2018/19, not '2018-19'"),
    ("gld,E06000015,2019/20,all,65.0,,", "period", "gld was not collected in '2019/20'"),
    ("gld,E06000015,2030/31,all,65.0,,", "period", "ends in 2031, after the current year"),
    ("gld,E06000015,2017/18,all,140,,", "value", "140 is outside the range of a percentage (0 to 100)"),
    ("gld,E06000015,2016/17,all,n/a,,", "value", "'n/a' is neither a number nor a DfE symbol"),
    ("gld,E06000015,2015/16,all,,,", "value", "is empty"),
    ("self_harm_admissions_10_24,E06000015,2016-17,all,-5,,", "value", "outside the range of a per 100,000 figure"),
    ("imd_rank,E06000015,2019,all,0,,", "value", "outside the range of a rank (1 or more)"),
    ("gld,E06000015,2014/15,all,60.4,3383,2042", "numerator", "numerator 3383 is larger than the denominator 2042"),
    ("gld,E06000015,2014/15,martians,60.4,,", "breakdown", "breakdown 'martians' is not one of"),
    ("gld,E06000015,last year,all,60.4,,", "period", "'last year' is not a period label"),
    ("gld,E06000015,2013/14,all,51.3,many,", "numerator", "'many' is not a number"),
    ("gld,E06000015,2012/13,all,40.9,,", None, None),  # a good row ...
    ("gld,E06000015,2012/13,all,40.9,,", "period", "duplicate of row 15"),  # ... repeated
    ("gld,E06000015,2018/19,all", None, "has 4 fields, expected 7"),
]


def test_every_row_problem_is_named_by_row_and_field_and_nothing_is_written(db_copy):
    before = fingerprint(db_copy)
    report = check(db_copy, "bad_rows.csv", template(*(r for r, _, _ in BAD_ROWS)))
    found = {(p.row, p.field): p.message for p in report.problems}
    for row, (_, field, words) in enumerate(BAD_ROWS, start=1):
        if words is None:
            assert not any(p.row == row for p in report.problems), f"row {row} should be clean"
            continue
        assert (row, field) in found, f"row {row}: no problem in field {field}; got {report.problems}"
        assert words in found[(row, field)], found[(row, field)]
    assert not report.ok
    with pytest.raises(loader.CommitRefused, match="problems must be fixed"):
        loader.commit(report, db_copy)
    assert fingerprint(db_copy) == before


def test_problems_are_listed_in_the_text_report(db_copy):
    report = check(db_copy, "bad.csv", template("gld,E06000015,2017/18,all,140,,"))
    assert "row 1, field 'value': 140 is outside the range of a percentage (0 to 100)" in report.text()
    assert report.problems_frame().to_dict("records") == [
        {"row": 1, "field": "value", "problem": "140 is outside the range of a percentage (0 to 100)"}]


def test_dfe_symbols_are_accepted_and_stored_as_statuses(db_copy):
    write(db_copy, "DELETE FROM observations WHERE indicator_id = 'gld' AND area_code = 'E06000015' "
                   "AND period = '2019/20' AND breakdown = 'all'")
    report = check(db_copy, "symbols.csv", template("gld,E06000015,2019/20,all,x,,"))
    assert report.ok and report.new[["status", "value"]].to_dict("records")[0]["status"] == "x"


# ---- the template ----------------------------------------------------------------------------------------

def test_template_rows_are_real_figures_from_the_database(full_db):
    report = check(full_db, "upload_template.csv", loader.template_bytes())
    assert report.format == "template" and not report.problems
    assert report.unchanged == 3 and report.new.empty and report.changed.empty
    header = loader.template_bytes().decode().splitlines()[0].split(",")
    assert header == loader.TEMPLATE_COLUMNS


def test_template_with_bom_and_as_xlsx_is_read(db_copy):
    with_bom = b"\xef\xbb\xbf" + loader.template_bytes()
    assert check(db_copy, "t.csv", with_bom).unchanged == 3
    frame = pd.read_csv(io.BytesIO(loader.template_bytes()), dtype=str, keep_default_na=False)

    def cell(v: str):
        try:
            return float(v)
        except ValueError:
            return v or None

    rows = [frame.columns.tolist()] + [[cell(v) for v in r] for r in frame.to_numpy().tolist()]
    report = check(db_copy, "t.xlsx", _xlsx(rows))
    assert not report.problems and report.unchanged == 3


# ---- the diff, commit and undo ---------------------------------------------------------------------------

def test_conflicts_are_shown_as_a_diff_and_need_confirmation(db_copy):
    write(db_copy, "UPDATE observations SET value = 69.0 WHERE indicator_id = 'gld' AND area_code = 'E06000015' "
                   "AND period = '2018/19' AND breakdown = 'all'")
    write(db_copy, "DELETE FROM observations WHERE indicator_id = 'gld' AND area_code = 'E92000001' "
                   "AND period = '2018/19' AND breakdown = 'girls'")
    report = check(db_copy, "upload_template.csv", loader.template_bytes())
    assert report.ok and report.unchanged == 1
    changed = report.changed.iloc[0]
    assert (changed.area_code, changed.previous_value, changed.value, changed.previous_source_id) == \
        ("E06000015", 69.0, 70.7, "dfe_eyfsp_2013_2019")
    assert report.new[["area_code", "breakdown", "value"]].to_dict("records") == [
        {"area_code": "E92000001", "breakdown": "girls", "value": 78.4}]
    assert "70.7" in report.text() and "69 -> 70.7" in report.text()
    before = fingerprint(db_copy)
    with pytest.raises(loader.CommitRefused, match="would change existing values"):
        loader.commit(report, db_copy)
    assert fingerprint(db_copy) == before


def test_commit_records_the_upload_and_undo_restores_exactly(db_copy):
    write(db_copy, "UPDATE observations SET value = 69.0, numerator = NULL WHERE indicator_id = 'gld' "
                   "AND area_code = 'E06000015' AND period = '2018/19' AND breakdown = 'all'")
    write(db_copy, "DELETE FROM observations WHERE indicator_id = 'gld' AND area_code = 'E92000001' "
                   "AND period = '2018/19' AND breakdown = 'girls'")
    before = fingerprint(db_copy, ("observations", "sources"))
    report = check(db_copy, "upload_template.csv", loader.template_bytes())
    result = loader.commit(report, db_copy, officer="A. Officer", replace=True)
    assert (result.upload_id, result.rows_added, result.rows_changed) == (1, 1, 1)
    con = db.connect(db_copy)
    try:
        rows = con.execute("SELECT area_code, breakdown, value, numerator, source_id FROM observations "
                           "WHERE indicator_id = 'gld' AND period = '2018/19' AND source_id = 'upload:1' "
                           "ORDER BY area_code").fetchall()
        assert rows == [("E06000015", "all", 70.7, 2303.0, "upload:1"), ("E92000001", "girls", 78.4, 244297.0, "upload:1")]
        source = con.execute("SELECT title, publisher, licence, attribution FROM sources WHERE source_id = 'upload:1'").fetchone()
        assert source == ("upload_template.csv", "Local upload by A. Officer", loader.DEFAULT_LICENCE,
                          loader.DEFAULT_ATTRIBUTION)
        audit = upload_queries.uploads(con).iloc[0]
        assert (audit.file_name, audit.sha256, audit.rows_added, audit.rows_changed, audit.format, audit.state) == \
            ("upload_template.csv", report.sha256, 1, 1, "template", "draft")
        assert audit.loaded_at.startswith("20")
        prev = con.execute("SELECT area_code, previous_value, previous_status, previous_source_id, was_new "
                           "FROM upload_rows ORDER BY area_code").fetchall()
        assert prev == [("E06000015", 69.0, "published", "dfe_eyfsp_2013_2019", False),
                        ("E92000001", None, None, None, True)]
    finally:
        con.close()
    undone = loader.undo_last(db_copy)
    assert (undone.upload_id, undone.rows_removed, undone.rows_restored) == (1, 1, 1)
    assert fingerprint(db_copy, ("observations",)) == {"observations": before["observations"]}
    con = db.connect(db_copy)
    try:
        audit = upload_queries.uploads(con).iloc[0]
        assert audit.state == "undone" and audit.publisher == "Local upload by A. Officer"  # the audit keeps who
        assert con.execute("SELECT count(*) FROM sources WHERE source_id NOT LIKE 'upload:%'").fetchone()[0] == \
            before["sources"][0]
    finally:
        con.close()
    with pytest.raises(loader.CommitRefused, match="no upload to undo"):
        loader.undo_last(db_copy)


def test_a_failure_during_commit_leaves_nothing_half_written(db_copy, monkeypatch):
    write(db_copy, "DELETE FROM observations WHERE indicator_id = 'gld' AND period = '2018/19' "
                   "AND area_code IN ('E06000015', 'E92000001')")
    report = check(db_copy, "upload_template.csv", loader.template_bytes())
    assert report.ok
    before = fingerprint(db_copy)

    def boom(con, record):
        raise RuntimeError("disk full")

    monkeypatch.setattr(upload_queries, "insert_upload", boom)  # after the observations were written
    with pytest.raises(RuntimeError, match="disk full"):
        loader.commit(report, db_copy)
    assert fingerprint(db_copy) == before
    # no temporary file is left; the (empty) lock file stays beside the database
    assert sorted(p.name for p in db_copy.parent.iterdir()) == ["derby_oa.duckdb", "derby_oa.duckdb.lock"]


def test_commit_refuses_when_the_database_changed_since_the_check(db_copy):
    write(db_copy, "DELETE FROM observations WHERE indicator_id = 'gld' AND period = '2018/19' "
                   "AND area_code = 'E92000001' AND breakdown = 'girls'")
    report = check(db_copy, "upload_template.csv", loader.template_bytes())
    write(db_copy, "INSERT INTO observations SELECT 'gld', 'E92000001', '2018/19', 2019, 'girls', 78.0, 'published', "
                   "NULL, NULL, NULL, NULL, 'dfe_lait'")
    before = fingerprint(db_copy)
    with pytest.raises(loader.CommitRefused, match="changed since this file was checked"):
        loader.commit(report, db_copy)
    assert fingerprint(db_copy) == before


def test_nothing_to_commit_when_every_row_is_held(full_db):
    report = check(full_db, "upload_template.csv", loader.template_bytes())
    with pytest.raises(loader.CommitRefused, match="Nothing to load"):
        loader.commit(report, full_db)


@pytest.mark.slow
def test_a_rebuild_keeps_uploads_and_their_audit(default_db, tmp_path):
    path = tmp_path / "default.duckdb"
    path.write_bytes(default_db.read_bytes())
    report = check(path, "upload_template.csv", loader.template_bytes())
    assert report.ok, report.text()
    loader.commit(report, path, officer="B. Officer")
    build(path, adapters=())
    con = db.connect(path)
    try:
        kept = con.execute("SELECT area_code, value FROM observations WHERE source_id = 'upload:1' "
                           "AND status = 'published' ORDER BY area_code").fetchall()
        assert kept == [("E06000015", 70.7), ("E92000001", 78.4)]
        assert con.execute("SELECT count(*) FROM upload_rows WHERE upload_id = 1").fetchone()[0] == len(report.new) + len(report.changed)
        assert con.execute("SELECT publisher FROM sources WHERE source_id = 'upload:1'").fetchone()[0] == "Local upload by B. Officer"
    finally:
        con.close()
    loader.undo_last(path)
    con = db.connect(path)
    try:
        assert con.execute("SELECT count(*) FROM observations WHERE source_id = 'upload:1'").fetchone()[0] == 0
    finally:
        con.close()


# ---- real EES and Fingertips files ------------------------------------------------------------------------

def ees_extract(raw) -> bytes:
    """Derby, England and the East Midlands rows of 2018/19 from the real EES EYFSP headline file."""
    df = pd.read_csv(raw("nesta_afs/APS_GLD_ELG_EXP_2013_2019.csv"), dtype=str, keep_default_na=False)
    keep = (df["time_period"] == "201819") & (
        (df["old_la_code"].str.strip() == "831") | (df["geographic_level"] == "National")
        | (df["region_code"].str.strip() == "E12000004") & (df["geographic_level"] == "Regional"))
    return df[keep].to_csv(index=False).encode("utf-8")


def test_good_ees_file_loads_and_shows_in_the_explorer(db_copy, raw):
    write(db_copy, "DELETE FROM observations WHERE indicator_id = 'gld' AND period = '2018/19' "
                   "AND area_code IN ('E06000015', 'E92000001', 'E12000004') AND breakdown IN ('all', 'boys', 'girls')")
    data = ees_extract(raw)
    report = check(db_copy, "eyfsp_2018_19.csv", data)
    assert report.format == "ees" and not report.problems, report.text()
    assert len(report.new) == 9 and report.changed.empty
    derby = report.new.set_index(["area_code", "breakdown"]).loc[("E06000015", "all")]
    assert (derby.period, derby.value, derby.numerator, derby.denominator) == ("2018/19", 70.7, 2303, 3259)
    result = loader.commit(report, db_copy, officer="EY lead", published=True)  # viewers see published uploads
    at = run_page(db_copy, "pages/explore.py", {"ind": "gld", "area": "E06000015,E92000001", "bd": "all,girls",
                                                "view": "table", "from": "2019", "to": "2019"})
    assert not at.exception
    table = at.dataframe[0].value
    shown = table.set_index(["Area code", "Breakdown"])
    assert shown.loc[("E06000015", "All pupils"), "Value"] == 70.7
    assert shown.loc[("E92000001", "Girls"), "Value"] == 78.4
    assert set(table["Source"]) == {"eyfsp_2018_19.csv"}
    assert result.source_id == "upload:1"


def neet_extract(raw) -> bytes:
    """Derby, England and Greater Manchester rows of the real Fingertips NEET extract (Trafford layout)."""
    df = pd.read_csv(raw("trafford_dashboard/neets.csv"), dtype=str, keep_default_na=False)
    return df[df["area_code"].isin(["E06000015", "E92000001", "E47000001"])].to_csv(index=False).encode("utf-8")


def test_good_fingertips_extract_loads_and_shows_in_the_explorer(db_copy, raw):
    write(db_copy, f"DELETE FROM observations WHERE indicator_id = '{NEET}' AND area_code IN ('E06000015', 'E92000001')")
    report = check(db_copy, "neets.csv", neet_extract(raw))
    assert report.format == "fingertips_extract" and not report.problems, report.text()
    assert any("combined authorities (E47)" in n for n in report.notes)
    assert len(report.new) == 6
    derby = report.new[report.new["area_code"] == "E06000015"].set_index("period")["value"].to_dict()
    assert derby == {"2016": 8.4, "2017": 7.8, "2018": 7.8}
    loader.commit(report, db_copy, published=True)
    at = run_page(db_copy, "pages/explore.py", {"ind": NEET, "area": "E06000015", "bd": "all", "view": "pivot"})
    assert not at.exception
    pivot = at.dataframe[0].value
    assert pivot.loc[0, "Area"] == "Derby"
    assert [pivot.loc[0, y] for y in ("2016", "2017", "2018")] == ["8.4", "7.8", "7.8"]  # as published


def test_fingertips_portal_export_layout_is_read(db_copy, raw):
    """The same real NEET values laid out as the Fingertips portal's CSV export (indicator 93203)."""
    src = pd.read_csv(raw("trafford_dashboard/neets.csv"), dtype=str, keep_default_na=False)
    src = src[src["area_code"].isin(["E06000015", "E92000001"])]
    portal = pd.DataFrame({
        "Indicator ID": "93203", "Indicator Name": src["indicator"], "Parent Code": "", "Parent Name": "",
        "Area Code": src["area_code"], "Area Name": src["area_name"], "Area Type": "County & UA", "Sex": "Persons",
        "Age": "16-17 yrs", "Category Type": "", "Category": "", "Time period": src["period"], "Value": src["value"],
        "Lower CI 95.0 limit": "", "Upper CI 95.0 limit": "", "Count": "", "Denominator": "", "Value note": "",
    })
    write(db_copy, f"DELETE FROM observations WHERE indicator_id = '{NEET}' AND area_code = 'E06000015'")
    report = check(db_copy, "fingertips_export.csv", portal.to_csv(index=False).encode("utf-8"))
    assert report.format == "fingertips" and not report.problems, report.text()
    assert len(report.new) == 3 and report.unchanged == 3


def test_fingertips_financial_years_are_relabelled(db_copy, raw):
    """Fingertips writes financial years as 2015/16; the self-harm series is held as 2015-16."""
    df = pd.read_csv(raw("trafford_dashboard/admissions_self_harm_young_people.csv"), dtype=str, keep_default_na=False)
    report = check(db_copy, "self_harm.csv", df[df["area_code"] == "E06000015"].to_csv(index=False).encode())
    assert not report.problems and report.unchanged == len(df[df["area_code"] == "E06000015"])
    assert set(report.rows["period"]) >= {"2015-16"}


def test_ees_file_with_an_unknown_measure_needs_a_choice(db_copy, raw):
    df = pd.read_csv(raw("nesta_afs/APS_GLD_ELG_EXP_2013_2019.csv"), dtype=str, keep_default_na=False).head(20)
    data = df.drop(columns=["gld_percent"]).to_csv(index=False).encode()
    with pytest.raises(loader.UploadRefused, match="no measure column the loader recognises"):
        check(db_copy, "ees.csv", data)
    report = check(db_copy, "ees.csv", data, value_column="elg_percent", indicator_id="gld_typo")
    assert any(p.field == "indicator_id" and "unknown indicator 'gld_typo'" in p.message for p in report.problems)


# ---- command line -------------------------------------------------------------------------------------------

def test_cli_dry_run_commit_and_undo(db_copy, cli):
    write(db_copy, "DELETE FROM observations WHERE indicator_id = 'gld' AND period = '2018/19' "
                   "AND area_code = 'E92000001' AND breakdown = 'girls'")
    before = fingerprint(db_copy)
    dry = cli("load", str(ROOT / "data/upload_template.csv"), db=db_copy)
    assert dry.returncode == 0, dry.stderr
    assert "1 new rows" in dry.stdout and "Dry run: nothing written" in dry.stdout
    assert fingerprint(db_copy) == before
    done = cli("load", str(ROOT / "data/upload_template.csv"), "--commit", "--officer", "C. Officer", db=db_copy)
    assert done.returncode == 0, done.stderr
    assert "Loaded upload 1 (upload:1): 1 new rows, 0 changed values" in done.stdout
    undo = cli("undo-upload", db=db_copy)
    assert undo.returncode == 0 and "Undid upload 1" in undo.stdout
    assert fingerprint(db_copy, ("observations",)) == {"observations": before["observations"]}


def test_cli_refuses_bad_files_with_exit_code_and_reason(db_copy, tmp_path, cli):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(template("gld,E06000015,2017/18,all,140,,"))
    out = cli("load", str(bad), "--commit", db=db_copy)
    assert out.returncode == 1
    assert "row 1, field 'value': 140 is outside the range" in out.stdout
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    out = cli("load", str(empty), db=db_copy)
    assert out.returncode == 1 and "refused: empty.csv is empty" in out.stderr


def test_the_running_app_sees_a_commit_and_an_undo(db_copy):
    """The app holds the database open; after the file is swapped it must read the new one, not the old."""
    write(db_copy, "DELETE FROM observations WHERE indicator_id = 'gld' AND period = '2018/19' "
                   "AND area_code = 'E92000001' AND breakdown = 'girls'")
    params = {"ind": "gld", "area": "E92000001", "bd": "girls", "view": "table", "from": "2019", "to": "2019"}
    before = run_page(db_copy, "pages/explore.py", params)
    assert "No data: nothing has been published or loaded for this selection." in [i.value for i in before.info]
    loader.commit(check(db_copy, "upload_template.csv", loader.template_bytes()), db_copy, published=True)
    after = run_page(db_copy, "pages/explore.py", params)
    assert after.dataframe[0].value[["Value", "Source"]].to_dict("records") == [
        {"Value": 78.4, "Source": "upload_template.csv"}]
    loader.undo_last(db_copy)
    undone = run_page(db_copy, "pages/explore.py", params)
    assert "No data: nothing has been published or loaded for this selection." in [i.value for i in undone.info]

"""Formula neutralisation in every export: CSV, XLSX (all sheets), the explorer's workbook, the SQL console."""
from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
import pytest

from derby_oa.analysis import explore
from derby_oa.viz import exports
from derby_oa.console import guard as sql_guard
from derby_oa.queries import explore as xq

DANGEROUS = ["=1+1", "+44 1332", "-2+3", "@SUM(A1)", "\t=cmd", "\r=cmd", "  =HYPERLINK(\"http://x\")",
             "=HYPERLINK(\"http://evil\",\"click\")"]
SAFE = ["Derby", "2015-16", "2015/16", "E06000015", "c", "", "a=b", "x-y"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_formula_text_is_neutralised(text):
    assert exports.neutralise(text) == "'" + text


@pytest.mark.parametrize("value", SAFE + [-1.5, 0, 70.7, None])
def test_other_values_are_untouched(value):
    assert exports.neutralise(value) == value


def frame() -> pd.DataFrame:
    return pd.DataFrame({"=bad header": DANGEROUS, "safe": (SAFE * 2)[:len(DANGEROUS)],
                         "number": [-1.5, -2.0, 3.0, 0.0, 70.7, -0.1, 1e6, -7.0]})


def test_csv_has_no_cell_a_spreadsheet_would_run():
    data = exports.to_csv_bytes(frame())
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    cells = [c for r in rows for c in r]
    assert not [c for c in cells if c.startswith(exports.FORMULA_START)
                and not c.lstrip("-").replace(".", "").isdigit()]
    assert rows[0][0] == "'=bad header"
    assert [r[0] for r in rows[1:]] == ["'" + t for t in DANGEROUS]
    assert [r[2] for r in rows[1:]] == ["-1.5", "-2.0", "3.0", "0.0", "70.7", "-0.1", "1000000.0", "-7.0"]


def test_csv_text_for_the_command_line_has_no_bom():
    assert exports.to_csv_text(frame()).startswith("'=bad header,safe,number\r\n'=1+1,")


def test_a_carriage_return_inside_a_cell_cannot_start_a_new_row():
    text = exports.to_csv_text(pd.DataFrame({"a": ["x\r=cmd", "\r=cmd"], "b": ["y\n@z", "ok"]}))
    assert text == 'a,b\r\n"x\r=cmd","y\n@z"\r\n"\'\r=cmd",ok\r\n'
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["a", "b"], ["x\r=cmd", "y\n@z"], ["'\r=cmd", "ok"]]


def test_xlsx_has_no_formula_in_any_sheet_and_numbers_stay_numbers():
    data = exports.to_xlsx_bytes({"Data": frame(), "Second": pd.DataFrame({"@col": ["=2*3", "fine"]})})
    wb = openpyxl.load_workbook(io.BytesIO(data), data_only=False)
    assert wb.sheetnames == ["Data", "Second"]
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.coordinate
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(exports.FORMULA_START), cell.coordinate
    data_ws = wb["Data"]
    assert data_ws["A1"].value == "'=bad header"
    assert data_ws["A2"].value == "'=1+1"
    assert data_ws["C2"].value == -1.5 and data_ws["C2"].data_type == "n"
    assert wb["Second"]["A1"].value == "'@col" and wb["Second"]["A2"].value == "'=2*3"


def test_explorer_workbook_carries_definitions_sources_licences_and_attribution(con_full):
    data = xq.observations(con_full, ["gld", "ks2_rwm_expected"], ["E06000015", "E92000001"], ["all"], 2016, 2019)
    book = exports.to_xlsx_bytes(explore.workbook_sheets(data, xq.definitions(con_full, data[["indicator_id",
                                                                                         "source_id"]])))
    wb = openpyxl.load_workbook(io.BytesIO(book))
    assert wb.sheetnames[:2] == ["Data", "Definitions and sources"]
    sheet = pd.DataFrame(wb["Definitions and sources"].values)
    sheet.columns = sheet.iloc[0]
    sheet = sheet.iloc[1:]
    assert set(sheet["Indicator id"]) == {"gld", "ks2_rwm_expected"}
    gld = sheet[sheet["Indicator id"] == "gld"]
    assert set(gld["Source"]) >= {"Early years foundation stage profile results 2013-2019 (additional tables)"}
    assert gld["Definition"].iloc[0].startswith("Percentage of children at the end of Reception")
    assert (sheet["Licence"] == "Open Government Licence v3.0").all()
    assert sheet["Attribution"].str.contains("Open Government Licence v3.0").all()
    data_ws = pd.DataFrame(wb["Data"].values)
    assert data_ws.iloc[0].tolist()[:3] == ["Indicator id", "Indicator", "Area code"]


def test_uploaded_file_names_and_text_are_neutralised_in_the_explorer_workbook():
    """A source title taken from an officer's file name could start with '='."""
    defs = pd.DataFrame([{"indicator_id": "gld", "title": "GLD", "unit": "%", "definition": "-dangerous",
                          "series_notes": None, "source_id": "upload:1", "source": "=HYPERLINK(\"x\").csv",
                          "publisher": "Local upload by @officer", "licence": "OGL", "attribution": "+1", "url": None}])
    wb = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx_bytes({"Defs": explore.definitions_sheet(defs)})))
    values = [c.value for c in wb["Defs"][2]]
    assert values[3] == "'-dangerous" and values[5] == "'=HYPERLINK(\"x\").csv"
    assert values[6] == "Local upload by @officer"  # '@' inside the text is harmless
    assert values[8] == "'+1"


def test_sql_console_results_export_safely(con_full):
    result = sql_guard.run("SELECT '=1+1' AS a, '-x' AS b, -3 AS n", con_full)
    rows = list(csv.reader(io.StringIO(exports.to_csv_bytes(result.frame).decode("utf-8-sig"))))
    assert rows[1] == ["'=1+1", "'-x", "-3"]

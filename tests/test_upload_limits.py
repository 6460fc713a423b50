"""Uploads cannot exhaust the server: limits on rows, columns, cells and unpacked size; hostile XLSX and CSV
files built here are refused without reading them whole; numbers with decimal commas or infinities are problems.
"""
from __future__ import annotations

import io
import tracemalloc
import zipfile

import openpyxl
import pytest

from derby_oa.uploads import loader, formats as upload_formats
from derby_oa.uploads.formats import UploadRefused, read_rows

HEADER = "indicator_id,area_code,period,breakdown,value,numerator,denominator"
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def raw_xlsx(sheet_data: str, dimension: str | None = None, extra_bytes: int = 0) -> bytes:
    """A minimal .xlsx written part by part (so that its <dimension> can be absent, or its sheet padded)."""
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/></Types>'),
        "_rels/.rels": (f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{REL}"><Relationship Id="rId1" '
                        f'Type="{DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{DOC}"><sheets>'
                            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{REL}"><Relationship Id="rId1" '
            f'Type="{DOC}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
    }
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}">{dim}<sheetData>'.encode())
            sheet.write(sheet_data.encode())
            for _ in range(extra_bytes // (1 << 20)):
                sheet.write(b" " * (1 << 20))  # whitespace compresses ~1000:1
            sheet.write(b"</sheetData></worksheet>")
    return buf.getvalue()


def text_row(r: int, values: list[str]) -> str:
    cells = "".join(f'<c r="{openpyxl.utils.get_column_letter(c)}{r}" t="inlineStr"><is><t>{v}</t></is></c>'
                    for c, v in enumerate(values, start=1))
    return f'<row r="{r}">{cells}</row>'


def peak_mb(fn) -> float:
    """(peak Python memory in MB, the refusal) while `fn` runs; `fn` must raise UploadRefused."""
    tracemalloc.start()
    try:
        with pytest.raises(UploadRefused) as refused:
            fn()
        return tracemalloc.get_traced_memory()[1] / 1e6, refused.value
    finally:
        tracemalloc.stop()


def test_hand_written_workbooks_are_read():
    """Control for the hostile files below: the same writer gives a workbook the loader reads."""
    data = raw_xlsx(text_row(1, HEADER.split(",")) + text_row(2, ["gld", "E06000015", "2018/19", "all", "70.7"]))
    header, df, problems = read_rows("ok.xlsx", data)
    assert header == HEADER.split(",") and not problems
    assert df.loc[1].tolist() == ["gld", "E06000015", "2018/19", "all", "70.7", "", ""]  # missing cells padded


def test_one_cell_at_xfd1048576_is_refused_by_the_declared_dimension():
    wb = openpyxl.Workbook()
    wb.active["XFD1048576"] = 1
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    assert len(data) < 10_000
    peak, refused = peak_mb(lambda: read_rows("last-cell.xlsx", data))
    assert f"more than {upload_formats.MAX_COLUMNS:,} columns" in str(refused) and "sheet 'Sheet'" in str(refused)
    assert peak < 20


@pytest.mark.slow  # streams the sheet up to row 1,048,576
def test_one_far_cell_without_a_dimension_is_refused_while_streaming():
    data = raw_xlsx('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    assert len(data) < 2_000
    peak, refused = peak_mb(lambda: read_rows("no-dimension.xlsx", data))
    assert f"more than {upload_formats.MAX_ROWS:,} rows" in str(refused)
    assert peak < 100


def test_a_wide_row_without_a_dimension_is_refused():
    data = raw_xlsx('<row r="1"><c r="A1"><v>1</v></c><c r="XFD1"><v>1</v></c></row>')
    with pytest.raises(UploadRefused, match=f"more than {upload_formats.MAX_COLUMNS:,} columns"):
        read_rows("wide.xlsx", data)


def test_a_zip_bomb_is_refused_from_its_declared_sizes():
    data = raw_xlsx(text_row(1, ["a"]), extra_bytes=upload_formats.MAX_XLSX_UNPACKED + (8 << 20))
    assert len(data) < 1_000_000
    peak, refused = peak_mb(lambda: read_rows("bomb.xlsx", data))
    assert "would unpack to 108 MB; the limit is 100 MB" in str(refused)
    assert peak < 20


@pytest.mark.parametrize("declared", [True, pytest.param(False, marks=pytest.mark.slow)])  # False: streams every row
def test_a_200k_row_workbook_is_refused_by_the_row_limit(declared):
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 200_002))
    data = raw_xlsx(rows, dimension="A1:A200001" if declared else None)
    with pytest.raises(UploadRefused, match=f"more than {upload_formats.MAX_ROWS:,} rows, the limit"):
        read_rows("long.xlsx", data)


def test_a_formula_in_another_sheet_is_found_in_streaming_mode():
    wb = openpyxl.Workbook()
    wb.active.append(HEADER.split(","))
    wb.active.append(["gld", "E06000015", "2018/19", "all", 70.7])
    wb.create_sheet("Notes")["C7"] = "=SUM(A1:A2)"
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(UploadRefused, match=r"contains a formula \(sheet 'Notes', cell C7\)"):
        read_rows("notes.xlsx", buf.getvalue())


def test_a_csv_with_100000_columns_is_refused_at_its_header():
    data = (",".join(f"c{i}" for i in range(100_000)) + "\n" + ",".join("1" * 100_000) + "\n").encode()
    assert len(data) < 1_000_000
    with pytest.raises(UploadRefused, match=f"more than {upload_formats.MAX_COLUMNS:,} columns"):
        read_rows("wide.csv", data)


def test_duplicate_header_check_names_the_first_repeated_column():
    header = [f"c{i}" for i in range(upload_formats.MAX_COLUMNS - 1)] + ["c5"]
    data = (",".join(header) + "\n" + ",".join("1" * len(header)) + "\n").encode()
    with pytest.raises(UploadRefused, match="names column 'c5' twice"):
        read_rows("dup.csv", data)


def test_csv_rows_and_cells_are_limited(monkeypatch):
    monkeypatch.setattr(upload_formats, "MAX_ROWS", 5)
    monkeypatch.setattr(upload_formats, "MAX_CELLS", 20)
    row = "gld,E06000015,2018/19,all,1"
    header, df, _ = read_rows("five.csv", "\n".join(["a,b,c,d,e"] + [row] * 3).encode())
    assert len(df) == 3
    with pytest.raises(UploadRefused, match="more than 20 cells"):
        read_rows("cells.csv", "\n".join(["a,b,c,d,e"] + [row] * 5).encode())
    monkeypatch.setattr(upload_formats, "MAX_CELLS", 1000)
    assert len(read_rows("five.csv", "\n".join(["a,b,c,d,e"] + [row] * 5).encode())[1]) == 5
    with pytest.raises(UploadRefused, match=r"six.csv has more than 5 rows, the limit for one upload \(at most"):
        read_rows("six.csv", "\n".join(["a,b,c,d,e"] + [row] * 6).encode())


def test_a_100001_row_csv_is_refused_by_the_row_limit():
    data = ("\n".join([HEADER] + ["gld,E06000015,2018/19,all,1,,"] * (upload_formats.MAX_ROWS + 1)) + "\n").encode()
    with pytest.raises(UploadRefused, match="more than 100,000 rows"):
        read_rows("long.csv", data)


def test_limits_are_stated_in_one_sentence_and_in_the_docs():
    from pathlib import Path

    text = upload_formats.limits_text()
    assert text == "at most 20 MB, 100,000 rows, 200 columns and 3,000,000 cells"
    docs = (Path(__file__).resolve().parent.parent / "docs" / "self-serve.md").read_text()
    assert text in docs and "100 MB" in docs


# ---- numbers ------------------------------------------------------------------------------------------------

def test_decimal_commas_and_infinities_are_problems_naming_file_row_and_field(con_full):
    data = "\n".join([HEADER,
                      "gld,E06000015,2018/19,all,\"12,5\",,",
                      "gld,E06000015,2017/18,all,inf,,",
                      "gld,E06000015,2016/17,all,70.7,Infinity,",
                      "gld,E06000015,2015/16,all,70.7,,NaN",
                      "gld,E06000015,2014/15,all,70.7,\"2,303\",\"3,259\""]).encode()
    report = loader.validate(con_full, "commas.csv", data)
    found = {(p.row, p.field): p.message for p in report.problems}
    assert found[(1, "value")] == ("'12,5' has a comma that is not a thousands separator: write decimals with a "
                                   "point (12.5)")
    assert found[(2, "value")] == "'inf' is not a finite number"
    assert found[(3, "numerator")] == "'Infinity' is not a finite number"
    assert found[(4, "denominator")] == "'NaN' is not a finite number"
    assert 5 not in {row for row, _ in found}  # commas between thousands are fine
    assert 125 not in set(report.rows["value"])
    text = report.text()
    assert text.startswith("commas.csv:") and "row 1, field 'value': '12,5' has a comma" in text
    assert not report.ok

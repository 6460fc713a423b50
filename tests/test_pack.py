"""The board pack: a valid A4-landscape PDF, made offline, with the expected pages, figures and vector charts."""
from __future__ import annotations

import datetime as dt
import io
import socket

import pytest
from pypdf import PdfReader

from derby_oa.analysis import headlines

SINCE = dt.date(2026, 11, 2)


@pytest.fixture(scope="module")
def pack_pdf(full_db, tmp_path_factory):
    """The pack written by the command line, with every network connection refused while it is made."""
    from derby_oa.__main__ import main

    out = tmp_path_factory.mktemp("pack") / "board-pack.pdf"
    mp = pytest.MonkeyPatch()
    mp.setenv("DERBY_OA_DB", str(full_db))

    def refuse(*args, **kwargs):
        raise AssertionError(f"the pack tried to open a network connection: {args}")

    mp.setattr(socket.socket, "connect", refuse)
    mp.setattr(socket, "create_connection", refuse)
    try:
        assert main(["pack", "--since", SINCE.isoformat(), "--out", str(out)]) == 0
    finally:
        mp.undo()
    return out.read_bytes()


@pytest.fixture(scope="module")
def pages(pack_pdf) -> list[str]:
    reader = PdfReader(io.BytesIO(pack_pdf))
    return [p.extract_text() for p in reader.pages]


def test_pack_is_a_valid_a4_landscape_pdf(pack_pdf):
    assert pack_pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pack_pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)  # A4 landscape in points
    assert reader.metadata.title == "Derby Opportunity Area partnership board: board pack"


def test_pack_has_the_expected_pages_in_order(pages):
    def first(text: str) -> int:
        return next(i for i, page in enumerate(pages) if text in page)

    assert "What changed since the last meeting (2 November 2026)" in pages[0]
    order = [first("Board overview: how Derby compares with England"),
             first("Priority 1: Early years: Good level of development"),
             first("Priority 2: Schools: Attainment 8"),
             first("Wellbeing and transitions: 16-17 year olds NEET"),
             first("Targets and their status"), first("Ward highlights"), first("Sources and licence")]
    assert order == sorted(order) and order[0] == 1
    # one page per headline with data, each with its chart's table
    for h in headlines.HEADLINES:
        title = f"{headlines.PRIORITIES[h.priority]}: {h.label}"
        assert any(title in p for p in pages), title
    assert "Open Government Licence" in pages[-1]


def test_pack_holds_the_figures(pages):
    overview = pages[1]
    assert "Good level of development" in overview
    assert "64.6% in 2024/25" in overview and "England 68.3%" in overview
    gld = next(p for p in pages if "Priority 1: Early years: Good level of development\n" in p
               or p.split("\n").count("Priority 1: Early years: Good level of development"))
    assert "Derby 64.6%, England 68.3% in 2024/25" in gld
    assert "2024/25" in gld and "64.6" in gld and "68.3" in gld
    targets = next(p for p in pages if "Targets and their status" in p)
    assert "off track" in targets or "met" in targets


def test_pack_charts_are_vector_drawings(pack_pdf):
    reader = PdfReader(io.BytesIO(pack_pdf))
    page = next(p for p in reader.pages if "Priority 1: Early years: Good level of development" in p.extract_text())
    assert len(page.images) == 0  # drawn as paths and text, not pictures
    text = page.extract_text()
    assert "Statistical neighbours (average)" in text  # the chart's own legend, as text

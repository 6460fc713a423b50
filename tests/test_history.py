"""Change history: pure diffing, tile-state changes, and rebuilds that record exactly what changed."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import shutil

import duckdb
import pandas as pd
import pytest

from derby_oa.analysis import changes
from derby_oa.build import fetch, history
from derby_oa.build.pipeline import build

COLS = ["indicator_id", "area_code", "breakdown", "period", "year", "value", "status", "source_id"]


def _snap(rows):
    return pd.DataFrame(rows, columns=COLS)


def test_diff_new_revised_removed_and_indicators():
    old = _snap([("gld", "E06000015", "all", "2023/24", 2024, 63.0, "published", "dfe_lait"),
                 ("gld", "E92000001", "all", "2023/24", 2024, 67.7, "published", "dfe_lait"),
                 ("gone", "E06000015", "all", "2019/20", 2020, 1.0, "published", "x")])
    new = _snap([("gld", "E06000015", "all", "2023/24", 2024, 63.2, "published", "dfe_lait"),
                 ("gld", "E92000001", "all", "2023/24", 2024, 67.7, "published", "dfe_lait"),
                 ("gld", "E06000015", "all", "2024/25", 2025, 64.6, "published", "dfe_lait"),
                 ("fresh", "E06000015", "all", "2024/25", 2025, 5.0, "published", "y")])
    items = changes.diff(old, new)
    kinds = items.set_index("kind")
    assert sorted(items["kind"]) == sorted([changes.NEW, changes.REVISED, changes.NEW_INDICATOR,
                                            changes.REMOVED_INDICATOR])
    assert kinds.loc[changes.REVISED, "old_value"] == 63.0 and kinds.loc[changes.REVISED, "new_value"] == 63.2
    assert kinds.loc[changes.NEW, "period"] == "2024/25" and kinds.loc[changes.NEW, "new_value"] == 64.6
    assert kinds.loc[changes.NEW_INDICATOR, "indicator_id"] == "fresh"
    assert kinds.loc[changes.REMOVED_INDICATOR, "indicator_id"] == "gone"
    assert changes.diff(new, new).empty


def test_diff_counts_a_status_change_as_a_revision():
    old = _snap([("gld", "E06000015", "all", "2023/24", 2024, None, "suppressed", "dfe_lait")])
    new = _snap([("gld", "E06000015", "all", "2023/24", 2024, 5.0, "published", "dfe_lait")])
    items = changes.diff(old, new)
    assert list(items["kind"]) == [changes.REVISED]
    assert items["old_status"].iat[0] == "suppressed" and items["new_status"].iat[0] == "published"


def test_tile_changes_and_sentences():
    cols = ["tile_key", "title", "period", "direction", "vs_england", "quartile", "targets", "sources"]
    before = pd.DataFrame([("gld:all", "Good level of development", "2023/24", "no clear change", "similar", "C",
                            "2021 target: off track", "dfe_lait")], columns=cols)
    after = pd.DataFrame([("gld:all", "Good level of development", "2024/25", "improving", "similar", "D",
                           "2021 target: not met", "dfe_lait")], columns=cols)
    moved = changes.tile_changes(before, after)
    assert [m["field"] for m in moved] == ["direction of travel", "quartile among local authorities (A = best)",
                                           "plan target status"]
    text = changes.state_sentences(moved, {"dfe_lait": "LAIT (Department for Education)"})
    assert text[0] == ("Good level of development (latest 2024/25): direction of travel changed from no clear "
                       "change to improving. Source: LAIT (Department for Education).")
    assert changes.tile_changes(after, after) == []


FILE = "trafford_themes/latest/obese_year6.csv"
ADAPTERS = ("ncmp_obesity",)


@pytest.fixture
def mirror(tmp_path, raw, monkeypatch):
    """A private mirror holding the obesity extracts, and the manifest it is checked against."""
    from derby_oa.ingest import ncmp_obesity

    root = tmp_path / "mirror"
    for name in ncmp_obesity.FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(raw(name), root / name)
    manifest = dict(fetch.read_manifest())
    monkeypatch.setenv("DERBY_OA_DATA_MIRROR", str(root))
    monkeypatch.setattr(fetch, "read_manifest", lambda path=None: manifest)
    return root, manifest


def test_rebuild_with_one_changed_file_records_exactly_that_change(tmp_path, mirror):
    root, manifest = mirror
    db = tmp_path / "oa.duckdb"
    build(db, adapters=ADAPTERS)
    assert history.history_path(db).is_file()
    # Derby's Year 6 obesity in 2015/16 is revised from 22.9 to 23.4 in the published file
    path = root / FILE
    text = path.read_text()
    old_line = next(line for line in text.splitlines() if line.startswith("E06000015,Derby,UA,2015/16,"))
    assert old_line.endswith(",Percentage,Persons,22.9,Worse,NA")
    path.write_text(text.replace(old_line, old_line.replace(",22.9,", ",23.4,")))
    manifest[FILE] = dataclasses.replace(manifest[FILE], sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                                         size=path.stat().st_size)
    report = build(db, adapters=ADAPTERS)
    assert ("history", "recorded", "1 revised figures (in oa_history.duckdb)") in report.lines

    got = history.since(db, dt.date.today())
    items = got.items[got.items["trigger"] == "build"]
    figures = items
    assert len(figures) == 1
    row = figures.iloc[0]
    assert (row["kind"], row["indicator_id"], row["area_code"], row["period"]) == \
        ("revised", "obesity_year6", "E06000015", "2015/16")
    assert (row["old_value"], row["new_value"]) == (22.9, 23.4)
    assert got.figure_sentences[0].startswith("Revised: ")
    assert "Derby from 22.9% to 23.4%" in got.figure_sentences[0]
    con = duckdb.connect(str(db), read_only=True)
    try:
        title, publisher = con.execute("SELECT title, publisher FROM sources WHERE source_id = 'ohid_ncmp_obesity'"
                                       ).fetchone()
    finally:
        con.close()
    assert got.figure_sentences[0].endswith(f"Source: {title} ({publisher}).")

    # the overview's "Since last meeting" view says the same, with the pack one click away
    from apptest_support import run_page

    at = run_page(db, "pages/overview.py", {"since": (dt.date.today() - dt.timedelta(days=7)).isoformat()})
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown)
    assert "Revised: " in text and "Derby from 22.9% to 23.4%" in text
    assert at.date_input(key="since-date").value == dt.date.today() - dt.timedelta(days=7)
    assert "Download the board pack (PDF)" in [b.label for b in at.get("download_button")]


def test_rebuild_with_nothing_changed_says_no_new_data(tmp_path, mirror):
    db = tmp_path / "oa.duckdb"
    build(db, adapters=ADAPTERS)
    report = build(db, adapters=ADAPTERS)
    assert ("history", "recorded", "no change to any figure (in oa_history.duckdb)") in report.lines
    got = history.since(db, dt.date.today())
    assert got.empty and got.figure_sentences == [] and got.tile_sentences == []
    today = dt.date.today()
    assert got.headline == f"No new data since {today.day} {today:%B %Y}: no figure, indicator or tile status " \
                           f"has changed."
    from apptest_support import run_page

    at = run_page(db, "pages/overview.py")
    month_ago = today - dt.timedelta(days=30)
    assert f"**No new data since {month_ago.day} {month_ago:%B %Y}: no figure, indicator or tile status has " \
           f"changed.**" in [m.value for m in at.markdown]
    con = duckdb.connect(str(history.history_path(db)), read_only=True)
    try:
        rows = con.execute("SELECT trigger, first_record FROM changes ORDER BY change_id").fetchall()
        assert rows == [("build", True), ("build", False)]
    finally:
        con.close()

"""The build: contents with the mirror, the embedded default, atomicity, determinism, bad input."""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from derby_oa import config
from derby_oa.build import fetch
from derby_oa.build.pipeline import build
from derby_oa.errors import FetchError, InputError

ROOT = Path(__file__).resolve().parent.parent


def table_digest(path: Path) -> dict[str, str]:
    """Order-independent content digest of every table."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_name != 'build_log'").fetchall()]
        return {n: int(pd.util.hash_pandas_object(con.execute(f"SELECT * FROM {n} ORDER BY ALL").df().astype(str),
                                                  index=False).sum()) for n in names}
    finally:
        con.close()


def test_full_build_contents(con_full):
    q = lambda sql: con_full.execute(sql).fetchone()[0]  # noqa: E731
    assert q("SELECT count(*) FROM areas WHERE area_type = 'la'") >= 153
    assert q("SELECT count(*) FROM areas WHERE area_type = 'region'") >= 9
    assert q("SELECT count(*) FROM areas WHERE area_type = 'ward' AND vintage = '2003-2023'") == 17
    assert q("SELECT count(*) FROM areas WHERE area_type = 'ward' AND vintage = '2023'") == 18
    assert q("SELECT count(*) FROM areas WHERE area_type = 'lsoa' AND parent_code LIKE 'E05%'") == 151
    # every LAIT measure for every LA, 2016-2025
    assert q("SELECT count(DISTINCT indicator_id) FROM observations WHERE source_id = 'dfe_lait'") >= 400
    assert q("SELECT count(DISTINCT area_code) FROM observations o JOIN areas a USING (area_code) "
             "WHERE source_id = 'dfe_lait' AND area_type = 'la'") >= 153
    assert q("SELECT min(year) || '-' || max(year) FROM observations WHERE source_id = 'dfe_lait' AND indicator_id = 'gld'") == "2016-2025"
    # EYFSP 2013-2019 with counts
    gld13 = con_full.execute("SELECT value, numerator, denominator FROM observations WHERE indicator_id = 'gld' "
                             "AND area_code = 'E06000015' AND period = '2012/13' AND breakdown = 'all'").fetchone()
    assert gld13[0] == pytest.approx(40.9) and gld13[2] > 0
    assert q("SELECT count(*) FROM area_groups WHERE group_id = 'sn_2025'") == 10
    assert q("SELECT count(*) FROM area_groups WHERE group_id = 'sn_2021'") == 10
    assert q("SELECT count(*) FROM observations WHERE indicator_id = 'imd_rank' AND area_code LIKE 'E05%'") == 35
    assert q("SELECT count(*) FROM plan_figures") == len(pd.read_csv(ROOT / "data/plan_figures.csv"))
    assert q("SELECT count(*) FROM targets WHERE origin = 'plan'") == len(pd.read_csv(ROOT / "data/plan_targets.csv"))
    assert q("SELECT count(*) FROM boundaries WHERE layer = 'ward'") == 35


def test_observations_unique_and_valid(con_full):
    dup = con_full.execute("SELECT count(*) FROM (SELECT 1 FROM observations GROUP BY indicator_id, area_code, "
                           "period, breakdown HAVING count(*) > 1)").fetchone()[0]
    assert dup == 0
    bad = con_full.execute("SELECT count(*) FROM observations WHERE (status = 'published') = (value IS NULL)").fetchone()[0]
    assert bad == 0


def test_plan_figures_agree_with_published_series(con_full):
    """Where the plan and a published series share a key, they agree to the plan's rounding."""
    rows = con_full.execute("""
        SELECT f.figure_id, f.value AS plan, o.value AS published, o.source_id
        FROM plan_figures f JOIN observations o USING (indicator_id, area_code, period, breakdown)
        WHERE o.source_id != 'plan_2017' AND o.status = 'published'""").df()
    assert len(rows) >= 10, "expected the plan's headline figures to meet published series"
    def places(v: float) -> int:
        return len(repr(round(float(v), 6)).split(".")[1].rstrip("0"))

    # compare at the coarser of the two roundings (LAIT publishes KS2 as whole percentages)
    mismatch = rows[[round(p, min(places(p), places(v))) != round(v, min(places(p), places(v)))
                     for p, v in zip(rows["plan"], rows["published"])]]
    assert mismatch.empty, mismatch.to_string()
    gld = rows.set_index("figure_id").loc["p1_gld_derby_2016"]
    assert gld["plan"] == 66.4 and gld["published"] == pytest.approx(66.4)


def test_embedded_default_runs_without_published_data(con_default):
    assert con_default.execute("SELECT count(*) FROM observations WHERE source_id != 'plan_2017'").fetchone()[0] == 0
    v = con_default.execute("SELECT value FROM observations WHERE indicator_id='gld' AND area_code='E05001770' "
                            "AND period='2015/16'").fetchone()[0]
    assert v == 47.2


@pytest.mark.slow
def test_build_without_mirror_or_network_falls_back(tmp_path, monkeypatch):
    monkeypatch.setenv("DERBY_OA_DATA_MIRROR", str(tmp_path / "empty-mirror"))
    monkeypatch.setenv("DERBY_OA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DERBY_OA_OFFLINE", "1")
    report = build(tmp_path / "db.duckdb")
    skipped = [line for line in report.lines if line[1] == "skipped"]
    assert len(skipped) >= 8 and all("embedded default" in line[2] for line in skipped)
    assert (tmp_path / "db.duckdb").is_file()


@pytest.mark.slow
def test_cli_build_exits_zero_offline(tmp_path, monkeypatch, capsys):
    from derby_oa.__main__ import main

    monkeypatch.setenv("DERBY_OA_DB", str(tmp_path / "cli.duckdb"))
    monkeypatch.setenv("DERBY_OA_DATA_MIRROR", str(tmp_path / "none"))
    monkeypatch.setenv("DERBY_OA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DERBY_OA_OFFLINE", "1")
    assert main(["build"]) == 0
    out = capsys.readouterr().out
    assert "skipped" in out and "dfe_lait" in out and "Traceback" not in out


@pytest.mark.slow
def test_two_builds_identical(tmp_path, default_db):
    again = tmp_path / "again.duckdb"
    build(again, adapters=())
    assert table_digest(again) == table_digest(default_db)


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A writable copy of data/ that the build reads instead of the real one."""
    copy = tmp_path / "data"
    shutil.copytree(ROOT / "data", copy, ignore=shutil.ignore_patterns("*.duckdb*", "cache"))
    monkeypatch.setattr(config, "DATA_DIR", copy)
    return copy


def _edit_csv(path: Path, row: int, field: str, value: str) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[row - 1, field] = value
    df.to_csv(path, index=False)


@pytest.mark.parametrize("case, expected", [
    ("truncated", ("plan_figures.csv", "row", "truncated")),
    ("missing_column", ("plan_figures.csv", "field 'plan_quote'", "missing column")),
    ("non_numeric", ("plan_figures.csv", "row 3, field 'value'", "'lots' is not a number")),
    ("duplicate", ("plan_figures.csv", "row", "duplicate key")),
    ("unknown_area", ("plan_figures.csv", "row 2, field 'area_code'", "unknown area code 'E99999999'")),
])
def test_bad_input_fails_and_keeps_old_database(case, expected, data_copy, tmp_path, default_db):
    target = tmp_path / "kept.duckdb"
    shutil.copy(default_db, target)
    before = target.read_bytes()
    figures = data_copy / "plan_figures.csv"
    if case == "truncated":
        data = figures.read_bytes()
        figures.write_bytes(data[: int(len(data) * 0.6)])
    elif case == "missing_column":
        pd.read_csv(figures, dtype=str).drop(columns=["plan_quote"]).to_csv(figures, index=False)
    elif case == "non_numeric":
        _edit_csv(figures, 3, "value", "lots")
    elif case == "duplicate":
        df = pd.read_csv(figures, dtype=str, keep_default_na=False)
        pd.concat([df, df.iloc[[0]].assign(figure_id="copy")]).to_csv(figures, index=False)
    elif case == "unknown_area":
        _edit_csv(figures, 2, "area_code", "E99999999")
    with pytest.raises(InputError) as err:
        build(target, adapters=())
    message = str(err.value)
    for part in expected:
        assert part in message
    assert target.read_bytes() == before
    assert not list(tmp_path.glob("kept.duckdb.*.tmp"))


def test_hash_mismatch_is_refused_by_name(tmp_path, monkeypatch, raw):
    mirror = tmp_path / "mirror"
    good = raw("lait/sn_may_2025.xlsx")
    bad = mirror / "lait/sn_may_2025.xlsx"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(good.read_bytes()[:-10] + b"0123456789")
    monkeypatch.setenv("DERBY_OA_DATA_MIRROR", str(mirror))
    with pytest.raises(FetchError, match=r"sn_may_2025\.xlsx: SHA-256 does not match"):
        fetch.fetch("lait/sn_may_2025.xlsx")


def test_lait_non_numeric_value_named(tmp_path, raw):
    from derby_oa.ingest import lait

    df = pd.read_parquet(raw("lait/bds_long_0.parquet")).head(50)
    df.loc[7, "Values"] = "n/a?"
    path = tmp_path / "bds_long_0.parquet"
    df.to_parquet(path)
    from derby_oa.ingest import Context, reference
    ctx = Context(reference.areas(), reference.indicators(), reference.source_codes())
    with pytest.raises(InputError, match=r"bds_long_0\.parquet, row 8, field 'Values'"):
        lait.load({lait.FILES[0]: path, lait.FILES[1]: raw(lait.FILES[1])}, ctx)

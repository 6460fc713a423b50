"""Writes that cannot lose each other: the write lock, the uploads record, and builds over a damaged database.

Each test works on a copy of the embedded-default build in tmp_path. Two commits run in two real
processes (multiprocessing, spawn) released together by a barrier; a rebuild and a commit overlap by
starting the commit while the build holds the lock.
"""
from __future__ import annotations

import functools
import multiprocessing
import threading
from pathlib import Path

import duckdb
import pytest

from derby_oa.build import pipeline as build_module
from derby_oa import config
from derby_oa.storage import db, store, write_lock
from derby_oa.uploads import loader
from derby_oa.analysis import targets
from derby_oa.__main__ import main
from derby_oa.build.pipeline import build
from derby_oa.errors import InputError
from derby_oa.queries import targets as target_data

# Real processes and threads racing for the lock, and a write through the change history in every test:
# seconds each, so out of the fast loop (`-m fast`) and in the whole run.
pytestmark = pytest.mark.slow

ROW_A = "gld,E06000015,2018/19,all,70.7,2303,3259"
ROW_B = "gld,E92000001,2018/19,girls,78.4,244297,311553"
HEADER = "indicator_id,area_code,period,breakdown,value,numerator,denominator"
TARGET = {"indicator_id": "gld", "breakdown": "all", "kind": "exceed_comparator", "baseline_year": 2023,
          "baseline_value": 63.3, "target_year": 2027, "comparator_area_code": "E92000001",
          "target_id": "officer_gld_2027"}


def upload(row: str) -> bytes:
    return f"{HEADER}\n{row}\n".encode("utf-8")


@pytest.fixture
def fresh(default_db, tmp_path, monkeypatch) -> Path:
    """A copy of the embedded-default database (no uploads record yet), as the configured database."""
    path = tmp_path / "derby_oa.duckdb"
    path.write_bytes(default_db.read_bytes())
    monkeypatch.setenv("DERBY_OA_DB", str(path))
    return path


def check(path: Path, name: str, data: bytes) -> loader.Report:
    con = db.connect(path)
    try:
        report = loader.validate(con, name, data)
    finally:
        con.close()
    assert report.ok, report.text()
    return report


def held(path: Path) -> dict:
    """Uploads, uploaded rows and local targets in a database."""
    con = db.connect(path)
    try:
        return {
            "uploads": con.execute("SELECT upload_id, file_name FROM uploads ORDER BY 1").fetchall(),
            "rows": con.execute("SELECT source_id, area_code, breakdown, value FROM observations "
                                "WHERE source_id LIKE 'upload:%' ORDER BY 1, 2").fetchall(),
            "targets": con.execute("SELECT target_id FROM targets WHERE origin = 'local'").fetchall(),
        }
    finally:
        con.close()


def _commit_worker(path: str, name: str, row: str, barrier, results) -> None:
    """Run in its own process: check one file, wait for the other process, then commit."""
    report = check(Path(path), name, upload(row))
    barrier.wait(timeout=120)
    try:
        results.put((name, loader.commit(report, Path(path), officer=name).upload_id))
    except Exception as exc:  # reported to the test, which fails on it
        results.put((name, f"{type(exc).__name__}: {exc}"))


def test_two_commits_at_once_from_two_processes_both_land_with_distinct_numbers(fresh, monkeypatch):
    monkeypatch.setenv("DERBY_OA_WRITE_WAIT", "120")  # the second waits for the first, however slow the machine
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_commit_worker, args=(str(fresh), name, row, barrier, results))
             for name, row in (("a.csv", ROW_A), ("b.csv", ROW_B))]
    for p in procs:
        p.start()
    got = dict(results.get(timeout=300) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    assert sorted(got.values()) == [1, 2], got
    state = held(fresh)
    assert state["uploads"] == sorted([(got["a.csv"], "a.csv"), (got["b.csv"], "b.csv")])
    assert state["rows"] == sorted([(f"upload:{got['a.csv']}", "E06000015", "all", 70.7),
                                    (f"upload:{got['b.csv']}", "E92000001", "girls", 78.4)])
    # both are in the durable record too, and a rebuild keeps both
    record = store.read_record(config.uploads_record_path(fresh))
    assert sorted(record["uploads"]["upload_id"]) == [1, 2]
    build(fresh, adapters=())
    assert held(fresh)["rows"] == state["rows"]


def _hold_lock(path: Path, what: str, taken: threading.Event, release: threading.Event) -> None:
    with write_lock.hold(path, what):
        taken.set()
        release.wait(timeout=120)


def test_a_second_writer_is_refused_after_the_wait_with_a_clear_message(fresh, monkeypatch, capsys, tmp_path):
    report = check(fresh, "a.csv", upload(ROW_A))
    before = fresh.read_bytes()
    taken, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(fresh, "a build", taken, release))
    holder.start()
    try:
        assert taken.wait(timeout=60)
        monkeypatch.setenv("DERBY_OA_WRITE_WAIT", "0.2")
        with pytest.raises(loader.CommitRefused, match=r"being changed by a build \(process \d+, since .*\); "
                                                        r"waited 0.2 s\. Nothing was written"):
            loader.commit(report, fresh)
        with pytest.raises(loader.CommitRefused, match="being changed by a build"):
            loader.undo_last(fresh)
        with pytest.raises(InputError, match="(?i)local target: .* is being changed by a build"):
            targets.add_local_target(TARGET, fresh)
        with pytest.raises(write_lock.WriteBusy):
            build(fresh, adapters=())
        file = tmp_path / "a.csv"
        file.write_bytes(upload(ROW_A))
        assert main(["load", str(file), "--commit"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"refused: {fresh} is being changed by a build")
        assert fresh.read_bytes() == before
    finally:
        release.set()
        holder.join(timeout=60)
    assert loader.commit(report, fresh).upload_id == 1  # free again once the holder has finished


def test_a_commit_during_a_rebuild_is_not_lost(fresh, monkeypatch):
    """The commit starts while the build holds the lock (between reading officers' data and the swap)."""
    monkeypatch.setenv("DERBY_OA_WRITE_WAIT", "120")
    report = check(fresh, "during.csv", upload(ROW_A))
    asked, outcome = threading.Event(), {}

    class Watched:  # the lock module as the commit sees it: notes when the commit asks for the lock
        @staticmethod
        def hold(*args, **kwargs):
            asked.set()
            return write_lock.hold(*args, **kwargs)

    def commit():
        try:
            outcome["result"] = loader.commit(report, fresh, officer="During")
        except Exception as exc:  # noqa: BLE001 - the test asserts on it
            outcome["error"] = exc

    original = build_module.write_database
    committer = threading.Thread(target=commit)

    def write_during_commit(tables, target, report_):
        committer.start()
        assert asked.wait(timeout=60), "the commit never asked for the lock"
        original(tables, target, report_)

    monkeypatch.setattr(store, "write_lock", Watched)
    monkeypatch.setattr(build_module, "write_database", write_during_commit)
    build(fresh, adapters=())
    committer.join(timeout=120)
    assert "error" not in outcome, outcome
    assert outcome["result"].upload_id == 1
    state = held(fresh)
    assert state["rows"] == [("upload:1", "E06000015", "all", 70.7)]
    con = db.connect(fresh)
    try:  # the database is the rebuilt one, with the commit on top
        assert con.execute("SELECT count(*) FROM build_log WHERE source = 'database'").fetchone()[0] == 1
    finally:
        con.close()


def test_a_commit_while_the_build_reads_sources_is_restored_from_the_record(fresh, monkeypatch):
    report = check(fresh, "early.csv", upload(ROW_B))
    original = build_module.collect

    def collect_then_commit(*args, **kwargs):
        out = original(*args, **kwargs)
        loader.commit(report, fresh)  # lands in the old database and the record, before the build's swap
        targets.add_local_target(TARGET, fresh)
        return out

    monkeypatch.setattr(build_module, "collect", collect_then_commit)
    build(fresh, adapters=())
    state = held(fresh)
    assert state["rows"] == [("upload:1", "E92000001", "girls", 78.4)]
    assert state["targets"] == [("officer_gld_2027",)]


# ---- the durable record and damaged files --------------------------------------------------------------------

def corrupt(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "garbage":
        path.write_bytes(b"not a database " * (len(data) // 15))
    else:  # truncated, as by a full disk or an interrupted copy
        path.write_bytes(data[: len(data) // 2])


def _with_officer_data(path: Path) -> dict:
    loader.commit(check(path, "kept.csv", upload(ROW_A)), path, officer="Kept")
    targets.add_local_target(TARGET, path)
    return held(path)


@pytest.mark.parametrize("how", ["garbage", "truncated"])
def test_a_build_over_a_corrupt_database_restores_uploads_from_the_record(fresh, how):
    before = _with_officer_data(fresh)
    assert config.uploads_record_path(fresh).name == "derby_oa_uploads.duckdb"
    corrupt(fresh, how)
    report = build(fresh, adapters=())
    assert held(fresh) == before
    assert ("uploads", "kept", "1 uploaded observations re-applied") in report.lines


@pytest.mark.parametrize("how", ["garbage", "truncated"])
def test_a_build_refuses_to_drop_uploads_it_cannot_read(fresh, how, capsys, monkeypatch):
    """A database from before the record (its uploads only inside it) that is corrupt: refuse, exit 1."""
    _with_officer_data(fresh)
    config.uploads_record_path(fresh).unlink()
    corrupt(fresh, how)
    damaged = fresh.read_bytes()
    with pytest.raises(store.DatabaseDamaged, match=r"^database damaged; restore from a backup of .*derby_oa\.duckdb "
                                                    r"or pass --discard-uploads"):
        build(fresh, adapters=())
    # The command line's build, from the embedded default as above: the refusal comes after the sources are
    # read, so reading every published file first (seconds) would change nothing asserted here.
    monkeypatch.setattr(build_module, "build", functools.partial(build, adapters=()))
    assert main(["build"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "database damaged; restore from" in err[0] and "--discard-uploads" in err[0]
    assert fresh.read_bytes() == damaged  # never built over
    assert not config.uploads_record_path(fresh).exists()
    # the officer decides: build without them; the damaged file is kept aside, not deleted
    report = build(fresh, adapters=(), discard_uploads=True)
    assert any(status == "discarded" for _, status, _ in report.lines)
    assert held(fresh) == {"uploads": [], "rows": [], "targets": []}
    assert fresh.with_name("derby_oa.duckdb.damaged").read_bytes() == damaged


def test_a_damaged_uploads_record_stops_the_build(fresh):
    before = _with_officer_data(fresh)
    record = config.uploads_record_path(fresh)
    corrupt(record, "garbage")
    good = fresh.read_bytes()
    with pytest.raises(store.DatabaseDamaged, match=r"restore from a backup of .*derby_oa_uploads\.duckdb"):
        build(fresh, adapters=())
    assert fresh.read_bytes() == good and held(fresh) == before


def test_every_officer_write_updates_the_record(fresh):
    _with_officer_data(fresh)
    record = store.read_record(config.uploads_record_path(fresh))
    assert list(record["uploads"]["file_name"]) == ["kept.csv"]
    assert list(record["targets"]["target_id"]) == ["officer_gld_2027"]
    loader.undo_last(fresh)
    target_data.delete_local_target("officer_gld_2027", fresh)
    record = store.read_record(config.uploads_record_path(fresh))
    assert bool(record["uploads"]["undone"].iloc[0]) and "targets" not in record and "observations" not in record
    build(fresh, adapters=())  # an undone upload stays undone after a rebuild
    assert held(fresh) == {"uploads": [(1, "kept.csv")], "rows": [], "targets": []}


def test_the_lock_file_and_record_sit_beside_the_database(fresh):
    assert write_lock.lock_path(fresh) == fresh.with_name("derby_oa.duckdb.lock")
    _with_officer_data(fresh)
    assert fresh.with_name("derby_oa.duckdb.lock").is_file()
    assert duckdb.connect(str(config.uploads_record_path(fresh)), read_only=True).execute(
        "SELECT count(*) FROM uploads").fetchone()[0] == 1

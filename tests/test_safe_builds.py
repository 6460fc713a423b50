"""Builds that fail loudly, and one clear line (never a traceback) when the machine fails the command line.

A source the current database holds whose file is missing or fails its hash stops the build (exit 1,
naming the file and both hashes) and keeps the database; a full disk, a folder that cannot be written
and a corrupt database file each give one line on stderr for build, load, undo-upload and sql.
"""
from __future__ import annotations

import errno
import tempfile
from pathlib import Path

import pytest

from db_support import copy_database
from derby_oa.storage import db
from derby_oa.build import fetch
from derby_oa.uploads import loader
from derby_oa.console import guard as sql_guard
from derby_oa.__main__ import main
from derby_oa.build.pipeline import build
from derby_oa.errors import BuildRefused

SLCN = "bbc_child_speech/merged_sen_data_withperc.csv"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def slcn_db(tmp_path_factory) -> Path:
    """A database built with one published source (DfE SLCN, from the mirror)."""
    path = tmp_path_factory.mktemp("slcn") / "derby_oa.duckdb"
    report = build(path, adapters=("slcn",))
    assert ("dfe_sen_slcn", "loaded") in [line[:2] for line in report.lines]
    return path


@pytest.fixture
def slcn_good(raw) -> bytes:
    """The published SLCN file, read before the mirror is emptied."""
    return raw(SLCN).read_bytes()


@pytest.fixture
def no_downloads(tmp_path, monkeypatch) -> Path:
    """An empty mirror and cache, downloads off; returns the mirror folder."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    monkeypatch.setenv("DERBY_OA_DATA_MIRROR", str(mirror))
    monkeypatch.setenv("DERBY_OA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("DERBY_OA_OFFLINE", "1")
    return mirror


def one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    return err[0]


@pytest.mark.parametrize("case", ["hash mismatch", "missing"])
@pytest.mark.slow
def test_a_held_source_that_cannot_be_obtained_stops_the_build(case, slcn_db, slcn_good, no_downloads,
                                                               monkeypatch, capsys):
    expected = fetch.read_manifest()[SLCN].sha256
    if case == "hash mismatch":
        bad = no_downloads / SLCN
        bad.parent.mkdir(parents=True)
        bad.write_bytes(slcn_good.replace(b"Derby", b"Derbx", 1))
        actual = fetch._sha256(bad)
        assert actual != expected
    else:
        actual = "missing"
    before = slcn_db.read_bytes()
    with pytest.raises(BuildRefused) as err:
        build(slcn_db, adapters=("slcn",))
    message = str(err.value)
    assert message.startswith(f"{SLCN}: expected SHA-256 {expected}, found {actual} (")
    assert f"The current database {slcn_db} holds dfe_sen_slcn, so it is kept" in message
    assert slcn_db.read_bytes() == before
    monkeypatch.setenv("DERBY_OA_DB", str(slcn_db))
    assert main(["build"]) == 1
    line = one_line(capsys)
    assert line.startswith("build failed, previous database kept: ") and expected in line and actual in line
    assert slcn_db.read_bytes() == before
    # the officer may choose the poorer database explicitly
    assert main(["build", "--allow-fallback"]) == 0
    assert f"skipped  dfe_sen_slcn: " in capsys.readouterr().out


@pytest.mark.slow
def test_a_first_build_with_no_data_says_so_in_one_line(tmp_path, no_downloads, monkeypatch, capsys):
    monkeypatch.setenv("DERBY_OA_DB", str(tmp_path / "first.duckdb"))
    assert main(["build"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line for line in out if line.startswith("default")] == [
        "default  embedded default: no published file could be obtained: the database holds the delivery "
        "plan's own figures only"]


# ---- the machine failing: one line each ---------------------------------------------------------------------

@pytest.fixture(scope="session")
def committed_db(default_db, tmp_path_factory) -> Path:
    """The embedded-default build with one upload committed (made once; tests write to copies)."""
    path = tmp_path_factory.mktemp("committed") / "derby_oa.duckdb"
    path.write_bytes(default_db.read_bytes())
    con = db.connect(path)
    try:
        report = loader.validate(con, "first.csv", b"indicator_id,area_code,period,breakdown,value\n"
                                                   b"gld,E92000001,2018/19,girls,78.4\n")
    finally:
        con.close()
    loader.commit(report, path)
    return path


@pytest.fixture
def cli_db(committed_db, tmp_path, monkeypatch, no_downloads) -> Path:
    """A copy of the embedded-default build with one upload committed (and its uploads record and history), as
    the configured database."""
    path = copy_database(committed_db, tmp_path / "db" / "derby_oa.duckdb")
    monkeypatch.setenv("DERBY_OA_DB", str(path))
    (tmp_path / "second.csv").write_bytes(b"indicator_id,area_code,period,breakdown,value\n"
                                          b"gld,E06000015,2018/19,all,70.7\n")
    return path


COMMANDS = {
    "build": ["build"],
    "load": ["load", "{tmp}/second.csv", "--commit"],
    "undo": ["undo-upload"],
    "sql": ["sql", "SELECT count(*) AS n FROM observations"],
}


def _fail_writes(monkeypatch, code: int, words: str) -> None:
    def refuse(*args, dir=None, **kwargs):
        raise OSError(code, words, str(dir))
    monkeypatch.setattr(tempfile, "mkstemp", refuse)


@pytest.mark.parametrize("command", ["build", "load", "undo", "sql"])
@pytest.mark.parametrize("condition", ["full disk", "unwritable folder", "corrupt database"])
def test_machine_failures_give_one_clear_line(command, condition, cli_db, monkeypatch, capsys):
    folder = str(cli_db.parent)
    if condition == "full disk":
        _fail_writes(monkeypatch, errno.ENOSPC, "No space left on device")
        if command == "sql":  # a read that needs scratch space on a full disk
            def full(*args, **kwargs):
                raise OSError(errno.ENOSPC, "No space left on device", folder)
            monkeypatch.setattr(sql_guard, "run", full)
        expected = f"the disk holding {folder} is full (no space left on device): free some space"
    elif condition == "unwritable folder":
        if command == "sql":
            pytest.skip("sql writes nothing")
        _fail_writes(monkeypatch, errno.EACCES, "Permission denied")
        expected = f"cannot write in {folder} (permission denied): make the folder writable, or set DERBY_OA_DB"
    else:
        if command == "build":  # a database whose uploads exist only inside it
            (cli_db.parent / "derby_oa_uploads.duckdb").unlink()
        cli_db.write_bytes(b"not a database " * 1000)
        expected = ("database damaged; restore from a backup of" if command == "build"
                    else f"the database {cli_db} is damaged (")
    before = cli_db.read_bytes()
    assert main([a.replace("{tmp}", str(cli_db.parent.parent)) for a in COMMANDS[command]]) != 0
    line = one_line(capsys)
    assert expected in line, line
    assert cli_db.read_bytes() == before
    assert not list(cli_db.parent.glob("*.tmp"))

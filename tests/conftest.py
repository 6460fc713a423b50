"""Shared fixtures (published files, throwaway databases) and the test tiers.

Published files come from `DERBY_OA_DATA_MIRROR`, the download cache or, with internet, one
hash-checked download each (pooch). With none of them, tests that need those files skip with one line
saying how to get them; the rest run. Tiers are markers given here by folder and fixture use:
`pure`, `database`, `apptest`, `browser` (and `soak`, run by the benchmark, not by default). `fast` marks
the quick loop (`python -m pytest -m fast`, under a minute): pure tests and database tests that need neither
the full build nor anything marked `slow`.
"""
from __future__ import annotations

import inspect
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from derby_oa.build import fetch
from derby_oa.errors import FetchError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MIRROR = ROOT.parent / "shared" / "data" / "raw"
NEED_DATA = ("published data unavailable: set DERBY_OA_DATA_MIRROR to a folder holding the files of "
             "data/manifest.tsv, or run with internet once so they download into data/cache/")
# Build outcomes that mean "not obtainable here", as opposed to a file that failed its hash check.
UNAVAILABLE = ("not in the mirror or cache", "could not download")

DB_FIXTURES = {"full_db", "default_db", "con_full", "con_default", "raw"}
FULL_BUILD = {"full_db", "con_full"}  # fixtures of the full build (every published source)
DB_NAMES = {"build", "connect", "duckdb", "main"}  # builds or opens a database itself (main: the CLI)
APPTEST_NAMES = {"run_page", "AppTest"}


def pytest_configure(config):
    """Point the fetcher at ../shared/data/raw when no mirror is configured and that folder exists."""
    if not os.environ.get("DERBY_OA_DATA_MIRROR") and DEFAULT_MIRROR.is_dir():
        os.environ["DERBY_OA_DATA_MIRROR"] = str(DEFAULT_MIRROR)
    os.environ.setdefault("DERBY_OA_PAGE_ERRORS", "raise")  # a page error fails the test (derby_oa.ui.incidents)


def _names_used(func, depth: int = 2) -> set[str]:
    """Global names a test uses, following module-level helpers it calls (two levels)."""
    code = getattr(func, "__code__", None)
    if code is None:
        return set()
    names = set(code.co_names)
    for const in code.co_consts:  # nested functions and comprehensions
        if inspect.iscode(const):
            names |= set(const.co_names)
    if depth:
        module_globals = getattr(func, "__globals__", {})
        for name in list(names):
            helper = module_globals.get(name)
            if inspect.isfunction(helper) and helper.__module__ == func.__module__:
                names |= _names_used(helper, depth - 1)
    return names


def tier(item) -> str:
    """The tier of a collected test: browser, apptest, database or pure."""
    if "browser" in Path(str(item.fspath)).parts:
        return "browser"
    names = _names_used(getattr(item, "function", None))
    if names & APPTEST_NAMES:
        return "apptest"
    if set(item.fixturenames) & DB_FIXTURES or names & DB_NAMES:
        return "database"
    return "pure"


def is_fast(item, tier_name: str) -> bool:
    """In the fast loop: a pure test, or a database test that needs neither the full build nor a slow path.

    The full build (every published source, about 13 s) and tests marked `slow` (a rebuild from the published
    files, a process of their own, many writes to the full build) are left to the whole run.
    """
    if tier_name == "pure":
        return item.get_closest_marker("slow") is None
    return (tier_name == "database" and item.get_closest_marker("slow") is None
            and not set(item.fixturenames) & FULL_BUILD)


def pytest_collection_modifyitems(config, items):
    for item in items:
        name = tier(item)
        item.add_marker(getattr(pytest.mark, name))
        if is_fast(item, name):
            item.add_marker(pytest.mark.fast)


def pytest_terminal_summary(terminalreporter):
    """One line for every test skipped for want of the published files (not one line per test)."""
    skipped = [r for r in terminalreporter.stats.get("skipped", [])
               if isinstance(r.longrepr, tuple) and NEED_DATA in str(r.longrepr[2])]
    if skipped:
        terminalreporter.write_line(f"{len(skipped)} tests skipped: {NEED_DATA}", yellow=True)


def skip_without_published_data() -> None:
    """Skip the calling test (one reason, one summary line for all of them)."""
    pytest.skip(NEED_DATA)


@pytest.fixture(scope="session")
def raw():
    """Return a function giving the verified local path of a manifest file."""
    def get(name: str) -> Path:
        try:
            return fetch.fetch(name)
        except FetchError as exc:
            if any(reason in str(exc) for reason in UNAVAILABLE):
                skip_without_published_data()
            raise  # a file that is present but wrong is a failure, not a skip
    return get


@pytest.fixture(scope="session")
def full_db(tmp_path_factory) -> Path:
    """A database built from the plan and every published source (mirror, cache or one download)."""
    from derby_oa.build.pipeline import build

    path = tmp_path_factory.mktemp("full") / "derby_oa.duckdb"
    report = build(path)
    skipped = [line for line in report.lines if line[1] == "skipped"]
    if skipped and all(any(reason in line[2] for reason in UNAVAILABLE) for line in skipped):
        skip_without_published_data()
    assert not skipped, f"sources skipped in the full build: {skipped}"
    return path


@pytest.fixture(scope="session")
def default_db(tmp_path_factory) -> Path:
    """A database built from the embedded default only (the plan's figures, no published data)."""
    from derby_oa.build.pipeline import build

    path = tmp_path_factory.mktemp("default") / "derby_oa.duckdb"
    build(path, adapters=())
    return path


@pytest.fixture
def cli(monkeypatch, capsys):
    """Run `python -m derby_oa ARGS` in this process (`main(argv)`), for tests about what it prints and returns.

    `cli(*args, db=PATH, stdin=TEXT)` gives a `subprocess.CompletedProcess` (returncode, stdout, stderr) as
    running it in its own process would, without the seconds of a fresh interpreter; `db` becomes `DERBY_OA_DB`
    and `stdin` a piped (not a terminal) standard input for that call only.
    """
    from derby_oa.__main__ import main

    def run(*args: str, db: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
        with monkeypatch.context() as m:
            if db is not None:
                m.setenv("DERBY_OA_DB", str(db))
            if stdin is not None:
                m.setattr(sys, "stdin", io.StringIO(stdin))
            capsys.readouterr()  # drop anything printed before
            code = main(list(args))
            out = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out.out, out.err)
    return run


@pytest.fixture
def con_full(full_db):
    from derby_oa.storage.db import connect

    con = connect(full_db)
    yield con
    con.close()


@pytest.fixture
def con_default(default_db):
    from derby_oa.storage.db import connect

    con = connect(default_db)
    yield con
    con.close()

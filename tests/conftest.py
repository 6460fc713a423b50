"""Shared fixtures: published files from the mirror/cache, and throwaway databases."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from derby_oa import fetch
from derby_oa.errors import FetchError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MIRROR = ROOT.parent / "shared" / "data" / "raw"


@pytest.fixture(scope="session", autouse=True)
def _mirror_env():
    """Point the fetcher at ../shared/data/raw when no mirror is configured and it exists."""
    if not os.environ.get("DERBY_OA_DATA_MIRROR") and DEFAULT_MIRROR.is_dir():
        os.environ["DERBY_OA_DATA_MIRROR"] = str(DEFAULT_MIRROR)
    os.environ.setdefault("DERBY_OA_OFFLINE", "1")
    os.environ.setdefault("DERBY_OA_PAGE_ERRORS", "raise")  # a page error fails the test (derby_oa.ui.incidents)
    yield


@pytest.fixture(scope="session")
def raw():
    """Return a function giving the verified local path of a manifest file."""
    def get(name: str) -> Path:
        try:
            return fetch.fetch(name)
        except FetchError as exc:  # pragma: no cover - only without mirror and network
            pytest.fail(f"published file unavailable: {exc}. Set DERBY_OA_DATA_MIRROR.")
    return get


@pytest.fixture(scope="session")
def full_db(tmp_path_factory, _mirror_env) -> Path:
    """A database built from the plan and every published source (via the mirror)."""
    from derby_oa.build import build

    path = tmp_path_factory.mktemp("full") / "derby_oa.duckdb"
    report = build(path)
    skipped = [line for line in report.lines if line[1] == "skipped"]
    assert not skipped, f"sources skipped in the full build: {skipped}"
    return path


@pytest.fixture(scope="session")
def default_db(tmp_path_factory) -> Path:
    """A database built from the embedded default only (the plan's figures, no published data)."""
    from derby_oa.build import build

    path = tmp_path_factory.mktemp("default") / "derby_oa.duckdb"
    build(path, adapters=())
    return path


@pytest.fixture
def con_full(full_db):
    from derby_oa.db import connect

    con = connect(full_db)
    yield con
    con.close()


@pytest.fixture
def con_default(default_db):
    from derby_oa.db import connect

    con = connect(default_db)
    yield con
    con.close()

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

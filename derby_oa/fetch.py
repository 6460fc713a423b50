"""Obtain published files by the manifest: mirror folder, then cache, then network (pooch).

Every file is checked against its SHA-256 before use. Nothing fetched is committed to git.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pooch

from . import config
from .errors import FetchError

MANIFEST_NAME = "manifest.tsv"
NETWORK_TIMEOUT_S = 10
pooch.get_logger().setLevel("WARNING")  # the build prints its own one line per source


@dataclass(frozen=True)
class ManifestEntry:
    name: str
    sha256: str
    size: int
    url: str


def read_manifest(path: Path | None = None) -> dict[str, ManifestEntry]:
    """Manifest entries by relative file name (default `data/manifest.tsv`)."""
    with open(path or config.DATA_DIR / MANIFEST_NAME, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return {r["file"]: ManifestEntry(r["file"], r["sha256"], int(r["bytes"]), r["url"]) for r in rows}


def _verified(path: Path, entry: ManifestEntry) -> bool:
    return path.is_file() and pooch.file_hash(str(path), alg="sha256") == entry.sha256


def fetch(name: str, manifest: dict[str, ManifestEntry] | None = None) -> Path:
    """Local path of manifest file `name`, verified by hash; raises FetchError if unobtainable."""
    manifest = manifest or read_manifest()
    if name not in manifest:
        raise FetchError(f"{name}: not in the manifest {MANIFEST_NAME}")
    entry = manifest[name]
    mirror = config.mirror_dir()
    if mirror is not None:
        candidate = mirror / name
        if candidate.is_file():
            if _verified(candidate, entry):
                return candidate
            raise FetchError(
                f"{candidate}: SHA-256 does not match the manifest (expected {entry.sha256[:12]}...); file not used"
            )
    cached = config.cache_dir() / name
    if _verified(cached, entry):
        return cached
    if config.offline():
        raise FetchError(f"{name}: not in the mirror or cache, and downloads are off (DERBY_OA_OFFLINE)")
    try:
        path = pooch.retrieve(
            entry.url,
            known_hash=f"sha256:{entry.sha256}",
            fname=Path(name).name,
            path=cached.parent,
            downloader=pooch.HTTPDownloader(timeout=NETWORK_TIMEOUT_S, progressbar=False),
            progressbar=False,
        )
    except ValueError as exc:  # pooch raises ValueError on a hash mismatch
        raise FetchError(f"{name}: downloaded file failed its SHA-256 check ({exc})") from exc
    except Exception as exc:  # network errors of any kind: the build falls back
        raise FetchError(f"{name}: could not download ({type(exc).__name__})") from exc
    return Path(path)

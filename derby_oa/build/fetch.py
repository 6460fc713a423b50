"""Obtain published files by the manifest: mirror folder, then cache, then network (pooch).

Every file is checked against its SHA-256 before use. Nothing fetched is committed to git.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pooch

from derby_oa import config
from derby_oa.errors import FetchError

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


def _sha256(path: Path) -> str:
    return pooch.file_hash(str(path), alg="sha256")


def _verified(path: Path, entry: ManifestEntry) -> bool:
    return path.is_file() and _sha256(path) == entry.sha256


def fetch(name: str, manifest: dict[str, ManifestEntry] | None = None) -> Path:
    """Local path of manifest file `name`, verified by hash; raises FetchError if unobtainable.

    The FetchError carries the file, the expected SHA-256 and the one found ("missing" when there was no file).
    """
    manifest = manifest or read_manifest()
    if name not in manifest:
        raise FetchError(f"{name}: not in the manifest {MANIFEST_NAME}", file=name, actual="missing")
    entry = manifest[name]
    mirror = config.mirror_dir()
    if mirror is not None:
        candidate = mirror / name
        if candidate.is_file():
            actual = _sha256(candidate)
            if actual == entry.sha256:
                return candidate
            raise FetchError(f"{candidate}: SHA-256 does not match the manifest (expected {entry.sha256[:12]}...); "
                             f"file not used", file=name, expected=entry.sha256, actual=actual)
    cached = config.cache_dir() / name
    cached_hash = _sha256(cached) if cached.is_file() else "missing"
    if cached_hash == entry.sha256:
        return cached
    if config.offline():
        raise FetchError(f"{name}: not in the mirror or cache, and downloads are off (DERBY_OA_OFFLINE)",
                         file=name, expected=entry.sha256, actual=cached_hash)
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
        raise FetchError(f"{name}: downloaded file failed its SHA-256 check ({exc})", file=name,
                         expected=entry.sha256, actual="a different file (see the message)") from exc
    except Exception as exc:  # network errors of any kind: the build falls back
        raise FetchError(f"{name}: could not download ({type(exc).__name__})", file=name, expected=entry.sha256,
                         actual=cached_hash) from exc
    return Path(path)

"""Paths and settings, taken from environment variables with project defaults."""
from __future__ import annotations

import os
import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
GEO_DIR = PROJECT_ROOT / "geo"

DERBY = "E06000015"
ENGLAND = "E92000001"
EAST_MIDLANDS = "E12000004"
DERBY_LA_NUMBER = 831
WARD_VINTAGE_PLAN = "2003-2023"
WARD_VINTAGE_CURRENT = "2023"
# Derby's DfE children's-services statistical neighbour groups (area_groups.group_id).
SN_GROUP_CURRENT = "sn_2025"
SN_GROUP_PLAN = "sn_2021"


def db_path() -> Path:
    """Database file: `DERBY_OA_DB` or `data/derby_oa.duckdb` (git-ignored)."""
    return Path(os.environ.get("DERBY_OA_DB") or DATA_DIR / "derby_oa.duckdb")


def write_wait() -> float:
    """Seconds a second writer waits for the database's write lock before it is refused:
    `DERBY_OA_WRITE_WAIT` (default 10)."""
    try:
        return max(0.0, float(os.environ.get("DERBY_OA_WRITE_WAIT") or 10))
    except ValueError:
        return 10.0


def uploads_record_path(db: Path | None = None) -> Path:
    """The durable record of officers' uploads and local targets: `<database stem>_uploads.duckdb` beside it."""
    db = Path(db or db_path())
    return db.with_name(f"{db.stem}_uploads.duckdb")


def cache_dir() -> Path:
    """Download cache for published files: `DERBY_OA_CACHE` or `data/cache/` (git-ignored)."""
    return Path(os.environ.get("DERBY_OA_CACHE") or DATA_DIR / "cache")


def mirror_dir() -> Path | None:
    """Local mirror of the published files (same layout as the manifest), if configured."""
    value = os.environ.get("DERBY_OA_DATA_MIRROR")
    return Path(value) if value else None


def offline() -> bool:
    """`DERBY_OA_OFFLINE=1` forbids network downloads (mirror and cache only)."""
    return os.environ.get("DERBY_OA_OFFLINE", "") not in ("", "0", "false")


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)?\s*$", re.IGNORECASE)
_UNITS = {"B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4,
          "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3, "TIB": 1024**4}


def memory_limit() -> str:
    """DuckDB memory limit of the app's and the SQL console's connections: `DERBY_OA_MEMORY_LIMIT` or 1GB."""
    value = os.environ.get("DERBY_OA_MEMORY_LIMIT") or "1GB"
    if not _SIZE.match(value):
        raise ValueError(f"DERBY_OA_MEMORY_LIMIT={value!r} is not a size like 1GB or 512MB")
    return value.strip().replace(" ", "")


def memory_limit_bytes() -> int:
    """`memory_limit()` in bytes."""
    number, unit = _SIZE.match(memory_limit()).groups()
    return int(float(number) * _UNITS[(unit or "B").upper()])


def threads() -> int:
    """DuckDB worker threads per connection: `DERBY_OA_THREADS` or 2."""
    value = os.environ.get("DERBY_OA_THREADS") or "2"
    if not value.strip().isdigit() or int(value) < 1:
        raise ValueError(f"DERBY_OA_THREADS={value!r} is not a whole number of threads (1 or more)")
    return int(value)


# Years that stand alone in a series (not comparable with any other year): key stage 4 results for 2019/20
# and 2020/21 were centre- and teacher-assessed grades, not exams (DfE). See derby_oa/series.py.
KS4_ASSESSED = {2020: "centre-assessed grades (no exams)", 2021: "teacher-assessed grades (no exams)"}


# A key stage 4 result graded in exams: the app's KS4 ids and LAIT's (Attainment 8, Progress 8, the English
# Baccalaureate, English and maths passes, by any pupil group); never destinations, which are not grades.
KS4_GRADED = re.compile(r"^ks4_(attainment|progress|eng_maths)|attain8|prog8|engbac|engmaths|ebacc|gcse|"
                        r"attainment 8|progress 8|english baccalaureate|pass in english and maths", re.IGNORECASE)
KS4_NOT_GRADED = re.compile(r"_des_|destination|employment|training", re.IGNORECASE)


def not_comparable(indicator_id: str, title: str = "") -> dict[int, str]:
    """End year -> why that year stands alone, for one indicator (empty for most): KS4 graded results of
    2019/20 and 2020/21, by the indicator's id or title."""
    text = f"{indicator_id} {title or ''}"
    return dict(KS4_ASSESSED) if KS4_GRADED.search(text) and not KS4_NOT_GRADED.search(text) else {}

"""Benchmark the database build: time and size, printed as a table (a script, not a test).

Usage: DERBY_OA_DATA_MIRROR=../shared/data/raw python bench/build_bench.py
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from derby_oa.build import build  # noqa: E402


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, adapters in (("embedded default (plan only)", ()), ("full (all published sources)", None)):
            path = Path(tmp) / f"{len(rows)}.duckdb"
            t0 = time.perf_counter()
            report = build(path) if adapters is None else build(path, adapters=adapters)
            seconds = time.perf_counter() - t0
            skipped = sum(1 for line in report.lines if line[1] == "skipped")
            rows.append((label, seconds, path.stat().st_size / 1e6, skipped))
    print(f"{'build':32} {'seconds':>8} {'size MB':>8} {'skipped':>8}")
    for label, s, mb, skipped in rows:
        print(f"{label:32} {s:8.2f} {mb:8.2f} {skipped:8d}")


if __name__ == "__main__":
    main()

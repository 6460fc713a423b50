"""Load: 10 concurrent browser sessions click through every page for two minutes on loopback; and
officers writing (two commits at once, a rebuild during commits) while sessions browse.

No visit may fail or show an exception, no request may leave the machine, and the server's memory
growth is measured and reported (test-output/load.json and the terminal). The run is bounded:
DERBY_OA_LOAD_SECONDS (default 120) for starting visits, per-visit timeouts, a visit cap per session.
The 10-session soak is marked `soak`: left out of the default test run; the benchmark (bench/run.py)
runs it, or `python -m pytest -m soak tests/browser/test_load.py`. The writes test runs
DERBY_OA_LOAD_WRITE_SESSIONS (default 4) sessions for as long as the writes take (a full rebuild:
about a minute).
"""
from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import browser_support as bs

SESSIONS = int(os.environ.get("DERBY_OA_LOAD_SESSIONS", "10"))
SECONDS = float(os.environ.get("DERBY_OA_LOAD_SECONDS", "120"))
DRIVER = Path(__file__).resolve().parent / "load_driver.py"
# Ten headless browsers share the machine's cores with the server (2 on CI), so a visit under load can
# take a minute or more; this timeout only catches a page that never arrives.
VISIT_TIMEOUT_MS = 240_000
MB = 1024 * 1024


@pytest.mark.soak
def test_ten_sessions_click_through_pages(full_db, browser, capsys):
    pages = bs.app_pages()
    out = bs.OUTPUT / "load.json"
    out.unlink(missing_ok=True)
    with bs.StreamlitServer(db=full_db, log=bs.OUTPUT / "server-load.log") as server:
        # Warm up: one visit to every page, so the baseline holds filled caches, not an empty server.
        context, _ = bs.new_context(browser, server)
        page = context.new_page()
        for spec in pages:
            bs.open_page(page, server.page_url(spec))
        context.close()
        rss_before = server.rss()
        samples = [rss_before]
        driver = subprocess.Popen([sys.executable, str(DRIVER), "--url", server.url, "--sessions", str(SESSIONS),
                                   "--seconds", str(SECONDS), "--timeout-ms", str(VISIT_TIMEOUT_MS), "--out", str(out)], cwd=bs.ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        hard_stop = time.monotonic() + SECONDS + 2 * VISIT_TIMEOUT_MS / 1000 + 60
        while driver.poll() is None and time.monotonic() < hard_stop:
            samples.append(server.rss())
            try:
                driver.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
        if driver.poll() is None:
            driver.kill()
        log = driver.communicate()[0]
        rss_after = server.rss()
        alive = server.proc.poll() is None
    assert driver.returncode == 0, f"the load driver failed ({driver.returncode}):\n{log[-3000:]}"
    result = json.loads(out.read_text())
    visits = [v for s in result["sessions"] for v in s["visits"]]
    failures = [v for v in visits if v["errors"]]
    foreign = [u for s in result["sessions"] for u in s["foreign"]]
    times = sorted(v["seconds"] for v in visits if not v["errors"])
    result["memory"] = {"rss_before_mb": round(rss_before / MB, 1), "rss_peak_mb": round(max(samples) / MB, 1),
                        "rss_after_mb": round(rss_after / MB, 1),
                        "growth_mb": round((rss_after - rss_before) / MB, 1)}
    result["summary"] = {"visits": len(visits), "failures": len(failures),
                         "median_s": round(statistics.median(times), 2) if times else None,
                         "max_s": round(max(times), 2) if times else None}
    out.write_text(json.dumps(result, indent=1))
    with capsys.disabled():
        print(f"\nload: {SESSIONS} sessions, {result['wall_seconds']} s, {len(visits)} visits, "
              f"{len(failures)} failed; page median {result['summary']['median_s']} s, max {result['summary']['max_s']} s; "
              f"server RSS {result['memory']['rss_before_mb']} -> {result['memory']['rss_after_mb']} MB "
              f"(peak {result['memory']['rss_peak_mb']}, growth {result['memory']['growth_mb']} MB)")
    assert alive, "the server died under load:\n" + server.log_tail()
    assert not failures, f"{len(failures)} of {len(visits)} visits failed, e.g. {failures[:3]}"
    assert not foreign, f"requests left the machine under load: {sorted(set(foreign))[:5]}"
    assert all(s["visits"] for s in result["sessions"]), "a session made no visit"
    assert {v["page"] for v in visits} == {p.url_path for p in pages}, "some pages were never visited"


# ---- officers writing while sessions browse -----------------------------------------------------------------

WRITE_SESSIONS = int(os.environ.get("DERBY_OA_LOAD_WRITE_SESSIONS", "4"))
HEADER = "indicator_id,area_code,period,breakdown,value"
# New rows for a year the published data does not reach yet, one key per upload.
UPLOADS = {"officer-a.csv": "gld,E06000015,2025/26,all,70.1", "officer-b.csv": "gld,E92000001,2025/26,all,68.2",
           "during-build.csv": "gld,E12000004,2025/26,all,67.3", "build-holds-lock.csv": "gld,E06000015,2025/26,girls,75.5"}


def _commit(db: str, name: str, barrier=None, results=None):
    """Check and commit one upload (in its own process when given a barrier and a results queue)."""
    from derby_oa.storage import db as dbm
    from derby_oa.uploads import loader

    con = dbm.connect(Path(db))
    try:
        report = loader.validate(con, name, f"{HEADER}\n{UPLOADS[name]}\n".encode())
    finally:
        con.close()
    if barrier is not None:
        barrier.wait(timeout=300)
    try:
        out = loader.commit(report, Path(db), officer=name).upload_id
    except Exception as exc:  # noqa: BLE001 - reported to the test
        out = f"{type(exc).__name__}: {exc}"
    if results is not None:
        results.put((name, out))
    return out


def test_officers_write_while_sessions_browse(full_db, tmp_path, monkeypatch, capsys):
    from derby_oa import config
    from derby_oa.storage import db, store, write_lock

    live = tmp_path / "derby_oa.duckdb"
    shutil.copyfile(full_db, live)
    monkeypatch.setenv("DERBY_OA_DB", str(live))
    monkeypatch.setenv("DERBY_OA_WRITE_WAIT", "600")  # writers wait for each other: none may be refused here
    out, stop = bs.OUTPUT / "load-writes.json", tmp_path / "stop"
    out.unlink(missing_ok=True)
    done: dict = {}
    with bs.StreamlitServer(db=live, log=bs.OUTPUT / "server-load-writes.log") as server:
        driver = subprocess.Popen([sys.executable, str(DRIVER), "--url", server.url, "--sessions", str(WRITE_SESSIONS),
                                   "--seconds", "1200", "--timeout-ms", str(VISIT_TIMEOUT_MS), "--out", str(out),
                                   "--stop-file", str(stop)], cwd=bs.ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        try:
            # two officers commit at the same moment, from two processes
            ctx = multiprocessing.get_context("spawn")
            barrier, results = ctx.Barrier(2), ctx.Queue()
            procs = [ctx.Process(target=_commit, args=(str(live), name, barrier, results))
                     for name in ("officer-a.csv", "officer-b.csv")]
            for p in procs:
                p.start()
            done.update(results.get(timeout=600) for _ in procs)
            for p in procs:
                p.join(timeout=60)
            # a rebuild, with one commit while it reads the sources and one while it holds the lock
            build = subprocess.Popen([sys.executable, "-m", "derby_oa", "build"], cwd=bs.ROOT, env=dict(os.environ),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            done["during-build.csv"] = _commit(str(live), "during-build.csv")
            late = threading.Thread(target=lambda: done.update({"build-holds-lock.csv": _commit(
                str(live), "build-holds-lock.csv")}))
            lock, seen_lock = write_lock.lock_path(live), False
            while build.poll() is None and not seen_lock:  # poll the lock file: not an assertion
                seen_lock = lock.is_file() and lock.read_text().startswith("a build")
                time.sleep(0.02)
            late.start()  # waits for the build's lock (or, if the build already finished, commits after it)
            build_log = build.communicate(timeout=900)[0]
            late.join(timeout=900)
        finally:
            stop.touch()
            try:
                log = driver.communicate(timeout=2 * VISIT_TIMEOUT_MS / 1000 + 60)[0]
            except subprocess.TimeoutExpired:
                driver.kill()
                log = driver.communicate()[0]
        alive = server.proc.poll() is None
    assert build.returncode == 0, build_log[-3000:]
    assert sorted(done.values()) == [1, 2, 3, 4], done
    con = db.connect(live)
    try:
        held = dict(con.execute("SELECT file_name, upload_id FROM uploads WHERE NOT undone").fetchall())
        rows = con.execute("SELECT source_id, area_code, breakdown, value FROM observations "
                           "WHERE source_id LIKE 'upload:%' ORDER BY source_id").fetchall()
    finally:
        con.close()
    assert held == done
    expected = []
    for name, line in UPLOADS.items():
        _, area, _, breakdown, value = line.split(",")
        expected.append((f"upload:{done[name]}", area, breakdown, float(value)))
    assert sorted(rows) == sorted(expected)
    record = store.read_record(config.uploads_record_path(live))
    assert sorted(record["uploads"]["upload_id"]) == [1, 2, 3, 4]
    assert driver.returncode == 0, f"the load driver failed ({driver.returncode}):\n{log[-3000:]}"
    result = json.loads(out.read_text())
    visits = [v for s in result["sessions"] for v in s["visits"]]
    failures = [v for v in visits if v["errors"]]
    with capsys.disabled():
        print(f"\nload with writes: {WRITE_SESSIONS} sessions, {result['wall_seconds']} s, {len(visits)} visits, "
              f"{len(failures)} failed; uploads {done}; a commit waited for the build's lock: {seen_lock}")
    assert alive, "the server died while officers wrote:\n" + server.log_tail()
    assert not failures, f"{len(failures)} of {len(visits)} visits failed, e.g. {failures[:3]}"
    assert not [u for s in result["sessions"] for u in s["foreign"]], "requests left the machine"
    assert all(s["visits"] for s in result["sessions"]), "a session made no visit"

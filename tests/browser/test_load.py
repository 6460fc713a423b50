"""Load: 10 concurrent browser sessions click through every page for two minutes on loopback.

No visit may fail or show an exception, no request may leave the machine, and the server's memory
growth is measured and reported (test-output/load.json and the terminal). The run is bounded:
DERBY_OA_LOAD_SECONDS (default 120) for starting visits, per-visit timeouts, a visit cap per session.
Marked `soak`: left out of the default test run; the benchmark (bench/run.py) runs it, or
`python -m pytest -m soak tests/browser/test_load.py`.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
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

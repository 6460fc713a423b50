"""Performance benchmark: build, server time and SQL per page, queries at scale, browser against a floor, soak.

Usage (from the project root; the data mirror as for a build):
    python bench/run.py                       # full run, writes docs/performance.md
    python bench/run.py --quick               # 2 rounds, fewer repeats, no soak, last build reused
    python bench/run.py --quick --only browser --pages wards overview   # one part, some pages
    python bench/run.py --skip load           # without the two-minute, ten-session soak
    python bench/run.py --report-only         # rewrite the report from the last results
A quick run writes bench/output/performance-quick.md unless --doc says otherwise; parts skipped keep
their results from the previous run (each section says when and under what load it was measured).
Databases, synthetic data and server logs stay under bench/output/ (git-ignored).

What is measured (the targets of issue 14):
- build: `python -m derby_oa build` and `python -m derby_oa pack` as child processes: wall time and
  peak memory (ru_maxrss of that child, from wait4).
- server: each page under AppTest, warm: median and p95 of reruns; every SQL statement the page runs
  on those warm reruns, traced at the app's cursor (bench/query_trace.py), p95 per statement; the
  size of each pydeck JSON the page sends (the ward layer on Wards).
- queries: the query functions of derby_oa.queries on the real database and on a synthetic database
  of every English ward with the app's own indicators (bench/synthetic.py).
- browser: each page against the floor (a one-line page of the app itself, same server process:
  bench/browser_measure.py), interleaved floor, page, floor, page ..., on fresh visits (a new browser
  context) and on in-session navigation (sidebar clicks); wall time to drawn, browser CPU and
  JavaScript bytes; the median of the per-round ratios page / floor. Then the server's memory.
- load: the soak (`pytest -m soak tests/browser/test_load.py`).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "output"
DOC = ROOT / "docs" / "performance.md"
sys.path[:0] = [str(ROOT), str(BENCH), str(ROOT / "tests" / "browser")]

for _parent in ROOT.parents:  # the shared data mirror (../shared/data/raw from the project or a worktree)
    if not os.environ.get("DERBY_OA_DATA_MIRROR") and (_parent / "shared" / "data" / "raw").is_dir():
        os.environ["DERBY_OA_DATA_MIRROR"] = str(_parent / "shared" / "data" / "raw")
os.environ.setdefault("DERBY_OA_OFFLINE", "1")

BUILD_TODAY_S = 13.0  # the full build on a quiet machine before the page model (issue 14)
TARGETS = {
    "build_s": 1.5 * BUILD_TODAY_S, "pack_s": 30.0, "page_median_ms": 150.0, "browser_ratio": 1.5,
    "statement_p95_ms": 20.0, "query_p95_ms": 20.0, "synthetic_p95_ms": 100.0, "rss_mb": 400.0,
}
SECTIONS = ["build", "queries", "server", "browser", "load"]
MB = 1024 * 1024
IDLE_S = 3.0  # how long a drawn page is left idle to measure the browser's CPU while nothing happens


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear interpolation."""
    xs = sorted(values)
    if len(xs) == 1:
        return xs[0]
    k = (len(xs) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def med(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def load_avg() -> list[float]:
    return [round(x, 1) for x in os.getloadavg()]


def _clean(text: str) -> str:
    """Profile text with the project, site-packages and standard-library prefixes removed."""
    import altair

    site = str(Path(altair.__file__).resolve().parent.parent) + "/"
    stdlib = str(Path(pstats.__file__).resolve().parent) + "/"
    text = text.replace(str(ROOT) + "/", "").replace(site, "").replace(stdlib, "")
    return "\n".join(line.rstrip() for line in text.splitlines()
                     if line.strip() and not line.strip().startswith(("List reduced", "Ordered by")))


def table(headers: list[str], rows: list[list]) -> str:
    """A markdown table."""
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join("" if c is None else str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def mark(value: float | None, target: float) -> str:
    return "n/a" if value is None else ("met" if value <= target else "**missed**")


def r2(x, n: int = 2):
    return None if x is None else round(x, n)


# ---------------------------------------------------------------------------------------------- build

def child(cmd: list[str], env: dict | None = None, log: Path | None = None) -> dict:
    """Run a child process; its wall time, peak memory (ru_maxrss of that child) and exit code."""
    t0 = time.perf_counter()
    with open(log or os.devnull, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out,
                                stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": round(time.perf_counter() - t0, 2), "peak_mb": round(usage.ru_maxrss / 1024, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "exit": proc.returncode}


_DEFAULT_BUILD = """import sys
from pathlib import Path
from derby_oa.build.pipeline import build
build(Path(sys.argv[1]), adapters=())
"""


def bench_build(db: Path) -> dict:
    """The full build and the board pack as a reader's command runs them; the embedded default build."""
    out = {}
    env = {"DERBY_OA_DB": str(db)}
    out["full"] = child([sys.executable, "-m", "derby_oa", "build"], env, OUT / "build-full.log")
    out["full"]["mb"] = round(db.stat().st_size / MB, 1) if db.is_file() else None
    default = OUT / "default.duckdb"
    out["default"] = child([sys.executable, "-c", _DEFAULT_BUILD, str(default)], None, OUT / "build-default.log")
    out["default"]["mb"] = round(default.stat().st_size / MB, 1) if default.is_file() else None
    since = (date.today() - timedelta(days=30)).isoformat()
    pack = OUT / "board-pack.pdf"
    out["pack"] = child([sys.executable, "-m", "derby_oa", "pack", "--since", since, "--out", str(pack)], env,
                        OUT / "pack.log")
    out["pack"]["kb"] = round(pack.stat().st_size / 1024) if pack.is_file() else None
    for k in ("full", "default", "pack"):
        print(f"build {k:8} {out[k]['seconds']:7.2f} s, peak memory {out[k]['peak_mb']:7.1f} MB, exit {out[k]['exit']}")
    return out


def build_profile(db: Path) -> str:
    """cProfile of the full build in this process (derby_oa functions by cumulative time)."""
    from derby_oa.build.pipeline import build

    target = OUT / "profile.duckdb"
    prof = cProfile.Profile()
    prof.enable()
    try:
        build(target)
    finally:
        prof.disable()
        for p in OUT.glob("profile*.duckdb*"):
            p.unlink(missing_ok=True)
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("cumulative").print_stats(r"/derby_oa/", 25)
    stats.sort_stats("tottime").print_stats(10)
    return _clean(buf.getvalue())


# -------------------------------------------------------------------------------------- server time

def script_profile(at, runs: int = 3) -> str:
    """cProfile of `runs` AppTest reruns, taken in the script-runner thread where the page code runs."""
    import threading

    prof = cProfile.Profile()
    main = threading.get_ident()

    def start_in_thread(frame, event, arg):
        sys.setprofile(None)
        if threading.get_ident() != main:
            prof.enable()

    threading.setprofile(start_in_thread)
    try:
        for _ in range(runs):
            at.run()
    finally:
        threading.setprofile(None)
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("cumulative").print_stats(r"/derby_oa/|/pages/|site-packages/altair/", 22)
    stats.sort_stats("tottime").print_stats(12)
    return _clean(buf.getvalue())


def bench_server(db: Path, pages, repeats: int, profiles: bool = True) -> dict:
    """Each page under AppTest: its first run with empty caches and the SQL statements that run runs (each
    then re-timed `repeats` times, p95); warm rerun times and the statements warm reruns still run; the
    pydeck JSON sizes."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import query_trace
    from derby_oa.storage.db import connect

    try:
        from derby_oa.storage import read_cache
    except ImportError:
        read_cache = None
    os.environ["DERBY_OA_DB"] = str(db)
    os.environ.setdefault("DERBY_OA_PAGE_ERRORS", "raise")
    rows, apps, statements, cold_statements = {}, {}, [], []
    con = connect(db)
    with query_trace.tracing() as tracer:
        for spec in pages:
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
            at.run()
            st.cache_data.clear()  # the page's first run after a new database version: nothing kept
            st.cache_resource.clear()
            if read_cache is not None:
                read_cache.clear()
            cold = tracer.start()
            at.switch_page(spec.script)
            t0 = time.perf_counter()
            at.run()
            cold_ms = (time.perf_counter() - t0) * 1000
            cold = list(cold)
            at.run()  # caches filled
            at.run()  # a page may fill a cache on its second run (e.g. after a widget's default is set)
            if at.exception:
                rows[spec.url_path] = {"error": str(at.exception[0].message)[:300]}
                print(f"server {spec.url_path:15} error: {rows[spec.url_path]['error']}")
                continue
            times, per_run, sql_ms = [], [], []
            traced: dict[tuple, list[float]] = {}
            for _ in range(repeats):
                log = tracer.start()
                t0 = time.perf_counter()
                at.run()
                times.append((time.perf_counter() - t0) * 1000)
                per_run.append(len(log))
                sql_ms.append(sum(s["ms"] for s in log))
                for s in log:
                    traced.setdefault((s["sql"], s["params"]), []).append(s["ms"])
            for s in query_trace.retime(con, cold, max(repeats, 5)):
                cold_statements.append({"page": spec.url_path, **s})
            decks = [len(d.proto.json.encode()) for d in at.get("deck_gl_json_chart")]
            rows[spec.url_path] = {
                "median_ms": round(statistics.median(times), 1), "p95_ms": round(pct(times, 95), 1),
                "cold_ms": round(cold_ms, 1), "cold_statements": len(cold),
                "cold_sql_ms": round(sum(s["ms"] for s in cold), 1),
                "elements": len(at.main.children), "statements_per_run": statistics.median(per_run),
                "sql_ms_per_run": round(statistics.median(sql_ms), 1), "deck_json_bytes": decks,
                "charts": len(at.get("vega_lite_chart"))}
            for (sql, params), ms in traced.items():
                statements.append({"page": spec.url_path, "sql": sql, "params": params, "runs": len(ms),
                                   "per_rerun": round(len(ms) / repeats, 2), "median_ms": round(statistics.median(ms), 2),
                                   "p95_ms": round(pct(ms, 95), 2)})
            apps[spec.url_path] = at
            r = rows[spec.url_path]
            print(f"server {spec.url_path:15} warm median {r['median_ms']:7.1f} ms, p95 {r['p95_ms']:7.1f} ms, "
                  f"{r['statements_per_run']:g} statements per rerun; first run {r['cold_ms']:7.1f} ms with "
                  f"{r['cold_statements']} statements ({r['cold_sql_ms']} ms)"
                  + (f"; pydeck JSON {', '.join(f'{b / 1024:.0f} KB' for b in decks)}" if decks else ""), flush=True)
    con.close()
    slow = sorted((r["median_ms"], k) for k, r in rows.items() if r.get("median_ms", 0) > TARGETS["page_median_ms"])
    profs = {key: script_profile(apps[key]) for _, key in slow[::-1][:3]} if profiles else {}
    statements.sort(key=lambda s: -s["p95_ms"])
    cold_statements.sort(key=lambda s: -s.get("p95_ms", 1e9))
    return {"pages": rows, "statements": statements, "cold_statements": cold_statements, "profiles": profs,
            "repeats": repeats}


# ------------------------------------------------------------------------------------------ queries

class _Recorder:
    """A connection stand-in that records every statement a query function executes."""

    def __init__(self, con):
        self._con, self.statements = con, []

    def execute(self, sql, params=None):
        self.statements.append((sql, params))
        return self._con.execute(sql, params or [])

    def __getattr__(self, name):
        return getattr(self._con, name)


def sql_profile(fn, con, repeats: int = 20) -> str:
    """Each statement of a query function: DuckDB execution vs conversion to pandas (medians), and its SQL."""
    rec = _Recorder(con)
    fn(rec)
    out = []
    for i, (sql, params) in enumerate(rec.statements, 1):
        execute, fetch, rows = [], [], 0
        for _ in range(repeats):
            t0 = time.perf_counter()
            result = con.execute(sql, params or [])
            t1 = time.perf_counter()
            rows = len(result.df())
            t2 = time.perf_counter()
            execute.append((t1 - t0) * 1000)
            fetch.append((t2 - t1) * 1000)
        one_line = " ".join(sql.split())
        out.append(f"statement {i}: DuckDB execution {statistics.median(execute):.1f} ms, conversion to pandas "
                   f"{statistics.median(fetch):.1f} ms, {rows} rows\n  {one_line[:700]}")
    return "\n".join(out) or "no SQL statement recorded"


def bench_queries(cases, real_con, synth_con, repeats: int) -> dict:
    """Median and p95 latency of each query case on the real and the synthetic database."""
    def timed(fn, con):
        try:
            for _ in range(2):
                result = fn(con)
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                fn(con)
                times.append((time.perf_counter() - t0) * 1000)
        except Exception as exc:  # noqa: BLE001 - a broken case is reported, not fatal
            return {"error": f"{type(exc).__name__}: {exc}"[:200]}
        rows = len(result) if hasattr(result, "__len__") else 1
        return {"median_ms": round(statistics.median(times), 2), "p95_ms": round(pct(times, 95), 2), "rows": rows}

    out, profiles = [], {}
    for label, real_fn, synth_fn in cases:
        row = {"label": label, "real": timed(real_fn, real_con),
               "synthetic": timed(synth_fn, synth_con) if synth_fn and synth_con is not None else None}
        out.append(row)
        print(f"query {label[:60]:60} real {row['real'].get('p95_ms', row['real'].get('error'))} ms"
              + (f"  synthetic {row['synthetic'].get('p95_ms', row['synthetic'].get('error'))} ms"
                 if row["synthetic"] else ""))
        for side, fn, con, target in (("real", real_fn, real_con, TARGETS["query_p95_ms"]),
                                      ("synthetic", synth_fn, synth_con, TARGETS["synthetic_p95_ms"])):
            res = row[side]
            if res and res.get("p95_ms", 0) > target:
                profiles[f"{label} ({side})"] = sql_profile(fn, con)
    return {"cases": out, "profiles": profiles, "repeats": repeats}


# ------------------------------------------------------------------------------------------ browser

def _summary(pairs: list[tuple], floor_key: str = "floor") -> dict:
    """Medians of a page's rounds (each a (floor visit, page visit) pair) and of the per-round ratios."""
    ok = [(f, v) for f, v in pairs if f is not None and v is not None]
    if not ok:
        return {}
    return {
        "rounds": len(ok), "floor_s": r2(med(f.seconds for f, _ in ok), 3), "page_s": r2(med(v.seconds for _, v in ok), 3),
        "ratio": r2(med(v.seconds / f.seconds for f, v in ok)),
        "ratio_rounds": [r2(v.seconds / f.seconds) for f, v in ok],
        "task_s": r2(med(v.task_s for _, v in ok)), "script_s": r2(med(v.script_s for _, v in ok)),
        "cpu_s": r2(med(v.cpu_s for _, v in ok)), "floor_task_s": r2(med(f.task_s for f, _ in ok)),
        "floor_cpu_s": r2(med(f.cpu_s for f, _ in ok)),
        "js_kb": r2(med(v.js_bytes for _, v in ok) / 1024, 0), "floor_js_kb": r2(med(f.js_bytes for f, _ in ok) / 1024, 0),
        "charts": ok[-1][1].charts, "maps": ok[-1][1].maps, "images": ok[-1][1].images,
    }


def bench_browser(db: Path, pages, rounds: int) -> dict:
    """Every page against the floor, interleaved, fresh visits then in-session navigation; server memory."""
    import browser_measure as bm
    import browser_support as bs
    from playwright.sync_api import sync_playwright

    app = bm.floor_app(ROOT, OUT / "floor_app")
    floor_path, floor_title = bm.FLOOR
    start_path, start_title = bm.START
    out: dict = {"rounds": rounds, "pages": {}, "idle_s": IDLE_S}
    errors: dict[str, list[str]] = {}

    def guarded(key, fn, *args, **kwargs):
        try:
            v = fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a failed visit is reported, the run goes on
            errors.setdefault(key, []).append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            return None
        visit = v[0] if isinstance(v, tuple) else v
        if getattr(visit, "errors", None):
            errors.setdefault(key, []).extend(e[:200] for e in visit.errors)
        return v

    with sync_playwright() as p:
        browser = bm.launch(p)
        try:
            with bs.StreamlitServer(script=app, db=db, log=OUT / "server-browser.log") as server:
                out["rss_start_mb"] = round(server.rss() / MB, 1)
                # The first session after a start is routed by app.py only from the root URL (legacy pages/
                # mode otherwise); then one visit to the floor and every page fills the server's caches.
                guarded("warm-up", bm.fresh_visit, browser, server, "")
                for path in [floor_path] + [bm.page_path(s) for s in pages]:
                    guarded("warm-up", bm.fresh_visit, browser, server, path)
                out["rss_warm_mb"] = round(server.rss() / MB, 1)
                visits = {s.url_path: 1 for s in pages}
                # Fresh visits: a new browser context each (nothing cached), floor then page, `rounds` times.
                idle_floor = None
                for spec in pages:
                    path, pairs, idle = bm.page_path(spec), [], None
                    for r in range(rounds):
                        last = r == rounds - 1
                        f = guarded(spec.url_path, bm.fresh_visit, browser, server, floor_path,
                                    idle_s=IDLE_S if last and idle_floor is None else 0)
                        v = guarded(spec.url_path, bm.fresh_visit, browser, server, path,
                                    idle_s=IDLE_S if last else 0)
                        if f and f[1] is not None:
                            idle_floor = f[1]
                        if v and v[1] is not None:
                            idle = v[1]
                        pairs.append((f[0] if f else None, v[0] if v else None))
                        visits[spec.url_path] += 1
                    row = {"fresh": _summary(pairs), "idle_cpu_ms_per_s": idle}
                    out["pages"][spec.url_path] = row
                    fr = row["fresh"]
                    if fr:
                        print(f"browser fresh   {spec.url_path:15} {fr['page_s']:6.2f} s vs floor {fr['floor_s']:5.2f} s: "
                              f"ratio {fr['ratio']:5.2f}; CPU main {fr['task_s']} s, all {fr['cpu_s']} s; "
                              f"JS {fr['js_kb']:.0f} KB; idle {idle} ms/s", flush=True)
                out["floor_idle_cpu_ms_per_s"] = idle_floor
                # In-session: one tab per page, moving by sidebar clicks from the start page; a first,
                # unmeasured click loads the page's JavaScript; then floor and page alternately.
                for spec in pages:
                    path, pairs, first = bm.page_path(spec), [], None
                    session = guarded(spec.url_path, bm.Session, browser, server)
                    if session is None:
                        continue
                    try:
                        first = guarded(spec.url_path, session.click, spec.title, path)
                        guarded(spec.url_path, session.click, start_title, start_path)
                        visits[spec.url_path] += 1
                        for _ in range(rounds):
                            f = guarded(spec.url_path, session.click, floor_title, floor_path)
                            guarded(spec.url_path, session.click, start_title, start_path)
                            v = guarded(spec.url_path, session.click, spec.title, path)
                            guarded(spec.url_path, session.click, start_title, start_path)
                            pairs.append((f, v))
                            visits[spec.url_path] += 1
                    finally:
                        session.close()
                    row = out["pages"].setdefault(spec.url_path, {})
                    row["session"] = _summary(pairs)
                    row["session"]["first_click_s"] = r2(first.seconds, 3) if first else None
                    row["session"]["first_click_js_kb"] = round(first.js_bytes / 1024) if first else None
                    se = row["session"]
                    if se.get("rounds"):
                        print(f"browser session {spec.url_path:15} {se['page_s']:6.2f} s vs floor {se['floor_s']:5.2f} s: "
                              f"ratio {se['ratio']:5.2f}; CPU main {se['task_s']} s, all {se['cpu_s']} s; "
                              f"first click {se['first_click_s']} s, JS {se['first_click_js_kb']} KB", flush=True)
                out["visits_per_page"] = visits
                out["rss_after_mb"] = round(server.rss() / MB, 1)
                print(f"server RSS: {out['rss_start_mb']} MB at start, {out['rss_warm_mb']} MB warm, "
                      f"{out['rss_after_mb']} MB after {min(visits.values())}+ visits of every page")
        finally:
            browser.close()
    out["errors"] = {k: sorted(set(v)) for k, v in errors.items()}
    return out


# ------------------------------------------------------------------------------------------- report

def versions() -> dict:
    import duckdb
    import streamlit

    try:
        chromium = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True,
                                  timeout=30).stdout.strip()
    except OSError:
        chromium = "not installed"
    return {"python": platform.python_version(), "streamlit": streamlit.__version__, "duckdb": duckdb.__version__,
            "chromium": chromium, "cpus": os.cpu_count(), "machine": platform.machine()}


def _when(part: dict) -> list[str]:
    bits = []
    if part.get("measured_at"):
        bits.append(f"Section finished {part['measured_at']}" + (" (quick run)" if part.get("quick") else ""))
    if part.get("load_before"):
        bits.append(f"load average (1, 5, 15 min) {part['load_before']} before, {part.get('load_avg')} after")
    return [". ".join(bits) + ".", ""] if bits else []


def _sql_cell(sql: str, n: int = 160) -> str:
    return "`" + sql[:n].replace("|", "\\|").replace("`", "'") + ("..." if len(sql) > n else "") + "`"


def summary_rows(res: dict) -> list[list]:
    b, s, q, br = res.get("build"), res.get("server"), res.get("queries"), res.get("browser")
    rows = []
    if b:
        f = b["full"]
        rows.append(["Full build (`python -m derby_oa build`)", f"{f['seconds']} s",
                     f"<= {TARGETS['build_s']:g} s (1.5 x {BUILD_TODAY_S:g} s)", mark(f["seconds"], TARGETS["build_s"])])
        rows.append(["Full build, peak memory", f"{f['peak_mb']} MB", "reported", "-"])
        if "pack" in b:
            rows.append(["Board pack (`python -m derby_oa pack`)", f"{b['pack']['seconds']} s, peak {b['pack']['peak_mb']} MB",
                         f"<= {TARGETS['pack_s']:g} s", mark(b["pack"]["seconds"], TARGETS["pack_s"])])
    if s:
        timed = [(r["median_ms"], k) for k, r in s["pages"].items() if "median_ms" in r]
        if timed:
            worst = max(timed)
            over = sum(1 for v, _ in timed if v > TARGETS["page_median_ms"])
            rows.append(["Warm server time per page, median (worst page)", f"{worst[0]} ms ({worst[1]}); "
                         f"{over} of {len(timed)} pages over", f"<= {TARGETS['page_median_ms']:g} ms",
                         mark(worst[0], TARGETS["page_median_ms"])])
        broken = [k for k, r in s["pages"].items() if "error" in r]
        if broken:
            rows.append(["Pages that failed under AppTest", ", ".join(broken), "none", "**missed**"])
        cold = [x for x in s.get("cold_statements", []) if "p95_ms" in x]
        if cold:
            worst = cold[0]
            over = sum(1 for x in cold if x["p95_ms"] > TARGETS["statement_p95_ms"])
            rows.append(["SQL statement a page runs (first run, caches empty), p95 of re-runs, real data (worst)",
                         f"{worst['p95_ms']} ms ({worst['page']}); {over} of {len(cold)} over",
                         f"<= {TARGETS['statement_p95_ms']:g} ms", mark(worst["p95_ms"], TARGETS["statement_p95_ms"])])
        warm = s.get("statements", [])
        rows.append(["SQL statements a warm rerun runs (all pages)",
                     f"{len(warm)} distinct" + (f", worst p95 {warm[0]['p95_ms']} ms ({warm[0]['page']})" if warm else ""),
                     f"each <= {TARGETS['statement_p95_ms']:g} ms",
                     mark(warm[0]["p95_ms"] if warm else 0, TARGETS["statement_p95_ms"])])
        firsts = [(r["cold_ms"], k) for k, r in s["pages"].items() if "cold_ms" in r]
        if firsts:
            rows.append(["A page's first run after a new database version (worst)", f"{max(firsts)[0]} ms ({max(firsts)[1]})",
                         "reported", "-"])
        wards = s["pages"].get("wards", {})
        if wards.get("deck_json_bytes") is not None:
            rows.append(["Ward layers sent to the browser (pydeck JSON on Wards)",
                         ", ".join(f"{b_ / 1024:.0f} KB" for b_ in wards["deck_json_bytes"]) or "no map drawn",
                         "reported (small)", "-"])
    if q:
        real = [(c["real"]["p95_ms"], c["label"]) for c in q["cases"] if "p95_ms" in c["real"]]
        syn = [(c["synthetic"]["p95_ms"], c["label"]) for c in q["cases"]
               if c["synthetic"] and "p95_ms" in c["synthetic"]]
        if real:
            rows.append(["Query function p95, real data (worst)", f"{max(real)[0]} ms ({max(real)[1]})",
                         f"<= {TARGETS['query_p95_ms']:g} ms", mark(max(real)[0], TARGETS["query_p95_ms"])])
        if syn:
            rows.append(["Query function p95, every English ward (worst)", f"{max(syn)[0]} ms ({max(syn)[1]})",
                         f"<= {TARGETS['synthetic_p95_ms']:g} ms", mark(max(syn)[0], TARGETS["synthetic_p95_ms"])])
    if br:
        for kind, label in (("fresh", "fresh visit"), ("session", "in-session navigation")):
            got = [(r[kind]["ratio"], k) for k, r in br["pages"].items() if r.get(kind, {}).get("ratio") is not None]
            if got:
                worst = max(got)
                over = sum(1 for v, _ in got if v > TARGETS["browser_ratio"])
                rows.append([f"Page / floor, {label}, median of rounds (worst page)",
                             f"{worst[0]} ({worst[1]}); {over} of {len(got)} pages over",
                             f"<= {TARGETS['browser_ratio']:g}", mark(worst[0], TARGETS["browser_ratio"])])
        if br.get("rss_after_mb") is not None:
            n = min(br.get("visits_per_page", {0: 0}).values())
            rows.append([f"Server memory (RSS) after {n} visits of every page", f"{br['rss_after_mb']} MB",
                         f"<= {TARGETS['rss_mb']:g} MB", mark(br["rss_after_mb"], TARGETS["rss_mb"])])
    return rows


def report(res: dict) -> str:
    v = res["versions"]
    lines = [
        "# Performance",
        "",
        f"Written by `python bench/run.py` on {res['date']}. Machine: {v['cpus']} CPUs ({v['machine']}), "
        f"Python {v['python']}, Streamlit {v['streamlit']}, DuckDB {v['duckdb']}, {v['chromium']}. Each section says "
        "when it was measured and the load average (1, 5, 15 min) around it: the machine is shared, and timings "
        "from a busy machine are inflated; the browser ratios compare page and floor measured side by side, "
        "so they suffer least. Re-run the command to refresh this file; `--quick` runs are for trying changes.",
        "",
        "## Summary against the targets",
        "",
        table(["measure", "result", "target", "status"], summary_rows(res)),
        "",
    ]
    b, s, q, br = res.get("build"), res.get("server"), res.get("queries"), res.get("browser")
    if b:
        lines += ["## Build and board pack", "", *_when(b),
                  "Each is a child process, as a reader runs it; peak memory is that process's maximum resident "
                  "set (ru_maxrss from wait4). *Default*: the database embedded without published sources.", "",
                  table(["command", "seconds", "peak memory MB", "CPU s", "output"],
                        [["`python -m derby_oa build` (full)", b["full"]["seconds"], b["full"]["peak_mb"],
                          b["full"].get("cpu_s"), f"{b['full'].get('mb')} MB"],
                         ["default build (no published sources)", b["default"]["seconds"], b["default"]["peak_mb"],
                          b["default"].get("cpu_s"), f"{b['default'].get('mb')} MB"]]
                        + ([["`python -m derby_oa pack` (board pack PDF)", b["pack"]["seconds"], b["pack"]["peak_mb"],
                             b["pack"].get("cpu_s"), f"{b['pack'].get('kb')} KB"]] if "pack" in b else [])), ""]
    if s:
        lines += ["## Server time per page (AppTest: warm reruns, and the first run with caches empty)", "", *_when(s),
                  "Each page's first run is made with every cache emptied (Streamlit's and the app's kept results), "
                  "as after a new database version; then two runs fill the caches and "
                  f"{s['repeats']} more are timed in the same session (*warm*: their median and p95). Every SQL "
                  "statement is traced at the app's cursor (`bench/query_trace.py`): execution plus the fetch that "
                  "follows, as the page runs it; a statement the app answers from a cache is not run and not "
                  "counted. Each read statement of the first run is then re-run on its own "
                  f"{max(s['repeats'], 5)} times on the real database for its p95. *pydeck JSON*: the size of each "
                  "map's JSON the page sends to the browser (the ward layer on Wards).", "",
                  table(["page", "warm median ms", "warm p95 ms", "statements per warm rerun", "SQL ms per warm rerun",
                         "first run ms", "statements in first run", "their SQL ms", "charts", "pydeck JSON KB", "target"],
                        [[k, r.get("median_ms", r.get("error")), r.get("p95_ms"), r.get("statements_per_run"),
                          r.get("sql_ms_per_run"), r.get("cold_ms"), r.get("cold_statements"), r.get("cold_sql_ms"),
                          r.get("charts"),
                          ", ".join(f"{x / 1024:.0f}" for x in r.get("deck_json_bytes", [])) or "-",
                          mark(r.get("median_ms"), TARGETS["page_median_ms"])] for k, r in s["pages"].items()]), ""]
        cold = [x for x in s.get("cold_statements", []) if "p95_ms" in x]
        broken = [x for x in s.get("cold_statements", []) if "error" in x]
        if cold:
            over = [x for x in cold if x["p95_ms"] > TARGETS["statement_p95_ms"]]
            shown = (over or cold[:10])[:40]
            lines += ["### Statements of a page's first run, slowest first", "",
                      f"{len(cold)} distinct read statements (SQL and parameters) across the pages; "
                      + (f"{len(over)} over {TARGETS['statement_p95_ms']:g} ms p95"
                         + (", the 40 slowest listed." if len(over) > 40 else ", listed.") if over
                         else "none over the target; the ten slowest:"), "",
                      table(["page", "p95 ms", "median ms", "in the page ms", "rows", "statement"],
                            [[x["page"], x["p95_ms"], x["median_ms"], x["in_page_ms"], x["rows"], _sql_cell(x["sql"])]
                             for x in shown]), ""]
        if broken:
            lines += ["Statements that could not be re-run on their own: "
                      + "; ".join(f"{x['page']}: {x['error']}" for x in broken[:10]), ""]
        sts = s.get("statements", [])
        lines += ["### Statements a warm rerun still runs", "",
                  (f"{len(sts)} distinct statements; slowest first:" if sts else "None: every page's warm rerun is "
                   "answered from its caches."), ""]
        if sts:
            lines += [table(["page", "p95 ms", "median ms", "per rerun", "statement"],
                            [[x["page"], x["p95_ms"], x["median_ms"], x["per_rerun"], _sql_cell(x["sql"])]
                             for x in sts[:40]]), ""]
    if q:
        syn = res.get("synthetic", {})
        lines += ["## Query functions, real data and every English ward", "", *_when(q),
                  f"Each query function of `derby_oa.queries` as the app calls it (SQL and conversion to a data "
                  f"frame), {q['repeats']} runs after 2 warm-up runs. *Real*: the full database. *Synthetic*: a "
                  f"separate database of generated values (bench/synthetic.py) for every English ward with the app's "
                  f"own indicators: {syn.get('wards', '?')} wards in {syn.get('las', '?')} local authorities, "
                  f"{syn.get('indicators', '?')} indicators, 10 years, {syn.get('observations', '?')} observations "
                  f"({syn.get('mb', '?')} MB, generated in {syn.get('seconds', '?')} s). Synthetic values are never "
                  "shown in the app.", "",
                  table(["query", "real median ms", "real p95 ms", "rows", "synthetic median ms", "synthetic p95 ms",
                         "rows"],
                        [[c["label"], c["real"].get("median_ms", c["real"].get("error")), c["real"].get("p95_ms", ""),
                          c["real"].get("rows", ""),
                          *(["-", "-", "-"] if not c["synthetic"] else
                            [c["synthetic"].get("median_ms", c["synthetic"].get("error")),
                             c["synthetic"].get("p95_ms", ""), c["synthetic"].get("rows", "")])]
                         for c in q["cases"]]), ""]
    if br:
        lines += ["## Browser: every page against the floor", "", *_when(br),
                  "Chromium (headless, software WebGL) on loopback against one server process. **The floor** is a "
                  "page of the app itself: the real app.py, run unchanged from a copy of the project made of links "
                  "(bench/output/floor_app), with two one-line pages added to its navigation (`bench_floor`, "
                  "`bench_start`), so it has the same config, theme, sidebar and page chrome as every page. "
                  f"Each page is measured interleaved with the floor (floor, page, floor, page ...), {br['rounds']} "
                  "rounds, and the ratio is the median of the per-round ratios page / floor. Every page and the floor "
                  "were visited once first (server caches warm).", "",
                  "*Drawn*: the script run is over, the status widget has gone, nothing is stale, every visible "
                  "Vega-Lite chart has drawn its marks, every image in the main area has loaded, every visible data "
                  "grid has drawn, and every visible map's WebGL canvas holds drawn pixels (read back after a draw "
                  "call, before the frame is shown; a canvas alone is not enough), held for 300 ms; the time is when "
                  "it first held. *CPU main*: the page's renderer main thread (CDP Performance.getMetrics "
                  "TaskDuration; *script*: ScriptDuration). *CPU all*: every chromium process (browser, renderer, "
                  "GPU process where software WebGL draws), from /proc. *JS*: bytes of script responses "
                  "(CDP Network, as transferred).", "",
                  "### Fresh visit (a new browser context: nothing cached)", "",
                  table(["page", "floor s", "page s", "ratio", "per round", "CPU main s (floor)", "script s",
                         "CPU all s (floor)", "JS KB (floor)", f"idle CPU ms/s ({br.get('idle_s', IDLE_S):g} s)",
                         "charts", "maps", "images", "target"],
                        [[k, f.get("floor_s"), f.get("page_s"), f.get("ratio"), " ".join(map(str, f.get("ratio_rounds", []))),
                          f"{f.get('task_s')} ({f.get('floor_task_s')})", f.get("script_s"),
                          f"{f.get('cpu_s')} ({f.get('floor_cpu_s')})", f"{f.get('js_kb'):.0f} ({f.get('floor_js_kb'):.0f})"
                          if f.get("js_kb") is not None else "", r.get("idle_cpu_ms_per_s"), f.get("charts"), f.get("maps"),
                          f.get("images"), mark(f.get("ratio"), TARGETS["browser_ratio"])]
                         for k, r in br["pages"].items() for f in [r.get("fresh", {})]]), "",
                  f"Idle CPU of the floor: {br.get('floor_idle_cpu_ms_per_s')} ms/s.", "",
                  "### In-session navigation (sidebar clicks)", "",
                  "One browser tab per page, opened at `bench_start`; a first, unmeasured click to the page loads its "
                  "JavaScript (its time and script bytes are shown); then the rounds: click the floor, back to the "
                  "start, click the page, back to the start. Time from the click to drawn.", "",
                  table(["page", "floor s", "page s", "ratio", "per round", "CPU main s (floor)", "CPU all s (floor)",
                         "first click s", "first click JS KB", "target"],
                        [[k, se.get("floor_s"), se.get("page_s"), se.get("ratio"),
                          " ".join(map(str, se.get("ratio_rounds", []))), f"{se.get('task_s')} ({se.get('floor_task_s')})",
                          f"{se.get('cpu_s')} ({se.get('floor_cpu_s')})", se.get("first_click_s"),
                          se.get("first_click_js_kb"), mark(se.get("ratio"), TARGETS["browser_ratio"])]
                         for k, r in br["pages"].items() for se in [r.get("session", {})]]), "",
                  f"Server memory (RSS, the server and its children): {br.get('rss_start_mb')} MB after start, "
                  f"{br.get('rss_warm_mb')} MB after one visit to every page, **{br.get('rss_after_mb')} MB** after "
                  f"{json.dumps(br.get('visits_per_page', {}))} visits.", ""]
        if br.get("errors"):
            lines += ["Errors seen while measuring: " + json.dumps(br["errors"]), ""]
    load_file = ROOT / "test-output" / "load.json"
    if "load" in res and load_file.is_file():
        ld = json.loads(load_file.read_text())
        if "memory" in ld:
            m, sm = ld["memory"], ld["summary"]
            stamp = datetime.fromtimestamp(load_file.stat().st_mtime, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            lines += ["## Soak (tests/browser/test_load.py, `pytest -m soak`)", "", *_when(res["load"]),
                      f"{len(ld['sessions'])} concurrent browser sessions clicking through every page on loopback "
                      f"for {ld['wall_seconds']} s ({stamp}; pytest exit {res['load'].get('exit')}): {sm['visits']} "
                      f"page visits, {sm['failures']} failed; time to a rendered page median {sm['median_s']} s, max "
                      f"{sm['max_s']} s. Server RSS {m['rss_before_mb']} MB before (after one visit to every page), "
                      f"peak {m['rss_peak_mb']} MB, {m['rss_after_mb']} MB after: growth {m['growth_mb']} MB.", ""]
    profiles = []
    if b and b.get("profile"):
        profiles.append(("Build (derby_oa functions, cumulative)", b["profile"]))
    for key, text in (s or {}).get("profiles", {}).items():
        profiles.append((f"Page `{key}`: 3 warm AppTest runs, profiled in the script thread", text))
    for key, text in (q or {}).get("profiles", {}).items():
        profiles.append((f"Query: {key} (medians of 20 runs per statement)", text))
    analysis = BENCH / "analysis.md"
    if analysis.is_file():
        lines += ["## Analysis", "", analysis.read_text().strip(), ""]
    if profiles:
        lines += ["## Profiles of targets missed", ""]
        for title, text in profiles:
            lines += [f"### {title}", "", "```", text, "```", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description="Derby OA dashboard performance benchmark")
    ap.add_argument("--quick", action="store_true",
                    help="2 browser rounds, fewer repeats; without --only, no soak and the last build reused")
    ap.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these parts")
    ap.add_argument("--skip", nargs="+", default=[], choices=SECTIONS,
                    help="parts to skip (the build is reused from bench/output if there is one)")
    ap.add_argument("--pages", nargs="+", help="only these pages (url paths, e.g. wards overview)")
    ap.add_argument("--rounds", type=int, help="browser rounds (default 5, quick 2)")
    ap.add_argument("--doc", type=Path, help="where to write the report (default docs/performance.md; "
                                             "a quick run: bench/output/performance-quick.md)")
    ap.add_argument("--report-only", action="store_true", help="rewrite the report from bench/output/results.json")
    args = ap.parse_args()
    doc = args.doc or (OUT / "performance-quick.md" if args.quick else DOC)
    OUT.mkdir(parents=True, exist_ok=True)
    results = OUT / "results.json"
    if args.report_only:
        doc.write_text(report(json.loads(results.read_text())) + "\n")
        print(f"written: {doc}")
        return
    run = [p for p in (args.only or SECTIONS) if p not in args.skip]
    if args.quick and not args.only:  # minutes: the last build is reused, and the soak is left out
        run = [p for p in run if p not in ("build", "load")]
    import browser_support as bs

    pages = bs.app_pages()
    if args.pages:
        wanted = {p.strip("/") for p in args.pages}
        pages = [p for p in pages if p.url_path in wanted or (p.default and wanted & {"", "overview"})]
    db = OUT / "full.duckdb"
    res = json.loads(results.read_text()) if results.is_file() and set(run) != set(SECTIONS) else {}
    res.update({"date": date.today().isoformat(), "versions": versions()})
    rounds = args.rounds or (2 if args.quick else 5)

    def measured(part: str, fn, *a, **kw) -> dict:
        before, t0 = load_avg(), time.perf_counter()
        print(f"== {part} (load average {before})", flush=True)
        result = fn(*a, **kw)
        res[part] = {**result, "load_before": before, "load_avg": load_avg(), "quick": args.quick,
                     "measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                     "wall_s": round(time.perf_counter() - t0)}
        results.write_text(json.dumps(res, indent=1, default=str))
        return res[part]

    if "build" in run or not db.is_file():
        b = measured("build", bench_build, db)
        if b["full"]["seconds"] > TARGETS["build_s"] and not args.quick:
            b["profile"] = build_profile(db)
    if "queries" in run:
        import synthetic
        import query_cases
        from derby_oa.storage.db import connect

        def queries():
            syn_db = OUT / "synthetic.duckdb"
            counts = synthetic.build(syn_db, indicators_from=db)
            res["synthetic"] = {**counts, "mb": round(counts["bytes"] / MB, 1)}
            print(f"synthetic: {counts}")
            real_con, syn_con = connect(db), connect(syn_db)
            try:
                return bench_queries(query_cases.cases(real_con, syn_con), real_con, syn_con,
                                     repeats=10 if args.quick else 50)
            finally:
                real_con.close()
                syn_con.close()
        measured("queries", queries)
    if "server" in run:
        measured("server", bench_server, db, pages, 4 if args.quick else 15, not args.quick)
    if "browser" in run:
        measured("browser", bench_browser, db, pages, rounds)
    if "load" in run:  # the soak, kept out of the default test run (marker `soak`)
        def soak():
            done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "soak", "tests/browser/test_load.py"],
                                  cwd=ROOT)
            return {"exit": done.returncode}
        measured("load", soak)
    results.write_text(json.dumps(res, indent=1, default=str))
    text = report(res)
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text + "\n")
    print()
    print(text.split("## Profiles")[0])
    print(f"written: {doc}")


if __name__ == "__main__":
    main()

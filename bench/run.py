"""Performance benchmark: build, server time per page, browser time per page, queries, scale, memory.

Usage (from the project root, with the data mirror configured as for a build):
    python bench/run.py            # full run (about 25 minutes on 2 cores), writes docs/performance.md
    python bench/run.py --quick    # fewer repeats, for trying changes
    python bench/run.py --skip load  # without the two-minute, ten-session soak (tests/browser/test_load.py)
    python bench/run.py --report-only   # rewrite the report from the last results (bench/analysis.md edited)
Prints the tables and writes docs/performance.md (and bench/output/results.json). Databases, the
synthetic data and servers' logs stay under bench/output/ (git-ignored). Any target missed is
explained with a profile in the report; hand-written analysis in bench/analysis.md is included.
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
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "output"
DOC = ROOT / "docs" / "performance.md"
sys.path[:0] = [str(ROOT), str(BENCH), str(ROOT / "tests" / "browser")]

DEFAULT_MIRROR = ROOT.parent / "shared" / "data" / "raw"
if not os.environ.get("DERBY_OA_DATA_MIRROR") and DEFAULT_MIRROR.is_dir():
    os.environ["DERBY_OA_DATA_MIRROR"] = str(DEFAULT_MIRROR)
os.environ.setdefault("DERBY_OA_OFFLINE", "1")

TARGETS = {
    "build_s": 15.0, "page_median_ms": 150.0, "browser_ratio": 1.5, "query_p95_ms": 20.0,
    "synthetic_p95_ms": 100.0, "rss_mb": 400.0, "pack_s": 30.0,
}
MB = 1024 * 1024
FLOOR_APP = 'import streamlit as st; st.write("Benchmark floor: a one-line Streamlit page.")\n'


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), linear interpolation."""
    xs = sorted(values)
    if len(xs) == 1:
        return xs[0]
    k = (len(xs) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def _clean(text: str) -> str:
    """Profile text with the project, site-packages and standard-library prefixes removed."""
    import altair

    site = str(Path(altair.__file__).resolve().parent.parent) + "/"
    stdlib = str(Path(pstats.__file__).resolve().parent) + "/"
    text = text.replace(str(ROOT) + "/", "").replace(site, "").replace(stdlib, "")
    return "\n".join(line.rstrip() for line in text.splitlines()
                     if line.strip() and not line.strip().startswith(("List reduced", "Ordered by")))


def profile_text(fn, top: int = 18, restrict: str = r"/derby_oa/") -> str:
    """cProfile of fn() in this thread: functions matching `restrict` by cumulative time, then the hottest."""
    prof = cProfile.Profile()
    prof.enable()
    try:
        fn()
    finally:
        prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("cumulative").print_stats(restrict, top)
    stats.sort_stats("tottime").print_stats(10)
    return _clean(buf.getvalue())


def table(headers: list[str], rows: list[list]) -> str:
    """A markdown table."""
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def mark(value: float | None, target: float) -> str:
    return "n/a" if value is None else ("met" if value <= target else "**missed**")


# ---------------------------------------------------------------------------------------------- build

def bench_build(db: Path) -> dict:
    """Time and size of the full build and of the embedded default."""
    from derby_oa.build.pipeline import build

    out = {}
    for label, kwargs, path in (("full", {}, db), ("default", {"adapters": ()}, OUT / "default.duckdb")):
        t0 = time.perf_counter()
        report = build(path, **kwargs)
        out[label] = {"seconds": round(time.perf_counter() - t0, 2), "mb": round(path.stat().st_size / MB, 1),
                      "skipped": [line[0] for line in report.lines if line[1] == "skipped"]}
        print(f"build {label}: {out[label]['seconds']} s, {out[label]['mb']} MB")
    from datetime import timedelta

    from derby_oa import pack

    t0 = time.perf_counter()  # the board pack (PDF) from the full database, as the overview's button makes it
    written = pack.write_pack(OUT / "board-pack.pdf", date.today() - timedelta(days=30), db)
    out["pack"] = {"seconds": round(time.perf_counter() - t0, 2), "kb": round(written.stat().st_size / 1024)}
    print(f"board pack: {out['pack']['seconds']} s, {out['pack']['kb']} KB")
    if out["full"]["seconds"] > TARGETS["build_s"]:
        out["profile"] = profile_text(lambda: build(OUT / "profile.duckdb"), top=25)
        (OUT / "profile.duckdb").unlink(missing_ok=True)
    return out


# -------------------------------------------------------------------------------------- server time

def script_profile(at, runs: int = 3) -> str:
    """cProfile of `runs` AppTest reruns, taken in the script-runner thread where the page code runs.

    Two views: project and Altair functions by cumulative time, and the hottest functions overall.
    """
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


def bench_server(db: Path, pages, repeats: int) -> dict:
    """Server time of every page under AppTest: median and p95 over repeated warm runs."""
    from streamlit.testing.v1 import AppTest

    os.environ["DERBY_OA_DB"] = str(db)
    rows, apps = {}, {}
    for spec in pages:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
        at.run()
        at.switch_page(spec.script)
        at.run()  # warm: caches filled, connection open
        if at.exception:
            rows[spec.url_path] = {"error": str(at.exception[0].message)[:200]}
            continue
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            at.run()
            times.append((time.perf_counter() - t0) * 1000)
        rows[spec.url_path] = {"median_ms": round(statistics.median(times), 1), "p95_ms": round(pct(times, 95), 1),
                               "elements": len(at.main.children)}
        apps[spec.url_path] = at
        print(f"server {spec.url_path:15} median {rows[spec.url_path]['median_ms']:8.1f} ms  "
              f"p95 {rows[spec.url_path]['p95_ms']:8.1f} ms")
    slow = sorted((r["median_ms"], k) for k, r in rows.items() if r.get("median_ms", 0) > TARGETS["page_median_ms"])
    profiles = {key: script_profile(apps[key]) for _, key in slow[::-1][:3]}
    return {"pages": rows, "profiles": profiles, "repeats": repeats}


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

def bench_browser(db: Path, pages, repeats: int) -> dict:
    """Browser time to a rendered page for every page and for a one-line floor page; server RSS."""
    import browser_support as bs
    from playwright.sync_api import sync_playwright

    floor_script = OUT / "floor" / "floor_app.py"
    floor_script.parent.mkdir(parents=True, exist_ok=True)
    floor_script.write_text(FLOOR_APP)

    def measure(page, url: str) -> tuple[float, float]:
        """Seconds from navigation start to the script run's end, and to the rendered page (browser clock)."""
        page.goto(url, wait_until="domcontentloaded", timeout=bs.PAGE_TIMEOUT_MS)
        page.wait_for_function("""() => document.querySelector('[data-testid="stApp"]')
            ?.getAttribute('data-test-script-state') === 'notRunning'
            && !!document.querySelector('[data-testid="stMain"] [data-testid="stElementContainer"]')""",
                               timeout=bs.PAGE_TIMEOUT_MS, polling=50)
        t_script = page.evaluate("() => performance.now()") / 1000
        bs.wait_rendered(page)
        return t_script, page.evaluate("() => window.__stOkSince") / 1000

    def visit(browser, server, url: str, context=None) -> tuple[float, float, int, int, list]:
        """One visit; in a new context (cold browser cache) unless one is given (warm cache)."""
        own = context is None
        if own:
            context, log = bs.new_context(browser, server)
        try:
            page = context.new_page()
            t_script, t_rendered = measure(page, url)
            charts = page.locator(bs.VEGA).count()
            maps = page.locator(bs.DECK).count()
            errors = bs.exception_texts(page) + (log.foreign if own else [])
            page.close()
        finally:
            if own:
                context.close()
        return t_script, t_rendered, charts, maps, errors

    def warm(browser, server, url: str, n: int) -> list:
        """n visits in one context after a first, uncounted one: the browser's cache is warm."""
        context, log = bs.new_context(browser, server)
        try:
            visit(browser, server, url, context)
            runs = [visit(browser, server, url, context) for _ in range(n)]
        finally:
            context.close()
        return [(*r[:4], r[4] + log.foreign) for r in runs]

    out = {"pages": {}, "repeats": repeats}
    with sync_playwright() as p:
        browser = bs.launch_browser(p)
        try:
            with bs.StreamlitServer(script=floor_script, log=OUT / "server-floor.log") as floor:
                visit(browser, floor, floor.url + "/")
                floor_times = [visit(browser, floor, floor.url + "/")[1] for _ in range(max(repeats, 5))]
                floor_warm = [r[1] for r in warm(browser, floor, floor.url + "/", max(repeats, 5))]
            out["floor_s"] = round(statistics.median(floor_times), 3)
            out["floor_warm_s"] = round(statistics.median(floor_warm), 3)
            print(f"browser floor (one-line page): {out['floor_s']} s, warm cache {out['floor_warm_s']} s")
            with bs.StreamlitServer(db=db, log=OUT / "server-app.log") as server:
                out["rss_start_mb"] = round(server.rss() / MB, 1)
                for spec in pages:  # warm every page once (caches), as a returning user would find it
                    visit(browser, server, server.page_url(spec))
                out["rss_warm_mb"] = round(server.rss() / MB, 1)
                for spec in pages:
                    url = server.page_url(spec)
                    runs = [visit(browser, server, url) for _ in range(repeats)]
                    warm_runs = warm(browser, server, url, repeats)
                    rendered = statistics.median(r[1] for r in runs)
                    rendered_warm = statistics.median(r[1] for r in warm_runs)
                    out["pages"][spec.url_path] = {
                        "script_done_s": round(statistics.median(r[0] for r in runs), 3),
                        "rendered_s": round(rendered, 3), "ratio": round(rendered / out["floor_s"], 2),
                        "rendered_warm_s": round(rendered_warm, 3),
                        "ratio_warm": round(rendered_warm / out["floor_warm_s"], 2),
                        "charts": runs[-1][2], "maps": runs[-1][3],
                        "errors": sorted({e[:200] for r in runs + warm_runs for e in r[4]})}
                    row = out["pages"][spec.url_path]
                    print(f"browser {spec.url_path:15} rendered {rendered:6.2f} s (ratio {row['ratio']:5.2f}), "
                          f"warm cache {rendered_warm:6.2f} s (ratio {row['ratio_warm']:5.2f}), charts {runs[-1][2]}")
                out["rss_after_mb"] = round(server.rss() / MB, 1)
        finally:
            browser.close()
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


def report(res: dict) -> str:
    v = res["versions"]
    lines = [
        "# Performance",
        "",
        f"Written by `python bench/run.py` on {res['date']} ({'quick run' if res['quick'] else 'full run'}). "
        f"Machine: {v['cpus']} CPUs ({v['machine']}), Python {v['python']}, Streamlit {v['streamlit']}, "
        f"DuckDB {v['duckdb']}, {v['chromium']}. Each section gives the load average (1, 5, 15 min) when it "
        "was measured: timings from a machine busy with other work are inflated. Re-run the command to refresh "
        "this file.",
        "",
        "## Summary against the targets",
        "",
    ]
    b, s, q, br = res.get("build"), res.get("server"), res.get("queries"), res.get("browser")
    summary = []
    if b:
        summary.append(["Full database build", f"{b['full']['seconds']} s ({b['full']['mb']} MB)",
                        f"<= {TARGETS['build_s']:g} s", mark(b["full"]["seconds"], TARGETS["build_s"])])
    if b and "pack" in b:
        summary.append(["Board pack (PDF, every page)", f"{b['pack']['seconds']} s ({b['pack']['kb']} KB)",
                        f"<= {TARGETS['pack_s']:g} s", mark(b["pack"]["seconds"], TARGETS["pack_s"])])
    if s:
        worst = max((r["median_ms"], k) for k, r in s["pages"].items() if "median_ms" in r)
        summary.append(["Page server time, median (worst page)", f"{worst[0]} ms ({worst[1]})",
                        f"<= {TARGETS['page_median_ms']:g} ms", mark(worst[0], TARGETS["page_median_ms"])])
    if br:
        for key, label in (("ratio", "new browser"), ("ratio_warm", "browser cache warm")):
            worst = max((r[key], k) for k, r in br["pages"].items())
            summary.append([f"Browser time / floor, {label} (worst page)", f"{worst[0]} ({worst[1]})",
                            f"<= {TARGETS['browser_ratio']:g}", mark(worst[0], TARGETS["browser_ratio"])])
    if q:
        real = [(c["real"]["p95_ms"], c["label"]) for c in q["cases"] if "p95_ms" in c["real"]]
        syn = [(c["synthetic"]["p95_ms"], c["label"]) for c in q["cases"] if c["synthetic"] and "p95_ms" in c["synthetic"]]
        if real:
            summary.append(["Query p95, real data (worst)", f"{max(real)[0]} ms", f"<= {TARGETS['query_p95_ms']:g} ms",
                            mark(max(real)[0], TARGETS["query_p95_ms"])])
        if syn:
            summary.append(["Query p95, synthetic scale (worst)", f"{max(syn)[0]} ms",
                            f"<= {TARGETS['synthetic_p95_ms']:g} ms", mark(max(syn)[0], TARGETS["synthetic_p95_ms"])])
    if br:
        summary.append(["Server RSS after visiting every page", f"{br['rss_after_mb']} MB",
                        f"<= {TARGETS['rss_mb']:g} MB", mark(br["rss_after_mb"], TARGETS["rss_mb"])])
    lines += [table(["measure", "result", "target", "status"], summary), ""]

    def load_note(part: dict) -> list[str]:
        return [f"Load average (1, 5, 15 min) recorded with this part: {part['load_avg']}.", ""] \
            if part.get("load_avg") else []

    if b:
        lines += ["## Database build", "", *load_note(b),
                  table(["build", "seconds", "size MB", "sources skipped"],
                        [[k, b[k]["seconds"], b[k]["mb"], ", ".join(b[k]["skipped"]) or "none"]
                         for k in ("full", "default")]), ""]
    if s:
        lines += ["## Server time per page (AppTest, warm caches)", "", *load_note(s),
                  f"Each page is run once to warm the caches, then {s['repeats']} more times in the same session.", "",
                  table(["page", "median ms", "p95 ms", "elements", "target"],
                        [[k, r.get("median_ms", r.get("error")), r.get("p95_ms", ""), r.get("elements", ""),
                          mark(r.get("median_ms"), TARGETS["page_median_ms"])] for k, r in s["pages"].items()]), ""]
    if br:
        lines += ["## Browser time to a rendered page (chromium, loopback, warm server)", "", *load_note(br),
                  f"Median of {br['repeats']} visits from navigation start (browser clock) until the script run has "
                  "finished and every chart and map has drawn. *New browser*: each visit in a new browser context, "
                  "so the frontend's scripts are fetched again (a first visit). *Cache warm*: visits in one "
                  "context after a first uncounted one (a returning reader); every visit is still a new "
                  "Streamlit session. *Script done* (new browser) is when the page's script run finished, "
                  "before the browser drew the charts. The floor is a one-line Streamlit page measured in the "
                  f"same run: **{br['floor_s']} s** new browser, **{br['floor_warm_s']} s** cache warm.", "",
                  table(["page", "script done s", "rendered s", "ratio", "rendered s, cache warm",
                         "ratio, cache warm", "charts", "maps", "target"],
                        [[k, r["script_done_s"], r["rendered_s"], r["ratio"], r["rendered_warm_s"], r["ratio_warm"],
                          r["charts"], r["maps"], mark(max(r["ratio"], r["ratio_warm"]), TARGETS["browser_ratio"])]
                         for k, r in br["pages"].items()]), "",
                  f"Server memory (RSS): {br['rss_start_mb']} MB after start, {br['rss_warm_mb']} MB after one visit "
                  f"to every page, **{br['rss_after_mb']} MB** after every page {2 * br['repeats'] + 2} times.", ""]
        errs = {k: r["errors"] for k, r in br["pages"].items() if r["errors"]}
        if errs:
            lines += ["Errors seen while measuring: " + json.dumps(errs), ""]
    if q:
        syn = res.get("synthetic", {})
        lines += ["## Query latency", "", *load_note(q),
                  f"Each query function of `derby_oa.queries` as the app calls it (SQL and conversion to a data "
                  f"frame), {q['repeats']} runs after 2 warm-up runs. *Real*: the full database (LAIT for every "
                  "local authority, IoD2019 for all 32,844 English LSOAs). *Synthetic*: a separate database of "
                  f"generated values (bench/synthetic.py) for every English ward: {syn.get('wards', '?'):,} wards "
                  f"in {syn.get('las', '?')} local authorities, {syn.get('indicators', '?')} indicators, 10 years, "
                  f"{syn.get('observations', 0):,} observations ({syn.get('mb', '?')} MB, generated in "
                  f"{syn.get('seconds', '?')} s). Synthetic data are never shown in the app.", "",
                  table(["query", "real median ms", "real p95 ms", "rows", "synthetic median ms", "synthetic p95 ms",
                         "rows"],
                        [[c["label"], c["real"].get("median_ms", c["real"].get("error")), c["real"].get("p95_ms", ""),
                          c["real"].get("rows", ""),
                          *(["-", "-", "-"] if not c["synthetic"] else
                            [c["synthetic"].get("median_ms", c["synthetic"].get("error")),
                             c["synthetic"].get("p95_ms", ""), c["synthetic"].get("rows", "")])]
                         for c in q["cases"]]), ""]
    load_file = ROOT / "test-output" / "load.json"
    if load_file.is_file():
        ld = json.loads(load_file.read_text())
        if "memory" in ld:
            m, sm = ld["memory"], ld["summary"]
            stamp = date.fromtimestamp(load_file.stat().st_mtime).isoformat()
            lines += ["## Load (last run of tests/browser/test_load.py)", "",
                      f"{len(ld['sessions'])} concurrent browser sessions clicking through every page on loopback "
                      f"for {ld['wall_seconds']} s ({stamp}): {sm['visits']} page visits, {sm['failures']} failed; "
                      f"time to a rendered page median {sm['median_s']} s, max {sm['max_s']} s. Server RSS "
                      f"{m['rss_before_mb']} MB before (after one visit to every page), peak {m['rss_peak_mb']} MB, "
                      f"{m['rss_after_mb']} MB after: growth {m['growth_mb']} MB.", ""]
    profiles = []
    if b and b.get("profile"):
        profiles.append(("Build (derby_oa functions, cumulative)", b["profile"]))
    for key, text in (s or {}).get("profiles", {}).items():
        profiles.append((f"Page `{key}`: 3 warm AppTest runs, profiled in the script thread", text))
    for key, text in (q or {}).get("profiles", {}).items():
        profiles.append((f"Query: {key} (medians of 20 runs per statement)", text))
    analysis = BENCH / "analysis.md"
    if analysis.is_file():
        lines += ["## Analysis of targets missed", "", analysis.read_text().strip(), ""]
    if profiles:
        lines += ["## Profiles of targets missed", ""]
        for title, text in profiles:
            lines += [f"### {title}", "", "```", text, "```", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description="Derby OA dashboard performance benchmark")
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--skip", nargs="*", default=[], choices=["build", "server", "queries", "browser", "load"],
                    help="parts to skip: the build is reused from bench/output, and skipped parts keep their "
                         "results from the previous run")
    ap.add_argument("--doc", type=Path, default=DOC, help="where to write the report")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite the report from bench/output/results.json (e.g. after editing bench/analysis.md)")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.report_only:
        args.doc.write_text(report(json.loads((OUT / "results.json").read_text())) + "\n")
        print(f"written: {args.doc}")
        return
    import browser_support as bs
    import synthetic
    from derby_oa.storage.db import connect

    pages = bs.app_pages()
    db = OUT / "full.duckdb"
    previous = OUT / "results.json"
    res = json.loads(previous.read_text()) if args.skip and previous.is_file() else {}
    res.update({"date": date.today().isoformat(), "quick": args.quick, "versions": versions(),
                "load_before": [round(x, 1) for x in os.getloadavg()]})

    def measured(part: str, result: dict) -> None:
        res[part] = {**result, "load_avg": [round(x, 1) for x in os.getloadavg()]}

    if "build" not in args.skip or not db.is_file():
        measured("build", bench_build(db))
    if "queries" not in args.skip:
        syn_db = OUT / "synthetic.duckdb"
        counts = synthetic.build(syn_db)
        res["synthetic"] = {**counts, "mb": round(counts["bytes"] / MB, 1)}
        print(f"synthetic: {counts}")
        real_con, syn_con = connect(db), connect(syn_db)
        import query_cases
        measured("queries", bench_queries(query_cases.cases(real_con, syn_con), real_con, syn_con,
                                          repeats=10 if args.quick else 50))
        real_con.close()
        syn_con.close()
    if "server" not in args.skip:
        measured("server", bench_server(db, pages, repeats=4 if args.quick else 15))
    if "browser" not in args.skip:
        measured("browser", bench_browser(db, pages, repeats=2 if args.quick else 5))
    if "load" not in args.skip:  # the soak, kept out of the default test run (marker `soak`)
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "soak", "tests/browser/test_load.py"], cwd=ROOT)
    res["load_after"] = [round(x, 1) for x in os.getloadavg()]
    (OUT / "results.json").write_text(json.dumps(res, indent=1, default=str))
    text = report(res)
    args.doc.parent.mkdir(parents=True, exist_ok=True)
    args.doc.write_text(text + "\n")
    print()
    print(text.split("## Profiles")[0])
    print(f"written: {args.doc.relative_to(ROOT) if args.doc.is_relative_to(ROOT) else args.doc}")


if __name__ == "__main__":
    main()

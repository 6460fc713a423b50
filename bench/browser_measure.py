"""Browser measurements for the benchmark: the app with a floor page, drawn-page checks, CPU and JavaScript.

The floor is a page of the app itself. `floor_app` writes, under bench/output/, a copy of the project
made of symbolic links (pages/, derby_oa/, .streamlit/, ... are the real ones) whose app.py runs the
real app.py unchanged, with two one-line pages added to its `st.navigation` in a section
"Benchmark": `bench_floor` (the floor) and `bench_start` (where in-session navigation starts). So the
floor is served by the same server process as every page, with the same config, theme, sidebar,
sign-in panel and page chrome; only the page body is one line.

A page counts as drawn when the script run is over, the status widget has gone, the main area has
content, nothing is stale, every visible Vega-Lite chart has drawn its marks, every image in the main
area has loaded, every visible data grid has drawn, and every visible map's WebGL canvas holds drawn
pixels (see `WEBGL_HOOK`); and all of this has held for STABLE_MS. The time is when it first held.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import browser_support as bs

FLOOR = ("bench_floor", "Benchmark floor")
START = ("bench_start", "Benchmark start")
STABLE_MS = 300
POLL_MS = 25
SETTLE_S = 0.3
# Any host but the app's loopback address fails to resolve: nothing leaves the machine, and no
# request interception slows the pages down. Requests are still logged (and other hosts reported).
BENCH_ARGS = bs.CHROMIUM_ARGS + ["--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]

_WRAPPER = '''"""Benchmark copy of app.py (written by bench/browser_measure.py): the real app.py, run unchanged,
with two one-line pages added to its navigation. Not part of the app."""
from pathlib import Path

import streamlit as st

if not getattr(st.navigation, "_bench_floor", False):
    _navigation = st.navigation

    def _with_floor(pages, *args, **kwargs):
        pages = dict(pages) if isinstance(pages, dict) else {{"": list(pages)}}
        pages["Benchmark"] = [st.Page("{floor}.py", title="{floor_title}", url_path="{floor}"),
                              st.Page("{start}.py", title="{start_title}", url_path="{start}")]
        return _navigation(pages, *args, **kwargs)

    _with_floor._bench_floor = True
    st.navigation = _with_floor

_APP = Path({app!r})
exec(compile(_APP.read_text(), __file__, "exec"), {{"__name__": "__main__", "__file__": __file__}})
'''


def floor_app(root: Path, out: Path) -> Path:
    """Write the project copy with the floor pages (links to the real files); returns its app.py."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for entry in root.iterdir():
        if entry.name not in ("app.py", ".git", "bench", "test-output", "__pycache__"):
            (out / entry.name).symlink_to(entry)
    (out / f"{FLOOR[0]}.py").write_text(
        'import streamlit as st; st.title("Benchmark floor: a one-line page of the app")\n')
    (out / f"{START[0]}.py").write_text(
        'import streamlit as st; st.title("Benchmark start: where in-session navigation begins")\n')
    app = out / "app.py"
    app.write_text(_WRAPPER.format(floor=FLOOR[0], floor_title=FLOOR[1], start=START[0], start_title=START[1],
                                   app=str(root / "app.py")))
    return app


# Installed in every page before its scripts run. After any WebGL draw call, once the calling task
# has finished drawing (a microtask, before the frame is presented), the canvas's default framebuffer
# is read back; the first time more than MIN_PIXELS pixels differ from the clear colour, the canvas
# gets `__benchDrawnAt` (performance.now()). Until then a map is not drawn, however many canvases
# exist. After that the hook costs one property check per draw call.
WEBGL_HOOK = """(() => {
  const MIN_PIXELS = 50;
  const check = (gl) => {
    const c = gl.canvas;
    try {
      const w = gl.drawingBufferWidth, h = gl.drawingBufferHeight;
      if (!w || !h) return;
      const is2 = typeof WebGL2RenderingContext !== 'undefined' && gl instanceof WebGL2RenderingContext;
      const fb = gl.getParameter(gl.FRAMEBUFFER_BINDING);
      const rfb = is2 ? gl.getParameter(gl.READ_FRAMEBUFFER_BINDING) : null;
      const clear = gl.getParameter(gl.COLOR_CLEAR_VALUE);
      gl.bindFramebuffer(gl.FRAMEBUFFER, null);
      const px = new Uint8Array(w * h * 4);
      gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
      gl.bindFramebuffer(gl.FRAMEBUFFER, fb);
      if (is2) gl.bindFramebuffer(gl.READ_FRAMEBUFFER, rfb);
      const cc = Array.from(clear, v => Math.round(v * 255));
      let n = 0;
      for (let i = 0; i < px.length; i += 4) {
        if (px[i] !== cc[0] || px[i + 1] !== cc[1] || px[i + 2] !== cc[2] || px[i + 3] !== cc[3]) n++;
      }
      c.__benchChecks = (c.__benchChecks || 0) + 1;
      c.__benchPixels = n;
      if (n > MIN_PIXELS) c.__benchDrawnAt = performance.now();
    } catch (e) { c.__benchError = String(e); }
  };
  const after = function (gl) {
    const c = gl.canvas;
    if (!c || c.__benchDrawnAt || c.__benchPending) return;
    c.__benchPending = true;
    queueMicrotask(() => { c.__benchPending = false; if (!c.__benchDrawnAt) check(gl); });
  };
  const protos = [window.WebGLRenderingContext, window.WebGL2RenderingContext].filter(Boolean).map(k => k.prototype);
  for (const proto of protos) {
    for (const name of ['drawArrays', 'drawElements', 'drawArraysInstanced', 'drawElementsInstanced',
                        'drawRangeElements']) {
      const orig = proto[name];
      if (typeof orig !== 'function') continue;
      proto[name] = function (...args) { const r = orig.apply(this, args); after(this); return r; };
    }
  }
})();"""

# The drawn-page check (see the module docstring), polled in the page. `expect` is the page's URL
# path (the navigation must have arrived there) or null; window.__benchT0 is the click time for
# in-session navigation (since then the main area must have changed, and its text must differ from
# the previous page's), window.__benchDone the first time all held.
READY_JS = """([expect, stableMs]) => {
  const now = performance.now();
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0
    && (!el.checkVisibility || el.checkVisibility()); };
  const ok = (() => {
    if (expect !== null && location.pathname.replace(/^\\/+|\\/+$/g, '') !== expect) return false;
    if (window.__benchT0 != null) {
      if (!window.__benchMainChanged) return false;
      const main = document.querySelector('[data-testid="stMain"]');
      if (!main || main.textContent.slice(0, 300) === window.__benchPrevText) return false;
    }
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
    if (!document.querySelector('[data-testid="stMain"] [data-testid="stElementContainer"]')) return false;
    if (document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSkeleton"], [data-stale="true"]'))
      return false;
    for (const el of document.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
      if (!visible(el)) continue;
      if (!el.querySelector('svg.marks .role-mark, svg.marks .mark-group, canvas.marks')) return false;
    }
    for (const img of document.querySelectorAll('[data-testid="stMain"] img')) {
      if (visible(img) && !(img.complete && img.naturalWidth > 0)) return false;
    }
    for (const el of document.querySelectorAll('[data-testid="stDataFrame"]')) {
      if (visible(el) && !el.querySelector('canvas, table')) return false;
    }
    for (const el of document.querySelectorAll('[data-testid="stDeckGlJsonChart"]')) {
      if (!visible(el)) continue;
      if (![...el.querySelectorAll('canvas')].some(c => c.__benchDrawnAt)) return false;
    }
    return true;
  })();
  if (!ok) { window.__benchDone = null; return false; }
  if (window.__benchDone == null) window.__benchDone = now;
  return now - window.__benchDone >= stableMs;
}"""

# Click a sidebar navigation link by its title, noting the time and watching the main area change.
CLICK_JS = """(title) => {
  const link = [...document.querySelectorAll('[data-testid="stSidebarNav"] a')]
    .find(a => a.innerText.trim() === title);
  if (!link) return null;
  window.__benchDone = null;
  window.__benchMainChanged = false;
  const main = document.querySelector('[data-testid="stMain"]');
  window.__benchPrevText = main.textContent.slice(0, 300);
  if (window.__benchObserver) window.__benchObserver.disconnect();
  window.__benchObserver = new MutationObserver(() => { window.__benchMainChanged = true; });
  window.__benchObserver.observe(main, {childList: true, subtree: true, characterData: true});
  window.__benchT0 = performance.now();
  link.click();
  return window.__benchT0;
}"""


_TICK = os.sysconf("SC_CLK_TCK")


def _procs() -> dict[int, tuple[int, str, float]]:
    """Every process: pid -> (parent pid, command name, CPU seconds used, user + system)."""
    out = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            raw = (d / "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2:].split()
        out[int(d.name)] = (int(rest[1]), comm, (int(rest[11]) + int(rest[12])) / _TICK)
    return out


def process_cpu(pid: int) -> float:
    """CPU seconds used so far by one process (user + system)."""
    return _procs().get(pid, (0, "", 0.0))[2]


def chromium_cpu() -> dict[int, float]:
    """CPU seconds so far of each chromium process this benchmark started (browser, renderers, GPU)."""
    procs = _procs()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = {}, [os.getpid()]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        if pid in procs and procs[pid][1].startswith("chrom"):
            out[pid] = procs[pid][2]
    return out


def cpu_since(before: dict[int, float]) -> float:
    """CPU seconds chromium's processes used since `before` (a process that ended meanwhile is lost)."""
    return sum(s - before.get(pid, 0.0) for pid, s in chromium_cpu().items())


@dataclass
class Visit:
    """One measured visit: seconds to drawn, browser CPU seconds, JavaScript bytes, what was drawn."""

    seconds: float
    task_s: float
    script_s: float
    cpu_s: float
    js_bytes: int = 0
    js_decoded_bytes: int = 0
    charts: int = 0
    maps: int = 0
    images: int = 0
    errors: list[str] = field(default_factory=list)


class Tab:
    """One browser context and page with a CDP session: CPU metrics and script bytes as they come."""

    def __init__(self, browser, server: bs.StreamlitServer):
        self.host = f"127.0.0.1:{server.port}"
        self.context = browser.new_context(viewport=bs.VIEWPORT)
        self.context.add_init_script(WEBGL_HOOK)
        self.page = self.context.new_page()
        self.foreign: list[str] = []
        self.page.on("request", self._on_request)
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("Performance.enable", {"timeDomain": "threadTicks"})
        self.cdp.send("Network.enable")
        self._scripts: set[str] = set()
        self.js_bytes = 0
        self.js_decoded = 0
        self.cdp.on("Network.responseReceived", self._on_response)
        self.cdp.on("Network.dataReceived", self._on_data)
        self.cdp.on("Network.loadingFinished", self._on_finished)

    def _on_request(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("data", "blob", "about") and parts.netloc != self.host:
            self.foreign.append(request.url)

    def _on_response(self, ev) -> None:
        if ev.get("type") == "Script":
            self._scripts.add(ev["requestId"])

    def _on_data(self, ev) -> None:
        if ev["requestId"] in self._scripts:
            self.js_decoded += ev.get("dataLength", 0)

    def _on_finished(self, ev) -> None:
        if ev["requestId"] in self._scripts:
            self.js_bytes += int(ev.get("encodedDataLength", 0))

    def metrics(self) -> dict:
        return {m["name"]: m["value"] for m in self.cdp.send("Performance.getMetrics")["metrics"]}

    def wait_drawn(self, expect: str | None, timeout_ms: int = bs.PAGE_TIMEOUT_MS) -> float:
        """Wait until the page is drawn; returns performance.now() (ms) when it first was."""
        self.page.wait_for_function(READY_JS, arg=[expect, STABLE_MS], timeout=timeout_ms, polling=POLL_MS)
        return self.page.evaluate("() => window.__benchDone")

    def counts(self) -> dict:
        return self.page.evaluate("""() => ({
          charts: document.querySelectorAll('[data-testid="stVegaLiteChart"]').length,
          maps: document.querySelectorAll('[data-testid="stDeckGlJsonChart"]').length,
          images: document.querySelectorAll('[data-testid="stMain"] img').length})""")

    def errors(self) -> list[str]:
        return bs.exception_texts(self.page) + bs.dialog_texts(self.page) + self.foreign

    def close(self) -> None:
        self.context.close()


def fresh_visit(browser, server: bs.StreamlitServer, path: str, idle_s: float = 0) -> tuple[Visit, float | None]:
    """A visit in a new browser context (nothing cached): navigation start to drawn.

    With idle_s, also the browser's CPU while the drawn page sits idle for idle_s seconds (ms per s)."""
    cpu0 = chromium_cpu()
    tab = Tab(browser, server)
    try:
        tab.page.goto(f"{server.url}/{path}", wait_until="commit", timeout=bs.PAGE_TIMEOUT_MS)
        done = tab.wait_drawn(path)
        m = tab.metrics()
        cpu = cpu_since(cpu0)
        visit = Visit(done / 1000, m.get("TaskDuration", 0), m.get("ScriptDuration", 0), cpu, tab.js_bytes,
                      tab.js_decoded, **tab.counts(), errors=tab.errors())
        idle = None
        if idle_s:
            time.sleep(idle_s)
            idle = round((tab.metrics().get("TaskDuration", 0) - m.get("TaskDuration", 0)) / idle_s * 1000, 1)
        return visit, idle
    finally:
        tab.close()


class Session:
    """One reader's session: a tab opened at the start page, moving by sidebar clicks."""

    def __init__(self, browser, server: bs.StreamlitServer):
        self.tab = Tab(browser, server)
        self.tab.page.goto(f"{server.url}/{START[0]}", wait_until="commit", timeout=bs.PAGE_TIMEOUT_MS)
        self.tab.wait_drawn(START[0])

    def click(self, title: str, path: str) -> Visit:
        """Click `title` in the sidebar navigation; time from the click until the page is drawn."""
        tab = self.tab
        time.sleep(SETTLE_S)  # let the page in view settle before the click
        before, cpu0 = tab.metrics(), chromium_cpu()
        js0, dec0 = tab.js_bytes, tab.js_decoded
        t0 = tab.page.evaluate(CLICK_JS, title)
        if t0 is None:  # the navigation shows its first ten pages until "View more" is clicked
            tab.page.locator('[data-testid="stSidebarNavViewButton"]').click(timeout=10_000)
            t0 = tab.page.evaluate(CLICK_JS, title)
        if t0 is None:
            raise LookupError(f"no sidebar link titled {title!r}")
        done = tab.wait_drawn(path)
        after, cpu = tab.metrics(), cpu_since(cpu0)
        return Visit((done - t0) / 1000, after.get("TaskDuration", 0) - before.get("TaskDuration", 0),
                     after.get("ScriptDuration", 0) - before.get("ScriptDuration", 0), cpu, tab.js_bytes - js0,
                     tab.js_decoded - dec0, **tab.counts(), errors=tab.errors())

    def close(self) -> None:
        self.tab.close()


def launch(playwright):
    """Debian's chromium, headless, background traffic off, other hosts unresolvable."""
    if not Path(bs.CHROMIUM).is_file():
        raise FileNotFoundError(f"{bs.CHROMIUM} is missing")
    return playwright.chromium.launch(executable_path=bs.CHROMIUM, args=BENCH_ARGS, headless=True)


def page_path(spec) -> str:
    """The URL path of a page ('' for the default page, served at the root)."""
    return "" if spec.default else spec.url_path


def server_rss(server: bs.StreamlitServer) -> int:
    return bs.rss_bytes(server.proc.pid) if server.proc else 0


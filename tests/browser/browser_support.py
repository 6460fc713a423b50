"""Real-browser helpers shared by the browser tests and the benchmark (no pytest here).

The app's page list is read from app.py, a Streamlit server is started on a free loopback port,
Debian's chromium is driven by Playwright, every request is logged (and any to another host is
blocked and reported), pages are waited on until their charts and maps have rendered, and
axe-core (pinned, fetched once from the npm registry into a git-ignored cache) is injected.
"""
from __future__ import annotations

import ast
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
CHROMIUM = os.environ.get("DERBY_OA_CHROMIUM", "/usr/bin/chromium")
# --disable-background-networking and friends stop chromium itself from calling Google services.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1400, "height": 900}
AXE_VERSION = "4.14.1"
AXE_CACHE = ROOT / "data" / "cache" / "npm"
PAGE_TIMEOUT_MS = 90_000

EXCEPTION = '[data-testid="stException"]'
SIDEBAR = '[data-testid="stSidebar"]'
VEGA = '[data-testid="stVegaLiteChart"]'
DECK = '[data-testid="stDeckGlJsonChart"]'

# True once the script run has finished, the main area has content, no status widget shows and every
# chart and map has drawn, and all of this has held for STABLE_MS (a page may rerun itself once).
# window.__stOkSince keeps when it first held (ms since navigation start, the browser's clock).
STABLE_MS = 300
_RENDERED_JS = """() => {
  const now = performance.now();
  const ok = (() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
    if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
    if (!document.querySelector('[data-testid="stMain"] [data-testid="stElementContainer"]')) return false;
    if (document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSkeleton"]')) return false;
    for (const el of document.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
      if (!el.querySelector('svg.marks, canvas.marks')) return false;
    }
    for (const el of document.querySelectorAll('[data-testid="stDeckGlJsonChart"]')) {
      if (!el.querySelector('canvas')) return false;
    }
    return true;
  })();
  if (!ok) { window.__stOkSince = null; return false; }
  if (window.__stOkSince == null) window.__stOkSince = now;
  return now - window.__stOkSince >= %d;
}""" % STABLE_MS


@dataclass(frozen=True)
class PageSpec:
    """One page registered in app.py with st.Page (script is None for a page made from a function)."""

    script: str | None
    url_path: str
    title: str
    section: str
    default: bool = False
    hidden: bool = False

    @property
    def stem(self) -> str:
        """The page file's name without .py (the function's url_path for a function page)."""
        return Path(self.script).stem if self.script else self.url_path

    @property
    def id(self) -> str:
        """A unique, readable name for test ids and screenshots."""
        return self.url_path + ("-hidden" if self.hidden else "")


def page_by_stem(stem: str, pages: list[PageSpec] | None = None) -> PageSpec:
    """The visible page whose file is pages/<stem>.py."""
    found = [p for p in (pages or app_pages()) if p.stem == stem and not p.hidden]
    if not found:
        raise LookupError(f"app.py registers no page file {stem}.py")
    return found[0]


def app_pages(app_file: Path = ROOT / "app.py", include_hidden: bool = False) -> list[PageSpec]:
    """The pages app.py registers, in navigation order (read from its source, not run).

    Module-level string constants used as page paths are resolved; url_path defaults to the file's
    (or function's) name as in Streamlit. Hidden pages (visibility="hidden") only if asked for.
    """
    tree = ast.parse(Path(app_file).read_text())
    constants = {t.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
                 and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                 for t in node.targets if isinstance(t, ast.Name)}

    def value(node):
        if isinstance(node, ast.Name) and node.id in constants:
            return constants[node.id]
        return ast.literal_eval(node)

    def page_of(call: ast.Call, section: str) -> PageSpec | None:
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "Page"):
            return None
        kw = {k.arg: k.value for k in call.keywords if k.arg}
        target = call.args[0] if call.args else kw.get("page")
        script = None
        name = getattr(target, "id", "page")
        try:
            script = value(target)
            name = Path(script).stem
        except ValueError:  # a function, not a file
            pass
        url = value(kw["url_path"]) if "url_path" in kw else name
        title = value(kw["title"]) if "title" in kw else name
        default = bool(value(kw["default"])) if "default" in kw else False
        hidden = value(kw["visibility"]) == "hidden" if "visibility" in kw else False
        return PageSpec(script, url, title, section, default, hidden)

    pages: list[PageSpec] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, val in zip(node.keys, node.values):
                section = key.value if isinstance(key, ast.Constant) else ""
                for call in (val.elts if isinstance(val, ast.List) else []):
                    if isinstance(call, ast.Call) and (spec := page_of(call, section)):
                        pages.append(spec)
    if not pages:
        raise ValueError(f"no st.Page(...) found in {app_file}")
    return [p for p in pages if include_hidden or not p.hidden]


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and its children (from /proc)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


class StreamlitServer:
    """`streamlit run` of a script on 127.0.0.1:<free port>; a context manager that stops it."""

    def __init__(self, script: Path | str = ROOT / "app.py", db: Path | str | None = None,
                 log: Path | None = None, env: dict | None = None, startup_timeout: float = 90):
        self.script = Path(script)
        self.db = db
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log or OUTPUT / f"server-{self.script.stem}-{self.port}.log"
        self.extra_env = env or {}
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None

    def start(self) -> "StreamlitServer":
        env = {**os.environ, **self.extra_env}
        if self.db is not None:
            env["DERBY_OA_DB"] = str(self.db)
        self.log.parent.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "streamlit", "run", str(self.script), "--server.port", str(self.port),
               "--server.address", "127.0.0.1", "--server.headless", "true",
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(cmd, cwd=self.script.parent, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as resp:
                    if resp.read().strip() == b"ok":
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"streamlit did not answer on {self.url} in {self.startup_timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop the server (its own process group, which it leads) and wait for it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)

    def rss(self) -> int:
        return rss_bytes(self.proc.pid) if self.proc else 0

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def page_url(self, page: PageSpec | str, query: str = "") -> str:
        # Streamlit serves the default page at the root and ignores its url_path.
        path = ("" if page.default else page.url_path) if isinstance(page, PageSpec) else page
        return f"{self.url}/{path}" + (f"?{query.lstrip('?')}" if query else "")

    def __enter__(self) -> "StreamlitServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def launch_browser(playwright):
    """Debian's chromium, headless, with its own background traffic switched off."""
    if not Path(CHROMIUM).is_file():
        raise FileNotFoundError(f"{CHROMIUM} is missing: apt-get install -y chromium")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


@dataclass
class RequestLog:
    """Every request a browser context makes; requests to any other host are blocked and kept."""

    allowed: str  # host:port of the app
    requests: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def is_local(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return True
        return parts.netloc == self.allowed

    def attach(self, context) -> "RequestLog":
        def on_route(route):
            url = route.request.url
            if self.is_local(url):
                route.continue_()
            else:
                self.foreign.append(url)
                route.abort("blockedbyclient")

        def on_websocket(ws):
            self.requests.append(f"websocket {ws.url}")
            if not self.is_local(ws.url.replace("ws://", "http://", 1).replace("wss://", "https://", 1)):
                self.foreign.append(ws.url)

        context.route("**/*", on_route)
        context.on("request", lambda req: self.requests.append(req.url))
        context.on("page", lambda page: page.on("websocket", on_websocket))
        return self

    def hosts(self) -> set[str]:
        return {urlsplit(u.split(" ")[-1]).netloc for u in self.requests if "://" in u}


def new_context(browser, server: StreamlitServer, **kwargs):
    """A fresh browser context (a new Streamlit session per page) with request logging."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True, **kwargs)
    log = RequestLog(f"127.0.0.1:{server.port}").attach(context)
    return context, log


@dataclass
class BrowserSession:
    """One browser context (one Streamlit session) on a server, with its request log."""

    page: object
    log: RequestLog
    server: StreamlitServer

    def open(self, target: "PageSpec | str", query: str = "") -> float:
        """Open a page of the app (spec or url path) and wait until rendered; returns seconds."""
        return open_page(self.page, self.server.page_url(target, query))


def wait_rendered(page, timeout_ms: int = PAGE_TIMEOUT_MS) -> None:
    """Wait until the script run is over and every chart and map on the page has drawn."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.evaluate("() => { window.__stOkSince = null; }")
    page.wait_for_function(_RENDERED_JS, timeout=timeout_ms, polling=50)


def open_page(page, url: str, timeout_ms: int = PAGE_TIMEOUT_MS) -> float:
    """Navigate and wait until rendered; returns the seconds from navigation start to a rendered page
    (the moment the rendered state began, on the browser's clock)."""
    page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
    wait_rendered(page, timeout_ms)
    return page.evaluate("() => window.__stOkSince") / 1000


def exception_texts(page) -> list[str]:
    """The text of every Streamlit exception element on the page."""
    return [el.inner_text() for el in page.query_selector_all(EXCEPTION)]


def dialog_texts(page) -> list[str]:
    """The text of every open dialog (Streamlit's "Page not found" is one)."""
    return [el.inner_text() for el in page.query_selector_all('[role="dialog"]')]


def screenshot(page, name: str) -> Path:
    """A full-page screenshot kept under test-output/screenshots/ for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    # Streamlit scrolls inside its main container, so grow the viewport to the content's height.
    size = page.viewport_size or VIEWPORT
    height = page.evaluate("""() => Math.max(...[...document.querySelectorAll(
        '[data-testid="stMain"], [data-testid="stAppViewContainer"], [data-testid="stSidebarContent"]')]
        .map(e => e.scrollHeight), document.documentElement.scrollHeight)""")
    page.set_viewport_size({"width": size["width"], "height": min(max(int(height), size["height"]), 12_000)})
    try:
        wait_rendered(page)
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(size)
    return path


def axe_script(version: str = AXE_VERSION, cache: Path = AXE_CACHE) -> Path:
    """axe.min.js of the pinned axe-core, fetched once with `npm pack` into a git-ignored cache."""
    folder = cache / f"axe-core-{version}"
    script = folder / "package" / "axe.min.js"
    if script.is_file():
        return script
    folder.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(["npm", "pack", f"axe-core@{version}", "--pack-destination", str(folder), "--silent"],
                         capture_output=True, text=True, cwd=folder, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(f"npm pack axe-core@{version} failed: {out.stderr.strip()[-2000:]}")
    tarball = folder / f"axe-core-{version}.tgz"
    with tarfile.open(tarball) as tar:
        tar.extractall(folder, filter="data")
    meta = json.loads((folder / "package" / "package.json").read_text())
    if meta.get("version") != version:
        raise RuntimeError(f"npm delivered axe-core {meta.get('version')}, expected {version}")
    return script


# The project's own markup: what its pages put in the main area or the sidebar's user content.
# Everything else (navigation menu, header, toolbar, status widget) is Streamlit's own chrome.
OWN_MARKUP = '[data-testid="stMain"], [data-testid="stSidebarUserContent"]'


def run_axe(page, script: Path | None = None) -> list[dict]:
    """Run axe-core (WCAG 2.x A/AA rules and best practices) on the whole page; returns the violations.

    Each violating node carries `own`: True when it lies in the project's own markup (OWN_MARKUP),
    False when it is part of Streamlit's chrome; a node axe cannot locate again counts as own.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(script or axe_script()))
    return page.evaluate("""async (own) => {
      const r = await axe.run(document, {resultTypes: ['violations'],
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}});
      const isOwn = (target) => {
        try {
          const el = document.querySelector(String(target[0]));
          return !el || el.closest(own) !== null;
        } catch (e) { return true; }
      };
      return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
        nodes: v.nodes.map(n => ({target: n.target.map(String), html: n.html.slice(0, 300),
                                  impact: n.impact || v.impact, own: isOwn(n.target),
                                  summary: n.failureSummary}))}));
    }""", OWN_MARKUP)


def expand_all(page, limit: int = 60) -> int:
    """Open every collapsed expander (data tables and downloads) and wait until rendered; returns the count."""
    closed = page.locator('[data-testid="stExpander"] details:not([open]) > summary')
    opened = 0
    while opened < limit and closed.count():
        closed.first.click()
        opened += 1
    wait_rendered(page)
    return opened

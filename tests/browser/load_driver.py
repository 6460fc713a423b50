"""Load driver: N concurrent browser sessions clicking through the app's pages on loopback.

Run by tests/browser/test_load.py in its own process (Playwright's async API):
    python load_driver.py --url http://127.0.0.1:PORT --sessions 10 --seconds 120 --out load.json
Bounded: no visit starts after --seconds (or once --stop-file exists), each visit times out, and at
most --max-visits per session.
Only the given loopback URL is contacted; requests to any other host are blocked and reported.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import browser_support as bs  # noqa: E402

_ARRIVED_JS = """([title, previous]) => {
  const active = document.querySelector('[data-testid="stSidebarNavLink"][aria-current="page"]');
  const h1 = document.querySelector('[data-testid="stMain"] h1');
  const arrived = active && active.innerText.trim() === title && h1 && h1.innerText !== previous
    && !document.querySelector('[data-stale="true"]');
  if (!arrived) { window.__stOkSince = null; return false; }
  return (%s)();
}""" % bs._RENDERED_JS


async def _session(index: int, browser, base: str, pages: list[bs.PageSpec], deadline: float,
                   max_visits: int, timeout_ms: int, shots: Path, stop_file: Path | None = None) -> dict:
    host = urlsplit(base).netloc
    foreign: list[str] = []
    visits: list[dict] = []
    context = await browser.new_context(viewport=bs.VIEWPORT)

    async def route(r):
        if urlsplit(r.request.url).netloc in (host, "") or r.request.url.startswith(("data:", "blob:")):
            await r.continue_()
        else:
            foreign.append(r.request.url)
            await r.abort("blockedbyclient")

    await context.route("**/*", route)
    page = await context.new_page()
    order = pages[index % len(pages):] + pages[:index % len(pages)]
    previous_h1 = None
    try:
        for n in range(max_visits):
            if time.monotonic() > deadline or (stop_file is not None and stop_file.exists()):
                break
            spec = order[n % len(order)]
            t0 = time.perf_counter()
            visit = {"session": index, "page": spec.url_path, "how": "goto" if n == 0 else "click"}
            try:
                if n == 0:
                    await page.goto(base + "/" + ("" if spec.default else spec.url_path), timeout=timeout_ms)
                else:
                    nav = page.locator('[data-testid="stSidebarNav"]')
                    await nav.get_by_role("link", name=spec.title, exact=True).click(timeout=timeout_ms)
                await page.wait_for_function(_ARRIVED_JS, arg=[spec.title, previous_h1], timeout=timeout_ms,
                                             polling=100)
                visit["seconds"] = round(time.perf_counter() - t0, 3)
                errors = [await e.inner_text() for e in await page.query_selector_all(bs.EXCEPTION)]
                errors += [await e.inner_text() for e in await page.query_selector_all('[role="dialog"]')]
                visit["errors"] = errors
                previous_h1 = await page.locator('[data-testid="stMain"] h1').first.inner_text()
            except Exception as exc:  # recorded, and the session goes on from a fresh load
                visit["seconds"] = round(time.perf_counter() - t0, 3)
                visit["errors"] = [f"{type(exc).__name__}: {str(exc)[:400]}"]
                previous_h1 = None
            if visit["errors"]:
                shots.mkdir(parents=True, exist_ok=True)
                try:
                    await page.screenshot(path=str(shots / f"load-error-s{index}-{n}-{spec.url_path}.png"))
                except Exception:  # noqa: BLE001 - a screenshot is a courtesy
                    pass
            visits.append(visit)
    finally:
        await context.close()
    return {"session": index, "visits": visits, "foreign": foreign}


async def run(base: str, sessions: int, seconds: float, max_visits: int, timeout_ms: int,
              stop_file: Path | None = None) -> dict:
    from playwright.async_api import async_playwright

    pages = bs.app_pages()
    deadline = time.monotonic() + seconds
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=bs.CHROMIUM, args=bs.CHROMIUM_ARGS, headless=True)
        try:
            results = await asyncio.gather(*[
                _session(i, browser, base, pages, deadline, max_visits, timeout_ms, bs.SCREENSHOTS, stop_file)
                for i in range(sessions)])
        finally:
            await browser.close()
    return {"sessions": results, "pages": [p.url_path for p in pages]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--max-visits", type=int, default=200)
    ap.add_argument("--timeout-ms", type=int, default=bs.PAGE_TIMEOUT_MS)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--stop-file", type=Path, help="start no visit once this file exists")
    args = ap.parse_args()
    if urlsplit(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the load driver only targets loopback addresses")
    t0 = time.perf_counter()
    result = asyncio.run(run(args.url, args.sessions, args.seconds, args.max_visits, args.timeout_ms,
                             args.stop_file))
    result["wall_seconds"] = round(time.perf_counter() - t0, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

"""Running the app under Streamlit's AppTest against a chosen database (imported by page tests)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_page(db: Path, page: str | None = None, params: dict | None = None, timeout: int = 120):
    """Run the app (optionally switched to `page`) under AppTest against database `db`."""
    from streamlit.testing.v1 import AppTest

    os.environ["DERBY_OA_DB"] = str(db)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at

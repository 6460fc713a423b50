"""Running the app under Streamlit's AppTest against a chosen database (imported by page tests)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


OFFICER = "Test Officer"


def signed_in(name: str = OFFICER, email: str = "test.officer@derby.gov.uk") -> dict:
    """`AppTest.user` of an officer signed in through the identity provider (what `st.login` sets)."""
    return {"is_logged_in": True, "name": name, "email": email}


def run_page(db: Path, page: str | None = None, params: dict | None = None, timeout: int = 120,
             officer: str | None = None, secrets: dict | None = None):
    """Run the app (optionally switched to `page`) under AppTest against database `db`.

    Anonymous by default; `officer="Name"` signs in as that officer (AppTest.user, as `st.login` would).
    `secrets` replaces the secrets file (e.g. fallback `officers` accounts)."""
    from streamlit.testing.v1 import AppTest

    os.environ["DERBY_OA_DB"] = str(db)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    if officer:
        at.user = signed_in(officer)
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at

"""Who may do what: viewing is open; loading data, undoing or publishing uploads, local targets and the
SQL console are for signed-in officers. All role logic of the app is here.

Two ways to sign in, both configured in `.streamlit/secrets.toml` (see `secrets.toml.example`):
- Streamlit's built-in OpenID Connect sign-in (`st.login`), e.g. the council's Microsoft Entra tenant,
  from the `[auth]` section. Anyone the provider signs in is an officer, unless `[roles]` lists
  `officer_emails` or `officer_domains`, in which case only those are.
- Fallback for a machine without an identity provider: `[officers.USERNAME]` accounts with a display
  `name` and a salted `password_hash` (`python -m derby_oa officer-hash`).

The officer's name (from the provider, or the account's `name`) is what the audit trail records.
Tests sign in by setting `AppTest.user` (`{"is_logged_in": True, "name": ..., "email": ...}`) or the
fallback's session key `OFFICER_KEY`; no widget uses that key, so a browser cannot set it.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Mapping

import streamlit as st

from derby_oa.passwords import verify_password
from derby_oa.text import md_escape

OFFICER_KEY = "_derby_oa_officer"  # fallback sign-in: the signed-in officer's name, set only by _check_password
MAX_FAILURES, LOCK_SECONDS = 5, 300  # per user name, across sessions of this server process
_failures: dict[str, tuple[int, float]] = {}
_failures_lock = threading.Lock()
SIGN_IN_HINT = "Officer sign-in is in the sidebar."


def _secrets(section: str) -> dict:
    """One section of the secrets file as a dict ({} when there is no secrets file or section)."""
    try:
        value = st.secrets.get(section)
    except Exception:  # no secrets file, or one that does not parse: no sign-in of that kind
        return {}
    return dict(value) if isinstance(value, Mapping) else {}


def oidc_providers() -> list[str | None]:
    """Providers configured for `st.login` (None: the single provider written into `[auth]` itself)."""
    auth = _secrets("auth")
    if not auth.get("redirect_uri") or not auth.get("cookie_secret"):
        return []
    named = [k for k, v in auth.items() if isinstance(v, Mapping)]
    return named or ([None] if auth.get("client_id") else [])


def officer_accounts() -> dict[str, dict]:
    """Fallback accounts: user name -> {'name', 'password_hash'} (entries without a hash are ignored)."""
    return {str(k): dict(v) for k, v in _secrets("officers").items()
            if isinstance(v, Mapping) and v.get("password_hash")}


def _provider_user() -> dict | None:
    """The identity-provider user of this session, or None."""
    try:
        user = st.user.to_dict()
    except Exception:
        return None
    return user if user.get("is_logged_in") is True else None


def _is_officer_identity(user: dict) -> bool:
    roles = _secrets("roles")
    emails = {str(e).strip().lower() for e in roles.get("officer_emails", [])}
    domains = {str(d).strip().lower().lstrip("@") for d in roles.get("officer_domains", [])}
    if not emails and not domains:
        return True
    email = str(user.get("email") or "").strip().lower()
    return bool(email) and (email in emails or email.rsplit("@", 1)[-1] in domains)


def current_officer() -> str | None:
    """The signed-in officer's name, or None for a visitor (viewing needs no sign-in)."""
    user = _provider_user()
    if user is not None and _is_officer_identity(user):
        name = str(user.get("name") or user.get("email") or "").strip()
        if name:
            return name
    name = st.session_state.get(OFFICER_KEY)
    return str(name) if name else None


def require_officer(action: str) -> str | None:
    """The officer's name; for a visitor, None after a clear 'sign in as an officer to ...' message."""
    officer = current_officer()
    if officer is None:
        st.info(f"Sign in as an officer to {action}. Viewing the dashboard needs no sign-in. {SIGN_IN_HINT}",
                icon=":material/lock:")
    return officer


def _locked(username: str) -> bool:
    with _failures_lock:
        count, since = _failures.get(username, (0, 0.0))
        if count >= MAX_FAILURES and time.monotonic() - since < LOCK_SECONDS:
            return True
        if count >= MAX_FAILURES:
            _failures.pop(username, None)
        return False


def _check_password() -> None:
    """Form callback: sign in with a fallback account; the password is cleared from the session at once."""
    state = st.session_state
    username = str(state.get("auth-user") or "").strip()
    password = str(state.get("auth-password") or "")
    state["auth-password"] = ""
    if _locked(username):
        state["auth-error"] = f"Too many failed attempts: try again in {LOCK_SECONDS // 60} minutes."
        return
    account = officer_accounts().get(username)
    if account is None or not verify_password(password, account["password_hash"]):
        with _failures_lock:
            count, since = _failures.get(username, (0, time.monotonic()))
            _failures[username] = (count + 1, since if count else time.monotonic())
        state["auth-error"] = "Not signed in: unknown user name or wrong password."
        return
    with _failures_lock:
        _failures.pop(username, None)
    state.pop("auth-error", None)
    state[OFFICER_KEY] = str(account.get("name") or username)


def sign_out() -> None:
    """End the officer's sign-in (both kinds)."""
    st.session_state.pop(OFFICER_KEY, None)
    if _provider_user() is not None:
        st.logout()
    st.rerun()


def sign_in_panel() -> None:
    """Sidebar: who is signed in and a sign-out button, or the ways to sign in as an officer."""
    officer = current_officer()
    with st.sidebar:
        if officer:
            st.caption(f"Signed in as officer **{md_escape(officer)}**.")
            if st.button("Sign out", key="auth-sign-out"):
                sign_out()
            return
        user = _provider_user()
        if user is not None:  # signed in with the provider, but not on the officers' list
            st.caption(f"Signed in as {md_escape(user.get('email') or user.get('name') or 'unknown')}, "
                       "which is not an officer account.")
            if st.button("Sign out", key="auth-sign-out"):
                sign_out()
        with st.expander("Officer sign-in"):
            st.caption("Viewing needs no sign-in. Officers sign in to load data, undo or publish uploads, "
                       "manage local targets and use the SQL console.")
            providers, accounts = oidc_providers(), officer_accounts()
            for provider in providers:
                label = (provider or "the council's account").replace("_", " ")
                if st.button(f"Sign in with {md_escape(label.title() if provider else label)}",
                             key=f"auth-login-{provider or 'default'}"):
                    st.login(provider)
            if accounts:
                with st.form("auth-form", clear_on_submit=False, border=False):
                    st.text_input("User name", key="auth-user", autocomplete="username")
                    st.text_input("Password", type="password", key="auth-password", autocomplete="current-password")
                    st.form_submit_button("Sign in", on_click=_check_password)
                if error := st.session_state.get("auth-error"):
                    st.error(error)
            if not providers and not accounts:
                st.caption("Sign-in is not set up on this server: see 'Sign-in and roles' in the README.")

"""Salted password hashes for the fallback officer accounts (scrypt from the standard library).

A hash is one string, `scrypt:N:r:p$SALT$KEY` (hex), kept in `.streamlit/secrets.toml`; the password
itself is never stored. Make one with `python -m derby_oa officer-hash`. No Streamlit here.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

N, R, P, KEY_BYTES, SALT_BYTES = 2 ** 14, 8, 1, 32, 16
MIN_LENGTH = 12


def hash_password(password: str, salt: bytes | None = None) -> str:
    """The storable hash of `password` with a fresh random salt."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a password needs at least {MIN_LENGTH} characters")
    salt = salt or secrets.token_bytes(SALT_BYTES)
    key = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=KEY_BYTES)
    return f"scrypt:{N}:{R}:{P}${salt.hex()}${key.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches the stored hash; False for a wrong password or a malformed hash."""
    try:
        scheme, salt_hex, key_hex = str(stored).split("$")
        name, n, r, p = scheme.split(":")
        if name != "scrypt":
            return False
        n, r, p = int(n), int(r), int(p)
        if not (2 ** 10 <= n <= 2 ** 20 and 1 <= r <= 32 and 1 <= p <= 16):
            return False
        salt, key = bytes.fromhex(salt_hex), bytes.fromhex(key_hex)
        got = hashlib.scrypt(str(password).encode(), salt=salt, n=n, r=r, p=p, dklen=len(key),
                             maxmem=256 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, key)

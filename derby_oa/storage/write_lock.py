"""One writer at a time: a lock file next to the database serializes build, upload, undo and local targets.

`hold(db_path, what)` takes an exclusive `fcntl.flock` on `<database>.lock`. A second writer (another
process or thread) waits up to `config.write_wait()` seconds (`DERBY_OA_WRITE_WAIT`), then is refused
with `WriteBusy`, naming what holds the lock. The lock is released when the holder finishes or dies
(the kernel drops a dead process's locks), so a crash never leaves it stuck. Readers take no lock.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from derby_oa import config

POLL_SECONDS = 0.05
_held = threading.local()  # paths this thread holds, with depth (a holder may nest writes)


class WriteBusy(RuntimeError):
    """Another write holds the database's lock for longer than the wait allows; nothing was written."""


def lock_path(db_path: Path) -> Path:
    """The lock file of a database: `<database>.lock` beside it."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".lock")


def _holder(fd: int) -> str:
    try:
        return os.pread(fd, 300, 0).decode("utf-8", "replace").strip() or "another write"
    except OSError:
        return "another write"


@contextmanager
def hold(db_path: Path | None = None, what: str = "write", wait: float | None = None) -> Iterator[None]:
    """Hold the write lock of `db_path` (default the configured database) for the body of the `with`."""
    db_path = Path(os.path.realpath(db_path or config.db_path()))  # one lock whatever name the file is reached by
    key = str(db_path)
    depth = getattr(_held, "depth", None)
    if depth is None:
        depth = _held.depth = {}
    if depth.get(key):
        depth[key] += 1
        try:
            yield
        finally:
            depth[key] -= 1
        return
    wait = config.write_wait() if wait is None else wait
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WriteBusy(f"{db_path} is being changed by {_holder(fd)}; waited {wait:g} s. "
                                    f"Nothing was written: try again when it has finished.") from None
                time.sleep(POLL_SECONDS)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%H:%M:%S UTC")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{what} (process {os.getpid()}, since {stamp})".encode(), 0)
        depth[key] = 1
        try:
            yield
        finally:
            depth.pop(key, None)
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)

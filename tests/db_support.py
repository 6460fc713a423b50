"""Cheap copies of a built database for tests that write (imported by test modules)."""
from __future__ import annotations

import shutil
from pathlib import Path


def copy_database(source: Path, target: Path) -> Path:
    """Copy a database file and the files kept beside it (uploads record, change history) to `target`.

    The copy is what the source's owner would see: same uploads record and history, under the target's name
    (`<target stem>_uploads.duckdb`, `<target stem>_history.duckdb`); lock files are not copied.
    """
    from derby_oa import config
    from derby_oa.build import history

    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    for beside in (config.uploads_record_path, history.history_path):
        if beside(source).is_file():
            shutil.copyfile(beside(source), beside(target))
    return target

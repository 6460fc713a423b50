"""R data files (`.rda`) read with the `rdata` package into pandas, with a parsed-file cache.

Parsing a large `.rda` in pure Python takes tens of seconds, so the first frame of each file is
also written as Parquet to `<cache>/parsed/<sha256>.parquet` and read from there next time. The
cache is keyed by the file's SHA-256, so a changed file is parsed afresh.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pooch

from derby_oa import config
from derby_oa.errors import InputError


def cached(path: Path, tag: str, parse) -> pd.DataFrame:
    """`parse(path)` (a DataFrame), kept as Parquet under `<cache>/parsed/` keyed by the file's
    SHA-256 and `tag` (what was parsed out of it), and read from there next time."""
    path = Path(path)
    target = config.cache_dir() / "parsed" / f"{pooch.file_hash(str(path), alg='sha256')}{tag}.parquet"
    if target.is_file():
        try:
            return pd.read_parquet(target)
        except Exception:  # a damaged cache file is parsed again
            target.unlink(missing_ok=True)
    df = parse(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        df.to_parquet(tmp, index=False)
        tmp.replace(target)
    except OSError:
        pass  # a read-only cache only costs time
    return df


def read_frame(path: Path, encoding: str | None = None) -> pd.DataFrame:
    """The single data frame stored in an `.rda` file (strings as plain object columns)."""
    return cached(path, "", lambda p: _parse(p, encoding))


def _parse(path: Path, encoding: str | None) -> pd.DataFrame:
    import rdata

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tibble classes fall back to data.frame: expected
            objects = rdata.read_rda(path, default_encoding=encoding, force_default_encoding=encoding is not None)
    except Exception as exc:
        raise InputError(path.name, f"cannot be read as an R data file ({type(exc).__name__}: {exc})") from None
    frames = [v for v in objects.values() if isinstance(v, pd.DataFrame)]
    if len(frames) != 1:
        raise InputError(path.name, f"expected one data frame, found {len(frames)}")
    df = frames[0].reset_index(drop=True)
    for col in df.columns:
        if str(df[col].dtype) in ("string", "category"):
            df[col] = df[col].astype(object).where(df[col].notna(), None)
    return df


def require(df: pd.DataFrame, file: str, columns: list[str]) -> None:
    """Raise InputError naming the first missing column."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(file, f"missing column(s) {', '.join(missing)}", field=missing[0])

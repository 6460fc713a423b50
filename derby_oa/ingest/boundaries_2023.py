"""Adapter module for `ons_boundaries_2023` (May 2023 wards): a thin alias of
`boundaries.CURRENT`, so the build can import each boundary source as a module.
The simplification method is documented in `boundaries`.
"""
from __future__ import annotations

from derby_oa.ingest.boundaries import CURRENT

SOURCE_ID = CURRENT.SOURCE_ID
FILES = CURRENT.FILES
load = CURRENT.load

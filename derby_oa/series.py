"""Years that cannot be compared with the rest of a series, and the breaks they imply.

Key stage 4 results for 2019/20 and 2020/21 were awarded by centre-assessed grades (2020) and
teacher-assessed grades (2021), not exams (DfE, "Key stage 4 performance" methodology): those years are not
comparable with exam years or with each other, so each stands alone: a break on both sides, never joined,
never used to judge a target.
"""
from __future__ import annotations

from derby_oa.config import KS4_ASSESSED, not_comparable  # noqa: F401  (the rule lives with the constants)

ASSESSED_NOTE = ("2019/20 and 2020/21 were awarded by centre- and teacher-assessed grades, not exams (DfE): "
                 "not comparable with exam years, so shown on their own and never joined or used to judge a target.")


def breaks_with_isolated(breaks: list[int], isolated: list[int]) -> list[int]:
    """Series breaks plus a break on both sides of each isolated year (y starts a series, y + 1 starts another)."""
    out = set(int(b) for b in breaks)
    for y in isolated:
        out |= {int(y), int(y) + 1}
    return sorted(out)


def all_breaks(meta: dict) -> list[int]:
    """Every break a line must not cross for this indicator: its series breaks and isolated years."""
    return breaks_with_isolated(list(meta.get("series_breaks", [])), list(meta.get("not_comparable", [])))

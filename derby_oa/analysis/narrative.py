"""Sentences generated from the data: what a number means, in words (pure functions, no I/O).

Conventions: a gap is Derby minus England. "Gap" wording is polarity-aware: when Derby is worse than
England the distance is a *gap* (narrowed / widened); when Derby is better it is a *lead*. A change is
reported only when it is visible at the indicator's published precision (values compared once rounded).
"""
from __future__ import annotations

import math

from derby_oa import formatting

GAP_UNITS = formatting.UNIT_WORDS


def period_label(year: int, like: str | None = None) -> str:
    """Label of an end year in the style of `like` (academic 2015/16, financial 2015-16, else calendar)."""
    y = int(year)
    if like and "/" in like and len(like) == 7:
        return f"{y - 1}/{y % 100:02d}"
    if like and "-" in like and len(like) == 7:
        return f"{y - 1}-{y % 100:02d}"
    return str(y)


def _num(value: float, decimals: int) -> str:
    return formatting.number(value, decimals)


def format_value(value: float | None, unit: str, decimals: int) -> str:
    """A value as shown on a tile: 70.7%, 44.1, 56.0 per 100,000; 'no data' when missing."""
    return formatting.value(value, unit, decimals, missing="no data")


def format_amount(amount: float, unit: str, decimals: int) -> str:
    """A difference with its unit word: '2.9 points', '1 point', '26.4 per 100,000'."""
    return formatting.amount(amount, unit, decimals)


def format_signed(amount: float, unit: str, decimals: int) -> str:
    """A signed difference: '+4.3 points', '−0.2 points' (a true minus sign), '0.0 points'."""
    return formatting.signed(amount, unit, decimals)


def _round(x: float, decimals: int) -> float:
    return round(float(x) + 0.0, int(decimals))


def oriented(gap: float, polarity: str) -> float:
    """Gap turned so that positive means Derby is better (or above, with no polarity)."""
    return -gap if polarity == "lower_is_better" else gap


def position_phrase(gap: float, unit: str, decimals: int) -> str:
    """Where Derby stands against England in neutral words: '2.9 points below England'."""
    r = _round(gap, decimals)
    if r == 0:
        return "level with England"
    return f"{format_amount(r, unit, decimals)} {'above' if r > 0 else 'below'} England"


def gap_change_phrase(gap_from: float, gap_to: float, since: str, unit: str, decimals: int, polarity: str) -> str:
    """How the gap to England moved between two years, polarity-aware.

    e.g. 'gap narrowed from 2.9 to 1.1 points since 2015/16'.
    """
    a_raw, b_raw = oriented(gap_from, polarity), oriented(gap_to, polarity)
    a, b = _round(a_raw, decimals), _round(b_raw, decimals)
    amt = lambda v: _num(abs(v), decimals)  # noqa: E731
    word = GAP_UNITS.get(unit, "")
    judged = polarity != "no_judgement"
    good, bad = ("better", "worse") if judged else ("above", "below")
    if a == 0 and b == 0:
        return f"level with England, as in {since}"
    if b == 0:
        return f"now level with England, from {format_amount(a, unit, decimals)} {good if a > 0 else bad} in {since}"
    if a == 0:
        return f"level with England in {since}, now {format_amount(b, unit, decimals)} {good if b > 0 else bad}"
    if (a > 0) != (b > 0):
        return (f"moved from {format_amount(a, unit, decimals)} {good if a > 0 else bad} than England in {since} "
                f"to {format_amount(b, unit, decimals)} {good if b > 0 else bad}") if judged else \
               (f"moved from {format_amount(a, unit, decimals)} {'above' if a > 0 else 'below'} England in {since} "
                f"to {format_amount(b, unit, decimals)} {'above' if b > 0 else 'below'}")
    noun = ("lead over England" if a > 0 else "gap") if judged else "difference from England"
    if abs(b) == abs(a):
        return f"{noun} unchanged at {format_amount(b, unit, decimals)} since {since}"
    verb = ("grew" if abs(b) > abs(a) else "shrank") if noun != "gap" else \
           ("widened" if abs(b) > abs(a) else "narrowed")
    return f"{noun} {verb} from {amt(a)} to {amt(b)} {word}".rstrip() + f" since {since}"


def change_phrase(baseline: float, latest: float, since: str, unit: str, decimals: int, direction: str) -> str:
    """Derby's own change: 'up 4.3 points since 2015/16 (improving)'."""
    change = _round(latest, decimals) - _round(baseline, decimals)
    r = _round(change, decimals)
    if direction.endswith("(not judged)"):  # no polarity: say how it moved, do not judge it
        direction = "not judged"
    if r == 0:
        return f"unchanged since {since} ({direction})"
    return f"{'up' if r > 0 else 'down'} {format_amount(r, unit, decimals)} since {since} ({direction})"


def headline_sentence(period: str, derby: float, england: float | None, unit: str, decimals: int,
                      polarity: str, since: str | None = None, gap_from: float | None = None,
                      since_note: str | None = None, baseline: float | None = None,
                      direction: str | None = None, value_decimals: int | None = None) -> str:
    """The tile sentence, e.g. 'Derby 70.7%, England 71.8% in 2018/19: gap narrowed from 2.9 to 1.1 points
    since 2015/16.'

    Without an England value the sentence reports Derby's own change; with one year only, Derby's position.
    `since_note` explains a baseline that is not the plan's (first year available, new series).
    """
    vd = decimals if value_decimals is None else value_decimals  # the latest values as published
    d = format_value(derby, unit, vd)
    note = f" ({since_note})" if since_note else ""
    if england is None or (isinstance(england, float) and math.isnan(england)):
        text = f"Derby {d} in {period}; no England figure for that year"
        if since and baseline is not None and direction:
            text += f"; {change_phrase(baseline, derby, since, unit, decimals, direction)}{note}"
        return text + "."
    head = f"Derby {d}, England {format_value(england, unit, vd)} in {period}"
    gap_to = derby - england
    if since and gap_from is not None and not (isinstance(gap_from, float) and math.isnan(gap_from)):
        return f"{head}: {gap_change_phrase(gap_from, gap_to, since, unit, decimals, polarity)}{note}."
    text = f"{head}: {position_phrase(gap_to, unit, decimals)}"
    if since and baseline is not None and direction:
        text += f"; Derby {change_phrase(baseline, derby, since, unit, decimals, direction)}{note}"
    elif not since:
        text += "; no earlier comparable year to compare with"
    return text + "."


def earlier_series_sentence(from_period: str, to_period: str, gap_from: float | None, gap_to: float | None,
                            unit: str, decimals: int, polarity: str, derby_from: float, derby_to: float,
                            direction: str, value_decimals: tuple[int, int] | None = None) -> str:
    """The plan-period story in a series that has since been replaced (e.g. EYFSP before the 2021/22 reform).

    `value_decimals`: the two values' own published precision (LAIT's whole numbers are not padded).
    """
    d0, d1 = value_decimals or (decimals, decimals)
    if gap_from is not None and gap_to is not None and not any(math.isnan(x) for x in (gap_from, gap_to)):
        phrase = gap_change_phrase(gap_from, gap_to, from_period, unit, decimals, polarity)
        phrase = phrase.replace(f" since {from_period}", "").replace(f" in {from_period}", "")
        return (f"Before the series break, from the plan's {from_period} baseline to {to_period}: {phrase}; "
                f"Derby {format_value(derby_from, unit, d0)} to {format_value(derby_to, unit, d1)} "
                f"({direction}).")
    return (f"Before the series break, from the plan's {from_period} baseline to {to_period}: Derby "
            f"{format_value(derby_from, unit, d0)} to {format_value(derby_to, unit, d1)} ({direction}).")


def earlier_series_short(from_period: str, to_period: str, gap_from: float | None, gap_to: float | None,
                         unit: str, decimals: int, polarity: str) -> str:
    """Short form for presentation: '2015/16 to 2018/19 (old series): gap narrowed from 2.9 to 1.1 points.'"""
    if gap_from is None or gap_to is None or any(math.isnan(x) for x in (gap_from, gap_to)):
        return ""
    phrase = gap_change_phrase(gap_from, gap_to, from_period, unit, decimals, polarity)
    phrase = phrase.replace(f" since {from_period}", "").replace(f" in {from_period}", "")
    return f"{from_period} to {to_period} (old series): {phrase}."


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def gaps_note(meta: dict, labels: dict[int, str], years: list[int]) -> str:
    """Why lines stop: not-collected years and series breaks within `years`, in words ('' if none).

    `labels` maps end years to period labels (2016 -> '2015/16').
    """
    if not years:
        return ""
    lo, hi = min(years), max(years)
    lab = lambda y: labels.get(y, str(y))  # noqa: E731
    parts = []
    missing = [y for y in meta.get("not_collected", []) if lo <= y <= hi]
    if missing:
        parts.append(f"no data collected or published for {_join([lab(y) for y in missing])}, so no line crosses "
                     f"{'those years' if len(missing) > 1 else 'that year'}")
    breaks = [b for b in meta.get("series_breaks", []) if lo < b <= hi]
    for b in breaks:
        parts.append(f"a new series starts in {lab(b)} and is not joined to earlier years")
    alone = [y for y in meta.get("not_comparable", []) if lo <= y <= hi]
    if alone:
        parts.append(f"{_join([lab(y) for y in alone])} {'were' if len(alone) > 1 else 'was'} awarded by centre- or "
                     f"teacher-assessed grades, not exams, so not comparable: shown on their own, never joined")
    if not parts:
        return ""
    text = "Gaps in the lines: " + "; ".join(parts) + "."
    return text


def gap_pair_sentence(period: str, derby_gap: float | None, england_gap: float | None, group_label: str,
                      reference_label: str, unit: str, decimals: int) -> str:
    """'In 2024/25, FSM pupils in Derby were 18.3 points below non-FSM pupils; in England, 21.2 points below ...'"""
    def part(gap):
        if gap is None or math.isnan(gap):
            return "no data"
        r = _round(gap, decimals)
        if r == 0:
            return f"level with {reference_label}"
        return f"{format_amount(r, unit, decimals)} {'below' if r < 0 else 'above'} {reference_label}"
    return (f"In {period}, {group_label} in Derby were {part(derby_gap)}; "
            f"in England, {part(england_gap)}.")


def trend_caption(title: str, group: str | None, first: str, last: str, comparators: list[str],
                  neighbours: str = "average", n_neighbours: int = 0, group_name: str | None = None,
                  gaps: str = "") -> str:
    """What a trend chart shows, in one or two sentences, generated from its data and settings."""
    others = [c for c in comparators if c != "Derby"]
    text = f"{title}{f' ({group})' if group else ''}, {first} to {last}: Derby"
    if others:
        text += " against " + _join(others)
    sn = ""
    if n_neighbours and neighbours == "average":
        sn = (f". The statistical neighbours line averages those of Derby's {n_neighbours} statistical neighbours"
              f"{f' ({group_name})' if group_name else ''} that have a value; its bars show their lowest and "
              f"highest values")
    elif n_neighbours and neighbours == "each":
        sn = (f". Thin grey lines are each of Derby's {n_neighbours} statistical neighbours"
              f"{f' ({group_name})' if group_name else ''}; hover for names or see the table")
    text += sn + ". Each area has its own point shape and line style."
    return f"{text} {gaps}".strip()

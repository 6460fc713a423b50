"""Headline tiles: a compact grid of Derby-against-England tiles, with plan target status when available."""
from __future__ import annotations

import base64
import html
import logging

import pandas as pd
import streamlit as st

from derby_oa import config, queries, stats
from derby_oa.analysis import headlines, narrative, targets
from derby_oa.viz import sparklines, theme
from derby_oa.queries import overview as overview_queries
from derby_oa.ui import connection, widgets

log = logging.getLogger(__name__)

MOVES = {1: "\u2191", -1: "\u2193", 0: "\u2192"}  # the value went up, down, or did not visibly move
VERDICT_WORDS = {stats.BETTER: "better than England", stats.SIMILAR: "similar to England",
                 stats.WORSE: "worse than England", stats.NOT_JUDGED: "vs England: cannot be judged"}
TARGET_WORDS = {"exceed_comparator": "exceed England", "close_gap": "close the gap", "absolute": "reach a value",
                "commitment": "commitment", "qualitative": "qualitative"}
TARGET_SYMBOLS = targets.STATUS_SYMBOLS

GRID_CSS = """
<style>
.oa-grid {display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 0.55rem; margin-bottom: 0.5rem;}
.oa-grid.oa-present {grid-template-columns: repeat(5, minmax(0, 1fr)); gap: 0.4rem;}
.oa-tile {border: 1px solid #B1B4B6; border-top: 5px solid #12436D; padding: 0.4rem 0.6rem 0.5rem; background: #FFFFFF;
  color: #0B0C0C; line-height: 1.25;}
.oa-tile h3 {font-size: 0.95rem; font-weight: 700; margin: 0; padding: 0; line-height: 1.2; color: #0B0C0C;}
.oa-tag {font-size: 0.72rem; color: #505A5F; text-transform: uppercase; letter-spacing: 0.03em;}
.oa-value {font-size: 1.9rem; font-weight: 700; line-height: 1.1; margin-top: 0.1rem;}
.oa-value small {font-size: 0.8rem; font-weight: 400; color: #505A5F;}
.oa-facts {font-size: 0.8rem; color: #0B0C0C;}
.oa-badges {margin: 0.15rem 0;}
.oa-badge {display: inline-block; border-left: 6px solid #505A5F; background: #F3F2F1; color: #0B0C0C;
  padding: 0 0.35rem; margin: 0.12rem 0.2rem 0 0; font-size: 0.75rem; font-weight: 700;}
.oa-sentence {font-size: 0.8rem; margin: 0.15rem 0 0 0;}
.oa-line {margin: 0.2rem 0 0 0; line-height: 0;}
.oa-line img {width: 100%; height: auto; max-height: 4.6rem; display: block;}
.oa-key {border-top-color: #505A5F; background: #F3F2F1;}
.oa-nodata {color: #505A5F; font-size: 0.85rem;}
.oa-present .oa-tile h3 {font-size: clamp(13px, 1.8vh, 30px);}
.oa-present .oa-value {font-size: clamp(20px, 3.3vh, 52px);}
.oa-present .oa-value small {font-size: clamp(12px, 1.5vh, 24px);}
.oa-present .oa-facts, .oa-present .oa-sentence {font-size: clamp(12px, 1.65vh, 26px);}
.oa-present .oa-badge {font-size: clamp(11px, 1.45vh, 24px); margin-top: 0.08rem;}
.oa-present .oa-badges {margin: 0.1rem 0 0 0; line-height: 1.2;}
.oa-present .oa-tile {padding: 0.25rem 0.5rem 0.3rem; border-top-width: 4px;}
.oa-present .oa-line img {max-height: 7.4vh;}
h1.oa-heading, [data-testid="stMarkdownContainer"] h1.oa-heading {font-size: 1.15rem; font-weight: 700;
  margin: 0 0 0.35rem 0; padding: 0; line-height: 1.3; color: #0B0C0C;}
.oa-present .oa-tag {font-size: clamp(10px, 1.25vh, 20px);}
h1.oa-heading.oa-present-heading {font-size: clamp(18px, 2.6vh, 40px);}
</style>
"""

# Presentation mode: use the whole 1366x768 screen (the shared widgets already hide the sidebar and header).
PRESENT_PAGE_CSS = """
<style>
[data-testid="stMainBlockContainer"] {padding: 0.4rem 1rem 1rem 1rem !important; max-width: 100% !important;}
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] {gap: 0.5rem;}
[data-testid="stElementContainer"]:has(style):not(:has(.oa-grid)):not(:has(.stVegaLiteChart)) {display: none;}
</style>
"""


@st.cache_data(show_spinner=False, max_entries=32)
def _tiles_cached(key: tuple, items: tuple[headlines.Headline, ...]) -> list[headlines.Tile]:
    from derby_oa.ui.connection import get_con
    return headlines.tiles_for(get_con(), items)


def cached_tiles(items: tuple[headlines.Headline, ...] = headlines.HEADLINES) -> list[headlines.Tile]:
    """`headlines.tiles_for`, kept per database version (`connection.db_key`)."""
    return _tiles_cached(connection.db_key(), tuple(items))


def compute_lines(con, items) -> dict[str, tuple[str, str]]:
    """Each tile's trend line as (SVG text, words), by headline key (`indicator_id:breakdown`)."""
    items = list(items)
    obs = overview_queries.observations_for(con, headlines.headline_pairs(items), [config.DERBY, config.ENGLAND])
    out = {}
    for h in items:
        try:
            meta = queries.indicator(con, h.indicator_id)
        except (KeyError, IndexError, ValueError):
            continue
        frame = sparklines.trend_frame(obs, h.indicator_id, h.breakdown, int(meta.get("decimals", 1)))
        spec = sparklines.spec(frame, meta)
        if spec is not None:
            out[h.key] = (sparklines.to_svg(spec), sparklines.alt_text(frame, meta, h.label or meta["title"]))
    return out


@st.cache_data(show_spinner=False, max_entries=16)
def _lines_cached(key: tuple[str, float], items: tuple[headlines.Headline, ...]) -> dict[str, tuple[str, str]]:
    from derby_oa.ui.connection import get_con
    return compute_lines(get_con(), items)


def cached_lines(tiles: list[headlines.Tile]) -> dict[str, tuple[str, str]]:
    """`compute_lines` for the tiles shown, cached per database file."""
    items = tuple(headlines.Headline(t.indicator_id, t.breakdown, t.priority, t.title) for t in tiles if t.has_data)
    try:
        return _lines_cached(connection.db_key(), items)
    except Exception:  # a failing line must not take the tiles down: they keep their words
        log.exception("trend lines failed")
        return {}


def line_html(line: tuple[str, str] | None) -> str:
    """The trend line as an image with its words as alt text (the words are also the hover title)."""
    if not line:
        return ""
    svg, words = line
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (f'<div class="oa-line"><img src="data:image/svg+xml;base64,{data}" alt="{html.escape(words)}" '
            f'title="{html.escape(words)}"></div>')


@st.cache_data(show_spinner=False, max_entries=8)
def _statuses_cached(key: tuple) -> pd.DataFrame | None:
    from derby_oa.ui.connection import get_con
    return _target_statuses(get_con())


def target_statuses() -> pd.DataFrame | None:
    """Plan target statuses (cached per database file), or None when they are not available."""
    return _statuses_cached(connection.db_key())


def _target_statuses(con) -> pd.DataFrame | None:
    """Plan target statuses from `derby_oa.analysis.targets.assess_all`, or None when the assessment fails."""
    try:
        return targets.assess_all(con)
    except Exception:  # a failing assessment must not take the board overview down
        log.exception("target assessment failed")
        return None


def _badge(text: str, colour: str) -> str:
    return f'<span class="oa-badge" style="border-left-color:{colour}">{html.escape(text)}</span>'


def status_lookup(statuses: pd.DataFrame | dict | None) -> dict:
    """Target statuses by (indicator, pupil group): one pass over the table instead of a filter per tile."""
    if isinstance(statuses, dict):
        return statuses
    out: dict = {}
    if statuses is not None:
        for r in statuses.to_dict("records"):
            out.setdefault((r["indicator_id"], r["breakdown"]), []).append(r)
    return out


def _targets_for(tile: headlines.Tile, statuses: pd.DataFrame | dict | None, present: bool = False) -> list[str]:
    out = []
    for r in status_lookup(statuses).get((tile.indicator_id, tile.breakdown), []):
        kind = TARGET_WORDS.get(r.get("kind"), "target")
        year = r.get("target_year")
        when = f" by {int(year)}" if year is not None and not pd.isna(year) else ""
        status = str(r["status"])
        text = f"{int(year)} target: {status}" if present and when else f"Plan target ({kind}{when}): {status}"
        out.append(_badge(f"{TARGET_SYMBOLS.get(status, '')} {text}".strip(),
                          theme.STATUS_COLOURS.get(status, theme.DARK_GREY)))
    return out


def tile_html(tile: headlines.Tile, statuses: pd.DataFrame | None = None, present: bool = False,
              line: tuple[str, str] | None = None) -> str:
    """One tile as HTML: priority, title, Derby's value, England and gap, status words, trend line, sentence.

    The line shows the trend, so the sentence is the short form (the full one is in the table below the tiles).
    The better/similar/worse badge appears only where significance was tested (counts or a published
    interval); why it could not be tested stays in the table and rules below the tiles.
    """
    tag = html.escape(headlines.PRIORITY_SHORT.get(tile.priority, tile.priority))
    head = f'<div class="oa-tag">{tag}</div><h3>{html.escape(tile.title)}</h3>'
    if not tile.has_data:
        return (f'<div class="oa-tile" role="group" aria-label="{html.escape(tile.title)}">{head}'
                f'<div class="oa-nodata">No data: nothing published or loaded for Derby yet.</div></div>')
    unit_small = " per 100,000" if tile.unit == "per 100,000" else ""
    value = narrative.format_value(tile.derby, "" if unit_small else tile.unit, tile.decimals)
    fact_unit = "" if unit_small else tile.unit  # "per 100,000" is already on the value line
    facts = [f"England {narrative.format_value(tile.england, fact_unit, tile.decimals)}"
             if tile.england is not None else "England: no figure"]
    if tile.gap is not None:
        facts.append(f"gap {narrative.format_signed(tile.gap, tile.unit, tile.decimals)}")
    if tile.since and not line and not present:
        facts.append(f"since {tile.since.from_period}: "
                     f"{narrative.format_signed(tile.since.change, tile.unit, tile.decimals)}")
    badges = []
    if tile.since:
        move = round(tile.since.change, tile.decimals)
        symbol = MOVES[(move > 0) - (move < 0)]
        badges.append(_badge(f"{symbol} {tile.direction}", theme.STATUS_COLOURS.get(tile.direction, theme.DARK_GREY)))
        if tile.recent_trend:
            badges.append(_badge(f"recent trend: {tile.recent_trend}",
                                 theme.STATUS_COLOURS.get(tile.recent_trend, theme.DARK_GREY)))
    else:
        badges.append(_badge("\u2192 one year only: no trend", theme.DARK_GREY))
    if tile.tested:  # a significance badge only where it was tested; the reason otherwise is in the details
        badges.append(_badge(VERDICT_WORDS[tile.vs_england],
                             theme.STATUS_COLOURS.get(tile.vs_england, theme.DARK_GREY)))
    badges += _targets_for(tile, statuses, present)
    return (f'<div class="oa-tile" role="group" aria-label="{html.escape(tile.title)}">{head}'
            f'<div class="oa-value">{html.escape(value)}'
            f'<small>{unit_small} in {html.escape(str(tile.period))}</small></div>'
            f'<div class="oa-facts">{html.escape(" · ".join(facts))}</div>'
            f'<div class="oa-badges">{"".join(badges)}</div>{line_html(line)}'
            f'<div class="oa-sentence">{html.escape(present_sentence(tile) if present else tile.short_sentence)}'
            f'</div></div>')


def present_sentence(tile: headlines.Tile) -> str:
    """The short sentence's first sentence: on a shared screen the line shows the rest (the old series)."""
    text = tile.short_sentence
    cut = text.find(". ")
    return text[:cut + 1] if cut > 0 else text


KEY_HTML = (
    '<div class="oa-tile oa-key" role="note" aria-label="How to read the tiles"><div class="oa-tag">Key</div>'
    '<h3>Reading the tiles</h3><div class="oa-sentence">Gap = Derby minus England. \u2191 \u2193 \u2192: which way '
    'Derby\'s value moved since the baseline; the word says whether that is good (for absence, excess weight, NEET '
    'and admissions lower is better). Targets: \u2714 met, \u2718 not met (date passed), \u2197 on track, '
    '\u2718 off track, \u2013 not assessable. Lines: Derby solid with dots, England dashed with squares, the '
    'large mark the latest year; a dotted rule is a series break, and a line is never joined across it. Details '
    'below the tiles.</div></div>')


def render_grid(tiles: list[headlines.Tile], statuses: pd.DataFrame | None = None, present: bool = False,
                heading: str | None = None, lines: dict[str, tuple[str, str]] | None = None) -> None:
    """The tiles as one responsive grid (4 per row; 5 per row in presentation mode), under an optional heading.

    Each tile carries its trend line (`lines`, by headline key; worked out here when not given).
    """
    lines = cached_lines(tiles) if lines is None else lines
    statuses = status_lookup(statuses)
    body = "".join(tile_html(t, statuses, present, lines.get(f"{t.indicator_id}:{t.breakdown}"))
                   for t in tiles) + KEY_HTML
    top = (f'<h1 class="oa-heading{" oa-present-heading" if present else ""}">{html.escape(heading)}</h1>'
           if heading else "")
    st.markdown(f'{GRID_CSS}{PRESENT_PAGE_CSS if present else ""}{top}'
                f'<div class="oa-grid{" oa-present" if present else ""}">{body}</div>', unsafe_allow_html=True)


def table(tiles: list[headlines.Tile]) -> pd.DataFrame:
    """The tiles as a table (one row per tile) for the data view and CSV."""
    return pd.DataFrame([t.record() for t in tiles])


def presentation_toggle(present: bool, key: str = "present-toggle") -> None:
    """A toggle for presentation mode that writes `present=1` into the URL (and hides the sidebar)."""
    on = st.toggle("Presentation mode", value=present, key=key,
                   help="Large type and no sidebar for sharing on a screen in meetings; the link keeps ?present=1.")
    if on != present:
        widgets.qp_set(present="1" if on else None)
        st.rerun()


RULES_MARKDOWN = """
**How the tiles are worked out** (methods and references: docs/methods.md)

- **Latest**: Derby's most recent published value, with England's for the same year, each at the precision its
  source publishes (LAIT whole numbers stay whole; KS2 progress to 2 decimals). The **gap** is Derby minus England,
  worked out from the values as shown.
- **Baseline** (2015/16): where the plan sets a target for the indicator (GLD, KS2 reading, writing and maths and
  the other target measures) the baseline is *the plan's own figure*, the same one the Targets page judges against
  (e.g. KS2 48.4% against England 53.8%), with the published figure beside it where they differ (LAIT: 48%).
  Elsewhere it is the *published* 2015/16 figure, with the plan's own figure beside it where they differ
  (mental health admissions: 59.9 published, 56 in the plan). Where a series changed after 2015/16 (the reformed
  EYFS profile from 2021/22; Attainment 8 re-scaled in 2016/17; KS4 teacher-assessed grades in 2019/20 and
  2020/21) the change is measured from the first year of the current series, never across the break. Where an
  indicator starts later than 2015/16 the first year available is used; the tile says so.
- **Direction of travel** (improving, worsening, no clear change) is judged by polarity: for absence, excess weight,
  NEET and admissions, lower is better. With published pupil counts for both years a change counts only when the 95%
  interval of the change excludes zero (Newcombe's method, built from the Wilson intervals). Without counts a change
  counts when it is visible at the published precision (the rounded values differ); that does not mean it is beyond
  chance. An indicator without polarity (e.g. FSM eligibility) says how it moved, "rose from ... to ... (not
  judged)".
- **Recent trend** (where pupil counts are published for the last five consecutive years): the Fingertips method,
  a chi-square test for trend in the proportions at the 99.8% level.
- **Compared with England**: better, similar or worse from Derby's 95% Wilson interval when counts are published,
  or a published interval. The badge is shown only where this was tested; the table below says why not elsewhere.
- **Gap wording**: when Derby is behind England the distance is a *gap* (narrowed or widened); when ahead, a *lead*.
- **Plan target**: the status from the Targets page, where a plan target exists for the indicator and pupil group:
  met or not met once the target date has passed; on track or off track while it is still ahead.
- **Rank and quartile** (priority pages): Derby's rank among itself and its statistical neighbours (1 = best by
  polarity; ties share the best rank) and its quartile band among all local authorities with a value that year,
  as LAIT computes it: cut-offs at the 25th, 50th and 75th percentiles of the values (linear interpolation), a value
  on a cut-off in the lower band, A = best by polarity. Not given where the source covers only some authorities.
- **Gap charts** (priority pages): one pupil group minus another. Key stages 2 and 4 default to the DfE
  disadvantage gap (disadvantaged minus other pupils), with "against all pupils" as a choice; early years use FSM
  minus non-FSM pupils. Derby's gap is drawn against England's.
- Symbols: \u2191 \u2193 \u2192 show which way the value moved; the word beside them says whether that is good.
  Missing values: c suppressed, x not available, z not applicable (DfE symbols).
"""

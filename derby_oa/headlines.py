"""The board's headline indicators as data, and the tile computed for each (pure; no Streamlit, no SQL).

A tile holds Derby's latest value, England's, the gap, the change since the plan's 2015/16 baseline and
the direction of travel judged by polarity, plus a generated sentence. Rules:

- Baseline: the plan's 2015/16 value. When the indicator has a series break after 2015/16 (EYFSP 2021/22,
  Attainment 8 2016/17) the change is measured from the first year of the current series, and the plan
  baseline is compared only within its own series (to the last year before the break). When there is no
  2015/16 value the first year available (or the nearest year after 2015/16) is used, and the tile says so.
- Direction of travel: with published counts for both years, improving/worsening only when the 95% interval
  of the change (Newcombe's method from the two Wilson intervals) excludes 0; without counts, when the
  change is visible at the published precision (the rounded values differ). Otherwise "no clear change".
- Against England: better/similar/worse from Derby's Wilson 95% interval (counts) or a published interval;
  otherwise "cannot be judged".
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from . import config, narrative, stats, vocabulary
from .comparisons import prefer_published

PLAN_BASELINE_YEAR = 2016  # 2015/16, the year of the plan's baseline figures

PRIORITIES = {"early_years": "Priority 1: Early years", "schools": "Priority 2: Schools",
              "horizons": "Priority 3: Broadening horizons", "wellbeing": "Wellbeing and transitions"}
PRIORITY_SHORT = {"early_years": "Early years", "schools": "Schools", "horizons": "Horizons",
                  "wellbeing": "Wellbeing"}
BREAKDOWN_LABELS = vocabulary.PUPIL_GROUPS


@dataclass(frozen=True)
class Headline:
    """One headline tile: an indicator and pupil group under a priority."""

    indicator_id: str
    breakdown: str = "all"
    priority: str = "schools"
    label: str | None = None

    @property
    def key(self) -> str:
        return f"{self.indicator_id}:{self.breakdown}"


HEADLINES: tuple[Headline, ...] = (
    Headline("gld", "all", "early_years", "Good level of development"),
    Headline("gld", "fsm", "early_years", "Good level of development: FSM pupils"),
    Headline("ks2_rwm_expected", "all", "schools", "KS2 reading, writing and maths"),
    Headline("ks2_rwm_expected", "disadvantaged", "schools", "KS2 reading, writing and maths: disadvantaged"),
    Headline("ks4_attainment8", "all", "schools", "Attainment 8"),
    Headline("ks4_progress8", "all", "schools", "Progress 8"),
    Headline("ks4_eng_maths_94", "all", "schools", "English and maths GCSE 9-4"),
    Headline("absence_unauth_primary", "all", "schools", "Unauthorised absence: primary"),
    Headline("absence_unauth_secondary", "all", "schools", "Unauthorised absence: secondary"),
    Headline("absence_persistent_primary", "all", "schools", "Persistent absence: primary"),
    Headline("absence_persistent_secondary", "all", "schools", "Persistent absence: secondary"),
    Headline("excess_weight_year6", "all", "horizons", "Year 6 excess weight"),
    Headline("neet_16_17", "all", "wellbeing", "16-17 year olds NEET"),
    Headline("mh_admissions_0_17", "all", "wellbeing", "Under-18 mental health admissions"),
)


@dataclass(frozen=True)
class Comparison:
    """Derby and England in two years of one comparable series."""

    from_period: str
    from_year: int
    to_period: str
    to_year: int
    derby_from: float
    derby_to: float
    england_from: float | None
    england_to: float | None
    direction: str
    basis: str

    @property
    def change(self) -> float:
        return self.derby_to - self.derby_from

    @property
    def gap_from(self) -> float | None:
        return None if self.england_from is None else self.derby_from - self.england_from

    @property
    def gap_to(self) -> float | None:
        return None if self.england_to is None else self.derby_to - self.england_to


@dataclass(frozen=True)
class Tile:
    """Everything a headline tile shows, computed from the observations."""

    indicator_id: str
    breakdown: str
    priority: str
    title: str
    unit: str
    decimals: int
    polarity: str
    period: str | None = None
    year: int | None = None
    derby: float | None = None
    england: float | None = None
    vs_england: str = stats.NOT_JUDGED
    vs_basis: str = "no data"
    interval: tuple[float, float] | None = None
    since: Comparison | None = None
    baseline_note: str | None = None
    earlier: Comparison | None = None
    sentence: str = "No data for Derby has been published or loaded yet."
    short_sentence: str = "No data for Derby yet."
    sources: tuple[str, ...] = field(default_factory=tuple)

    @property
    def has_data(self) -> bool:
        return self.derby is not None

    @property
    def gap(self) -> float | None:
        return None if self.derby is None or self.england is None else self.derby - self.england

    @property
    def direction(self) -> str:
        return self.since.direction if self.since else stats.NO_CLEAR_CHANGE

    def value_text(self) -> str:
        return narrative.format_value(self.derby, self.unit, self.decimals)

    def record(self) -> dict:
        """Flat row for tables and CSV downloads."""
        s = self.since
        return {
            "Priority": PRIORITIES.get(self.priority, self.priority), "Indicator": self.title,
            "indicator_id": self.indicator_id, "Pupil group": BREAKDOWN_LABELS.get(self.breakdown, self.breakdown),
            "Unit": self.unit, "Latest period": self.period, "Derby": self.derby, "England": self.england,
            "Gap (Derby - England)": None if self.gap is None else round(self.gap, self.decimals + 1),
            "Compared with England": self.vs_england, "Comparison basis": self.vs_basis,
            "Baseline period": s.from_period if s else None, "Derby at baseline": s.derby_from if s else None,
            "Change since baseline": None if s is None else round(s.change, self.decimals + 1),
            "Direction of travel": self.direction if s else "no earlier year",
            "Direction rule": s.basis if s else None, "Baseline note": self.baseline_note,
            "Sentence": self.sentence, "Sources": "; ".join(self.sources),
        }


def _segment_start(year: int, breaks: list[int]) -> int | None:
    starts = [b for b in breaks if b <= year]
    return max(starts) if starts else None


def _value(frame: pd.DataFrame, year: int) -> float | None:
    if year in frame.index:
        v = frame.at[year, "value"]
        return None if pd.isna(v) else float(v)
    return None


def _counts(frame: pd.DataFrame, year: int) -> tuple[float, float] | None:
    if year not in frame.index or "numerator" not in frame.columns:
        return None
    n, d = frame.at[year, "numerator"], frame.at[year, "denominator"]
    return None if pd.isna(n) or pd.isna(d) or d <= 0 else (float(n), float(d))


def _compare(derby: pd.DataFrame, england: pd.DataFrame, y0: int, y1: int, meta: dict) -> Comparison:
    c0, c1 = _counts(derby, y0), _counts(derby, y1)
    counts = (*c0, *c1) if c0 and c1 and meta.get("unit") == "%" else None
    v0, v1 = _value(derby, y0), _value(derby, y1)
    direction, basis = stats.change_direction(v0, v1, meta["polarity"], int(meta.get("decimals", 1)), counts)
    return Comparison(derby.at[y0, "period"], y0, derby.at[y1, "period"], y1, v0, v1,
                      _value(england, y0), _value(england, y1), direction, basis)


def compute_tile(meta: dict, obs: pd.DataFrame, headline: Headline | None = None,
                 baseline_year: int = PLAN_BASELINE_YEAR) -> Tile:
    """The tile for one indicator and breakdown from its Derby and England observations.

    `obs` columns: area_code, period, year, breakdown, value, status, source_id, optional numerator,
    denominator, lower_ci, upper_ci. Rows of other breakdowns are ignored.
    """
    headline = headline or Headline(meta["indicator_id"], "all", meta.get("theme") or "schools")
    decimals, unit, polarity = int(meta.get("decimals", 1)), meta.get("unit") or "", meta["polarity"]
    title = headline.label or meta.get("short_title") or meta["title"]
    base = Tile(meta["indicator_id"], headline.breakdown, headline.priority, title, unit, decimals, polarity)
    if obs is None or obs.empty:
        return base
    obs = obs[obs["breakdown"] == headline.breakdown] if "breakdown" in obs.columns else obs
    if "indicator_id" in obs.columns:
        obs = obs[obs["indicator_id"] == meta["indicator_id"]]
    # Work at the published precision, so that the gap is the difference of the values shown.
    obs = prefer_published(obs[obs["value"].notna()])
    obs = obs.assign(value=obs["value"].astype(float).round(decimals))
    derby = obs[obs["area_code"] == config.DERBY].set_index("year").sort_index()
    england = obs[obs["area_code"] == config.ENGLAND].set_index("year").sort_index()
    if derby.empty:
        return base
    latest = int(derby.index.max())
    row = derby.loc[latest]
    eng = _value(england, latest)
    breaks = list(meta.get("series_breaks", []))
    seg = _segment_start(latest, breaks)
    current = derby[derby.index >= seg] if seg is not None else derby
    plan_label = narrative.period_label(baseline_year, row["period"])

    note = short = None
    if baseline_year in current.index:
        y0 = baseline_year
    elif seg is not None and seg > baseline_year:
        y0 = int(current.index.min())
        note = f"the first year of the current series; earlier years, including {plan_label}, are not comparable"
        short = "new series"
    else:
        after = current[current.index >= baseline_year]
        y0 = int(after.index.min()) if len(after) else int(current.index.min())
        note = short = "the first year available" if y0 == int(derby.index.min()) else \
            f"the nearest year after {plan_label} with data"
    since = _compare(derby, england, y0, latest, meta) if y0 != latest else None

    earlier = None
    if seg is not None and baseline_year < seg and baseline_year in derby.index:
        prev_start = _segment_start(baseline_year, breaks)
        prev = derby[(derby.index < seg) & ((derby.index >= prev_start) if prev_start else True)]
        y_end = int(prev.index.max())
        if y_end > baseline_year:
            earlier = _compare(derby, england, baseline_year, y_end, meta)

    interval = None
    counts = _counts(derby, latest)
    if eng is None:
        vs, basis = stats.NOT_JUDGED, "no England value for the same year"
    elif counts and unit == "%":
        vs, interval = stats.significance(counts[0], counts[1], eng, polarity)
        basis = "Wilson 95% interval from published counts"
    elif pd.notna(row.get("lower_ci")) and pd.notna(row.get("upper_ci")):
        interval = (float(row["lower_ci"]), float(row["upper_ci"]))
        vs, basis = stats.compare_interval(*interval, eng, polarity), "published 95% interval"
    else:
        vs, basis = stats.NOT_JUDGED, "counts not published, so significance cannot be judged"
    if polarity == "no_judgement":
        vs, basis = stats.NOT_JUDGED, "no polarity: not judged"

    args = dict(since=since.from_period if since else None, gap_from=since.gap_from if since else None,
                baseline=since.derby_from if since else None, direction=since.direction if since else None)
    sentence = narrative.headline_sentence(row["period"], float(row["value"]), eng, unit, decimals, polarity,
                                           since_note=note if since else None, **args)
    short_sentence = narrative.headline_sentence(row["period"], float(row["value"]), eng, unit, decimals, polarity,
                                                 since_note=short if since else None, **args)
    if ": " in short_sentence:  # the tile shows the values already: keep what they mean
        rest = short_sentence.split(": ", 1)[1]
        short_sentence = rest[:1].upper() + rest[1:]
    if earlier:
        sentence += " " + narrative.earlier_series_sentence(
            earlier.from_period, earlier.to_period, earlier.gap_from, earlier.gap_to, unit, decimals, polarity,
            earlier.derby_from, earlier.derby_to, earlier.direction)
        extra = narrative.earlier_series_short(earlier.from_period, earlier.to_period, earlier.gap_from,
                                               earlier.gap_to, unit, decimals, polarity)
        short_sentence += f" {extra}" if extra else ""
    used = [latest] + ([since.from_year] if since else [])
    sources = tuple(dict.fromkeys(obs.loc[obs["year"].isin(used), "source_id"].astype(str)))
    return Tile(meta["indicator_id"], headline.breakdown, headline.priority, title, unit, decimals, polarity,
                period=row["period"], year=latest, derby=float(row["value"]), england=eng, vs_england=vs,
                vs_basis=basis, interval=interval, since=since, baseline_note=note if since else None,
                earlier=earlier, sentence=sentence, short_sentence=short_sentence, sources=sources)


def compute_tiles(metas: dict[str, dict], obs: pd.DataFrame,
                  headlines: tuple[Headline, ...] | list[Headline] = HEADLINES) -> list[Tile]:
    """Tiles for the headlines whose indicator is known (`metas` by indicator_id)."""
    out = []
    for h in headlines:
        if h.indicator_id not in metas:
            continue
        sub = obs[(obs["indicator_id"] == h.indicator_id) & (obs["breakdown"] == h.breakdown)] if len(obs) else obs
        out.append(compute_tile(metas[h.indicator_id], sub, h))
    return out


def headline_pairs(headlines=HEADLINES) -> list[tuple[str, str]]:
    """(indicator_id, breakdown) of each headline, for the query."""
    return [(h.indicator_id, h.breakdown) for h in headlines]

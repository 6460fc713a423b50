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

from derby_oa import config, formatting, queries, stats, vocabulary
from derby_oa.analysis import narrative
from derby_oa.analysis.comparisons import prefer_published
from derby_oa.queries import overview as overview_queries
from derby_oa.series import all_breaks
from derby_oa.vocabulary import PLAN_SOURCE

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
    decimals: int = 1
    baseline_source: str = "published"  # "plan" when the baseline is the delivery plan's own figure
    published_from: float | None = None  # the published figure for the baseline year, shown beside the plan's

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
    recent_trend: str | None = None  # Fingertips recent trend where counts exist for the last five years
    trend_basis: str | None = None
    plan_figure: float | None = None  # the plan's own 2015/16 figure where it differs from the published one
    published_baseline: float | None = None
    tested: bool = False  # whether the comparison with England was a significance test

    @property
    def has_data(self) -> bool:
        return self.derby is not None

    @property
    def gap(self) -> float | None:
        return None if self.derby is None or self.england is None else self.derby - self.england

    @property
    def direction(self) -> str:
        return self.since.direction if self.since else stats.NO_CLEAR_CHANGE

    @property
    def direction_text(self) -> str:
        """The direction in words; without polarity the values too: 'rose from 16.6% to 36.3% (not judged)'."""
        s = self.since
        if s is None:
            return "no earlier year"
        if s.direction in stats.NOT_JUDGED_WORDS and not s.direction.startswith("unchanged"):
            word = s.direction.split(" ")[0]
            return (f"{word} from {narrative.format_value(s.derby_from, self.unit, s.decimals)} to "
                    f"{narrative.format_value(s.derby_to, self.unit, self.decimals)} (not judged)")
        return s.direction

    def value_text(self) -> str:
        return narrative.format_value(self.derby, self.unit, self.decimals)

    def record(self) -> dict:
        """Flat row for tables and CSV downloads."""
        s = self.since
        return {
            "Priority": PRIORITIES.get(self.priority, self.priority), "Indicator": self.title,
            "indicator_id": self.indicator_id, "Pupil group": BREAKDOWN_LABELS.get(self.breakdown, self.breakdown),
            "Unit": self.unit, "Latest period": self.period, "Derby": self.derby, "England": self.england,
            "Gap (Derby - England)": None if self.gap is None else round(self.gap, self.decimals),
            "Compared with England": self.vs_england, "Comparison basis": self.vs_basis,
            "Baseline period": s.from_period if s else None, "Derby at baseline": s.derby_from if s else None,
            "Change since baseline": None if s is None else round(s.change, s.decimals),
            "Direction of travel": self.direction_text,
            "Direction rule": s.basis if s else None, "Baseline note": self.baseline_note,
            "Recent trend": self.recent_trend or "not tested", "Recent trend rule": self.trend_basis,
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


def _compare(derby: pd.DataFrame, england: pd.DataFrame, y0: int, y1: int, meta: dict, decimals: int,
             plan: tuple[float | None, float | None] | None = None) -> Comparison:
    """Derby (and England) from y0 to y1; `plan` = the plan's own (Derby, England) figures for y0, if used."""
    c0, c1 = _counts(derby, y0), _counts(derby, y1)
    counts = (*c0, *c1) if c0 and c1 and meta.get("unit") == "%" and plan is None else None
    v0, v1 = _value(derby, y0), _value(derby, y1)
    e0 = _value(england, y0)
    published_from = None
    if plan is not None and plan[0] is not None:
        published_from, v0 = v0, plan[0]
        e0 = plan[1] if plan[1] is not None else e0
        decimals = max(decimals, formatting.decimals_of(v0))
    direction, basis = stats.change_direction(v0, v1, meta["polarity"], decimals, counts)
    period0 = derby.at[y0, "period"] if y0 in derby.index else narrative.period_label(y0, derby["period"].iat[0])
    return Comparison(period0, y0, derby.at[y1, "period"], y1, v0, v1, e0, _value(england, y1), direction,
                      basis, decimals, "plan" if published_from is not None or (plan and plan[0] is not None)
                      else "published", published_from)


def _year_decimals(obs: pd.DataFrame, year: int, meta_decimals: int) -> int:
    """Decimals of one year's values as published (Derby and England, same source): never padded."""
    rows = obs[obs["year"] == year]
    if rows.empty:
        return meta_decimals
    source = rows["source_id"].mode().iat[0] if "source_id" in rows else None
    return formatting.shown_decimals(rows["value"], meta_decimals, source)


def _plan_figure(plan_rows: pd.DataFrame, area: str, year: int) -> float | None:
    hit = plan_rows[(plan_rows["area_code"] == area) & (plan_rows["year"] == year)]
    return None if hit.empty else float(hit["value"].iat[0])


def compute_tile(meta: dict, obs: pd.DataFrame, headline: Headline | None = None,
                 baseline_year: int = PLAN_BASELINE_YEAR, plan_baseline: bool = False) -> Tile:
    """The tile for one indicator and breakdown from its Derby and England observations.

    `obs` columns: area_code, period, year, breakdown, value, status, source_id, optional numerator,
    denominator, lower_ci, upper_ci. Rows of other breakdowns are ignored. With `plan_baseline` (the
    indicator and group have a plan target) the change is measured from the plan's own 2015/16 figure, as on
    the Targets page, and the published figure is kept beside it; otherwise from the published figure, with
    the plan's own figure kept beside it where they differ.
    """
    headline = headline or Headline(meta["indicator_id"], "all", meta.get("theme") or "schools")
    meta_dec, unit, polarity = int(meta.get("decimals", 1)), meta.get("unit") or "", meta["polarity"]
    title = headline.label or meta.get("short_title") or meta["title"]
    base = Tile(meta["indicator_id"], headline.breakdown, headline.priority, title, unit, meta_dec, polarity)
    if obs is None or obs.empty:
        return base
    obs = obs[obs["breakdown"] == headline.breakdown] if "breakdown" in obs.columns else obs
    if "indicator_id" in obs.columns:
        obs = obs[obs["indicator_id"] == meta["indicator_id"]]
    obs = obs[obs["value"].notna()]
    plan_rows = obs[obs["source_id"] == PLAN_SOURCE] if "source_id" in obs.columns else obs.iloc[0:0]
    published_rows = obs[obs["source_id"] != PLAN_SOURCE] if "source_id" in obs.columns else obs
    only_plan = published_rows.empty
    obs = prefer_published(obs)
    # Work at the published precision of each year, so a gap or change is the difference of the values shown.
    year_dec = {int(y): _year_decimals(obs, int(y), meta_dec) for y in obs["year"].unique()}
    obs = obs.assign(value=[round(float(v), year_dec[int(y)]) for v, y in zip(obs["value"], obs["year"])])
    derby = obs[obs["area_code"] == config.DERBY].set_index("year").sort_index()
    england = obs[obs["area_code"] == config.ENGLAND].set_index("year").sort_index()
    if derby.empty:
        return base
    latest = int(derby.index.max())
    decimals = _year_decimals(obs, latest, meta_dec)
    row = derby.loc[latest]
    # Work at the published precision, so that the gap is the difference of the values shown.
    derby_now = round(float(row["value"]), decimals)
    eng = _value(england, latest)
    eng = None if eng is None else round(eng, decimals)
    breaks = all_breaks(meta)
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
    plan_d, plan_e = _plan_figure(plan_rows, config.DERBY, baseline_year), \
        _plan_figure(plan_rows, config.ENGLAND, baseline_year)
    use_plan = y0 == baseline_year and plan_d is not None and (plan_baseline or only_plan)
    dec0 = max(decimals, _year_decimals(obs, y0, meta_dec))
    since = _compare(derby, england, y0, latest, meta, dec0, (plan_d, plan_e) if use_plan else None) \
        if y0 != latest else None
    published_baseline = _value(derby, baseline_year) if baseline_year in derby.index else None
    differs = plan_d is not None and published_baseline is not None and abs(published_baseline - plan_d) > 1e-9
    if since and since.baseline_source == "plan":
        note = "the plan's own figure" + (
            f"; published {narrative.format_value(since.published_from, unit, formatting.decimals_of(since.published_from, meta_dec))}"
            if since.published_from is not None and differs else "")
        short = "plan's figure"
    elif since and since.from_year == baseline_year and differs and plan_d is not None:
        note = (f"published figure; the plan quotes {narrative.format_value(plan_d, unit, formatting.decimals_of(plan_d))}"
                + (f" ({note})" if note else ""))
        short = short or f"plan quotes {narrative.format_value(plan_d, unit, formatting.decimals_of(plan_d))}"

    earlier = None
    if seg is not None and baseline_year < seg and baseline_year in derby.index:
        # the plan-period story within the baseline's own series only (never into a year that stands alone)
        prev_start = _segment_start(baseline_year, breaks)
        prev = derby[[_segment_start(int(y), breaks) == prev_start for y in derby.index]]
        y_end = int(prev.index.max())
        if y_end > baseline_year:
            earlier = _compare(derby, england, baseline_year, y_end, meta,
                               max(_year_decimals(obs, baseline_year, meta_dec), _year_decimals(obs, y_end, meta_dec)))

    interval, tested = None, False
    counts = _counts(derby, latest)
    if eng is None:
        vs, basis = stats.NOT_JUDGED, "no England value for the same year"
    elif counts and unit == "%":
        vs, interval = stats.significance(counts[0], counts[1], eng, polarity)
        basis, tested = "Wilson 95% interval from published counts", True
    elif pd.notna(row.get("lower_ci")) and pd.notna(row.get("upper_ci")):
        interval = (float(row["lower_ci"]), float(row["upper_ci"]))
        vs, basis, tested = stats.compare_interval(*interval, eng, polarity), "published 95% interval", True
    else:
        vs, basis = stats.NOT_JUDGED, "counts not published, so significance cannot be judged"
    if polarity == "no_judgement":
        vs, basis, tested = stats.NOT_JUDGED, "no polarity: not judged", False

    trend = trend_basis = None
    if unit == "%" and "numerator" in derby.columns:
        run = derby[derby.index >= seg] if seg is not None else derby
        result = stats.recent_trend(run.index, run["numerator"], run["denominator"], polarity)
        if result:
            trend, chi2 = result
            trend_basis = (f"Fingertips recent trend: chi-square test for trend over the last five years with "
                           f"counts, 99.8% level (chi-square {chi2:.1f}; significant above 9.55)")
        else:
            trend_basis = ("counts not published for five consecutive years, so the Fingertips recent-trend test "
                           "cannot be run; direction of travel uses the change since the baseline")

    args = dict(since=since.from_period if since else None, gap_from=since.gap_from if since else None,
                baseline=since.derby_from if since else None, direction=since.direction if since else None)
    d_sent = since.decimals if since else decimals
    sentence = narrative.headline_sentence(row["period"], derby_now, eng, unit, d_sent, polarity,
                                           since_note=note if since else None, value_decimals=decimals, **args)
    short_sentence = narrative.headline_sentence(row["period"], derby_now, eng, unit, d_sent, polarity,
                                                 since_note=short if since else None, value_decimals=decimals,
                                                 **args)
    if ": " in short_sentence:  # the tile shows the values already: keep what they mean
        rest = short_sentence.split(": ", 1)[1]
        short_sentence = rest[:1].upper() + rest[1:]
    if earlier:
        sentence += " " + narrative.earlier_series_sentence(
            earlier.from_period, earlier.to_period, earlier.gap_from, earlier.gap_to, unit, earlier.decimals,
            polarity, earlier.derby_from, earlier.derby_to, earlier.direction,
            (year_dec.get(earlier.from_year, earlier.decimals), year_dec.get(earlier.to_year, earlier.decimals)))
        extra = narrative.earlier_series_short(earlier.from_period, earlier.to_period, earlier.gap_from,
                                               earlier.gap_to, unit, earlier.decimals, polarity)
        short_sentence += f" {extra}" if extra else ""
    used = [latest] + ([since.from_year] if since else [])
    sources = tuple(dict.fromkeys(obs.loc[obs["year"].isin(used), "source_id"].astype(str)))
    if since and since.baseline_source == "plan" and PLAN_SOURCE not in sources:
        sources += (PLAN_SOURCE,)
    return Tile(meta["indicator_id"], headline.breakdown, headline.priority, title, unit, decimals, polarity,
                period=row["period"], year=latest, derby=derby_now, england=eng, vs_england=vs,
                vs_basis=basis, interval=interval, since=since, baseline_note=note if since else None,
                earlier=earlier, sentence=sentence, short_sentence=short_sentence, sources=sources,
                recent_trend=trend, trend_basis=trend_basis, plan_figure=plan_d if differs else None,
                published_baseline=published_baseline, tested=tested)


def compute_tiles(metas: dict[str, dict], obs: pd.DataFrame,
                  headlines: tuple[Headline, ...] | list[Headline] = HEADLINES,
                  plan_targets: set[tuple[str, str]] | None = None) -> list[Tile]:
    """Tiles for the headlines whose indicator is known (`metas` by indicator_id).

    `plan_targets`: (indicator_id, breakdown) pairs with a plan target, whose baseline is the plan's figure.
    """
    out = []
    for h in headlines:
        if h.indicator_id not in metas:
            continue
        sub = obs[(obs["indicator_id"] == h.indicator_id) & (obs["breakdown"] == h.breakdown)] if len(obs) else obs
        out.append(compute_tile(metas[h.indicator_id], sub, h,
                                plan_baseline=(h.indicator_id, h.breakdown) in (plan_targets or set())))
    return out


def with_plan_figures(obs: pd.DataFrame, plan: pd.DataFrame, year: int = PLAN_BASELINE_YEAR) -> pd.DataFrame:
    """`obs` plus the plan's own figures for `year` (from the plan_figures table) as plan_2017 rows.

    The build keeps a published value in place of the plan's for the same year, so the plan's own baseline
    figures (KS2 48.4 against LAIT's 48) are added back here for the tiles to use beside the published ones.
    """
    if plan is None or plan.empty or obs is None or obs.empty:
        return obs
    pairs = set(zip(obs["indicator_id"], obs["breakdown"])) if "indicator_id" in obs.columns else set()
    p = plan[(plan["year"] == year) & plan["value"].notna()]
    p = p[[(i, b or "all") in pairs for i, b in zip(p["indicator_id"], p["breakdown"])]]
    if p.empty:
        return obs
    have = obs[obs["source_id"] == PLAN_SOURCE][["indicator_id", "breakdown", "area_code", "year"]]
    rows = p.assign(breakdown=p["breakdown"].fillna("all"), source_id=PLAN_SOURCE, status="published")
    rows = rows.merge(have.assign(_have=True), how="left", on=["indicator_id", "breakdown", "area_code", "year"])
    rows = rows[rows["_have"].isna()]
    cols = [c for c in obs.columns if c in rows.columns]
    return pd.concat([obs, rows[cols]], ignore_index=True) if len(rows) else obs


def headline_pairs(headlines=HEADLINES) -> list[tuple[str, str]]:
    """(indicator_id, breakdown) of each headline, for the query."""
    return [(h.indicator_id, h.breakdown) for h in headlines]


# ---------------------------------------------------------------- from the database

def tiles_for(con, items: tuple[Headline, ...] | list[Headline] = HEADLINES
            ) -> list[Tile]:
    """Tiles for the headlines whose indicators exist in this database."""
    known = set(queries.indicators(con)["indicator_id"])
    items = [h for h in items if h.indicator_id in known]
    metas = {h.indicator_id: queries.indicator(con, h.indicator_id) for h in items}
    obs = overview_queries.observations_for(con, headline_pairs(items), [config.DERBY, config.ENGLAND])
    obs = with_plan_figures(obs, queries.plan_figures(con))
    return compute_tiles(metas, obs, items, plan_target_pairs(con))


def plan_target_pairs(con) -> set[tuple[str, str]]:
    """(indicator_id, breakdown) of the plan's measurable targets: their tiles use the plan's own baseline."""
    t = queries.target_list(con)
    t = t[(t["origin"] == "plan") & t["indicator_id"].notna() & t["baseline_value"].notna()]
    return {(r.indicator_id, r.breakdown or "all") for r in t.itertuples()}

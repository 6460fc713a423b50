"""Assessing one target: its status, the rule applied and the figures behind it."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from derby_oa import formatting, stats
from derby_oa.analysis.targets.common import (
    BREAKDOWN_LABELS,
    MEASURABLE_KINDS,
    MET,
    NOT_ASSESSABLE,
    NOT_MET,
    NO_OUTCOME,
    OFF_TRACK,
    ON_TRACK,
    UNTESTED,
    PROJECTION_YEARS,
    RECENT_POINTS,
    RELATIVE_KINDS,
    RULES,
    _by_year,
    _int,
    _num,
    _variance,
    direction,
    fmt_value,
    period_label,
    published,
    series_index,
)
from derby_oa.analysis.targets.arithmetic import achieved_change, compare_at, projection, required_change


@dataclass
class Assessment:
    """A target's status with the figures behind it (for the page, the chart and the overview)."""

    target: dict
    status: str
    rule: str
    detail: str
    meta: dict = field(default_factory=dict)
    area_label: str = "Derby"
    comparator_label: str | None = None
    baseline_year: int | None = None
    baseline_value: float | None = None
    baseline_note: str = ""
    comparator_baseline_year: int | None = None
    comparator_baseline: float | None = None
    line_value: float | None = None
    required_change: float | None = None
    achieved_change: float | None = None
    achieved_to: int | None = None
    comparator_change: float | None = None
    judged_years: list[int] = field(default_factory=list)
    judgements: list[dict] = field(default_factory=list)
    latest_year: int | None = None
    latest_value: float | None = None
    latest_comparator: float | None = None
    derby: pd.DataFrame | None = None
    comparator: pd.DataFrame | None = None
    projection: pd.DataFrame | None = None
    comparator_projection: pd.DataFrame | None = None

    @property
    def measurable(self) -> bool:
        return self.target.get("kind") in MEASURABLE_KINDS and bool(self.target.get("indicator_id"))

    def summary(self) -> dict:
        """Scalar columns for the overview table."""
        t = self.target
        return {
            "target_id": t["target_id"], "origin": t.get("origin"), "priority": t.get("priority"),
            "indicator_id": t.get("indicator_id") or None, "breakdown": t.get("breakdown") or None,
            "kind": t["kind"], "status": self.status, "rule": self.rule, "detail": self.detail,
            "title": t.get("title"), "plan_words": t.get("plan_words"),
            "baseline_year": self.baseline_year, "baseline_value": self.baseline_value,
            "target_year": _int(t.get("target_year")), "line_value": self.line_value,
            "required_change": self.required_change, "achieved_change": self.achieved_change,
            "judged_years": ", ".join(period_label(y) for y in self.judged_years),
        }

def _ci_text(ci: tuple[float, float] | None, unit: str, dec) -> str:
    if not ci:
        return ""
    return f" (95% interval {fmt_value(ci[0], unit, dec, False)} to {fmt_value(ci[1], unit, dec, False)})"

def _labels(target: dict, area_name: str, comparator_name: str | None) -> tuple[str, str | None]:
    bd = target.get("breakdown") or "all"
    area = area_name if bd == "all" else f"{area_name} ({BREAKDOWN_LABELS.get(bd, bd)})"
    if comparator_name is None:
        return area, None
    cbd = target.get("comparator_breakdown") or bd
    comp = comparator_name if cbd == "all" else f"{comparator_name} ({BREAKDOWN_LABELS.get(cbd, cbd)})"
    return area, comp

def assess(target: dict, meta: dict, derby: pd.DataFrame, comparator: pd.DataFrame | None = None,
           comparator_plan_baseline: float | None = None, area_name: str = "Derby",
           comparator_name: str | None = None) -> Assessment:
    """Status, trajectory and change figures of one target from its indicator's series.

    `derby` and `comparator` hold year, period, value, status and optional numerator/denominator;
    `comparator_plan_baseline` is the plan's own figure for the comparator in the baseline year, if any.
    """
    target = dict(target)
    kind = target["kind"]
    if kind not in MEASURABLE_KINDS or not target.get("indicator_id"):
        return _unmeasured(target, meta)
    unit, dec = meta.get("unit", ""), meta.get("decimals", 1)
    polarity = meta.get("polarity", "no_judgement")
    breaks, not_collected = list(meta.get("series_breaks", [])), list(meta.get("not_collected", []))
    isolated = set(int(y) for y in meta.get("not_comparable", []))
    area, comp_label = _labels(target, area_name, comparator_name if kind in RELATIVE_KINDS else None)
    a = Assessment(target, NOT_ASSESSABLE, RULES[kind], "", meta=meta, area_label=area, comparator_label=comp_label)
    d = published(derby)
    c = published(comparator) if kind in RELATIVE_KINDS else published(None)
    a.derby, a.comparator = d, c
    drows, crows = _by_year(d), _by_year(c)
    ty = _int(target.get("target_year"))
    if direction(polarity) == 0 or ty is None:
        a.detail = "Not assessable: this indicator carries no better-or-worse judgement." if ty else \
            "Not assessable: the target has no target year."
        return a
    fv = lambda v: fmt_value(v, unit, dec)  # noqa: E731
    sidx = lambda y: series_index(y, breaks)  # noqa: E731
    sign = direction(polarity)

    if d.empty:
        a.detail = f"Not assessable: no published data for {area} is loaded for this indicator."
        return a
    a.latest_year, a.latest_value = int(d["year"].iloc[-1]), float(d["value"].iloc[-1])

    # Baseline: the plan's; without one, the first published year of the target year's series stands in.
    by, bv = _int(target.get("baseline_year")), _num(target.get("baseline_value"))
    a.baseline_note = "the plan's baseline" if target.get("origin") == "plan" else "the officer's baseline"
    if by is None or bv is None:
        cand = d[(d["year"] <= ty) & (d["year"].map(sidx) == sidx(ty)) & ~d["year"].isin(isolated)]
        cand = cand if len(cand) else d
        first = cand.iloc[0]
        by, bv = int(first["year"]), float(first["value"])
        a.baseline_note = (f"no baseline is given for this measure, so its first published year "
                           f"({first['period']}, {fv(bv)}) stands in")
    a.baseline_year, a.baseline_value = by, bv
    base_row = drows.get(by)

    # The comparator's baseline: the plan's figure, else its published value, else its first value after.
    cb_row = None
    if kind in RELATIVE_KINDS:
        if c.empty:
            a.detail = f"Not assessable: no published data for the comparator ({comp_label}) is loaded."
            return a
        cby, cb = by, comparator_plan_baseline
        cb_row = crows.get(by)
        if cb is None and cb_row is not None:
            cb = float(cb_row["value"])
        if cb is None:
            later = c[(c["year"] > by) & (c["year"].map(sidx) == sidx(by))]
            if later.empty:
                a.detail = (f"Not assessable: {comp_label} has no published value in {period_label(by)} or later "
                            f"in the same series.")
                return a
            cby, cb = int(later["year"].iloc[0]), float(later["value"].iloc[0])
            a.baseline_note += (f"; {comp_label}'s {period_label(by)} figure is not published, so its first "
                                f"published value in the same series ({period_label(cby)}, {fv(cb)}) stands in")
        a.comparator_baseline_year, a.comparator_baseline = cby, cb

    # The target line in the target year.
    comp_t_row = crows.get(ty) if kind in RELATIVE_KINDS else None
    comp_t = float(comp_t_row["value"]) if comp_t_row else a.comparator_baseline
    gap0 = half = None
    if kind == "exceed_comparator":
        a.line_value = comp_t
    elif kind == "close_gap":
        gap0 = sign * (a.comparator_baseline - bv)
        if gap0 <= 0:
            a.detail = (f"Not assessable: {area} was level with or better than {comp_label} at the baseline "
                        f"({fv(bv)} against {fv(a.comparator_baseline)}), so there is no gap to close.")
            return a
        half = gap0 / 2
        a.line_value = comp_t - sign * (gap0 - half)
    else:
        a.line_value = _num(target.get("target_value"))
        if a.line_value is None:
            a.detail = "Not assessable: an absolute target needs a target value."
            return a
    if ty > by:
        a.required_change = required_change(bv, by, a.line_value, ty)
    ach = achieved_change(d, by, bv, breaks)
    if ach:
        a.achieved_change, a.achieved_to, _ = ach
        comp_then = crows.get(a.achieved_to) if kind in RELATIVE_KINDS else None
        if comp_then and a.achieved_to > a.comparator_baseline_year:
            a.comparator_change = (float(comp_then["value"]) - a.comparator_baseline) / (
                a.achieved_to - a.comparator_baseline_year)
    latest_c = crows.get(a.latest_year) if kind in RELATIVE_KINDS else None
    a.latest_comparator = float(latest_c["value"]) if latest_c else (
        float(c["value"].iloc[-1]) if kind in RELATIVE_KINDS and len(c) else None)

    def judge(year: int) -> dict | None:
        """Whether the target is met in one year, with a sentence; None if that year cannot be judged."""
        row = drows.get(year)
        if row is None or year in isolated:  # e.g. KS4 teacher-assessed grades: never used to judge
            return None
        value, per = float(row["value"]), row["period"]
        if kind == "exceed_comparator":
            crow = crows.get(year)
            if crow is None:
                return None
            verdict, ci = compare_at(value, row["numerator"], row["denominator"], float(crow["value"]), polarity, unit)
            ci_text = _ci_text(ci, unit, dec)
            words = {stats.BETTER: "better than", stats.WORSE: "worse than",
                     stats.SIMILAR: "similar to"}.get(verdict, "not comparable with")
            untested = ci is None and verdict == stats.BETTER
            cohort = f" (cohort {int(row['denominator']):,} from {row['cohort_from']})" \
                if ci is not None and isinstance(row.get("cohort_from"), str) else ""
            return {"year": year, "met": verdict == stats.BETTER, "tested": ci is not None,
                    "text": f"{per}: {area} {fv(value)}{ci_text}{cohort}, {words} {comp_label} {fv(crow['value'])}"
                            + (f" ({UNTESTED})" if untested else ""),
                    "short": f"{per}: {fv(value)} vs {fv(crow['value'])} "
                             f"({'met on the published figure, untested' if untested else verdict})"}
        if sidx(year) != sidx(by):
            return None
        if kind == "absolute":
            verdict, ci = compare_at(value, row["numerator"], row["denominator"], a.line_value, polarity, unit,
                                     reach=True)
            ci_text = _ci_text(ci, unit, dec)
            reached = "reached" if verdict == stats.BETTER else "not reached"
            if ci is None and verdict == stats.BETTER:
                reached += f" ({UNTESTED})"
            return {"year": year, "met": verdict == stats.BETTER, "tested": ci is not None,
                    "text": f"{per}: {area} {fv(value)}{ci_text} against the target {fv(a.line_value)}: {reached}",
                    "short": f"{per}: {fv(value)} vs target {fv(a.line_value)} ({reached})"}
        crow = crows.get(year)
        if crow is None:
            return None
        gap = sign * (float(crow["value"]) - value)
        variances = [_variance(base_row), _variance(cb_row), _variance(row), _variance(crow)]
        if unit == "%" and all(v is not None for v in variances) and a.comparator_baseline_year == by:
            need = stats.Z95 * math.sqrt(sum(variances))
            rule = f"a narrowing of more than {need:.2f}, 1.96 combined standard errors, was needed"
            met = gap0 - gap > need
        else:
            need = half
            g = max(int(dec), formatting.decimals_of(gap0, 3), formatting.decimals_of(gap, 3))
            rule = f"a narrowing of at least {need:,.{g + 1}f}, half the baseline gap, was needed"
            met = gap0 - gap >= need - 1e-9
        # shown at the precision of the figures themselves (5.4 from the plan, 4 from LAIT), never padded
        closed, g = gap0 - gap, max(int(dec), formatting.decimals_of(gap0, 3), formatting.decimals_of(gap, 3))
        moved = (f"narrowed by {closed:,.{g}f}" if closed > 0
                 else "unchanged" if closed == 0 else f"widened by {-closed:,.{g}f}")
        tested = rule.startswith("a narrowing of more than")
        return {"year": year, "met": met, "tested": tested,
                "text": f"{per}: gap {gap:,.{g}f} against {gap0:,.{g}f} at the baseline, {moved} ({rule}): "
                        f"{'significantly closed' if met else 'not significantly closed'}"
                        + ("" if tested or not met else " (on the published figures; significance cannot be "
                                                         "tested without pupil counts)"),
                "short": f"{per}: gap {gap:,.{g}f} vs {gap0:,.{g}f} at baseline ({moved.split(' by ')[0]})"}

    judged = {int(y): j for y in d["year"] if (j := judge(int(y))) is not None}
    before = max((y for y in judged if by < y < ty), default=None)
    after = min((y for y in judged if y > ty), default=None)
    why = ("was awarded by centre- or teacher-assessed grades, not exams (not comparable with exam years)"
           if ty in isolated else "was not collected" if ty in not_collected else "has no comparable published value")
    reason = ""
    years: list[int] = []
    if ty in judged:
        years, reason = [ty], f"Judged at the target year ({period_label(ty)})."
    elif after is not None:
        years = [y for y in (before, after) if y is not None]
        reason = (f"{period_label(ty)} {why}, so the target is judged at "
                  + (f"the last year before ({period_label(before)}) and " if before else "")
                  + f"the first year after ({period_label(after)}).")
    elif a.latest_year > ty and before is not None:
        later = "a new series begins" if any(ty < b <= a.latest_year for b in breaks) else "no comparable value"
        years = [before]
        reason = (f"{period_label(ty)} {why} and the years after are not comparable ({later}), so the target is "
                  f"judged at the last year before ({period_label(before)}) only.")
    a.projection, a.comparator_projection = _projections(a, d, c, kind, ty, sidx)
    if years:
        a.judged_years = years
        a.judgements = [judged[y] for y in years]
        ok = all(j["met"] for j in a.judgements)
        a.status = MET if ok else NOT_MET  # judged at or after the target year: the date has passed
        untested = ok and not all(j.get("tested") for j in a.judgements)
        verdict = (f"Met ({UNTESTED})." if untested else "Met.") if ok else "Not met by the target date."
        a.detail = f"{verdict} {reason} " + "; ".join(j["text"] for j in a.judgements) + "."
        return a
    if a.latest_year >= ty or (kind in ("close_gap", "absolute") and sidx(a.latest_year) != sidx(by)):
        a.detail = (f"Not assessable: no comparable year around {period_label(ty)}"
                    + (" (a new series began after the baseline)" if sidx(a.latest_year) != sidx(by) else "") + ".")
        return a
    return _trend_status(a, d, kind, ty, sign, gap0, half, fv, sidx)

def _projections(a: Assessment, d: pd.DataFrame, c: pd.DataFrame, kind: str, ty: int, sidx):
    """Derby's recent-trend projection (and the comparator's, used only before the target year)."""
    latest_series = recent_run(d, a.latest_year, a.meta, sidx)
    to_year = max(ty, a.latest_year + PROJECTION_YEARS)
    stop = [y for y in a.meta.get("not_collected", []) if y > a.latest_year]
    if stop:  # a measure known not to be collected after the latest year is not projected into those years
        to_year = min(to_year, min(stop) - 1)
    proj = projection(latest_series["year"], latest_series["value"], to_year)
    proj = proj if len(proj) > 1 else proj.iloc[0:0]
    cproj = None
    if kind in RELATIVE_KINDS and a.latest_year < ty and len(c):
        cs = recent_run(c, a.latest_year, a.meta, sidx)
        cproj = projection(cs["year"], cs["value"], max(to_year, ty))
    if a.latest_year < ty and len(proj) and int(proj["year"].max()) < ty:
        proj = proj.iloc[0:0]  # the target year itself is known not to be collected: no trend judgement
    return proj, cproj

def recent_run(d: pd.DataFrame, latest_year: int, meta: dict, sidx) -> pd.DataFrame:
    """Published years the trend is fitted to: the latest series, after the last not-collected pause."""
    run = d[(d["year"].map(sidx) == sidx(latest_year)) & ~d["year"].isin(meta.get("not_comparable", []))]
    pauses = [y for y in meta.get("not_collected", []) if y < latest_year and y not in set(d["year"])]
    if pauses:
        run = run[run["year"] > max(pauses)]
    return run

def _trend_status(a: Assessment, d, kind, ty, sign, gap0, half, fv, sidx) -> Assessment:
    """Before the target year: on track if the recent trend reaches the line by then."""
    proj = a.projection
    fx = lambda v: fmt_value(v, a.meta.get("unit", ""), a.meta.get("decimals", 1), adapt=False)  # noqa: E731
    if proj is None or proj.empty:
        a.detail = (f"Not assessable: the target year {period_label(ty)} is after the latest data "
                    f"({period_label(a.latest_year)}) and there are fewer than two years in the latest series to "
                    f"make a trend.")
        return a
    at = proj[proj["year"] == ty].iloc[0]
    if kind == "absolute":
        line = a.line_value
        line_text = f"the target {fv(line)}"
    else:
        cproj = a.comparator_projection
        if cproj is not None and len(cproj):
            comp = float(cproj[cproj["year"] == ty]["value"].iloc[0])
            ctext = f"{a.comparator_label}'s own trend ({fx(comp)})"
        else:
            comp = a.latest_comparator
            ctext = f"{a.comparator_label}'s latest value ({fv(comp)})"
        line = comp if kind == "exceed_comparator" else comp - sign * (gap0 - half)
        line_text = ctext if kind == "exceed_comparator" else f"the half-gap line {fx(line)} from {ctext}"
        a.line_value = line
        a.required_change = required_change(a.baseline_value, a.baseline_year, line, ty)
    margin = sign * (float(at["value"]) - line)  # exceeding needs to beat the line; the others may reach it
    reaches = margin > 0 or (kind != "exceed_comparator" and margin == 0)
    a.status = ON_TRACK if reaches else OFF_TRACK
    n = int(min(len(recent_run(d, a.latest_year, a.meta, sidx)), RECENT_POINTS))
    interval = "" if pd.isna(at["lower"]) else f" (95% prediction interval {fx(at['lower'])} to {fx(at['upper'])})"
    a.detail = (f"{'On track' if reaches else 'Off track'}: the target year {period_label(ty)} is after the latest "
                f"data ({period_label(a.latest_year)}). On the trend of the last {n} published years, {a.area_label} "
                f"would be at {fx(at['value'])}{interval} in {period_label(ty)} against {line_text}.")
    return a

def commitment_phrase(target: dict, title: str | None = None) -> str:
    """A commitment in words: '89,000 employer encounters generated for pupils (2017/18-2019/20)'."""
    what = (title or target.get("title") or target.get("indicator_id") or "").replace(" (commitment)", "")
    value = _num(target.get("target_value"))
    amount = f"{value:,.0f} " if value is not None else ""
    period = target.get("target_period")
    return f"{amount}{what[:1].lower() + what[1:]}" + (f" ({period})" if period else "")

def _unmeasured(target: dict, meta: dict, commitments: list[str] | None = None) -> Assessment:
    """Commitments and qualitative targets: not assessable, with the plan's numbers."""
    kind = target["kind"]
    if kind == "commitment":
        detail = (f"Not assessable: {NO_OUTCOME}. The plan commits to "
                  f"{commitment_phrase(target, meta.get('title'))}.")
    else:
        detail = f"Not assessable: {NO_OUTCOME}. The plan words this target qualitatively"
        detail += (f"; its measurable commitments for the priority are {'; '.join(commitments)}." if commitments
                   else " and makes no measurable commitment for it.")
    return Assessment(target, NOT_ASSESSABLE, RULES.get(kind, RULES["qualitative"]), detail, meta=meta)

"""Derby against England, the region and its statistical neighbours: tidy frames for charts and tables."""
from __future__ import annotations

import pandas as pd

from derby_oa import config, formatting, queries, stats
from derby_oa.queries import overview as overview_queries
from derby_oa.vocabulary import PLAN_SOURCE

SN_AVERAGE = "Statistical neighbours (average)"
SN_MIN = 6  # fewer neighbours with a value than this: show those neighbours, not an "average"
ALL_LA_MIN = 140  # a quartile or rank "among all local authorities" needs most of England's 153 with a value
FRAME_COLUMNS = ["series", "area_code", "year", "period", "value", "status", "numerator", "denominator",
                 "lower_ci", "upper_ci", "source_id"]

# Gap charts: (group, reference) breakdowns per indicator. The plan's early years analysis uses FSM;
# KS2 and KS4 default to the DfE disadvantage gap (disadvantaged against other pupils), with "against all
# pupils" as a choice.
GAP_PAIRS: dict[str, tuple[str, str]] = {
    "gld": ("fsm", "non_fsm"),
    "eyfsp_comm_lang_expected": ("fsm", "non_fsm"),
    "ks2_rwm_expected": ("disadvantaged", "non_disadvantaged"),
    "ks4_attainment8": ("disadvantaged", "non_disadvantaged"),
    "ks4_progress8": ("disadvantaged", "non_disadvantaged"),
}
GAP_REFERENCES = {"disadvantaged": ["non_disadvantaged", "all"], "fsm": ["non_fsm", "all"]}
GAP_LABELS = {("disadvantaged", "non_disadvantaged"): "the DfE disadvantage gap: disadvantaged against other pupils",
              ("disadvantaged", "all"): "disadvantaged pupils against all pupils (not the DfE gap, which compares "
                                        "with other pupils)",
              ("fsm", "non_fsm"): "FSM pupils against non-FSM pupils",
              ("fsm", "all"): "FSM pupils against all pupils (including FSM pupils)"}


def prefer_published(df: pd.DataFrame, keys: tuple[str, ...] = ("area_code", "breakdown", "year")) -> pd.DataFrame:
    """One row per key: a published source's row wins over a figure quoted in the plan for the same year.

    (The plan sometimes labels a period differently, e.g. '2016' for the financial year 2015-16, so the
    build keeps both; for series and ranks the published value is used.)
    """
    if df.empty:
        return df
    keys = [k for k in keys if k in df.columns]
    rank = (df["source_id"] == PLAN_SOURCE).astype(int) * 2 + df["value"].isna().astype(int)
    out = df.assign(_rank=rank).sort_values([*keys, "_rank"], kind="stable")
    return out.drop_duplicates(keys, keep="first").drop(columns="_rank").sort_index()


def comparison_frame(con, indicator_id: str, breakdown: str = "all",
                     group_id: str = config.SN_GROUP_CURRENT, neighbours: str = "average") -> pd.DataFrame:
    """Series for Derby, England, East Midlands and statistical neighbours, one row per (series, year).

    `neighbours` is "average" (mean, with min and max as `lower`/`upper`), "each" or "none".
    Missing years are kept as rows with NaN value so charts can show gaps.
    """
    codes = queries.comparator_codes(con, group_id)
    main = [codes["derby"], codes["england"], codes["region"]]
    sn = codes["neighbours"] if neighbours != "none" else []
    df = queries.series(con, indicator_id, main + sn, breakdown)
    if df.empty:
        return pd.DataFrame(columns=FRAME_COLUMNS)
    df = _plan_as_own_series(prefer_published(df))
    core = df[df["area_code"].isin(main)].assign(series=lambda d: d["area_name"] + d["_suffix"])[FRAME_COLUMNS]
    frames = [core]
    if sn:
        nb = df[df["area_code"].isin(sn) & (df["_suffix"] == "")]
        if neighbours == "each":
            frames.append(nb.assign(series=nb["area_name"])[FRAME_COLUMNS])
        elif len(nb):
            agg = nb.groupby(["year", "period"], as_index=False).agg(
                mean=("value", "mean"), low=("value", "min"), high=("value", "max"), n=("value", "count"))
            enough = agg["n"] >= SN_MIN
            agg = agg.assign(value=agg["mean"].where(enough), lower=agg["low"].where(enough),
                             upper=agg["high"].where(enough), of=len(sn),
                             series=SN_AVERAGE, area_code="sn",
                             status=enough.map({True: "published", False: "x"}),
                             source_id=nb["source_id"].mode().iat[0])
            frames.append(agg.drop(columns=["mean", "low", "high"]))
            few = set(agg.loc[~enough & (agg["n"] > 0), "year"])
            if few:  # too few neighbours for an average: those that have a value are shown instead
                each = nb[nb["year"].isin(few) & nb["value"].notna()]
                frames.append(each.assign(series=each["area_name"])[FRAME_COLUMNS])
    out = pd.concat([f for f in frames if len(f)], ignore_index=True)
    return out.sort_values(["series", "year"]).reset_index(drop=True)


PLAN_SERIES_SUFFIX = " (delivery plan figure)"


def _plan_as_own_series(df: pd.DataFrame) -> pd.DataFrame:
    """Mark the plan's own figures as a series of their own where the area also has published values.

    A figure quoted in the plan may use another definition or period (e.g. mental health admissions before
    rebasing, by calendar year), so it is never joined to a published series. Adds `_suffix`.
    """
    if df.empty:
        return df.assign(_suffix="")
    published = set(df.loc[(df["source_id"] != PLAN_SOURCE) & df["value"].notna(), "area_code"])
    is_plan = (df["source_id"] == PLAN_SOURCE) & df["area_code"].isin(published)
    return df.assign(_suffix=is_plan.map({True: PLAN_SERIES_SUFFIX, False: ""}))


def sn_coverage(frame: pd.DataFrame) -> tuple[int, int] | None:
    """(fewest, most) neighbours averaged in any year of a comparison frame, or None without an average."""
    if "n" not in frame.columns:
        return None
    sn = frame[(frame["series"] == SN_AVERAGE) & frame["value"].notna()]
    return (int(sn["n"].min()), int(sn["n"].max())) if len(sn) else None


def gap_frame(con, indicator_id: str, group: str, reference: str,
              areas: dict[str, str] | None = None) -> pd.DataFrame:
    """Gap between two pupil groups (group minus reference) over time for Derby and England.

    Columns: series ("Derby gap", "England gap"), area_code, year, period, value (the gap, NaN when
    either group is missing), group_value, reference_value, and `mixed`: True where the two groups' figures
    come from different sources or are published to different decimals (the gap then carries both roundings).
    """
    areas = areas or {"Derby": config.DERBY, "England": config.ENGLAND}
    df = prefer_published(queries.series(con, indicator_id, list(areas.values()), [group, reference]))
    cols = ["series", "area_code", "year", "period", "value", "group_value", "reference_value", "mixed"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    wide = df.pivot_table(index=["area_code", "year"], columns="breakdown", values="value", aggfunc="first",
                          dropna=False)
    periods = df.groupby(["area_code", "year"])["period"].first()
    src = df.set_index(["area_code", "year", "breakdown"])["source_id"].to_dict()
    val = df.set_index(["area_code", "year", "breakdown"])["value"].to_dict()
    rows = []
    for name, code in areas.items():
        for year in sorted(df["year"].unique()):
            g = wide[group].get((code, year)) if group in wide else None
            r = wide[reference].get((code, year)) if reference in wide else None
            g = None if g is None or pd.isna(g) else float(g)
            r = None if r is None or pd.isna(r) else float(r)
            rows.append({"series": f"{name} gap", "area_code": code, "year": int(year),
                         "period": periods.get((code, year), str(year)),
                         "value": g - r if g is not None and r is not None else float("nan"),
                         "group_value": g, "reference_value": r,
                         "mixed": g is not None and r is not None and (
                             src.get((code, year, group)) != src.get((code, year, reference))
                             or formatting.decimals_of(val.get((code, year, group)))
                             != formatting.decimals_of(val.get((code, year, reference))))})
    return pd.DataFrame(rows, columns=cols)


def positions_from(values: pd.DataFrame, area: str, neighbours: list[str], polarity: str,
                   min_las: int = ALL_LA_MIN) -> pd.DataFrame:
    """Rank among statistical neighbours and quartile among all LAs for `area`, per year.

    `values`: one row per (area_code, year) with period and value (all LAs). Ranks are polarity-aware
    (1 = best), ties share the best rank, and only areas with a value in that year count. No rank is given
    among fewer than 2 areas. No rank or quartile "among local authorities" is given where fewer than `min_las`
    have a value that year (a source covering only some authorities, e.g. Nomis extracts of 16).
    """
    cols = ["year", "period", "value", "sn_rank", "sn_of", "la_rank", "la_of", "quartile"]
    if values.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    peers = set(neighbours) | {area}
    for year, grp in values.groupby("year", sort=True):
        series = grp.set_index("area_code")["value"]
        series = series[~series.index.duplicated()]
        own = series.get(area)
        la = stats.position(series, area, polarity)
        sn = stats.position(series[series.index.isin(peers)], area, polarity)
        # a rank among fewer than 2 areas, or a quartile among fewer than 4, says nothing
        if sn.of < 2:
            sn = stats.Position(None, sn.of, None)
        if la.of < max(4, min_las):
            la = stats.Position(None, la.of, None)
        period = grp.loc[grp["area_code"] == area, "period"]
        rows.append({"year": int(year), "period": period.iat[0] if len(period) else grp["period"].iat[0],
                     "value": own if own is not None and not pd.isna(own) else float("nan"),
                     "sn_rank": sn.rank, "sn_of": sn.of, "la_rank": la.rank, "la_of": la.of,
                     "quartile": la.quartile})
    return pd.DataFrame(rows, columns=cols)


def positions_frame(con, indicator_id: str, breakdown: str = "all",
                    group_id: str = config.SN_GROUP_CURRENT) -> pd.DataFrame:
    """Derby's rank among its statistical neighbours and quartile among all LAs, per year."""
    meta = queries.indicator(con, indicator_id)
    values = prefer_published(overview_queries.la_values(con, indicator_id, breakdown))
    neighbours = queries.comparator_codes(con, group_id)["neighbours"]
    return positions_from(values, config.DERBY, neighbours, meta["polarity"])


def significance_frame(frame: pd.DataFrame, polarity: str, area: str = config.DERBY,
                       benchmark: str = config.ENGLAND) -> pd.DataFrame:
    """Per year: `area` against `benchmark` with a 95% interval where it can be judged.

    Uses the Wilson interval when numerator and denominator are published, else a published
    interval (lower_ci/upper_ci); otherwise the result is "cannot be judged".
    """
    cols = ["year", "period", "value", "benchmark", "lower", "upper", "result", "basis"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    own = frame[frame["area_code"] == area].set_index("year")
    ref = frame[frame["area_code"] == benchmark].set_index("year")["value"]
    rows = []
    for year, r in own.iterrows():
        bench = ref.get(year)
        bench = None if bench is None or pd.isna(bench) else float(bench)
        lo = hi = None
        if pd.isna(r["value"]):
            result, basis = stats.NOT_JUDGED, "no value"
        elif bench is None:
            result, basis = stats.NOT_JUDGED, "no England value"
        elif pd.notna(r.get("numerator")) and pd.notna(r.get("denominator")) and r["denominator"] > 0:
            result, (lo, hi) = stats.significance(r["numerator"], r["denominator"], bench, polarity)
            basis = "Wilson 95% interval from published counts"
        elif pd.notna(r.get("lower_ci")) and pd.notna(r.get("upper_ci")):
            lo, hi = float(r["lower_ci"]), float(r["upper_ci"])
            result, basis = stats.compare_interval(lo, hi, bench, polarity), "published 95% interval"
        else:
            result, basis = stats.NOT_JUDGED, "no counts published"
        if polarity == "no_judgement" and lo is not None:
            basis += " (no polarity, so not judged)"
        rows.append({"year": int(year), "period": r["period"], "value": r["value"], "benchmark": bench,
                     "lower": lo, "upper": hi, "result": result, "basis": basis})
    return pd.DataFrame(rows, columns=cols)

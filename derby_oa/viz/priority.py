"""The tables of a priority page (pure; no Streamlit): the trend chart's data by period, rank, quartile and
significance by year, every indicator at a glance, and the plan's baseline figures without a series here."""
from __future__ import annotations

import pandas as pd

from derby_oa import config, formatting, queries
from derby_oa.analysis import comparisons, headlines
from derby_oa.analysis.headlines import BREAKDOWN_LABELS
from derby_oa.queries import overview as overview_queries
from derby_oa.viz import charts

ORDINAL_QUARTILES = {"A": "A (best quarter)", "B": "B", "C": "C", "D": "D (worst quarter)"}


def _fmt(value, decimals: int, status: str | None = None) -> str:
    """A table cell through the app's one formatter: the published precision, DfE symbols when missing."""
    return formatting.number(value, decimals, status)


def _year_decimals(frame: pd.DataFrame, meta: dict) -> dict[int, int]:
    """Per year, the decimals its values were published to (never padded beyond the source's own)."""
    d = int(meta.get("decimals", 1))
    out = {}
    for year, grp in frame.groupby("year"):
        src = grp["source_id"].dropna().mode() if "source_id" in grp else pd.Series(dtype=str)
        out[int(year)] = formatting.shown_decimals(grp["value"], d, src.iat[0] if len(src) else None)
    return out


def group_words(breakdown: str) -> str:
    """A pupil group in running text: 'all pupils', 'FSM pupils' (acronyms keep their capitals)."""
    if breakdown == "":
        return ""
    label = BREAKDOWN_LABELS.get(breakdown, breakdown)
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def indicators_with_data(con, ids: list[str]) -> list[str]:
    """Those of `ids` that exist and have at least one value for Derby."""
    known = set(queries.indicators(con, with_data_for=config.DERBY)["indicator_id"])
    return [i for i in ids if i in known]


def trend_table(frame: pd.DataFrame, meta: dict) -> pd.DataFrame:
    """The trend chart's data, one row per period, one column per area (plus neighbours' range and notes)."""
    if frame.empty:
        return pd.DataFrame(columns=["Period"])
    d = int(meta.get("decimals", 1))
    labels = charts.period_labels(frame)
    wide = frame.pivot_table(index="year", columns="series", values="value", aggfunc="first", dropna=False)
    order = [s for s in charts.PREFERRED_ORDER if s in wide.columns] + \
            [s for s in wide.columns if s not in charts.PREFERRED_ORDER]
    wide = wide[order]
    if {"lower", "upper"} <= set(frame.columns):
        sn = frame[frame["series"] == comparisons.SN_AVERAGE].set_index("year")
        if len(sn):
            wide[f"{comparisons.SN_AVERAGE.split(' (')[0]}: lowest"] = sn["lower"]
            wide[f"{comparisons.SN_AVERAGE.split(' (')[0]}: highest"] = sn["upper"]
            if "n" in sn:
                wide["Neighbours with a value"] = sn["n"].map(
                    lambda n: "x" if pd.isna(n) else f"{int(n)} of {int(sn['of'].max())}")
    dec = _year_decimals(frame[frame["series"] != comparisons.SN_AVERAGE], meta)
    numeric = [c for c in wide.columns if c != "Neighbours with a value"]
    for c in numeric:  # the average of published values is shown to one more decimal than they have
        extra = 1 if c == comparisons.SN_AVERAGE else 0
        wide[c] = [_fmt(v, dec.get(int(y), d) + extra) for y, v in zip(wide.index, wide[c])]
    notes = {y: "not collected" for y in meta.get("not_collected", [])}
    for b in meta.get("series_breaks", []):
        notes[b] = (notes[b] + "; " if b in notes else "") + "new series starts (not comparable with earlier years)"
    for y in meta.get("not_comparable", []):
        notes[y] = (notes[y] + "; " if y in notes else "") + "teacher-assessed grades: not comparable with exam years"
    wide = wide.reset_index()
    wide.insert(0, "Period", wide["year"].map(lambda y: labels.get(int(y), str(y))))
    wide["Note"] = wide["year"].map(lambda y: notes.get(int(y), ""))
    return wide.drop(columns="year")


def year_table(frame: pd.DataFrame, positions: pd.DataFrame, meta: dict) -> pd.DataFrame:
    """Per year: Derby, England, gap, Derby's 95% interval and verdict, rank among neighbours, LA quartile."""
    d = int(meta.get("decimals", 1))
    sig = comparisons.significance_frame(frame, meta["polarity"])
    if sig.empty:
        return pd.DataFrame()
    out = sig.merge(positions[["year", "sn_rank", "sn_of", "la_rank", "la_of", "quartile"]], on="year", how="left") \
        if len(positions) else sig.assign(sn_rank=None, sn_of=None, la_rank=None, la_of=None, quartile=None)
    ranked = meta["polarity"] != "no_judgement"

    def partial(of) -> str | None:
        if of is not None and not pd.isna(of) and 0 < int(of) < comparisons.ALL_LA_MIN:
            return f"not given: only {int(of)} local authorities in this source"
        return None

    def rank_text(r, of, la: bool = False):
        if not ranked:
            return "not ranked (no polarity)"
        if la and partial(of):
            return partial(of)
        return "x" if r is None or pd.isna(r) else f"{int(r)} of {int(of)}"

    def quartile_text(q, of):
        if not ranked:
            return "not ranked (no polarity)"
        return partial(of) or (ORDINAL_QUARTILES[q] if isinstance(q, str) else "x")

    dec = _year_decimals(frame[frame["area_code"].isin([config.DERBY, config.ENGLAND])], meta) \
        if "area_code" in frame else {}
    status = frame[frame["area_code"] == config.DERBY].set_index("year")["status"].to_dict() \
        if "status" in frame else {}
    rows = []
    for r in out.itertuples():
        yd = dec.get(int(r.year), d)
        rows.append({
            "Period": r.period, "Derby": _fmt(r.value, yd, status.get(r.year)), "England": _fmt(r.benchmark, yd),
            "Gap (Derby - England)": "x" if pd.isna(r.value) or r.benchmark is None or pd.isna(r.benchmark)
            else formatting.signed(round(r.value, yd) - round(r.benchmark, yd), None, yd),
            "Derby 95% interval": "" if r.lower is None or pd.isna(r.lower)
            else f"{_fmt(r.lower, yd + 1)} to {_fmt(r.upper, yd + 1)}",
            "Compared with England": r.result, "How judged": r.basis,
            "Rank among statistical neighbours (1 = best)": rank_text(r.sn_rank, r.sn_of),
            "Quartile among local authorities (A = best)": quartile_text(r.quartile, r.la_of),
            "Rank among local authorities": rank_text(r.la_rank, r.la_of, la=True),
        })
    return pd.DataFrame(rows)


def glance_table(con, ids: list[str], group_id: str) -> pd.DataFrame:
    """Every indicator of the page (all pupils): latest, England, gap, change, direction, rank and quartile."""
    metas = {i: queries.indicator(con, i) for i in ids}
    obs = overview_queries.observations_for(con, [(i, "all") for i in ids], [config.DERBY, config.ENGLAND])
    obs = headlines.with_plan_figures(obs, queries.plan_figures(con))
    planned = headlines.plan_target_pairs(con)
    rows = []
    for i in ids:
        meta = metas[i]
        tile = headlines.compute_tile(meta, obs[obs["indicator_id"] == i], headlines.Headline(i, "all", meta["theme"]),
                                      plan_baseline=(i, "all") in planned)
        if not tile.has_data:
            continue
        pos = comparisons.positions_frame(con, i, "all", group_id)
        here = pos[pos["year"] == tile.year]
        p = here.iloc[0] if len(here) else None
        ranked = meta["polarity"] != "no_judgement"
        rec = tile.record()
        rows.append({
            "Indicator": meta["title"], "Latest": tile.period, "Derby": _fmt(tile.derby, tile.decimals),
            "England": _fmt(tile.england, tile.decimals), "Unit": meta["unit"],
            "Gap": formatting.signed(tile.gap, None, tile.decimals) if tile.gap is not None else "x",
            "Since": rec["Baseline period"] or "z",
            "Change": formatting.signed(tile.since.change, None, tile.since.decimals) if tile.since else "z",
            "Direction of travel": rec["Direction of travel"], "Compared with England": tile.vs_england,
            "Rank among neighbours": (f"{int(p.sn_rank)} of {int(p.sn_of)}" if p is not None and pd.notna(p.sn_rank)
                                      else "no data") if ranked else "not ranked",
            "Quartile (A best)": ("not given: partial source" if p is not None and 0 < p.la_of < comparisons.ALL_LA_MIN
                                  else p.quartile if p is not None and isinstance(p.quartile, str) else "x")
            if ranked else "not ranked",
        })
    return pd.DataFrame(rows)


def baseline_figures(con, indicator_ids: list[str]) -> pd.DataFrame:
    """The plan's figures for indicators that have no published series here (plan-only indicators)."""
    figs = queries.plan_figures(con)
    figs = figs[figs["indicator_id"].isin(indicator_ids)]
    if figs.empty:
        return figs
    published = set(queries.sources(con).query("source_id != 'plan_2017' and observations > 0")["source_id"])
    keep = []
    for ind in figs["indicator_id"].unique():
        src = set(overview_queries.observations_for(con, [(ind, b) for b in queries.breakdowns(con, ind) or ["all"]],
                                                    [config.DERBY])["source_id"])
        if not src & published:
            keep.append(ind)
    return figs[figs["indicator_id"].isin(keep)]

"""Derby against England, the region and its statistical neighbours: tidy frames for charts."""
from __future__ import annotations

import pandas as pd

from . import config, queries

SN_AVERAGE = "Statistical neighbours (average)"


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
        return pd.DataFrame(columns=["series", "year", "period", "value", "status", "numerator", "denominator", "source_id"])
    cols = ["series", "area_code", "year", "period", "value", "status", "numerator", "denominator", "source_id"]
    core = df[df["area_code"].isin(main)].assign(series=lambda d: d["area_name"])[cols]
    frames = [core]
    if sn:
        nb = df[df["area_code"].isin(sn)]
        if neighbours == "each":
            frames.append(nb.assign(series=nb["area_name"])[cols])
        elif len(nb):
            agg = nb.groupby(["year", "period"], as_index=False).agg(
                value=("value", "mean"), lower=("value", "min"), upper=("value", "max"), n=("value", "count"))
            agg = agg.assign(series=SN_AVERAGE, area_code="sn", status=agg["n"].map(lambda n: "published" if n else "x"),
                             source_id=nb["source_id"].mode().iat[0])
            frames.append(agg)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["series", "year"]).reset_index(drop=True)


def gap_frame(con, indicator_id: str, group: str, reference: str, areas: dict[str, str]) -> pd.DataFrame:
    """Gap (group minus reference breakdown) over time for each named area code.

    E.g. GLD fsm minus non_fsm for Derby and England. Missing if either value is missing.
    """
    df = queries.series(con, indicator_id, list(areas.values()), [group, reference])
    if df.empty:
        return pd.DataFrame(columns=["series", "year", "period", "value"])
    wide = df.pivot_table(index=["area_code", "year", "period"], columns="breakdown", values="value", dropna=False).reset_index()
    for col in (group, reference):
        if col not in wide:
            wide[col] = float("nan")
    names = {code: label for label, code in areas.items()}
    wide["series"] = wide["area_code"].map(names)
    wide["value"] = (wide[group] - wide[reference]).round(6)
    return wide[["series", "year", "period", group, reference, "value"]].sort_values(["series", "year"]).reset_index(drop=True)

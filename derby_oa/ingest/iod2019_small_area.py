"""IoD 2019 underlying indicators and sub-domains by LSOA (2011), from the R package `IMD`
(`.rda`), carried to Derby's wards (both vintages) with `derby_oa.ingest.bestfit`.

* `idaci_rate_2019`: IDACI numerator (children 0-15 in income-deprived families) over the mid-2015
  population aged 0-15 (File 6); LSOA, ward (sums), Derby and England (sums). Numerators are
  published rounded to 5 and suppressed below 10 (missing in the file): such an LSOA is `c`, and
  so is a ward holding one (its total cannot be known).
* `iod_not_staying_on_post16`, `iod_not_entering_he`: the published proportions (x 100); LSOA
  values and ward means weighted by mid-2015 total population.
* `cyp_most_deprived_fifth_share`: children 0-15 living in LSOAs in deciles 1-2 of the Children
  and Young People sub-domain, as a % of all children 0-15; wards, Derby and England.
* `cyp_subdomain_rank`: LSOA rank; ward mean weighted by children 0-15 (not an official rank).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from derby_oa import config
from derby_oa.storage.schema import conform_observations
from derby_oa.ingest import Bundle, Context, iod, rda, small_area

SOURCE_ID = "mhclg_iod2019_indicators"
INDICATORS = "iod2019/imd2019_england_lsoa11_indicators.rda"
SUBDOMAINS = "iod2019/imd2019_england_lsoa11_subdomains.rda"
FILES = (INDICATORS, SUBDOMAINS, *small_area.LSOA11_FILES)
PERIOD, YEAR = "2019", 2019
IDACI_NUM = "income_deprivation_affecting_children_index_idaci_numerator"
RATES = {"staying_on_in_education_post_16_indicator": "iod_not_staying_on_post16",
         "entry_to_higher_education_indicator": "iod_not_entering_he"}


def read_lsoa_tables(paths: dict) -> pd.DataFrame:
    """Every English LSOA: lsoa_code, idaci_num, the two rates (%), cyp_decile, cyp_rank."""
    ind = rda.read_frame(Path(paths[INDICATORS]))
    rda.require(ind, Path(paths[INDICATORS]).name, ["lsoa11_code", IDACI_NUM, *RATES])
    sub = rda.read_frame(Path(paths[SUBDOMAINS]))
    rda.require(sub, Path(paths[SUBDOMAINS]).name,
                ["lsoa11_code", "Children_and_young_people_decile", "Children_and_young_people_rank"])
    df = pd.DataFrame({"lsoa_code": ind["lsoa11_code"].astype(str), "idaci_num": ind[IDACI_NUM].astype(float)})
    for col, ind_id in RATES.items():
        df[ind_id] = (100 * ind[col].astype(float)).round(4)
    sub = sub.rename(columns={"lsoa11_code": "lsoa_code", "Children_and_young_people_decile": "cyp_decile",
                              "Children_and_young_people_rank": "cyp_rank"})
    return df.merge(sub[["lsoa_code", "cyp_decile", "cyp_rank"]], on="lsoa_code", how="left")


def _row(ind, area, value, status="published", num=None, den=None, lo=None, hi=None):
    return {"indicator_id": ind, "area_code": area, "period": PERIOD, "year": YEAR, "breakdown": "all",
            "value": value, "status": status, "numerator": num, "denominator": den, "lower_ci": lo, "upper_ci": hi,
            "source_id": SOURCE_ID}


def _area_totals(df: pd.DataFrame, area: str) -> list[dict]:
    """IDACI rate and CYP share for Derby or England from its LSOAs (df has pop_0_15)."""
    from derby_oa import stats
    rows = []
    known = df["idaci_num"].notna()
    if known.all():
        num, den = float(df["idaci_num"].sum()), float(df["pop_0_15"].sum())
        lo, hi = stats.wilson(num, den)
        rows.append(_row("idaci_rate_2019", area, round(100 * num / den, 6), num=num, den=den, lo=lo, hi=hi))
    else:
        rows.append(_row("idaci_rate_2019", area, None, "c"))
    deprived = float(df.loc[df["cyp_decile"] <= 2, "pop_0_15"].sum())
    total = float(df["pop_0_15"].sum())
    rows.append(_row("cyp_most_deprived_fifth_share", area, round(100 * deprived / total, 6), num=deprived, den=total))
    return rows


def load(paths: dict[str, Path], ctx: Context) -> Bundle:
    """LSOA, ward, Derby and England rows (see module docstring)."""
    data = read_lsoa_tables(paths)
    lsoas = small_area.lsoa11(paths, ctx).merge(data, on="lsoa_code", how="left")
    obs, fits, notes = [], [], []

    # LSOA rows (Derby).
    lsoa_rows = []
    for r in lsoas.itertuples():
        if pd.isna(r.idaci_num):
            lsoa_rows.append(_row("idaci_rate_2019", r.lsoa_code, None, "c"))
        else:
            lsoa_rows.append(_row("idaci_rate_2019", r.lsoa_code, round(100 * r.idaci_num / r.pop_0_15, 6),
                                  num=r.idaci_num, den=r.pop_0_15))
        for ind_id in RATES.values():
            v = getattr(r, ind_id)
            lsoa_rows.append(_row(ind_id, r.lsoa_code, None if pd.isna(v) else v, "x" if pd.isna(v) else "published"))
        lsoa_rows.append(_row("cyp_subdomain_rank", r.lsoa_code, float(r.cyp_rank)))
    obs.append(pd.DataFrame(lsoa_rows))
    suppressed = int(lsoas["idaci_num"].isna().sum())
    if suppressed:
        notes.append(f"{suppressed} of Derby's {len(lsoas)} LSOAs have an IDACI numerator below 10 (suppressed); "
                     "wards holding one are c")

    unit = lsoas.assign(unit=lsoas["lsoa_code"])
    status = np.where(unit["idaci_num"].isna(), "c", "published")
    specs = [
        ("idaci_rate_2019", "counts", "pop_0_15",
         pd.DataFrame({"unit_code": unit["lsoa_code"], "status": status, "numerator": unit["idaci_num"],
                       "denominator": unit["pop_0_15"]}), True),
        ("cyp_most_deprived_fifth_share", "counts", "pop_0_15",
         pd.DataFrame({"unit_code": unit["lsoa_code"], "status": "published",
                       "numerator": unit["pop_0_15"].where(unit["cyp_decile"] <= 2, 0.0),
                       "denominator": unit["pop_0_15"]}), False),
        ("cyp_subdomain_rank", "rates", "pop_0_15",
         pd.DataFrame({"unit_code": unit["lsoa_code"], "status": "published", "value": unit["cyp_rank"]}), False),
    ] + [(ind_id, "rates", "pop_total",
          pd.DataFrame({"unit_code": unit["lsoa_code"], "status": np.where(unit[ind_id].isna(), "x", "published"),
                        "value": unit[ind_id]}), False) for ind_id in RATES.values()]
    for ind_id, how, weight, frame, wilson in specs:
        o, m = small_area.fit_both(lsoas, frame, how, ctx, unit="lsoa_code", weight=weight, indicator_id=ind_id,
                                   period=PERIOD, year=YEAR, source_id=SOURCE_ID, geography="LSOA 2011",
                                   decimals=4 if how == "rates" else 6, wilson=wilson)
        obs += o
        fits += m

    # Derby and England.
    pop = iod.read_iod_csv(Path(paths[small_area.F6]), iod.FILE6_COLUMNS)
    everyone = pop.rename(columns={"population_0_15": "pop_0_15"}).merge(data, on="lsoa_code", how="inner")
    obs.append(pd.DataFrame(_area_totals(everyone[everyone["lad_code"] == config.DERBY], config.DERBY)
                            + [r for r in _area_totals(everyone, config.ENGLAND)
                               if r["indicator_id"] != "idaci_rate_2019" or r["status"] == "published"]))
    return Bundle(SOURCE_ID, observations=conform_observations(pd.concat(obs, ignore_index=True)),
                  ward_fit=pd.concat(fits, ignore_index=True), notes=notes)

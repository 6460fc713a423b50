"""Census 2021 small-area tables (`.rda` from the R packages demographr and hack25usefuldata),
carried to Derby's wards (both vintages) through LSOAs (2021) placed by their centroid.

* `census_english_not_well` (MSOA 2021): residents whose main language is not English and who
  cannot speak English well or at all, over all residents aged 3+ (main language English plus
  not English). An MSOA's counts are shared among its LSOAs by usual residents.
* `census_households_deprived_2plus` (LSOA 2021): households deprived in 2, 3 or 4 dimensions over
  all households.
* `census_overcrowded_households` (LSOA 2021): occupancy rating -1 or -2 or less over all households.
* `census_children_0_15` (LSOA 2021): usual residents aged 15 and under (a count).

Percentages carry their counts and a Wilson 95% interval. Derby and England are sums over their
LSOAs (MSOAs): England is every E01 (E02) code. LSOA 2021 nest in neither ward set, so every ward
figure is a best fit (period `2021`).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from derby_oa import config, stats
from derby_oa.storage.schema import conform_observations
from derby_oa.ingest import Bundle, Context, rda, small_area

SOURCE_ID = "ons_census2021"
PROFICIENCY = "census2021/proficiency21_msoa21.rda"
DEPRIVATION = "census2021/household_deprivation21_lsoa21.rda"
OVERCROWDING = "census2021/household_overcrowding21_lsoa21.rda"
FILES = (PROFICIENCY, DEPRIVATION, OVERCROWDING, *small_area.LSOA21_FILES)
PERIOD, YEAR = "2021", 2021
ENGLISH = "Main language is English (English or Welsh in Wales)"
NOT_ENGLISH = "Main language is not English (English or Welsh in Wales)"
NOT_WELL = (f"{NOT_ENGLISH}: Cannot speak English well", f"{NOT_ENGLISH}: Cannot speak English")
DEPRIVED_2PLUS = ("Household is deprived in two dimensions", "Household is deprived in three dimensions",
                  "Household is deprived in four dimensions")
OVERCROWDED = ("-1 (overcrowded)", "-2 or less (overcrowded)")


def proficiency(path: Path) -> pd.DataFrame:
    """unit_code (MSOA 2021), numerator, denominator for every MSOA."""
    df = rda.read_frame(path)
    rda.require(df, Path(path).name, ["msoa21_code", ENGLISH, NOT_ENGLISH, *NOT_WELL])
    return pd.DataFrame({"unit_code": df["msoa21_code"].astype(str),
                         "numerator": df[list(NOT_WELL)].sum(axis=1).astype(float),
                         "denominator": (df[ENGLISH] + df[NOT_ENGLISH]).astype(float)})


def household_share(path: Path, category: str, wanted: tuple[str, ...]) -> pd.DataFrame:
    """unit_code (LSOA 2021), numerator (households in `wanted` categories), denominator (all)."""
    file = Path(path).name
    df = rda.read_frame(path)
    rda.require(df, file, ["lsoa21_code", "total_households", category, "n"])
    missing = set(wanted) - set(df[category])
    if missing:
        from derby_oa.errors import InputError
        raise InputError(file, f"no '{sorted(missing)[0]}' rows", field=category)
    num = df[df[category].isin(wanted)].groupby("lsoa21_code")["n"].sum()
    den = df.groupby("lsoa21_code")["total_households"].first()
    return pd.DataFrame({"unit_code": den.index.astype(str), "numerator": num.reindex(den.index).fillna(0).to_numpy(),
                         "denominator": den.to_numpy().astype(float)})


def _total(ind: str, area: str, num: float, den: float | None = None) -> dict:
    row = {"indicator_id": ind, "area_code": area, "period": PERIOD, "year": YEAR, "breakdown": "all",
           "status": "published", "source_id": SOURCE_ID}
    if den is None:
        return {**row, "value": num}
    lo, hi = stats.wilson(num, den)
    return {**row, "value": round(100 * num / den, 6), "numerator": num, "denominator": den,
            "lower_ci": round(lo, 6), "upper_ci": round(hi, 6)}


def load(paths: dict[str, Path], ctx: Context) -> Bundle:
    """Ward (both vintages), Derby and England rows for the four Census indicators."""
    lsoas = small_area.lsoa21(paths, ctx)
    derby_lsoas, derby_msoas = set(lsoas["lsoa_code"]), set(lsoas["msoa_code"].dropna())
    tables = [("census_english_not_well", "msoa_code", "MSOA 2021", proficiency(Path(paths[PROFICIENCY]))),
              ("census_households_deprived_2plus", "lsoa_code", "LSOA 2021",
               household_share(Path(paths[DEPRIVATION]), "deprivation_dimensions", DEPRIVED_2PLUS)),
              ("census_overcrowded_households", "lsoa_code", "LSOA 2021",
               household_share(Path(paths[OVERCROWDING]), "occupancy_rating", OVERCROWDED))]
    obs, fits, totals = [], [], []
    for ind, unit, geography, table in tables:
        data = table.assign(status="published")
        o, m = small_area.fit_both(lsoas, data, "counts", ctx, unit=unit, weight="residents", indicator_id=ind,
                                   period=PERIOD, year=YEAR, source_id=SOURCE_ID, geography=geography,
                                   lsoa_vintage="2021")
        obs += o
        fits += m
        derby = table[table["unit_code"].isin(derby_msoas if unit == "msoa_code" else derby_lsoas)]
        eng = table[table["unit_code"].str.startswith("E0")]
        totals += [_total(ind, config.DERBY, float(derby["numerator"].sum()), float(derby["denominator"].sum())),
                   _total(ind, config.ENGLAND, float(eng["numerator"].sum()), float(eng["denominator"].sum()))]

    # Children aged 0-15: a count summed by ward (every LSOA has a figure).
    kids = pd.DataFrame({"unit_code": lsoas["lsoa_code"], "status": "published",
                         "numerator": lsoas["children_0_15"], "denominator": lsoas["children_0_15"]})
    o, m = small_area.fit_both(lsoas, kids, "counts", ctx, unit="lsoa_code", weight="residents",
                               indicator_id="census_children_0_15", period=PERIOD, year=YEAR, source_id=SOURCE_ID,
                               geography="LSOA 2021", lsoa_vintage="2021", wilson=False)
    for frame in o:
        frame["value"] = frame["numerator"]
        frame["numerator"] = None
        frame["denominator"] = None
    obs += o
    fits += m
    everyone = small_area.census_population(Path(paths[small_area.CENSUS_POP]))
    totals += [_total("census_children_0_15", config.DERBY, float(lsoas["children_0_15"].sum())),
               _total("census_children_0_15", config.ENGLAND,
                      float(everyone.loc[everyone["lsoa_code"].str.startswith("E01"), "children_0_15"].sum()))]
    obs.append(pd.DataFrame(totals))
    return Bundle(SOURCE_ID, observations=conform_observations(pd.concat(obs, ignore_index=True)),
                  ward_fit=pd.concat(fits, ignore_index=True))

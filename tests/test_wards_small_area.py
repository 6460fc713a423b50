"""Small-area ward data (issue 15): best fit, adapters on the real files, ward coverage."""
from __future__ import annotations

import pandas as pd
import pytest

from derby_oa import config
from derby_oa.viz import maps
from derby_oa.ingest import bestfit as wards_bestfit
from derby_oa.build.pipeline import BuildReport, collect

ARBORETUM_23, ALLESTREE_23 = "E05015511", "E05015508"
ARBORETUM_03, ALLESTREE_03 = "E05001770", "E05001768"


@pytest.fixture(scope="module")
def bundles():
    """Bundles of the small-area adapters (read once for the module)."""
    cache = {}

    def get(*names):
        missing = [n for n in names if n not in cache]
        if missing:
            report = BuildReport()
            _, got, _ = collect(report, adapters=tuple(missing))
            assert len(got) == len(missing), report.text()
            cache.update(zip(missing, got))
        return [cache[n] for n in names]
    return get


def _obs(bundle, indicator, area, period):
    o = bundle.observations
    row = o[(o.indicator_id == indicator) & (o.area_code == area) & (o.period == period)]
    assert len(row) == 1, (indicator, area, period)
    return row.iloc[0]


# --- best fit (pure) ------------------------------------------------------------------------------

def test_best_fit_counts_share_msoa_by_population_and_report_coverage():
    members = pd.DataFrame({"lsoa_code": ["L1", "L2", "L3", "L4"], "unit_code": ["M1", "M1", "M2", "M3"],
                            "ward_code": ["W1", "W2", "W2", "W3"], "weight": [300, 100, 200, 50]})
    data = pd.DataFrame({"unit_code": ["M1", "M2"], "status": ["published", "published"],
                         "numerator": [40, 30], "denominator": [400, 200]})
    fit = wards_bestfit.best_fit(members, data, "counts", wards=["W1", "W2", "W3", "W4"]).set_index("ward_code")
    # W1 holds 3/4 of M1: 30 of 300; W2 holds 1/4 of M1 (10 of 100) plus all of M2 (30 of 200): 40/300.
    assert fit.loc["W1", ["numerator", "denominator", "value"]].tolist() == [30, 300, 10]
    assert fit.loc["W2", "numerator"] == 40 and fit.loc["W2", "denominator"] == 300
    assert round(fit.loc["W2", "value"], 4) == 13.3333
    assert fit.loc["W2", "lower_ci"] < 13.3333 < fit.loc["W2", "upper_ci"]
    assert fit.loc["W2", "coverage"] == 100.0
    # W3's MSOA has no figure, W4 has no LSOA: no data, never zero.
    assert fit.loc["W3", "status"] == "x" and pd.isna(fit.loc["W3", "value"]) and fit.loc["W3", "coverage"] == 0
    assert fit.loc["W4", "status"] == "x" and fit.loc["W4", "units"] == 0


def test_best_fit_rates_weighted_and_suppressed_unit_suppresses_ward():
    members = pd.DataFrame({"lsoa_code": ["L1", "L2", "L3"], "unit_code": ["M1", "M2", "M2"],
                            "ward_code": ["W1", "W1", "W2"], "weight": [100, 300, 50]})
    data = pd.DataFrame({"unit_code": ["M1", "M2"], "status": ["published", "published"], "value": [10.0, 20.0]})
    fit = wards_bestfit.best_fit(members, data, "rates").set_index("ward_code")
    assert fit.loc["W1", "value"] == pytest.approx((10 * 100 + 20 * 300) / 400)
    suppressed = data.assign(status=["c", "published"], value=[None, 20.0])
    fit = wards_bestfit.best_fit(members, suppressed, "rates").set_index("ward_code")
    assert fit.loc["W1", "status"] == "c" and pd.isna(fit.loc["W1", "value"])
    assert fit.loc["W1", "coverage"] == 75.0  # 300 of 400 people are in a published unit
    assert fit.loc["W2", "value"] == 20.0 and fit.loc["W2", "coverage"] == 100.0


def test_best_fit_rejects_unknown_method():
    with pytest.raises(ValueError, match="counts"):
        wards_bestfit.best_fit(pd.DataFrame(columns=["lsoa_code", "unit_code", "ward_code", "weight"]),
                               pd.DataFrame(columns=["unit_code", "status", "value"]), "median")


# --- DWP children in low income families (AHC) ----------------------------------------------------

def test_cilif_ahc_wards_and_local_authorities(bundles):
    (b,) = bundles("dwp_cilif")
    arb = _obs(b, "cilif_ahc", ARBORETUM_23, "2023-24")
    assert arb.value == 58.6 and arb.numerator == 2417 and arb.status == "published"
    assert arb.lower_ci < 58.6 < arb.upper_ci
    assert _obs(b, "cilif_ahc", ALLESTREE_23, "2023-24").value == 7.3
    assert _obs(b, "cilif_ahc", ARBORETUM_23, "2024-25").value == 53.1
    assert _obs(b, "cilif_ahc", config.DERBY, "2023-24").value == 33.8
    assert _obs(b, "cilif_ahc", "E06000018", "2024-25").value == 40.2  # Nottingham, a neighbour
    eng = _obs(b, "cilif_ahc", config.ENGLAND, "2023-24")
    assert 26 < eng.value < 29 and eng.numerator > 2_900_000
    wards = b.observations[b.observations.area_code.str.startswith("E0501550")
                           | b.observations.area_code.str.startswith("E0501551")
                           | b.observations.area_code.str.startswith("E0501552")]
    assert wards.area_code.nunique() == 18
    assert not b.observations.area_code.isin([ARBORETUM_03]).any()  # no 2003-2023 ward figures
    assert set(b.ward_fit["best_fit"]) == {False}


# --- IoD 2019 underlying indicators ---------------------------------------------------------------

@pytest.mark.slow  # reads whole published lookup and denominator files besides the adapters
def test_idaci_rate_hand_checked_for_arboretum(bundles, raw):
    """Arboretum (2003-2023): IDACI numerators of its LSOAs (ONS lookup) over their children 0-15."""
    from derby_oa.ingest import rda
    (b,) = bundles("iod2019_small_area")
    lookup = pd.read_csv(raw("ons_lookups/csv/135.csv"), dtype=str)
    lsoas = set(lookup.loc[lookup["WD19CD"] == ARBORETUM_03, "LSOA11CD"])
    f6 = pd.read_csv(raw("iod2019/File_6_-_IoD2019_Population_Denominators.csv.gz"), dtype=str)
    kids_col = next(c for c in f6.columns if c.startswith("Dependent Children aged 0-15"))
    kids = f6[f6.iloc[:, 0].isin(lsoas)][kids_col].str.replace(",", "").astype(int).sum()
    ind = rda.read_frame(raw("iod2019/imd2019_england_lsoa11_indicators.rda"))
    num = ind[ind["lsoa11_code"].isin(lsoas)]["income_deprivation_affecting_children_index_idaci_numerator"]
    assert len(lsoas) == 10 and num.notna().all()
    row = _obs(b, "idaci_rate_2019", ARBORETUM_03, "2019")
    assert row.numerator == num.sum() and row.denominator == kids
    assert row.value == pytest.approx(100 * num.sum() / kids)
    # By hand: 1,320 income-deprived children of 4,573 aged 0-15 in its 10 LSOAs = 28.9%.
    assert (row.numerator, row.denominator, round(row.value, 1)) == (1320, 4573, 28.9)
    assert row.lower_ci < row.value < row.upper_ci
    fit = b.ward_fit.set_index(["indicator_id", "area_code"]).loc[("idaci_rate_2019", ARBORETUM_03)]
    assert fit.coverage == 100.0 and not fit.best_fit and fit.ward_vintage == "2003-2023"


def test_idaci_ward_with_a_suppressed_lsoa_is_suppressed_and_coverage_recorded(bundles):
    (b,) = bundles("iod2019_small_area")
    row = _obs(b, "idaci_rate_2019", ALLESTREE_03, "2019")
    assert row.status == "c" and pd.isna(row.value)
    fit = b.ward_fit.set_index(["indicator_id", "area_code"]).loc[("idaci_rate_2019", ALLESTREE_03)]
    assert 0 < fit.coverage < 100 and fit.units == 9 and fit.units_with_data < 9
    # The 2023 wards are a centroid best fit, flagged as such.
    fit23 = b.ward_fit[(b.ward_fit.area_code == ARBORETUM_23)]
    assert fit23["best_fit"].all() and set(fit23["ward_vintage"]) == {"2023"}


def test_cyp_subdomain_share_and_rank(bundles):
    (b,) = bundles("iod2019_small_area")
    assert _obs(b, "cyp_most_deprived_fifth_share", ALLESTREE_03, "2019").value == 0.0  # a real zero
    arb = _obs(b, "cyp_most_deprived_fifth_share", ARBORETUM_03, "2019")
    assert 80 < arb.value <= 100 and arb.denominator > 0
    eng = _obs(b, "cyp_most_deprived_fifth_share", config.ENGLAND, "2019")
    assert 18 < eng.value < 26
    assert _obs(b, "cyp_subdomain_rank", ARBORETUM_03, "2019").value < _obs(b, "cyp_subdomain_rank", ALLESTREE_03, "2019").value


# --- MSOA sources ---------------------------------------------------------------------------------

@pytest.mark.slow  # reads whole published lookup and denominator files besides the adapters
def test_ncmp_suppressed_msoa_cells_stay_suppressed(bundles, raw):
    (b,) = bundles("ncmp_msoa")
    o = b.observations
    # Derby 022 is `s` for Reception in 2015/16-2017/18; every ward holding one of its LSOAs is c.
    lsoas = pd.read_csv(raw("ons_lookups/csv/135.csv"), dtype=str)
    wards_022 = set(lsoas.loc[lsoas["LSOA11NM"].str.startswith("Derby 022"), "WD19CD"])
    assert wards_022
    rows = o[(o.indicator_id == "obesity_reception_3yr") & (o.period == "2015/16-17/18") & o.area_code.isin(wards_022)]
    assert len(rows) == len(wards_022) and set(rows.status) == {"c"} and rows.value.isna().all()
    # Year 6 has no suppressed cell in that period, so the same wards have values.
    y6 = o[(o.indicator_id == "obesity_year6_3yr") & (o.period == "2015/16-17/18") & o.area_code.isin(wards_022)]
    assert set(y6.status) == {"published"}
    assert set(o.period) >= {"2008/09-10/11", "2015/16-17/18"} and o.period.nunique() == 8


def test_cilif_bhc_msoa_trend_for_every_ward(bundles):
    (b,) = bundles("cilif_msoa")
    o = b.observations
    wards = o[o.area_code.str.startswith("E050")]
    assert wards.area_code.nunique() == 35 and set(wards.status) == {"published"}
    assert wards.groupby("area_code").period.nunique().eq(8).all()
    derby = o[o.area_code == config.DERBY].set_index("period")
    assert derby.loc["2021-22", "numerator"] == 21177
    assert derby.loc["2021-22", "denominator"] == 52758  # Derby's children 0-15, mid-2015
    # Ward numerators add up to Derby's count on both boundary sets (counts are shared, not copied).
    for prefix in ("E050017", "E050155"):
        part = o[o.area_code.str.startswith(prefix) & (o.period == "2021-22")]
        assert part.numerator.sum() == pytest.approx(21177)
    assert _obs(b, "cilif_bhc_msoa", ARBORETUM_03, "2021-22").value > _obs(b, "cilif_bhc_msoa", ALLESTREE_03, "2021-22").value


# --- Census 2021 and IoD 2025 (LSOA 2021, centroid best fit) --------------------------------------

def test_census_ward_counts_add_up_to_derby(bundles):
    (b,) = bundles("census2021")
    o = b.observations
    derby = o[o.area_code == config.DERBY].set_index("indicator_id")
    for prefix in ("E050017", "E050155"):  # both boundary sets
        wards = o[o.area_code.str.startswith(prefix)]
        kids = wards[wards.indicator_id == "census_children_0_15"]
        assert kids.value.sum() == derby.loc["census_children_0_15", "value"] > 50_000
        for ind in ("census_households_deprived_2plus", "census_overcrowded_households", "census_english_not_well"):
            part = wards[wards.indicator_id == ind]
            assert set(part.status) == {"published"}
            assert part.numerator.sum() == pytest.approx(derby.loc[ind, "numerator"])
            assert (part.lower_ci < part.value).all() and (part.value < part.upper_ci).all()
    over = o[o.indicator_id == "census_overcrowded_households"].set_index("area_code").value
    assert over[ARBORETUM_23] > over[config.DERBY] > over[ALLESTREE_23]
    assert set(b.ward_fit.best_fit) == {True} and set(b.ward_fit.geography) >= {"LSOA 2021", "MSOA 2021"}


def test_iod2025_deciles_for_the_18_wards(bundles):
    (b,) = bundles("iod2025")
    o = b.observations
    current = o[o.area_code.str.startswith("E050155") & (o.indicator_id == "imd2025_decile")]
    assert len(current) == 18 and current.value.between(1, 10).all()
    assert _obs(b, "imd2025_decile", ARBORETUM_23, "2025").value < 1.5
    assert _obs(b, "imd2025_decile", ALLESTREE_23, "2025").value > 9
    assert _obs(b, "idaci2025_decile", ARBORETUM_23, "2025").value < 2


# --- schools --------------------------------------------------------------------------------------

def test_schools_placed_by_location_and_outside_school_has_no_ward(bundles):
    (b,) = bundles("schools")
    s = b.schools.set_index("urn")
    assert s.index.is_unique and 140 <= len(s) <= 160 and s["in_gias"].sum() == 117
    # Buxton and Leek College is in Derby's GIAS list (LA 831) but sits in Buxton: no ward.
    buxton = s.loc[148567]
    assert buxton.la_code == "831" and buxton.lat > 53.2
    assert pd.isna(buxton.ward_2003_2023) and pd.isna(buxton.ward_2023)
    # A school in the 2018/19 tables outside Derby (Bringhurst Primary, Leicestershire) is not kept.
    assert 141279 not in s.index
    # Every other school is in a ward of both vintages; results join by URN.
    placed = s.drop(index=148567)
    assert placed.ward_2003_2023.notna().all() and placed.ward_2023.notna().all()
    assert placed.ks2_reading_progress.notna().sum() >= 55 and placed.ks4_progress8.notna().sum() >= 15
    assert (s.loc[s.in_gias, "source_ids"].str.startswith("dfe_gias")).all()


def test_place_points_outside_every_ward_get_none(raw):
    from derby_oa.ingest import iod, schools, small_area
    polygons = {config.WARD_VINTAGE_CURRENT: iod.read_ward_polygons(
        raw(small_area.WARDS_2023), {f"E050155{n:02d}" for n in range(7, 25)})}
    got = schools.place([-1.4776, -1.1506], [52.9176, 52.9536], polygons)[config.WARD_VINTAGE_CURRENT]
    assert got[0] == ARBORETUM_23  # Derby Cathedral quarter
    assert got[1] is None  # Nottingham city centre


def test_school_map_spec_and_no_data_points():
    schools = pd.DataFrame({"urn": [1, 2, 3], "school_name": ["A", "B", "C"], "phase": ["Primary", "Secondary", "Primary"],
                            "pupils": [400, 1600, None], "lon": [-1.48, -1.47, -1.46], "lat": [52.92, 52.91, 52.90],
                            "ward_name": ["Arboretum", None, "Normanton"], "ks4_progress8": [None, -0.3, None]})
    rows, legend = maps.school_points(schools, "ks4_progress8", decimals=2, dark_low=True)
    by = {r["urn"]: r for r in rows}
    assert by[1]["value_label"] == "no data" and by[1]["fill"] == maps.NO_DATA_RGBA
    assert by[2]["value_label"] == "-0.30" and by[2]["fill"] != maps.NO_DATA_RGBA
    assert by[2]["radius"] == 360.0 and by[1]["radius"] == 180.0 and by[3]["radius"] == maps.SCHOOL_MIN_RADIUS_M
    assert by[2]["ward_name"] == "outside Derby's wards" and by[3]["pupils_label"] == "pupils: no data"
    assert legend

"""Small-area ward data (issue 15): best fit, adapters on the real files, ward coverage."""
from __future__ import annotations

import pandas as pd
import pytest

from derby_oa import config, wards_bestfit
from derby_oa.build import BuildReport, collect

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

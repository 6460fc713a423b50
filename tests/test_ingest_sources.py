"""Adapters for EYFSP (EES), Fingertips, NCMP obesity, Nomis, SEN SLCN and statistical neighbours."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from derby_oa.errors import InputError
from derby_oa.ingest import Context, eyfsp_ees, fingertips, ncmp_obesity, neighbours, nomis, reference, slcn
from derby_oa.storage.schema import OBS_KEY, check_observations, conform_observations

DERBY, ENGLAND = "E06000015", "E92000001"


@pytest.fixture(scope="module")
def ctx():
    return Context(reference.areas(), reference.indicators(), reference.source_codes())


@pytest.fixture(scope="module")
def bundles(raw, ctx):
    """Each adapter's bundle, loaded once from the real files."""
    mods = [eyfsp_ees, fingertips, ncmp_obesity, nomis, slcn, neighbours]
    return {m.SOURCE_ID: m.load({f: raw(f) for f in m.FILES}, ctx) for m in mods}


def obs(bundles, source, indicator, area=DERBY, breakdown="all"):
    o = bundles[source].observations
    return o[(o.indicator_id == indicator) & (o.area_code == area) & (o.breakdown == breakdown)].set_index("period").sort_index()


def test_observation_bundles_are_canonical_and_unique(bundles, ctx):
    for source, b in bundles.items():
        if b.observations is None:
            continue
        o = conform_observations(b.observations)
        assert (o.source_id == source).all()
        assert not o.duplicated(OBS_KEY).any()
        check_observations(o, source, set(ctx.indicators.indicator_id), set(ctx.areas.area_code))
        assert o[["lower_ci", "upper_ci"]].isna().all().all()


# --- EYFSP (EES) ---------------------------------------------------------------------------

def test_eyfsp_gld_derby(bundles):
    gld = obs(bundles, "dfe_eyfsp_2013_2019", "gld")
    assert list(gld.index) == ["2012/13", "2013/14", "2014/15", "2015/16", "2016/17", "2017/18", "2018/19"]
    assert list(gld.value) == [40.9, 51.3, 60.4, 66.4, 68.0, 69.5, 70.7]
    assert gld.loc["2015/16", ["numerator", "denominator", "year"]].tolist() == [2228, 3355, 2016]
    assert obs(bundles, "dfe_eyfsp_2013_2019", "gld", breakdown="boys").loc["2018/19", "value"] == 63.1
    assert obs(bundles, "dfe_eyfsp_2013_2019", "gld", breakdown="girls").loc["2018/19", "value"] == 78.3


def test_eyfsp_gld_covers_england_regions_and_las(bundles):
    o = bundles["dfe_eyfsp_2013_2019"].observations
    gld = o[(o.indicator_id == "gld") & (o.breakdown == "all") & (o.period == "2018/19")].set_index("area_code")
    assert gld.loc[ENGLAND, "value"] == 71.8
    assert "E12000004" in gld.index and "E13000001" in gld.index
    assert "E08000037" in gld.index  # Gateshead by LA number 390, under its current code
    assert len(gld) == 1 + 10 + 151


def test_eyfsp_comm_lang_by_fsm(bundles):
    fsm = obs(bundles, "dfe_eyfsp_2013_2019", "eyfsp_comm_lang_expected", breakdown="fsm")
    assert fsm.loc["2018/19", ["value", "numerator", "denominator"]].tolist() == [71, 447, 628]
    assert obs(bundles, "dfe_eyfsp_2013_2019", "eyfsp_comm_lang_expected", breakdown="non_fsm").loc["2012/13", "value"] == 68
    scilly = obs(bundles, "dfe_eyfsp_2013_2019", "eyfsp_comm_lang_expected", area="E06000053", breakdown="fsm")
    assert scilly.loc["2018/19", "status"] == "z" and np.isnan(scilly.loc["2018/19", "value"])  # "." with 0 pupils


# --- Fingertips (dashboard extracts) -----------------------------------------------------------

def test_fingertips_values(bundles):
    assert obs(bundles, "phe_fingertips", "gld", breakdown="fsm")["value"].tolist() == [27.6, 36.3, 44.4, 54.5, 50.1, 61.5]
    rec = obs(bundles, "phe_fingertips", "excess_weight_reception")
    assert rec.loc["2006/07", "status"] == "x" and np.isnan(rec.loc["2006/07", "value"])
    assert rec.loc["2015/16", "value"] == 21.7
    assert obs(bundles, "phe_fingertips", "low_income_children").loc["2016", ["value", "year"]].tolist() == [21.0, 2016]
    assert obs(bundles, "phe_fingertips", "neet_or_not_known_16_17")["value"].tolist() == [8.4, 7.8, 7.8]


def test_fingertips_financial_years_and_areas(bundles):
    harm = obs(bundles, "phe_fingertips", "self_harm_admissions_10_24")
    assert harm.loc["2011-12", ["value", "year"]].tolist() == [568.2, 2012]
    o = bundles["phe_fingertips"].observations
    assert "E08000037" in set(o.area_code) and "E08000020" not in set(o.area_code)  # superseded code mapped
    assert "E47000001" not in set(o.area_code)
    assert any("combined authorities (E47)" in n for n in bundles["phe_fingertips"].notes)


def test_read_fingertips_csv_generic(raw, ctx):
    o, notes = fingertips.read_fingertips_csv(raw("trafford_dashboard/neets.csv"), "neet_16_17", "test_src", ctx.areas)
    assert set(o.source_id) == {"test_src"} and len(o) == 459
    assert notes == ["neets.csv: skipped 3 rows outside the area list: 3 combined authorities (E47)"]


# --- NCMP obesity (two vintages) --------------------------------------------------------------

def test_obesity_vintages(bundles):
    rec = obs(bundles, "ohid_ncmp_obesity", "obesity_reception")
    assert rec.loc["2013/14", "value"] == 8.4  # only in the older vintage
    assert rec.loc["2024/25", "value"] == 12.4  # only in the latest
    assert rec.loc["2020/21", "status"] == "x"
    assert len(rec) == 15 and all(len(p) == 7 for p in rec.index)  # no pooled periods
    assert obs(bundles, "ohid_ncmp_obesity", "obesity_year6").loc["2018/19", "value"] == 23.0


def test_obesity_newer_vintage_wins_with_note():
    def frame(values):
        return pd.DataFrame({"indicator_id": "obesity_year6", "area_code": DERBY, "period": ["2014/15", "2015/16"],
                             "breakdown": "all", "value": values, "status": "published"})
    older, newer = frame([20.0, 22.0]), frame([21.0, 22.0]).iloc[:1]
    combined, notes = ncmp_obesity.combine(older, newer, "obesity_year6")
    assert combined.set_index("period")["value"].to_dict() == {"2014/15": 21.0, "2015/16": 22.0}
    assert len(notes) == 1 and "1 of 1 overlapping rows differ" in notes[0]


# --- Nomis ---------------------------------------------------------------------------------------

def test_nomis_labour_market(bundles):
    claim = obs(bundles, "nomis_labour_market", "claimant_rate")
    assert claim.loc["March 2023", ["value", "year"]].tolist() == [4.8, 2023]
    # one value a year (March), rates not counts
    assert list(claim.index) == ["March 2023", "March 2024", "March 2025", "March 2026"] and (claim.value < 20).all()
    emp = obs(bundles, "nomis_labour_market", "employment_rate")
    assert emp.loc["Jan 2023-Dec 2023", ["value", "year"]].tolist() == [79.8, 2023]
    assert len(emp) == 4  # calendar-year windows only
    assert nomis.nomis_period("Jan 2022-Dec 2022") == ("Jan 2022-Dec 2022", 2022)
    with pytest.raises(ValueError):
        nomis.nomis_period("Foo 2022")


# --- SLCN ------------------------------------------------------------------------------------------

def test_slcn(bundles):
    s = obs(bundles, "dfe_sen_slcn", "slcn_year1_primary_need")
    assert s.loc["2015/16", ["numerator", "denominator", "value"]].tolist() == [263, 3330, 7.9]
    assert s.loc["2021/22", ["numerator", "denominator"]].tolist() == [241, 3222]
    assert list(s.index) == ["2015/16", "2016/17", "2017/18", "2018/19", "2019/20", "2020/21", "2021/22"]
    eng = obs(bundles, "dfe_sen_slcn", "slcn_year1_primary_need", area=ENGLAND)
    assert eng.loc["2015/16", ["numerator", "denominator", "value"]].tolist() == [33761, 641929, 5.3]
    dorset_2019 = obs(bundles, "dfe_sen_slcn", "slcn_year1_primary_need", area="E06000059")
    assert list(dorset_2019.index) == ["2019/20", "2020/21", "2021/22"]
    assert bundles["dfe_sen_slcn"].notes


# --- Statistical neighbours --------------------------------------------------------------------

SN_2021 = [874, 373, 350, 894, 331, 335, 332, 887, 382, 383]
SN_2025 = [331, 350, 335, 852, 382, 874, 354, 373, 357, 861]


def test_neighbours_of(raw):
    sn = neighbours.neighbours_of(raw("lait/sn_april_2021.xlsx"), 831)
    assert sn.la_number.tolist() == SN_2021 and sn.member_order.tolist() == list(range(1, 11))
    assert sn.la_name.iloc[0] == "Peterborough" and set(sn.closeness) == {"Very Close"}
    assert neighbours.neighbours_of(raw("lait/sn_may_2025.xlsx"), 831).la_number.tolist() == SN_2025


def test_neighbour_groups(bundles, ctx):
    g = bundles["dfe_statistical_neighbours"].area_groups
    names = ctx.areas.set_index("area_code")["area_name"]
    order = lambda gid: g[g.group_id == gid].sort_values("member_order").area_code.map(names).tolist()
    assert order("sn_2021") == ["Peterborough", "Sheffield", "Bolton", "Telford and Wrekin", "Coventry", "Walsall",
                                "Dudley", "Medway", "Kirklees", "Leeds"]
    assert order("sn_2025") == ["Coventry", "Bolton", "Walsall", "Southampton", "Kirklees", "Peterborough",
                                "Rochdale", "Sheffield", "Tameside", "Stoke-on-Trent"]
    assert set(g.group_name) == {"Derby's statistical neighbours (April 2021)", "Derby's statistical neighbours (May 2025)"}
    assert not g.duplicated(["group_id", "area_code"]).any()


# --- Bad input -------------------------------------------------------------------------------------

def broken_csv(raw, name, tmp_path, edit, rows=40):
    df = pd.read_csv(raw(name), dtype=str, keep_default_na=False).head(rows)
    df = edit(df)
    path = tmp_path / name.split("/")[-1]
    df.to_csv(path, index=False)
    return path


def set_cell(row, col, value):
    def edit(df):
        df.loc[row - 1, col] = value
        return df
    return edit


def assert_names(exc, file, row, field):
    msg = str(exc.value)
    assert file in msg and (row is None or f"row {row}" in msg) and f"'{field}'" in msg, msg


EES_CSV = "nesta_afs/APS_GLD_ELG_EXP_2013_2019.csv"
FT_CSV = "trafford_dashboard/school_readiness_fsm.csv"
SLCN_CSV = "bbc_child_speech/merged_sen_data_withperc.csv"


@pytest.mark.parametrize("edit,row,field", [
    (lambda df: df.drop(columns="gld_number"), None, "gld_number"),
    (set_cell(4, "gld_percent", "n/a"), 4, "gld_percent"),
    (set_cell(5, "region_code", "E12000099"), 5, "region_code"),
    (set_cell(35, "old_la_code", "999"), 35, "old_la_code"),  # an LA row
    (set_cell(2, "gender", "Other"), 2, "gender"),
    (set_cell(3, "time_period", "2018"), 3, "time_period"),
])
def test_eyfsp_bad_csv(raw, ctx, tmp_path, edit, row, field):
    path = broken_csv(raw, EES_CSV, tmp_path, edit)
    with pytest.raises(InputError) as exc:
        eyfsp_ees.read_gld(path, ctx.areas)
    assert_names(exc, path.name, row, field)


def test_eyfsp_ees_symbols(raw, ctx, tmp_path):
    path = broken_csv(raw, EES_CSV, tmp_path, set_cell(1, "gld_percent", "c"))
    o = eyfsp_ees.read_gld(path, ctx.areas)
    assert o.loc[0, "status"] == "c" and np.isnan(o.loc[0, "value"])


def test_eyfsp_bad_xlsx(raw, ctx, tmp_path):
    df = pd.read_excel(raw("nesta_afs/EYFSP_LA_2_com_lit_maths_additional_tables_2013_2019.xlsx"), dtype=str,
                       nrows=12)  # the first 12 rows, without reading the rest of the workbook
    df.loc[10, "at_least_expected_number"] = "lots"  # row 11 is a Communication and Language row
    path = tmp_path / "comm.xlsx"
    df.to_excel(path, index=False)
    with pytest.raises(InputError) as exc:
        eyfsp_ees.read_comm_lang(path, ctx.areas)
    assert_names(exc, "comm.xlsx", 11, "at_least_expected_number")


@pytest.mark.parametrize("edit,row,field", [
    (lambda df: df.drop(columns="value"), None, "value"),
    (set_cell(8, "value", "12,3"), 8, "value"),
    (set_cell(9, "area_code", "E06999999"), 9, "area_code"),
    (set_cell(10, "period", "2015 Q1"), 10, "period"),
])
def test_fingertips_bad_csv(raw, ctx, tmp_path, edit, row, field):
    path = broken_csv(raw, FT_CSV, tmp_path, edit)
    with pytest.raises(InputError) as exc:
        fingertips.read_fingertips_csv(path, "gld", "phe_fingertips", ctx.areas, breakdown="fsm")
    assert_names(exc, path.name, row, field)


def test_fingertips_duplicate_row(raw, ctx, tmp_path):
    path = broken_csv(raw, FT_CSV, tmp_path, lambda df: pd.concat([df, df.iloc[[7]]], ignore_index=True))
    with pytest.raises(InputError) as exc:
        fingertips.read_fingertips_csv(path, "gld", "phe_fingertips", ctx.areas)
    assert_names(exc, path.name, 41, "period")


def test_obesity_and_nomis_bad_input(raw, ctx, tmp_path):
    (tmp_path / "v").mkdir()
    df = pd.read_csv(raw("trafford_themes/latest/obese_year6.csv"), dtype=str, keep_default_na=False)
    i = df.index[(df.inequality == "NA") & df.period.str.fullmatch(r"\d{4}/\d{2}")][3]  # a kept row
    df.loc[i, "value"] = "high"
    df.to_csv(tmp_path / "v" / "obese_year6.csv", index=False)
    with pytest.raises(InputError) as exc:
        ncmp_obesity.read_vintage(tmp_path / "v" / "obese_year6.csv", "obesity_year6", ctx.areas)
    assert_names(exc, "v/obese_year6.csv", i + 1, "value")
    path = broken_csv(raw, "trafford_themes/latest/employment_rate.csv", tmp_path, set_cell(3, "period", "2022"))
    with pytest.raises(InputError) as exc:
        nomis.read_measure(path, "employment_rate", "Employment rate - aged 16-64", ctx.areas)
    assert_names(exc, path.name, 3, "period")


@pytest.mark.parametrize("edit,row,field", [
    (lambda df: df.drop(columns="201718_pupils"), None, "201718_pupils"),
    (set_cell(3, "201617_language", "many"), 3, "201617_language"),
    (set_cell(4, "old_la_code", "999"), 4, "old_la_code"),
    (set_cell(5, "201516_language", "99999"), 5, "201516_language"),  # more SLCN pupils than pupils
])
def test_slcn_bad_csv(raw, ctx, tmp_path, edit, row, field):
    path = broken_csv(raw, SLCN_CSV, tmp_path, edit)
    with pytest.raises(InputError) as exc:
        slcn.read_slcn(path, ctx.areas)
    assert_names(exc, path.name, row, field)


def test_neighbours_bad_input(raw, tmp_path):
    grid = pd.read_excel(raw("lait/sn_may_2025.xlsx"), sheet_name="LA SN Groups", header=None, dtype=str)
    row = grid.index[grid[0] == "831"][0]
    grid.loc[row, 9] = "Derbyshire?"  # SN3
    path = tmp_path / "sn.xlsx"
    grid.to_excel(path, sheet_name="LA SN Groups", header=False, index=False)
    with pytest.raises(InputError) as exc:
        neighbours.neighbours_of(path, 831)
    assert_names(exc, "sn.xlsx", row - 2, "SN3")
    with pytest.raises(InputError, match="0 rows for LA 999"):
        neighbours.neighbours_of(path, 999)

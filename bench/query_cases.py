"""The app's real queries (functions of derby_oa.queries) with arguments for the real and synthetic databases.

Each case is (label, call on the real database, call on the synthetic database or None). A call
takes a read-only connection and returns what the app would get.
"""
from __future__ import annotations

from collections.abc import Callable

from derby_oa import config
from derby_oa.queries import core, explore, overview, schools, targets as target_data, ward_fit, wards

Case = tuple[str, Callable, Callable | None]


def _real_args(con) -> dict:
    comparators = [config.DERBY, config.ENGLAND, config.EAST_MIDLANDS] + \
        core.group_members(con, config.SN_GROUP_CURRENT)["area_code"].tolist()
    plan_wards = wards.ward_list(con, config.WARD_VINTAGE_PLAN)["area_code"].tolist()
    las = explore.group_codes(con, "las")
    lait = con.execute("""SELECT indicator_id, max(period) FROM observations WHERE source_id = 'dfe_lait'
                          GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 5""").fetchall()
    return {"comparators": comparators, "wards": plan_wards, "ward": plan_wards[0], "las": las,
            "lait": lait[0][0], "lait_period": lait[0][1], "lait5": [r[0] for r in lait]}


def cases(real_con, synth_con=None) -> list[Case]:
    """The benchmark's query cases; the synthetic call is None where the case has no synthetic twin."""
    r = _real_args(real_con)
    if synth_con is not None:
        from synthetic import sample_codes
        s = sample_codes(synth_con)
    else:
        s = None
    v_plan = config.WARD_VINTAGE_PLAN

    def syn(fn):
        return fn if s is not None else None

    return [
        ("indicators with data for an area",
         lambda c: core.indicators(c, with_data_for=config.DERBY),
         syn(lambda c: core.indicators(c, with_data_for=s["ward"]))),
        ("trend series: Derby, England, region, neighbours / Derby's wards",
         lambda c: core.series(c, "gld", r["comparators"], ["all", "fsm"]),
         syn(lambda c: core.series(c, s["indicator"], s["derby_wards"] + [config.ENGLAND]))),
        ("one period, every LA (LAIT) / every English ward",
         lambda c: core.values_for_period(c, r["lait"], r["lait_period"], "la"),
         syn(lambda c: core.values_for_period(c, s["indicator"], s["period"], "ward"))),
        ("one period, every English LSOA (IoD2019, 32,844)",
         lambda c: core.values_for_period(c, "imd_decile", "2019", "lsoa"), None),
        ("all years, every LA (ranks and quartiles)",
         lambda c: overview.la_values(c, "ks4_attainment8"),
         syn(lambda c: overview.la_values(c, s["indicator"]))),
        ("headline pairs for Derby and England",
         lambda c: overview.observations_for(c, [("gld", "all"), ("gld", "fsm"), ("ks2_rwm_expected", "all"),
                                                ("ks4_attainment8", "all")], [config.DERBY, config.ENGLAND]),
         syn(lambda c: overview.observations_for(c, [(i, "all") for i in s["indicators"][:4]],
                                                 s["derby_wards"][:2]))),
        ("latest period of an indicator for an area",
         lambda c: core.latest_period(c, "gld", config.DERBY),
         syn(lambda c: core.latest_period(c, s["indicator"], s["ward"]))),
        ("ward values of an indicator (Derby's wards)",
         lambda c: wards.ward_values(c, "imd_most_deprived_decile_share", "2019", v_plan),
         syn(lambda c: wards.ward_values(c, s["indicator"], s["period"], s["vintage"]))),
        ("ward periods of an indicator",
         lambda c: wards.ward_periods(c, "imd_decile", v_plan),
         syn(lambda c: wards.ward_periods(c, s["indicator"], s["vintage"]))),
        ("indicators with ward values",
         lambda c: wards.ward_indicators(c), syn(lambda c: wards.ward_indicators(c))),
        ("ward context (latest of several indicators)",
         lambda c: wards.ward_context(c, r["wards"]),
         syn(lambda c: wards.ward_context(c, s["derby_wards"], tuple(s["indicators"][:5])))),
        ("LSOAs of a ward with IMD decile and rank",
         lambda c: wards.lsoas_of_ward(c, r["ward"], v_plan), None),
        ("schools with their ward (school layer)",
         lambda c: schools.schools_with_ward(c, v_plan), None),
        ("how each ward figure was made (ward_fit)",
         lambda c: ward_fit.ward_fit(c, "idaci_rate_2019", "2019", v_plan), None),
        ("explorer: 5 indicators x every LA / 10 indicators x Derby's wards",
         lambda c: explore.observations(c, r["lait5"], r["las"], ["all"]),
         syn(lambda c: explore.observations(c, s["indicators"], s["derby_wards"], ["all"]))),
        ("explorer: indicator search with row counts",
         lambda c: explore.search_indicators(c, "attainment"),
         syn(lambda c: explore.search_indicators(c, "attainment"))),
        ("target observations (GLD, Derby)",
         lambda c: target_data.target_observations(c, "gld", config.DERBY, "all"),
         syn(lambda c: target_data.target_observations(c, s["indicator"], s["ward"], "all"))),
    ]

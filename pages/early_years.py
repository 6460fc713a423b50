"""Priority 1: early years."""
from derby_oa.ui import priority

priority.render(
    "Priority 1: Early years",
    "Increase the number of children achieving a good level of development in the early years. "
    "**Target:** by 2021 Derby's GLD (all and FSM pupils) exceeds the national average.",
    ["gld", "eyfsp_comm_lang_expected", "ey_provider_good_3_4", "ey_provider_good_2", "slcn_year1_primary_need"],
    ["ey_provider_outstanding", "slcn_pupils", "elg_not_health_self_care", "elg_not_self_confidence",
     "elg_not_managing_feelings", "elg_not_making_relationships", "elg_not_people_communities"],
    page="early_years",
)

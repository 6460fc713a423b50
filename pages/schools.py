"""Priority 2: school improvement."""
from derby_oa.ui import priority

priority.render(
    "Priority 2: Schools",
    "Raise attainment in primary and secondary schools. **Target:** by 2021 the gap in English and maths "
    "progress and attainment at KS2 and KS4 significantly closed; national averages surpassed within five years.",
    ["ks2_rwm_expected", "ks2_progress_reading", "ks2_progress_writing", "ks2_progress_maths", "ks4_attainment8", "ks4_progress8",
     "ks4_eng_maths_94", "absence_unauth_primary", "absence_unauth_secondary", "absence_persistent_primary",
     "absence_persistent_secondary"],
    ["ks4_eng_maths_a_c", "ks2_rwm_eal"],
    page="schools",
)

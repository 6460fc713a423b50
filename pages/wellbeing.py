"""Additional themes: mental health, transitions and pathways."""
from derby_oa.ui import priority

priority.render(
    "Wellbeing, transitions and pathways",
    "Good mental health underpins every priority; transitions into post-16 learning and work matter most "
    "for vulnerable young people.",
    ["mh_admissions_0_17", "self_harm_admissions_10_24", "neet_16_17", "neet_or_not_known_16_17", "low_income_children", "fsm_primary",
     "fsm_secondary"],
    ["semh_pupils", "lac_emotional_concern", "social_mobility_index_rank"],
    page="wellbeing",
)

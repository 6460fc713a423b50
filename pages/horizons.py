"""Priority 3: broadening horizons."""
from derby_oa.ui import priority

priority.render(
    "Priority 3: Broadening horizons",
    "Ensure all children benefit from a broad range of experiences throughout their school lives: "
    "employer encounters, culture, sport, healthy weight and routes into work.",
    ["excess_weight_reception", "excess_weight_year6", "obesity_reception", "obesity_year6", "claimant_rate",
     "employment_rate"],
    ["unemployment_rate", "apprenticeship_participation", "employer_encounters_per_pupil", "employer_encounters_total"],
    page="horizons",
)

"""The words a reader sees for codes, defined once: pupil groups, observation statuses, the plan's source id.

Every page, chart, table and export takes its labels from here, so one group reads the same everywhere.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

PLAN_SOURCE = "plan_2017"  # source_id of the delivery plan's own figures and targets

# Pupil groups (observations.breakdown), as a label or a column heading.
PUPIL_GROUPS = {"all": "All pupils", "fsm": "FSM pupils", "non_fsm": "Non-FSM pupils",
                "disadvantaged": "Disadvantaged pupils", "non_disadvantaged": "Other pupils",
                "boys": "Boys", "girls": "Girls", "eal": "EAL pupils"}


def in_sentence(label: str) -> str:
    """A label as it reads mid-sentence: 'Other pupils' -> 'other pupils'; acronyms keep their case."""
    return label if label[:2].isupper() else label[0].lower() + label[1:]


PUPIL_GROUPS_IN_SENTENCE = {code: in_sentence(label) for code, label in PUPIL_GROUPS.items()}

# Observation status (DfE symbols), as explained on Data & sources and in table notes.
OBSERVATION_STATUSES = {
    "published": "published",
    "c": "c: suppressed to protect confidentiality",
    "x": "x: not available",
    "z": "z: not applicable",
}


NO_DATA_LABEL = "no data"  # a ward, area or year without a value, in maps, tables and sentences
SCHOOL_CAPTION = "School figures are by school location, not by where pupils live."

# Polarities: which end of an indicator is worse.
MOST_DEPRIVED_IS_ONE = re.compile(r"1\s*=\s*(the\s+)?most deprived", re.IGNORECASE)


def worse_end(meta: Mapping) -> str | None:
    """Which end of an indicator is worse: "low", "high", or None when neither is.

    From the polarity (higher_is_better -> "low"; lower_is_better -> "high"); for indicators with
    no polarity, national deprivation ranks and deciles whose definition says "1 = most deprived"
    are worse when low. Population counts and the like have no worse end.
    """
    polarity = meta.get("polarity")
    if polarity == "higher_is_better":
        return "low"
    if polarity == "lower_is_better":
        return "high"
    text = f"{meta.get('definition') or ''} {meta.get('title') or ''}"
    return "low" if MOST_DEPRIVED_IS_ONE.search(text) else None

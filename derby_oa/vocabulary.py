"""The words a reader sees for codes, defined once: pupil groups, observation statuses, the plan's source id.

Every page, chart, table and export takes its labels from here, so one group reads the same everywhere.
"""
from __future__ import annotations

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

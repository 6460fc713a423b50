"""One vocabulary: a pupil group or a target status reads the same on every page, chart and export."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from derby_oa.analysis import explore, headlines, targets
from derby_oa import vocabulary
from derby_oa.analysis.wards import ranking as wards

ROOT = Path(__file__).resolve().parent.parent


def test_every_layer_takes_pupil_groups_from_the_vocabulary():
    assert headlines.BREAKDOWN_LABELS is vocabulary.PUPIL_GROUPS
    assert explore.BREAKDOWN_LABELS is vocabulary.PUPIL_GROUPS
    assert wards.BREAKDOWN_LABELS is vocabulary.PUPIL_GROUPS
    assert targets.BREAKDOWN_LABELS is vocabulary.PUPIL_GROUPS_IN_SENTENCE


def test_labels_in_a_sentence_keep_acronyms():
    assert vocabulary.PUPIL_GROUPS_IN_SENTENCE["non_disadvantaged"] == "other pupils"
    assert vocabulary.PUPIL_GROUPS_IN_SENTENCE["non_fsm"] == "non-FSM pupils"
    assert vocabulary.PUPIL_GROUPS_IN_SENTENCE["fsm"] == "FSM pupils"
    assert vocabulary.PUPIL_GROUPS_IN_SENTENCE["eal"] == "EAL pupils"


def test_the_explorer_names_groups_as_the_other_pages_do():
    df = pd.DataFrame({"indicator": ["KS2"], "area_code": ["E06000015"], "area_name": ["Derby"],
                       "breakdown": ["non_disadvantaged"], "period": ["2018/19"], "year": [2019], "value": [70.0],
                       "status": ["published"]})
    assert explore.tidy_table(df)["Breakdown"].tolist() == ["Other pupils"]
    assert explore.series_label("Derby", "fsm", several_breakdowns=True) == "Derby (FSM pupils)"


def test_no_second_table_of_group_labels_or_status_symbols():
    """The old wordings and duplicate tables are gone from the library and pages."""
    offenders = []
    for path in [*ROOT.glob("derby_oa/**/*.py"), *ROOT.glob("pages/*.py")]:
        if path.name == "vocabulary.py":
            continue
        text = path.read_text(encoding="utf-8")
        if "Not disadvantaged" in text or re.search(r'"non_disadvantaged":\s*"', text) \
                or re.search(r'"off track":\s*"\\u', text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []

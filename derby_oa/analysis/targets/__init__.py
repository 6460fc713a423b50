"""The plan's targets and officers' local targets: status, trajectories, required change and scenarios.

Pure logic on tidy frames; `assess_all(con)` and `assess_target(con, target_id)` gather the data
through `queries.targets`. Statuses are exactly "met", "not met" (date passed), "on track", "off track" (still ahead) or "not assessable",
and the rule that decides each is written in words (`RULES`, `GENERAL_RULE`) for the page to show.

Modules: `common` (statuses, rule texts, helpers), `arithmetic`, `assessment`, `charting`
(scenario and chart data), `local` (local-target validation), `service` (database entry points).
"""
from __future__ import annotations

from derby_oa.analysis.targets.common import (  # noqa: F401  (the package re-exports its modules' names)
    BREAKDOWNS,
    BREAKDOWN_LABELS,
    CHANGE_RULE,
    GENERAL_RULE,
    LOCAL_FILE,
    LOCAL_KINDS,
    MEASURABLE_KINDS,
    MET,
    NOT_ASSESSABLE,
    NOT_MET,
    COHORT_FROM,
    UNTESTED,
    NO_OUTCOME,
    OFF_TRACK,
    ON_TRACK,
    PROJECTION_YEARS,
    RECENT_POINTS,
    RELATIVE_KINDS,
    RULES,
    SCENARIO_RULE,
    STATUSES,
    STATUS_SYMBOLS,
    UNIT_RANGES,
    direction,
    fmt_change,
    fmt_value,
    parse_year,
    period_label,
    published,
    series_index,
)
from derby_oa.analysis.targets.arithmetic import (  # noqa: F401
    achieved_change,
    closing_year,
    compare_at,
    projection,
    required_change,
    t_quantile,
)
from derby_oa.analysis.targets.assessment import Assessment, assess, commitment_phrase, recent_run  # noqa: F401
from derby_oa.analysis.targets.charting import chart_events, chart_frame, chart_table, scenario  # noqa: F401
from derby_oa.analysis.targets.local import add_local_target, validate_local_target  # noqa: F401
from derby_oa.analysis.targets.service import (  # noqa: F401
    AREA_SHORT,
    assess_all,
    assess_many,
    assess_target,
    headline,
    target_label,
)

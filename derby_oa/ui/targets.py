"""The Targets page's sections: status tiles, a target's chart and rule, the scenario, Priority 3
commitments and officers' local targets."""
from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from derby_oa import config, formatting, queries
from derby_oa.viz import targets as target_charts, theme
from derby_oa.analysis import targets
from derby_oa.errors import InputError
from derby_oa.queries import targets as target_queries
from derby_oa.text import md_escape
from derby_oa.ui import auth, connection, widgets

FLASH = "targets-flash"
TARGET_CHOICE = "target-choice"
KIND_LABELS = {"exceed_comparator": "Exceed a comparator", "close_gap": "Close the gap to a comparator",
               "absolute": "Reach a value", "commitment": "Commitment", "qualitative": "Qualitative"}


def status_html(status: str) -> str:
    """A status badge: symbol and word in dark text, with a coloured edge (never colour alone)."""
    colour = theme.STATUS_COLOURS.get(status, theme.DARK_GREY)
    return (f'<span style="display:inline-block;border-left:8px solid {colour};background:#F3F2F1;color:#0B0C0C;'
            f'padding:2px 10px;font-weight:700">{targets.STATUS_SYMBOLS.get(status, "")} {html.escape(status)}</span>')


@connection.per_database(4)
def _assessments() -> list[targets.Assessment]:
    return targets.assess_many(connection.get_con())


def assessments() -> list[targets.Assessment]:
    """Every target's assessment, plan targets first (kept per database version; officers' drafts apart)."""
    return _assessments()


def status_counts(items: list[targets.Assessment]) -> None:
    """One line: how many measurable targets are met, on track, off track, not assessable."""
    measurable = [a for a in items if a.measurable]
    counts = {s: sum(a.status == s for a in measurable) for s in targets.STATUSES}
    st.markdown(" &nbsp; ".join(f"{status_html(s)} **{n}**" for s, n in counts.items()) +
                f" &nbsp; of {len(measurable)} measurable targets", unsafe_allow_html=True)


def tiles(items: list[targets.Assessment], columns: int = 3) -> None:
    """A tile per measurable target: name, status and the evidence in one line."""
    measurable = [a for a in items if a.measurable]
    for start in range(0, len(measurable), columns):
        cols = st.columns(columns)
        for col, a in zip(cols, measurable[start:start + columns]):
            with col.container(border=True):
                st.markdown(f"**{md_escape(targets.target_label(a.target))}**")
                st.markdown(status_html(a.status), unsafe_allow_html=True)
                st.caption(md_escape(targets.headline(a)))


def summary_table(items: list[targets.Assessment]) -> pd.DataFrame:
    """All targets with status and the reason, for the table under the tiles."""
    rows = [{"Priority": a.target.get("priority"), "Origin": a.target.get("origin"),
             "Target": targets.target_label(a.target), "Kind": KIND_LABELS.get(a.target["kind"], a.target["kind"]),
             "Status": f"{targets.STATUS_SYMBOLS[a.status]} {a.status}",
             "Judged at": ", ".join(targets.period_label(y) for y in a.judged_years),
             "Why": a.detail, "Target id": a.target["target_id"]} for a in items]
    return pd.DataFrame(rows)


def rules_text() -> None:
    """The rules that decide every status, in words."""
    st.markdown(f"**How a status is decided.** {targets.GENERAL_RULE}")
    for kind in targets.MEASURABLE_KINDS + ("commitment", "qualitative"):
        st.markdown(f"- **{KIND_LABELS[kind]}:** {targets.RULES[kind]}")
    st.markdown(f"**Required and achieved change.** {targets.CHANGE_RULE}")
    st.markdown(f"**Scenario.** {targets.SCENARIO_RULE}")


def _metric_value(value, unit, dec) -> str:
    return targets.fmt_value(value, unit, dec)


def _change(value, unit: str, dec) -> str:
    """A change a year through the app's formatter: one decimal more than published (a rate worked out here)."""
    if formatting.is_missing(value):
        return "no data"
    return formatting.signed(value, unit, max(int(dec or 0), 1) + 1)


def target_detail(a: targets.Assessment, key: str) -> None:
    """One target: status with its reason and rule, the numbers behind it and its chart."""
    unit, dec = a.meta.get("unit", ""), a.meta.get("decimals", 1)
    t = a.target
    st.subheader(md_escape(targets.target_label(t)))
    st.markdown(status_html(a.status) + " " + md_escape(a.detail), unsafe_allow_html=True)
    st.markdown(f"**Rule:** {a.rule}")
    if t.get("plan_words"):
        st.caption(md_escape(f"{t.get('plan_section') or ''}: \u201c{t['plan_words']}\u201d"))
    if a.baseline_year is None:
        return
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(f"Baseline {targets.period_label(a.baseline_year)}", _metric_value(a.baseline_value, unit, dec),
              help=f"Source: {a.baseline_note}.")
    c2.metric(f"Target line {targets.period_label(int(t['target_year']))}", _metric_value(a.line_value, unit, dec),
              help="The value Derby needs to beat (see the rule).")
    words = {"%": "percentage points", "score": "points"}.get(unit, unit)
    c3.metric("Needed a year", _change(a.required_change, unit, dec), help=f"In {words}. {targets.CHANGE_RULE}")
    c4.metric("Achieved a year", _change(a.achieved_change, unit, dec),
              help=(f"From the baseline to {targets.period_label(a.achieved_to)}, within the same series."
                    if a.achieved_to else "No later value in the same series as the baseline."))
    if a.comparator_change is not None:
        st.caption(f"Over the same years {a.comparator_label} changed by "
                   f"{targets.fmt_change(a.comparator_change, unit, dec)}: the line to beat moves.")
    frame = targets.chart_frame(a)
    if frame["value"].notna().sum() == 0:
        st.info("No data: nothing has been published or loaded for this target's measure yet.")
        return
    chart, caption, table = _chart_parts(t["target_id"])
    widgets.chart_block(chart, table, f"target-{t['target_id']}", caption, key=key)


@connection.per_database(64)
def _chart_parts(target_id: str):
    """A target's chart, caption and table, made once per database version."""
    a = next(x for x in _assessments() if x.target["target_id"] == target_id)
    t = a.target
    frame = targets.chart_frame(a)
    events = targets.chart_events(a, frame["year"].tolist())
    chart = target_charts.target_chart(frame, events, a.meta, int(t["target_year"]))
    caption = (f"{a.meta.get('title')}: {a.area_label}"
               + (f" against {a.comparator_label}" if a.comparator_label else "")
               + ", the straight line from the baseline to the target line in "
               + f"{targets.period_label(int(t['target_year']))}, "
               "and a projection from the recent trend with its 95% prediction interval (shaded). "
               + ("Bars on Derby's points are 95% Wilson intervals from published pupil counts. "
                  if frame["lower"].notna().any() and (frame["role"] == "actual").any() else "")
               + "Lines break at years not collected and at series breaks. "
               + (a.meta.get("series_notes") or ""))
    table = formatting.display_table(targets.chart_table(frame, events), int(a.meta.get("decimals", 1) or 1) + 1)
    return chart, caption, table


def improvement_default(a: targets.Assessment, step: float) -> float:
    """The scenario's starting value: the required change, else the achieved one, else five steps."""
    for value in (a.required_change, a.achieved_change):
        if value is not None and not pd.isna(value) and value * targets.direction(a.meta.get("polarity", "")) > 0:
            return round(round(abs(value) / step) * step, 4) or step
    return round(5 * step, 4)


def scenario_control(a: targets.Assessment, key: str) -> float | None:
    """Number input for an assumed yearly improvement (URL `improve`), and the year the gap would close."""
    if not a.measurable or a.latest_year is None:
        return None
    unit, dec = a.meta.get("unit", ""), a.meta.get("decimals", 1)
    step = 0.01 if unit == "score" else 0.1
    default = improvement_default(a, step)
    raw = st.query_params.get("improve")
    if raw is not None:
        try:
            asked = float(raw)
        except ValueError:
            asked = float("nan")
        if 0 <= asked <= 1000:
            default = asked
        else:
            st.info(f"The link asked for improve = '{md_escape(raw)}', which is not a yearly improvement between 0 and 1000; "
                    f"showing {default:g} instead.")
    st.subheader("What would it take?")
    words = {"%": "percentage points", "score": "points"}.get(unit, unit)
    value = st.number_input(f"Assumed improvement a year ({words}, in the direction of better)", min_value=0.0,
                            max_value=1000.0, value=float(default), step=step, format="%.2f", key=key)
    widgets.qp_set(improve=f"{value:g}")
    result = targets.scenario(a, value)
    st.markdown(f"**{result['text']}**")
    st.caption(targets.SCENARIO_RULE)
    return value


def priority3_section(con, items: list[targets.Assessment]) -> None:
    """Qualitative targets and commitments: no outcome data, with the plan's measurable commitments."""
    rows = [a for a in items if not a.measurable]
    if not rows:
        return
    st.header("Priority 3: broadening horizons")
    st.markdown("The plan words its Priority 3 targets qualitatively; the measurable commitments it makes are "
                f"shown with them. Each is marked **{targets.NO_OUTCOME}** because no outcome series exists.")
    for a in rows:
        with st.container(border=True):
            st.markdown(status_html(a.status) + f" &nbsp; <b>{md_escape(a.target.get('plan_words') or '')}</b>",
                        unsafe_allow_html=True)
            st.caption(md_escape(a.detail))
    activity = target_queries.commitment_activity(con)
    if len(activity):
        st.markdown("Programme figures the plan gives for this priority (activity, not outcomes):")
        names = {"label": "Activity", "value": "Number", "unit": "Unit", "period": "Period",
                 "plan_quote": "Plan's words"}
        st.dataframe(activity.rename(columns=names)[
            ["Activity", "Number", "Unit", "Period", "Plan's words"]], hide_index=True, width="stretch")


FORM_ERROR = "targets-form-error"


def target_choice(ids: list[str], labels: dict[str, str]) -> str:
    """The target to examine: the URL (`?target=`) is the source of truth; the selectbox writes to it."""
    chosen = widgets.qp_choice("target", ids, ids[0], labels)
    st.session_state[TARGET_CHOICE] = chosen
    st.selectbox("Target to examine", ids, format_func=labels.get, key=TARGET_CHOICE,
                 on_change=lambda: widgets.qp_set(target=st.session_state[TARGET_CHOICE]))
    widgets.qp_set(target=chosen)
    return chosen


def _flash() -> None:
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(md_escape(message))
    error = st.session_state.pop(FORM_ERROR, None)
    if error:
        st.error(md_escape(error))


def _remove(target_id: str) -> None:
    """Button callback: remove a local target (runs before the page, so a rerun cannot lose the click)."""
    if auth.current_officer() is None:
        st.session_state[FORM_ERROR] = "Not removed: sign in as an officer to manage local targets."
        return
    try:
        target_queries.delete_local_target(target_id)
    except InputError as exc:
        st.session_state[FORM_ERROR] = f"Not removed: {exc}"
    else:
        st.session_state[FLASH] = f"Removed local target '{target_id}'."
        connection.reset()


def _add() -> None:
    """Form callback: validate and store the officer's target from the form's widget values."""
    state = st.session_state
    if auth.current_officer() is None:
        state[FORM_ERROR] = "Not saved: sign in as an officer to manage local targets."
        return
    kind = state.get("lt-kind")
    fields = {"target_id": state.get("lt-id"), "indicator_id": state.get("lt-indicator"),
              "breakdown": state.get("lt-breakdown"), "kind": kind, "area_code": config.DERBY,
              "baseline_year": state.get("lt-baseline-year"), "baseline_value": state.get("lt-baseline-value"),
              "target_year": state.get("lt-target-year"), "target_value": state.get("lt-target-value"),
              "plan_words": state.get("lt-words"), "comparator_area_code": None, "comparator_breakdown": None}
    if kind in targets.RELATIVE_KINDS:
        comp_bd = state.get("lt-comp-bd")
        fields.update(comparator_area_code=state.get("lt-comp-area"),
                      comparator_breakdown=None if comp_bd == "same" else comp_bd)
    try:
        row = targets.add_local_target(fields)
    except InputError as exc:
        state[FORM_ERROR] = f"Not saved: {exc}"
    else:
        state[FLASH] = f"Added local target '{row['target_id']}'."
        st.query_params["target"] = row["target_id"]
        connection.reset()


def local_targets_section(con) -> None:
    """Officers add and remove local targets; each write is atomic and validated, plan targets are fixed."""
    st.header("Local targets")
    _flash()
    st.caption("Officers can add a local target; it is checked, then stored in the database through the same atomic "
               "write as uploaded data, and survives a rebuild. The plan's own targets are fixed and cannot be "
               "removed or edited here.")
    local = target_queries.local_targets(con)
    officer = auth.current_officer()
    for row in local.to_dict("records"):
        c1, c2 = st.columns([5, 1])
        c1.markdown(f"**{md_escape(targets.target_label(row))}** ({md_escape(row['target_id'])})")
        if officer:
            c2.button("Remove", key=f"rm-{row['target_id']}", on_click=_remove, args=(row["target_id"],))
    if auth.require_officer("add or remove local targets") is None:
        return
    inds = queries.indicators(con, with_data_for=config.DERBY)
    inds = inds[inds["polarity"].isin(["higher_is_better", "lower_is_better"])
                & inds["unit"].isin(list(targets.UNIT_RANGES))]
    if inds.empty:
        st.info("No indicators with data are loaded, so no local target can be set yet.")
        return
    planned = set(target_queries.target_rows(con)["indicator_id"].dropna())
    inds = inds.assign(first=~inds["indicator_id"].isin(planned)).sort_values(["first", "theme", "title"])
    titles = dict(zip(inds["indicator_id"], inds["title"]))
    comparators = {config.ENGLAND: "England", config.EAST_MIDLANDS: "East Midlands",
                   config.DERBY: "Derby (another pupil group)"}
    with st.form("local-target"):
        st.markdown("**Add a local target**")
        c1, c2, c3 = st.columns(3)
        c1.selectbox("Indicator", list(titles), format_func=titles.get, key="lt-indicator")
        c2.selectbox("Pupil group", list(targets.BREAKDOWNS), format_func=lambda b: targets.BREAKDOWN_LABELS[b],
                     key="lt-breakdown")
        c3.selectbox("Kind", list(targets.LOCAL_KINDS), format_func=KIND_LABELS.get, key="lt-kind")
        c1, c2, c3, c4 = st.columns(4)
        c1.number_input("Baseline year (ending)", 1990, 2100, 2023, step=1, key="lt-baseline-year")
        c2.number_input("Baseline value", value=None, format="%.2f", key="lt-baseline-value")
        c3.number_input("Target year (ending)", 1990, 2100, 2027, step=1, key="lt-target-year")
        c4.number_input("Target value (reach a value only)", value=None, format="%.2f", key="lt-target-value")
        c1, c2, c3 = st.columns(3)
        c1.selectbox("Comparator (exceed / close the gap)", list(comparators), format_func=comparators.get,
                     key="lt-comp-area")
        c2.selectbox("Comparator pupil group", ["same"] + list(targets.BREAKDOWNS),
                     format_func=lambda b: "same as the target" if b == "same" else targets.BREAKDOWN_LABELS[b],
                     key="lt-comp-bd")
        c3.text_input("Target id (optional)", key="lt-id",
                      help="Letters, digits, '_' or '-'; made from the indicator, group, kind and year if empty.")
        st.text_area("Description (optional)", max_chars=500, key="lt-words")
        st.form_submit_button("Add local target", on_click=_add)

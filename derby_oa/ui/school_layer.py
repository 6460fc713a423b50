"""The school layer of the Wards page: schools as points on the ward map (size by pupils, colour by
a chosen school measure), with the table behind it. Figures are by school location, not by where
pupils live. Kept apart from `ui/wards.py` so the two can change independently.
"""
from __future__ import annotations

import functools

import html

import pandas as pd
import streamlit as st

from derby_oa import formatting, vocabulary
from derby_oa.viz import exports, maps
from derby_oa.queries import schools as school_queries
from derby_oa.queries import wards as ward_queries

# measure -> (label, unit, decimals, dark_low: dark = low because higher is better)
MEASURES = {
    "fsm_pct": ("Pupils eligible for free school meals, % (GIAS, May 2025)", "%", 1, False),
    "ks2_reading_progress": ("KS2 reading progress score, 2018/19", "", 1, True),
    "ks2_writing_progress": ("KS2 writing progress score, 2018/19", "", 1, True),
    "ks2_maths_progress": ("KS2 maths progress score, 2018/19", "", 1, True),
    "ks4_progress8": ("KS4 Progress 8, 2018/19", "", 2, True),
    "ks4_attainment8": ("KS4 Attainment 8, 2018/19", "", 1, True),
    "ks4_basics_95": ("KS4 grade 5+ in English and maths, % (2018/19)", "%", 0, True),
}
SOURCE_TEXT = {"fsm_pct": "DfE, Get Information About Schools (May 2025)"}
RESULTS_SOURCE = "DfE, school performance tables 2018/19"


def school_table(schools: pd.DataFrame, measure: str) -> pd.DataFrame:
    """The table behind the school map: one row per school, "no data" where a figure is missing."""
    label, unit, decimals, _ = MEASURES[measure]
    return pd.DataFrame({
        "School": schools["school_name"], "URN": schools["urn"], "Phase": schools["phase"],
        "Ward (by school location)": schools["ward_name"].fillna("outside Derby's wards"),
        "Pupils": [formatting.with_unit_words(None if pd.isna(v) else float(v), 0, "") for v in schools["pupils"]],
        label: [formatting.with_unit_words(None if pd.isna(v) else float(v), decimals, unit) for v in schools[measure]],
        "Open in GIAS 2025": schools["in_gias"].map({True: "yes", False: "no (2018/19 results only)"}),
        "Note": vocabulary.SCHOOL_CAPTION,
    })


def school_layer_section(con, vintage: str, ward_code: str | None = None, key: str = "wards-schools") -> None:
    """Measure picker, school map, legend, caption and table; all schools, or those in `ward_code`."""
    if not school_queries.has_schools(con):
        st.caption("No school data in this database (GIAS and the 2018/19 performance tables are not loaded).")
        return
    measure = st.selectbox("Colour schools by", list(MEASURES), format_func=lambda m: MEASURES[m][0],
                           key=f"{key}-measure")
    label, unit, decimals, dark_low = MEASURES[measure]
    schools = school_queries.schools_with_ward(con, vintage, ward_code)
    if schools.empty:
        st.caption("No school has its location inside this ward.")
        return
    st.caption(vocabulary.SCHOOL_CAPTION + " Point size shows pupil numbers; grey points with a dark outline have "
               "no figure for the chosen measure (for example, KS4 measures for primary schools).")
    source = SOURCE_TEXT.get(measure, RESULTS_SOURCE)
    if not ward_queries.has_boundaries(con, vintage):
        pass
    elif not st.toggle("Draw the school map", key=f"{key}-map-on",
                       help="One map is drawn at a time unless you ask for more: the table below lists every school."):
        st.caption("The school map is drawn when you turn it on; the table below lists every school.")
    else:
        deck, legend = maps.school_map(ward_queries.boundaries(con, vintage), schools, measure, title=label,
                                       source=source, unit=unit, decimals=decimals, dark_low=dark_low,
                                       vintage=vintage)
        st.pydeck_chart(deck, height=480, key=f"{key}-map-{vintage}")
        items = "".join(f"<li style='list-style:none'><span aria-hidden='true' style='display:inline-block;"
                        f"width:14px;height:14px;border-radius:7px;margin-right:6px;background:rgb({c[0]},{c[1]},{c[2]})'>"
                        f"</span>{html.escape(text)}</li>" for text, c in legend)
        st.markdown(f"<div role='group' aria-label='School map legend'><b>{html.escape(label)}</b>"
                    f"<ul style='padding-left:0;margin:4px 0'>{items}</ul></div>", unsafe_allow_html=True)
    table = school_table(schools, measure)
    st.dataframe(table, hide_index=True, width="stretch")
    st.download_button("Download the school table (CSV)", functools.partial(exports.to_csv_bytes, table),
                       file_name=f"derby-schools-{measure}.csv", mime="text/csv", key=f"{key}-csv")
    st.caption(f"Source: {source}. {vocabulary.SCHOOL_CAPTION}")

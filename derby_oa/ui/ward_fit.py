"""Under the ward map: how the shown ward figures were made (method, best fit, coverage per ward)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from derby_oa.ingest import bestfit as wards_bestfit
from derby_oa.queries import ward_fit as fit_queries


def fit_table(fit: pd.DataFrame) -> pd.DataFrame:
    """One row per ward: source, input geography, method, best fit, coverage ("no record" if none)."""
    return pd.DataFrame({
        "Ward": fit["area_name"], "Code": fit["area_code"], "Source": fit["source_id"].fillna("no record"),
        "Built from": fit["geography"].fillna(""), "Method": fit["method"].fillna(""),
        "Best-fit estimate": fit["best_fit"].map({True: "yes", False: "no"}).fillna(""),
        "Coverage": [f"{c:.1f}%" if pd.notna(c) else "" for c in fit["coverage"]],
    })


def fit_note(con, indicator_id: str | None, period: str | None, vintage: str) -> None:
    """A caption and an expander table of the ward_fit records of the mapped figures (if any)."""
    if not indicator_id or not period:
        return
    fit = fit_queries.ward_fit(con, indicator_id, period, vintage)
    text = wards_bestfit.fit_summary(fit)
    if text is None:
        return
    st.caption(text)
    with st.expander("How each ward figure was made (method and coverage)"):
        st.dataframe(fit_table(fit), hide_index=True, width="stretch")

"""The Streamlit view layer: shared widgets for the thin pages in `pages/`.

This is the only part of `derby_oa` that imports Streamlit; everything it shows comes from the
core library (queries, stats, charts, maps).
"""

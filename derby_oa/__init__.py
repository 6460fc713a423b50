"""Derby Opportunity Area dashboard: data model, ingest, queries, statistics and chart/map builders.

The core library has no Streamlit dependency; `pages/` and `app.py` are thin views over it.
"""
__version__ = "0.1.0"

"""All SQL of the app lives in this package; pages call these functions, never SQL strings.

`core` holds indicator, area and series queries; other modules add queries for one page family.
"""
from derby_oa.queries.core import *  # noqa: F401,F403

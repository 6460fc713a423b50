"""Accessibility statement."""
import streamlit as st

from derby_oa.ui import widgets

widgets.presentation_mode()
st.title("Accessibility statement")
st.markdown("""
This dashboard is run for the Derby Opportunity Area partnership board. We want as many people as
possible to be able to use it.

**What we have done**
- Colours follow the GOV.UK Analysis Function palette (dark blue #12436D, turquoise #28A197,
  dark pink #801650, orange #F46A25), and text meets WCAG 2.2 AA contrast.
- No meaning rests on colour alone: series have different point shapes and line dashes, and
  every status is written as a word (better, similar, worse; on track, off track).
- Every chart has a written caption and its data as a table that can be downloaded as CSV.
- Maps have a table of the same values and a hex map where every ward has the same size.
- Keyboard focus is shown with a dark blue outline on a grey halo.
- Automated checks (axe-core) run on every page in our test suite.

**Known limitations**
- Interactive charts and maps are drawn on canvas or SVG; screen-reader users should use the
  data tables beneath them.
- Map tooltips need a pointer; the same values are in the ward table.

**Feedback**: contact the Derby Opportunity Area team (derby.opparea@education.gov.uk) if you find
a problem or need information in a different format.

This statement was prepared in November 2026.
""")

"""Accessibility statement, in the structure GOV.UK and DfE dashboards use."""
import streamlit as st

from derby_oa.ui import widgets

widgets.presentation_mode()
st.title("Accessibility statement")
st.markdown("""
This statement applies to the Derby Opportunity Area dashboard. It is run for the Derby Opportunity Area
partnership board, its subgroups and local authority officers. We want as many people as possible to be
able to use it. For example, you should be able to:

- read every chart's figures as a table beneath it, and download them as CSV;
- understand every chart, map and status without seeing colour;
- open any view from a link, and show a page in a larger, menu-free presentation mode.
""")

st.header("How accessible this dashboard is")
st.markdown("""
- Colours follow the GOV.UK Analysis Function palette (dark blue #12436D, turquoise #28A197,
  dark pink #801650, orange #F46A25); text meets WCAG 2.2 AA contrast.
- No meaning rests on colour alone: series have different point shapes and line dashes, and every
  status is written as a word (better, similar, worse; met, not met, on track, off track).
- Every chart has a written caption and its data as a table that can be downloaded as CSV.
- Maps have a table of the same values and a hex map where every ward has the same size.
- Keyboard focus is shown with a dark blue outline on a grey halo.
- Presentation mode (add `?present=1` to a link) hides the menu and enlarges the text for screen sharing.
""")

st.header("Known limitations")
st.markdown("""
- Charts are drawn as SVG and maps on a canvas; screen-reader users should use the data tables beneath
  them. Map tooltips need a pointer; the same values are in the ward table.
- The navigation menu in the sidebar is produced by the Streamlit framework. Its section headings sit
  directly inside the menu's list, so assistive technology may announce the list structure incorrectly
  (WCAG 1.3.1 Info and relationships; axe-core rules `list` and `listitem`). The links themselves work
  with a keyboard and a screen reader.
- Headings inside a page may skip a level (a page title followed by a third-level heading).
""")

st.header("Feedback and contact information")
st.markdown("""
If you find a problem not listed here, or need information in a different format such as large print
or an accessible spreadsheet, contact the Derby Opportunity Area team at the address published in the
delivery plan: derby.opparea@education.gov.uk. Every table on the dashboard can already be downloaded
as CSV.
""")

st.header("Enforcement procedure")
st.markdown("""
The Equality and Human Rights Commission (EHRC) is responsible for enforcing the Public Sector Bodies
(Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018. If you are not happy with how
we respond to your complaint, contact the Equality Advisory and Support Service (EASS).
""")

st.header("Technical information about this dashboard's accessibility")
st.markdown("""
**Compliance status**: this dashboard is partially compliant with the Web Content Accessibility
Guidelines version 2.2 AA standard, because of the non-compliances listed under *Known limitations*.

**How we tested it**: every page is opened in a real browser by the project's automated test suite
and checked with axe-core against the WCAG 2.0, 2.1 and 2.2 A and AA rules, with its data tables
opened. A serious or critical failure in the dashboard's own content stops a release; failures in
the framework's own menu and header are reported and listed above.
""")

st.header("Preparation of this accessibility statement")
st.markdown("This statement was prepared in November 2026. It is reviewed whenever the automated checks change.")

widgets.copy_link()

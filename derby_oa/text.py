"""Text from a reader, a link or a file shown literally wherever Streamlit renders Markdown.

`md_escape` is the one escaping function: every page and `derby_oa.ui` module passes query parameters,
upload and file names, officer names, licences and target descriptions through it before `st.markdown`,
`st.caption`, `st.info` and the like, or a widget label. No Streamlit here.
"""
from __future__ import annotations

import re

# Every ASCII punctuation character may be backslash-escaped in CommonMark and then renders as itself, so
# escaping all of them leaves no link, image, autolink (`https://`, `www.`, `a@b.c`), HTML tag, entity,
# emphasis, code, heading, list, table, maths (`$`) or coloured-text directive (`:red[...]`) to be formed.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\v\f]+")


def md_escape(text) -> str:
    """`text` (any value) as Markdown that renders exactly those characters, on one line."""
    return _PUNCTUATION.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(text)))

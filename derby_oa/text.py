"""Text from a reader, a link or a file shown literally wherever Streamlit renders Markdown.

`md_escape` is the one escaping function: every page and `derby_oa.ui` module passes query parameters,
upload and file names, officer names, licences and target descriptions through it before `st.markdown`,
`st.caption`, `st.info` and the like, or a widget label. No Streamlit here.
"""
from __future__ import annotations

import re

# Backslash-escaped, these render as themselves and cannot open a link or image ([ ]), an autolink or HTML
# tag (< >), emphasis, code, strike-through, a table, maths or a heading (* _ ` ~ | $ #), or an escape (\).
_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~$])")
_LINE_BREAKS = re.compile(r"[\r\n\u0085\u2028\u2029\v\f]+")
_LINE_START = re.compile(r"^(\s*(?:\d+)?)([-+=.)])")  # a list item or setext underline at the start
# GFM turns bare addresses into links after escapes are resolved (on the rendered text), so a backslash
# does not stop it: an invisible word joiner (U+2060) breaks "://", "www." and "@" instead.
_JOIN = "\u2060"
_BARE_LINKS = (
    (re.compile(r":(?=//)"), ":" + _JOIN), (re.compile(r"(?i)\bwww\."), lambda m: m.group(0)[:-1] + _JOIN + "."),
    (re.compile(r"@"), "@" + _JOIN),
)


def md_escape(text) -> str:
    """`text` (any value) as Markdown that renders exactly those characters, on one line."""
    out = _SPECIAL.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(text)))
    for pattern, repl in _BARE_LINKS:
        out = pattern.sub(repl, out)
    return _LINE_START.sub(r"\1\\\2", out)

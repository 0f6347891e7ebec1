"""Data text into Markdown, inert.

Pages built from the data put some of it into Markdown (a figure's "Source:" line, the
contested-figures page), and Markdown passes HTML through: a publisher named
'<img src=x onerror=...>' would run as code in every reader's browser. Each data value put
into Markdown goes through markdown_text(). (Into HTML: the standard library's html.escape;
into BibTeX: fourpillars.sources; into CSV: the loader refuses cells a spreadsheet would run.)
"""
from __future__ import annotations

import re

# Every character that can start inline markup, a role or substitution, an entity or HTML.
MARKUP = re.compile(r"([\\`*_{}\[\]<>#|~&$!])")


def markdown_text(text: str) -> str:
    """`text` as Markdown (MyST) that renders as exactly this text: characters that could start
    markup are backslash-escaped, and a line break, which could start a new block, becomes a space."""
    return MARKUP.sub(r"\\\1", re.sub(r"\s*\n\s*", " ", str(text)))

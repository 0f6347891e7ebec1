"""Sphinx extension: a figure cell's own drawing of its chart stays in the notebook.

`fourpillars.figure()` draws the chart in its cell, so that a reader running the notebook
(in JupyterLab, say) sees it there; the book shows the glued figure under its caption
instead. So this

- sets FOURPILLARS_CELL_DRAWINGS=off for the kernels the build starts, and figure() then does
  not draw (vl-convert takes about 0.3 s a figure, and a second to start in each kernel);
- leaves off the pages any drawing the build finds all the same (from outputs executed
  elsewhere), recognised by its text form `[notebook drawing of fig-...]`, and any cell output
  that leaves empty. Everything else in the cell (claim records, say) stays. This runs as each
  page is read, before Sphinx collects the page's images, so none is copied to the output.

It also writes the source of a code cell hidden behind its toggle (tagged `hide-input` or
`hide-cell`, every chapter cell) as plain text, without syntax highlighting: pygments wraps each
keyword, string and operator in a span of its own, which made the hidden code some 90 KB of a
chapter page (a phone on a slow link pays for every byte of it, opened or not). The code is as
readable, copyable and searchable in plain type; code the page shows openly keeps its colours.
"""
from __future__ import annotations

import os
import re

from docutils import nodes

DRAWING = re.compile(r"^\[notebook drawing of fig-[a-z0-9-]+\]$")


def _nb_element(name: str):
    return lambda n: isinstance(n, nodes.container) and n.get("nb_element") == name


def drop_notebook_drawings(app, doctree) -> None:
    for bundle in list(doctree.findall(_nb_element("mime_bundle"))):
        if any(part.get("mime_type") == "text/plain" and DRAWING.match(part.astext().strip())
               for part in bundle.children):
            bundle.parent.remove(bundle)
    for output in list(doctree.findall(_nb_element("cell_code_output"))):
        if not output.children:
            output.parent.remove(output)


def plain_hidden_code(app, doctree) -> None:
    for cell in doctree.findall(_nb_element("cell_code")):
        if cell.get("hide_mode") not in ("input", "input+output", "all"):
            continue
        for source in cell.findall(_nb_element("cell_code_source")):
            for block in source.findall(nodes.literal_block):
                block["language"] = "none"


def setup(app):
    os.environ["FOURPILLARS_CELL_DRAWINGS"] = "off"  # inherited by the notebook kernels the build starts
    app.connect("doctree-read", drop_notebook_drawings, priority=400)  # before the image collector (500)
    app.connect("doctree-read", plain_hidden_code)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

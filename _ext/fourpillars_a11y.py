"""Sphinx extension: accessibility fixes for markup the book does not write itself.

myst-nb labels every "Show code cell source" toggle (a <summary>) "Toggle hidden content". A
name that leaves out the visible text fails WCAG 2.5.3, label in name (axe-core 4.10+:
label-content-name-mismatch): a speech user says "Show code cell source" and nothing answers.
Without the label, the toggle's name is the text it shows. (The theme's search button gets the
same fix in _ext/templates/components/search-button-field.html.)
"""
from __future__ import annotations

from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput, visit_HideCellInput

LABEL = ' aria-label="Toggle hidden content"'


def visit_hide_cell_input(self, node) -> None:
    start = len(self.body)
    visit_HideCellInput(self, node)
    self.body[start:] = [part.replace(LABEL, "") for part in self.body[start:]]


def setup(app):
    app.add_node(HideCodeCellNode, override=True, html=(visit_hide_cell_input, depart_HideCellInput))
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

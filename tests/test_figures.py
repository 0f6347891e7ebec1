"""The figure builder: one palette with enough contrast, hostile text kept inert,
and figures that refuse rows they do not draw."""
from __future__ import annotations

import json
import re

import altair as alt
import pandas as pd
import pytest

from fourpillars import PALETTE, actor_scale, figure
from fourpillars.figures import Figure


def luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize("actor", list(PALETTE))
def test_every_actor_colour_has_3_to_1_contrast_on_the_chart_card(actor):
    # Charts sit on a white card in both themes (see _ext/static/fourpillars.css).
    assert contrast(PALETTE[actor], "#ffffff") >= 3.0


def test_actor_colours_are_distinct():
    assert len(set(PALETTE.values())) == len(PALETTE)


def test_an_actor_outside_the_palette_is_an_error():
    with pytest.raises(ValueError, match="not in the book's palette"):
        actor_scale(["EU", "Turkey"])


HOSTILE = ['<script>window.pwned = 1</script>', '<img src=x onerror="window.pwned = 1">', "javascript:alert(1)", "</script><b>x</b>"]


def hostile_figure() -> Figure:
    rows = pd.DataFrame({"label": HOSTILE, "value": [1.0, 2.0, 3.0, 4.0], "source_id": ["lolucas2021"] * 4})
    chart = alt.Chart(rows).mark_bar().encode(x="value:Q", y="label:N", tooltip=["label", "source_id"])
    return Figure(chart, rows, "fig-test-hostile", 'Alt "text" <script>window.pwned = 1</script>')


def test_markup_in_data_and_alt_text_is_escaped_in_the_figure_html():
    out = hostile_figure().html()
    assert "<script>window.pwned" not in out and "<img" not in out and "</script><b>" not in out
    # The one real <script> element is the JSON holder, and it parses back to the same data.
    spec = json.loads(re.search(r'<script type="application/json" class="fp-spec">(.*?)</script>', out, re.S).group(1))
    assert [r["label"] for r in next(iter(spec["datasets"].values()))] == HOSTILE


def test_a_figure_refuses_rows_it_does_not_draw():
    rows = pd.DataFrame({"year": [2020, 2021], "value": [1.0, 2.0], "source_id": ["lolucas2021"] * 2})
    chart = alt.Chart(rows).mark_line().encode(x="year:O", y="value:Q")
    with pytest.raises(ValueError, match="does not draw `rows`"):
        Figure(chart, rows.iloc[:1], "fig-test-rows", "alt")


def test_a_figure_needs_a_source_for_every_row():
    rows = pd.DataFrame({"year": [2020], "value": [1.0]})
    chart = alt.Chart(rows).mark_point().encode(x="year:O", y="value:Q")
    with pytest.raises(ValueError, match="source_id"):
        Figure(chart, rows, "fig-test-nosource", "alt")


def test_a_figure_needs_alt_text_and_a_fig_name():
    rows = pd.DataFrame({"year": [2020], "value": [1.0], "source_id": ["lolucas2021"]})
    chart = alt.Chart(rows).mark_point().encode(x="year:O", y="value:Q")
    with pytest.raises(ValueError, match="alt text"):
        Figure(chart, rows, "fig-test-alt", "  ")
    with pytest.raises(ValueError, match="must start with 'fig-'"):
        Figure(chart, rows, "chart-1", "alt")


def test_the_html_is_deterministic():
    assert hostile_figure().html() == hostile_figure().html()

"""Every figure is readable from a phone to a wide screen, and visible without JavaScript.

At 360, 768 and 1280 px, on every page with charts: no page scrolls sideways, no chart is
wider than the text column, and no chart's text is drawn smaller than its design (at least
11 px). No drawing cuts a label with "…". With JavaScript off every chart is on screen as its
static drawing. Every tooltip has a reader's heading and no bookkeeping key. Each figure's data
table is reached by keyboard.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from conftest import ROOT, html_pages
from fourpillars.figures import tooltip_problems
from fourpillars.layout import MAX_SCALE, MIN_FONT, VARIANTS

CHART_PAGES = [p for p in html_pages() if '<div class="fp-figure"' in p.read_text(encoding="utf-8")]
IDS = [p.relative_to(p.parents[1]).as_posix() for p in CHART_PAGES]
WIDTHS = [360, 768, 1280]


def test_css_repeats_the_package_breakpoints_and_widths():
    css = (ROOT / "_ext" / "static" / "fourpillars.css").read_text(encoding="utf-8")
    for name, (_, width, media) in VARIANTS.items():
        if name != "L":
            assert f"@media {media} {{ .fp-chart img, .fp-chart > .fp-live {{ max-width: {width * MAX_SCALE:.1f}px; }} }}" in css, name
    assert f"max-width: {VARIANTS['L'][1] * MAX_SCALE:.1f}px;" in css


def test_no_drawing_cuts_a_label_and_no_text_is_below_11px(built):
    drawings = sorted((built / "figures").glob("*.svg"))
    assert drawings, "no figure drawings were built"
    for svg in drawings:
        text = svg.read_text(encoding="utf-8")
        assert "…" not in text, f"{svg.name}: a label is cut with '…'"
        sizes = [float(s) for s in re.findall(r'font-size="([\d.]+)(?:px)?"', text)]
        assert all(s >= MIN_FONT for s in sizes), f"{svg.name}: text at {min(sizes)} px"


def test_every_tooltip_reads_like_the_caption(built):
    for spec_path in sorted((built / "figures").glob("*.vl.json")):
        problems = tooltip_problems(json.loads(spec_path.read_text(encoding="utf-8")))
        assert not problems, f"{spec_path.name}: tooltip fields without a heading or showing a key: {problems}"


MEASURE = """() => {
  const column = document.querySelector('article.bd-article') || document.querySelector('main');
  const limit = column.getBoundingClientRect().right + 0.5;
  return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
          figures: Array.from(document.querySelectorAll('.fp-figure')).map(f => {
            const img = f.querySelector('.fp-chart img');
            const box = (f.querySelector('.fp-live svg') || img).getBoundingClientRect();
            return {name: f.dataset.figure, right: box.right, limit,
                    scale: img && img.naturalWidth ? img.getBoundingClientRect().width / img.naturalWidth : null};
          })};
}"""


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", CHART_PAGES, ids=IDS)
def test_charts_fit_the_column_at_every_width(built, server, browser, path, width):
    rel = path.relative_to(built).as_posix()
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{server}/{rel}", wait_until="load")
    charts = path.read_text(encoding="utf-8").count('<div class="fp-figure"')
    page.wait_for_function(f"document.documentElement.getAttribute('data-charts-drawn') === '{charts}'", timeout=30000)
    # Lazy drawings further down load only near the viewport: load them all before measuring
    # (a lazy image never decodes while it is off screen).
    page.evaluate("""Promise.all(Array.from(document.images).map(i => {
        i.loading = 'eager'; return i.decode().catch(() => null); }))""")
    seen = page.evaluate(MEASURE)
    context.close()
    assert seen["scroll"] <= seen["inner"], f"{rel} at {width} px scrolls sideways ({seen['scroll']} px)"
    wide = [f["name"] for f in seen["figures"] if f["right"] > f["limit"]]
    assert not wide, f"{rel} at {width} px: charts wider than the text column: {wide}"
    shrunk = [(f["name"], round(f["scale"], 2)) for f in seen["figures"] if f["scale"] is not None and f["scale"] < 0.985]
    assert not shrunk, f"{rel} at {width} px: charts drawn below their design size (text under 11 px): {shrunk}"


@pytest.mark.parametrize("path", CHART_PAGES, ids=IDS)
def test_every_chart_is_visible_without_javascript(built, server, browser, path):
    rel = path.relative_to(built).as_posix()
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{server}/{rel}", wait_until="load")
    # A reader scrolls: each lazy drawing loads as it comes near the viewport.
    for figure in page.locator(".fp-figure").all():
        figure.scroll_into_view_if_needed()
        figure.locator("img").first.evaluate("i => i.complete || new Promise(r => i.addEventListener('load', r))")
    shown = page.evaluate("""() => Array.from(document.querySelectorAll('.fp-figure')).map(f => {
        const img = f.querySelector('.fp-chart picture img');
        const box = img ? img.getBoundingClientRect() : {width: 0, height: 0};
        return !!img && img.complete && img.naturalWidth > 0 && box.width > 100 && box.height > 50 && !!img.alt; })""")
    context.close()
    charts = path.read_text(encoding="utf-8").count('<div class="fp-figure"')
    assert len(shown) == charts and all(shown), f"{rel}: {shown.count(True)} of {charts} charts visible without JavaScript"


def test_data_tables_are_reached_by_keyboard(built, server, browser):
    page = browser.new_page()
    page.goto(f"{server}/notebooks/05-serbia-hedging.html")
    wanted = page.eval_on_selector_all(".fp-data summary", "els => els.map(e => e.id)")
    reached = []
    for _ in range(600):
        page.keyboard.press("Tab")
        focus = page.evaluate("document.activeElement.tagName === 'SUMMARY' ? document.activeElement.id : null")
        if focus and focus not in reached:
            reached.append(focus)
        if len(reached) == len(wanted):
            break
    page.keyboard.press("Enter")
    opened = page.evaluate("document.activeElement.parentElement.open")
    page.close()
    assert wanted and reached == wanted, f"Tab reached {reached}, expected {wanted}"
    assert opened, "Enter on a data table's summary does not open it"



def committed_spec(notebook: str, name: str) -> dict:
    """A figure's spec as its notebook's committed output holds it (what the build draws from)."""
    import nbformat
    sys.path.insert(0, str(ROOT / "_ext"))
    from fourpillars_charts import FIGURE_RE, figure_outputs
    nb = nbformat.read(ROOT / "notebooks" / notebook, as_version=4)
    return next(json.loads(m["spec"]) for text in figure_outputs(nb) for m in FIGURE_RE.finditer(text) if m["name"] == name)


def test_a_layout_comes_out_the_same_whatever_was_drawn_before(tmp_path, monkeypatch):
    """The tablet layout is fitted from the phone layout's result. Drawn with nothing cached, after
    the phone layout, or from a cache that holds only the phone layout (a build killed between the
    two), it is the same drawing: a rebuild never makes a page a clean build would not. (For this
    figure the phone layout's result does change how the tablet layout is fitted.)"""
    from fourpillars import layout
    spec = committed_spec("01-united-states.ipynb", "fig-us-exercises")

    def fresh(name):
        monkeypatch.setattr(layout, "CACHE", tmp_path / name)
        layout._DRAWN.clear()

    fresh("after-phone")
    phone = layout.variant(spec, "S")
    after_phone = layout.variant(spec, "M")
    fresh("alone")
    alone = layout.variant(spec, "M")
    (tmp_path / "phone-only").mkdir()
    for cached in (tmp_path / "after-phone").iterdir():  # the phone layout's entry, not the tablet's
        if json.loads(cached.read_text(encoding="utf-8"))["spec"] == phone[0]:
            (tmp_path / "phone-only" / cached.name).write_bytes(cached.read_bytes())
    fresh("phone-only")
    assert len(list((tmp_path / "phone-only").iterdir())) == 1
    from_phone_only = layout.variant(spec, "M")
    assert after_phone == alone == from_phone_only
    assert 432 - 4 <= float(re.search(r'width="([\d.]+)"', alone[1]).group(1)) <= 432

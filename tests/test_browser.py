"""Open every page of the built book in headless Chromium, offline.

On each page: every chart is drawn (an SVG per figure), no console error, no
failed request, no request to any host but 127.0.0.1, and an axe-core audit in
the light and the dark theme finds no violation of serious or critical impact.
"""
from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from conftest import ROOT, html_pages

PAGES = html_pages()
# The current axe-core from the npm registry, pinned in tests/package.json (`make test` runs
# `npm ci` there): older copies miss rules such as WCAG 2.5.3, label in name.
AXE_JS = ROOT / "tests" / "node_modules" / "axe-core" / "axe.min.js"


def expected_charts(path) -> int:
    return len(re.findall(r'<div class="fp-figure" data-figure=', path.read_text(encoding="utf-8")))


def visit(browser, url: str, charts: int) -> dict:
    context = browser.new_context()
    page = context.new_page()
    seen = {"foreign": [], "failed": [], "errors": []}

    def route(r):
        if urlparse(r.request.url).hostname not in ("127.0.0.1",) and not r.request.url.startswith("data:"):
            seen["foreign"].append(r.request.url)
            return r.abort()
        return r.continue_()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and seen["errors"].append(m.text))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("requestfailed", lambda r: seen["failed"].append(f"{r.url} {r.failure}"))
    page.on("response", lambda r: r.status >= 400 and seen["failed"].append(f"HTTP {r.status} {r.url}"))
    page.goto(url, wait_until="load")
    if charts:
        page.wait_for_function(f"document.documentElement.getAttribute('data-charts-drawn') === '{charts}'",
                               timeout=15000)
    seen["svgs"] = page.eval_on_selector_all(".fp-figure", "els => els.map(e => e.querySelectorAll('svg.marks').length)")
    page.wait_for_timeout(200)  # let late requests (fonts, icons) surface
    seen["axe"] = {}
    assert AXE_JS.is_file(), f"{AXE_JS} is missing: `make test` installs it (npm ci --prefix tests)"
    page.add_script_tag(path=str(AXE_JS))
    for mode in ("light", "dark"):
        page.evaluate(f"document.documentElement.dataset.theme = '{mode}'")
        result = page.evaluate("axe.run(document, {resultTypes: ['violations'], preload: false})")
        seen["axe"][mode] = [f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
                             for v in result["violations"] if v["impact"] in ("serious", "critical")]
    context.close()
    return seen


@pytest.mark.parametrize("path", PAGES, ids=[str(p.relative_to(p.parents[1])) if len(p.parents) > 1 else p.name for p in PAGES])
def test_page_draws_offline(built, server, browser, path):
    rel = path.relative_to(built).as_posix()
    charts = expected_charts(path)
    seen = visit(browser, f"{server}/{rel}", charts)
    assert seen["foreign"] == [], f"{rel} asked for non-local hosts: {seen['foreign']}"
    assert seen["failed"] == [], f"{rel} had failed requests: {seen['failed']}"
    assert seen["errors"] == [], f"{rel} logged console errors: {seen['errors']}"
    assert seen["svgs"] == [1] * charts, f"{rel}: expected {charts} drawn charts, got SVG counts {seen['svgs']}"
    for mode, violations in seen["axe"].items():
        assert violations == [], f"{rel} ({mode} theme): axe-core found serious or critical violations: {violations}"


def test_chapters_have_at_least_four_figures(built):
    chapters = sorted((built / "notebooks").glob("*.html"))
    assert chapters, "no chapter pages were built"
    for page in chapters:
        assert expected_charts(page) >= 4, f"{page.name} has fewer than four figures"


def test_hostile_markup_in_data_stays_text_in_the_browser(built, browser, tmp_path):
    """Labels, tooltips and alt text with <script>, onerror= and javascript: payloads are
    drawn by the book's own scripts as text: no script runs and no element is injected."""
    import functools
    import http.server
    import shutil
    import threading

    from test_figures import hostile_figure

    static = tmp_path / "_static"
    shutil.copytree(built / "_static" / "fourpillars", static / "fourpillars")
    shutil.copy(built / "_static" / "fourpillars-charts.js", static)
    shutil.copy(built / "_static" / "fourpillars.css", static)
    bundle = next((static / "fourpillars").glob("vega-bundle-*.js")).name
    (tmp_path / "hostile.html").write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>hostile</title>'
        f'<link rel="stylesheet" href="_static/fourpillars.css"></head><body style="width:800px">'
        f'{hostile_figure().html()}<script src="_static/fourpillars/{bundle}"></script>'
        f'<script src="_static/fourpillars-charts.js"></script></body></html>', encoding="utf-8")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    page = browser.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/hostile.html")
    page.wait_for_function("document.documentElement.getAttribute('data-charts-drawn') === '1'", timeout=15000)
    bars = page.query_selector_all(".fp-chart svg g.mark-rect.role-mark path")
    assert len(bars) == 4
    for mark in bars:  # show each tooltip
        box = mark.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(100)
    tooltip = page.evaluate("(document.getElementById('vg-tooltip-element') || {}).textContent || ''")
    state = page.evaluate("""() => ({
        pwned: window.pwned === 1,
        injectedImages: document.querySelectorAll('img').length,
        injectedBold: document.querySelectorAll('b').length,
        scripts: document.querySelectorAll('script').length,
        labels: Array.from(document.querySelectorAll('.fp-chart svg text')).map(t => t.textContent),
    })""")
    page.close()
    httpd.shutdown()
    assert not state["pwned"] and not dialogs, "a script in the data ran"
    assert state["injectedImages"] == 0 and state["injectedBold"] == 0, "markup in the data became elements"
    assert state["scripts"] == 3, "an extra <script> element appeared"
    assert any("<script>" in label for label in state["labels"]), "hostile labels should be drawn as plain text"
    assert "window.pwned" in tooltip or "javascript:" in tooltip or "</script>" in tooltip, "tooltips should show the text"


def test_timeline_filters_by_actor_and_by_pillar(built, server, browser):
    """The timeline draws one point per row of data/events.csv, and its two menus narrow it to
    exactly the rows of the chosen pillar or actor, computed here from the CSV."""
    from fourpillars import load
    events = load("events")
    page = browser.new_page()
    page.goto(f"{server}/book/timeline.html")
    page.wait_for_function("document.documentElement.getAttribute('data-charts-drawn') === '1'", timeout=15000)
    points = "() => document.querySelectorAll('.fp-chart svg g.mark-symbol.role-mark path').length"
    selects = page.query_selector_all(".fp-chart .vega-bind select")
    assert len(selects) == 2, f"expected an actor and a pillar menu, found {len(selects)}"
    actor_menu, pillar_menu = selects
    shown = {"all": page.evaluate(points)}
    pillar_menu.select_option(label="Russia")
    page.wait_for_timeout(300)
    shown["pillar Russia"] = page.evaluate(points)
    pillar_menu.select_option(label="all pillars")
    actor_menu.select_option(label="Serbia")
    page.wait_for_timeout(300)
    shown["actor Serbia"] = page.evaluate(points)
    page.close()
    assert shown == {"all": len(events), "pillar Russia": int((events.pillar == "Russia").sum()),
                     "actor Serbia": int((events.actor == "Serbia").sum())}, shown


def test_search_from_a_chapter_finds_pages(built, server, browser):
    """Chapter pages do not load the search index (see _ext/templates/layout.html); searching
    from one must still reach search.html and list the pages that mention the term."""
    page = browser.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{server}/notebooks/03-china.html")
    page.keyboard.press("Control+k")
    page.fill("#pst-search-dialog input[name=q]", "Smederevo")
    page.keyboard.press("Enter")
    page.wait_for_selector("#search-results ul.search li", timeout=15000)
    hits = [a.get_attribute("href") for a in page.query_selector_all("#search-results ul.search li a")]
    page.close()
    assert errors == [], errors
    assert any("03-china" in h for h in hits) and any("book/map" in h for h in hits), hits


@pytest.mark.parametrize("rel", ["notebooks/05-serbia-hedging.html", "book/timeline.html"])
def test_keyboard_reaches_every_chart_action(built, server, browser, rel):
    """Tabbing through a page reaches, in order, every figure's controls (the timeline's
    menus) and its download links (CSV data table, SVG, PNG); the focus is visible."""
    page = browser.new_page()
    page.goto(f"{server}/{rel}")
    page.wait_for_function("document.documentElement.getAttribute('data-charts-drawn') !== null", timeout=15000)
    wanted = page.eval_on_selector_all(
        ".fp-figure select, .fp-figure input, .fp-downloads a",
        "els => els.map(e => e.tagName === 'A' ? e.getAttribute('href') : e.tagName + ':' + (e.name || ''))")
    reached, outlines = [], []
    for _ in range(600):
        page.keyboard.press("Tab")
        focus = page.evaluate("""() => { const e = document.activeElement; const s = getComputedStyle(e);
            return {key: e.tagName === 'A' ? e.getAttribute('href') : e.tagName + ':' + (e.name || ''),
                    visible: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 || s.boxShadow !== 'none'}; }""")
        if focus["key"] in wanted and focus["key"] not in reached:
            reached.append(focus["key"])
            outlines.append(focus["visible"])
        if len(reached) == len(wanted):
            break
    page.close()
    assert len(wanted) >= 3, f"{rel}: found only {wanted} chart controls and downloads"
    assert reached == wanted, f"{rel}: Tab never reached {[w for w in wanted if w not in reached][:5]}"
    assert all(outlines), f"{rel}: focus is invisible on {[w for w, v in zip(wanted, outlines) if not v][:5]}"

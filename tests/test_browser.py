"""Open every page of the built book in headless Chromium, offline.

On each page: every chart is drawn (an SVG per figure), no console error, no
failed request, and no request to any host but 127.0.0.1.
"""
from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from conftest import html_pages

PAGES = [p for p in html_pages()] if html_pages() else []


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
    page.goto(url, wait_until="load")
    if charts:
        page.wait_for_function(f"document.documentElement.getAttribute('data-charts-drawn') === '{charts}'",
                               timeout=15000)
    seen["svgs"] = page.eval_on_selector_all(".fp-figure", "els => els.map(e => e.querySelectorAll('svg.marks').length)")
    page.wait_for_timeout(200)  # let late requests (fonts, icons) surface
    context.close()
    return seen


@pytest.mark.parametrize("path", PAGES, ids=[str(p.relative_to(p.parents[1])) if len(p.parents) > 1 else p.name for p in PAGES])
def test_page_draws_offline(built, server, browser, path):
    rel = path.relative_to(built).as_posix()
    charts = expected_charts(path)
    seen = visit(browser, f"{server}/{rel}", charts)
    assert seen["foreign"] == [], f"{rel} asked for non-local hosts: {seen['foreign']}"
    assert seen["errors"] == [], f"{rel} logged console errors: {seen['errors']}"
    assert seen["failed"] == [], f"{rel} had failed requests: {seen['failed']}"
    assert seen["svgs"] == [1] * charts, f"{rel}: expected {charts} drawn charts, got SVG counts {seen['svgs']}"


def test_chapters_have_at_least_four_figures(built):
    chapters = sorted((built / "notebooks").glob("*.html"))
    assert chapters, "no chapter pages were built"
    for page in chapters:
        assert expected_charts(page) >= 4, f"{page.name} has fewer than four figures"

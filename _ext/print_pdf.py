"""Print the single-page HTML edition to PDF with headless Chromium, offline.

Serves _build/singlehtml on 127.0.0.1, waits until every chart is drawn (as SVG,
so the PDF's charts are vector graphics), and writes
_build/html/downloads/four-pillars.pdf. Any request to another host is refused.
"""
from __future__ import annotations

import functools
import http.server
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "_build" / "singlehtml"
# The single-page build writes the whole book into the root document, book/intro.html, but
# with asset paths relative to the build's top folder; it is printed from a copy placed there.
ROOT_DOC = "book/intro.html"
PAGE = "whole-book.html"
TARGET = ROOT / "_build" / "html" / "downloads" / "four-pillars.pdf"
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (one browser set-up for the project)


def main() -> None:
    from playwright.sync_api import sync_playwright
    page_html = (SOURCE / ROOT_DOC).read_text(encoding="utf-8")
    (SOURCE / PAGE).write_text(page_html, encoding="utf-8")
    charts = page_html.count('<div class="fp-figure"')
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(SOURCE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.route("**/*", lambda r: r.continue_() if urlparse(r.request.url).hostname == "127.0.0.1" else r.abort())
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/{PAGE}", wait_until="load")
        if charts:
            page.wait_for_function(f"document.documentElement.getAttribute('data-charts-drawn') === '{charts}'", timeout=120000)
        page.emulate_media(media="print")
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        page.pdf(path=str(TARGET), format="A4", print_background=True, outline=True, tagged=True,
                 margin={"top": "18mm", "bottom": "18mm", "left": "16mm", "right": "16mm"})
        browser.close()
    httpd.shutdown()
    print(f"wrote {TARGET} ({TARGET.stat().st_size / 1e6:.1f} MB, {charts} charts)")


if __name__ == "__main__":
    main()

"""Print the single-page HTML edition to PDF with headless Chromium, offline.

The single-page build (_build/singlehtml/book/intro.html) is first made printable:

- a title page (title, authors, edition, date, licence, address, how to cite) and a
  contents list, both generated from CITATION.cff and the book's own headings;
- every id unique (the build repeats each document's automatic ids, such as id3), and every
  link either a link inside the PDF (#id) or to the book's canonical address: never to the
  temporary 127.0.0.1 server the page is printed from.

It is then served on 127.0.0.1 and printed, once all charts are drawn (as SVG, so the PDF's
charts are vector graphics), with page numbers in the footer. The first print tells on which
page each contents entry starts (read back from the PDF's named destinations); the second
prints those numbers into the contents. Writes _build/html/downloads/four-pillars.pdf. Any
request to another host is refused.
"""
from __future__ import annotations

import functools
import html
import http.server
import io
import os
import sys
import threading
from datetime import date
from pathlib import Path
from urllib.parse import urljoin, urlparse

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "_build" / "singlehtml"
# The single-page build writes the whole book into the root document, book/intro.html, but
# with asset paths relative to the build's top folder; the printable copy is placed there.
ROOT_DOC = "book/intro.html"
PAGE = "whole-book.html"
TARGET = ROOT / "_build" / "html" / "downloads" / "four-pillars.pdf"
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (one browser set-up for the project)

PAGE_MARK = "000"  # the contents' page numbers before they are known: as wide as the real ones
FOOTER = ('<div style="width:100%; font-size:8pt; color:#444; text-align:center; font-family:sans-serif">'
          '<span class="pageNumber"></span></div>')


def title_page(book, contents: list[tuple[str, str]]) -> str:
    """The PDF's first pages: what the book is, how to cite it, and what it contains."""
    from fourpillars import citation
    released = date.fromisoformat(book.date).strftime("%-d %B %Y")
    e = html.escape
    entries = "".join(f'<li><a href="#{e(target)}"><span class="fp-toc-title">{e(title)}</span>'
                      f'<span class="fp-toc-page">{PAGE_MARK}</span></a></li>' for target, title in contents)
    return (
        '<section class="fp-title-page">'
        f'<p class="fp-book-title">{e(book.title)}</p>'
        f'<p class="fp-book-authors">{e(book.author_text)}</p>'
        f'<p>{e(book.edition_text.capitalize())}, released {e(released)}</p>'
        f'<p>Published by {e(book.publisher)} under the licence {e(book.license)}: text, figures and data may be '
        'reused with attribution.</p>'
        f'<p>Read online, with interactive charts, the data and the code: <a href="{e(book.url)}">{e(book.url)}</a><br>'
        f'This PDF: <a href="{e(book.pdf_url)}">{e(book.pdf_url)}</a></p>'
        '<p class="fp-title-cite-head"><strong>How to cite this book</strong></p>'
        f'<p><strong>APA 7</strong><br>{citation.apa(book)}</p>'
        f'<p><strong>Chicago</strong><br>{citation.chicago(book)}</p>'
        '<p>Each chapter ends with its own citation, and each figure has one under it.</p>'
        '</section>'
        f'<nav class="fp-print-contents" aria-label="Contents"><p class="fp-toc-head">Contents</p><ol>{entries}</ol></nav>')


def prepare(page_html: str, book) -> str:
    """The single page made printable: title page, contents, unique ids, links that resolve."""
    from bs4 import BeautifulSoup
    soup = BeautifulSoup(page_html, "html.parser")
    article = soup.select_one("article.bd-article")
    # The theme prints the page's title and its own list of sections above the text; the title
    # page and the contents take their place.
    soup.select_one("#jb-print-docs-body").decompose()

    # Which document each element comes from: the build marks each with <span id="document-...">.
    doc_of, doc, elements = {}, ROOT_DOC[:-5], article.find_all(True)
    for el in elements:
        if el.name == "span" and el.get("id", "").startswith("document-"):
            doc = el["id"][len("document-"):]
        doc_of[id(el)] = doc

    # Unique ids: the first element keeps its id, later ones get a suffix; remember, for each
    # document, what its own copy of a repeated id is now called.
    seen, renamed = {}, {}
    for el in elements:
        if not el.get("id"):
            continue
        old = el["id"]
        seen[old] = seen.get(old, 0) + 1
        if seen[old] > 1:
            el["id"] = f"{old}-{seen[old]}"
        renamed.setdefault((doc_of[id(el)], old), el["id"])

    # Links: to a place in the book -> #id, a link inside the PDF (to the linking document's own
    # copy of a repeated id); to any other file of the book -> the book's canonical address.
    # The build writes links between its documents as "book/intro.html#id" (relative to its top
    # folder) and every other relative link relative to book/, where the page really is.
    docs = {ROOT_DOC[:-5]} | {el["id"][len("document-"):] for el in article.select('span[id^="document-"]')}
    for a in article.find_all("a", href=True):
        href = a["href"]
        if href.startswith(ROOT_DOC + "#"):
            href = href[len(ROOT_DOC):]
        url = urlparse(urljoin("http://book.invalid/" + ROOT_DOC, href))
        if url.hostname != "book.invalid":
            continue  # an external link, kept as it is
        doc = url.path.lstrip("/").removesuffix(".html")
        if doc in docs:
            target = renamed.get((doc_of[id(a)] if doc == ROOT_DOC[:-5] else doc, url.fragment), url.fragment)
            a["href"] = "#" + (target or ("" if doc == ROOT_DOC[:-5] else f"document-{doc}"))
        else:
            a["href"] = book.address(url.path.lstrip("/"), url.fragment)

    # Contents: the heading that opens each document (the root document first).
    contents = []
    for marker in [None] + article.select('span[id^="document-"]'):
        section = marker.find_next("section") if marker else article.find("section")
        heading = section.find(["h1", "h2"])
        title = " ".join(t for t in heading.find_all(string=True) if t.parent.get("class") != ["headerlink"])
        contents.append((section["id"], " ".join(title.split())))
    article.insert(0, BeautifulSoup(title_page(book, contents), "html.parser"))
    return str(soup)


def page_numbers(pdf: bytes, targets: list[str]) -> dict[str, int]:
    """The page (1-based) on which each target id starts, from the PDF's named destinations."""
    from pypdf import PdfReader
    reader = PdfReader(io.BytesIO(pdf))
    dests = {name.lstrip("/"): dest for name, dest in reader.named_destinations.items()}  # pypdf keeps the "/"
    missing = [t for t in targets if t not in dests]
    if missing:
        raise RuntimeError(f"the printed PDF has no destination for {missing[:5]}")
    return {t: reader.get_destination_page_number(dests[t]) + 1 for t in targets}


def main() -> None:
    from playwright.sync_api import sync_playwright

    from fourpillars import citation
    book = citation.read_book()
    page_html = prepare((SOURCE / ROOT_DOC).read_text(encoding="utf-8"), book)
    (SOURCE / PAGE).write_text(page_html, encoding="utf-8")
    charts = page_html.count('<div class="fp-figure"')

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(SOURCE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    with sync_playwright() as p:
        # The figures print as SVG images, which cannot use the page's web fonts: give Chromium the
        # book's typeface through fontconfig, so no chart is printed in a font of the machine.
        from fourpillars.fonts import fontconfig
        env = {**os.environ, "FONTCONFIG_FILE": str(fontconfig())}
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, env=env)
        page = browser.new_page()
        page.route("**/*", lambda r: r.continue_() if urlparse(r.request.url).hostname == "127.0.0.1" else r.abort())
        page.goto(f"http://127.0.0.1:{httpd.server_address[1]}/{PAGE}", wait_until="load")
        if charts:
            page.wait_for_function(f"document.documentElement.getAttribute('data-charts-drawn') === '{charts}'", timeout=120000)
        page.emulate_media(media="print")
        # The page prints each figure's static drawing; load the ones below the fold now.
        page.evaluate("document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')")
        page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=120000)
        # A figure is kept whole on its page. One taller than a page (the Serbia-Russia timeline
        # is about three) is scaled down to fit it: Chromium can neither break an image across
        # pages cleanly nor let it overflow without covering its caption. It stays vector, so a
        # reader can zoom in, and its caption says so.
        page.evaluate("""() => document.querySelectorAll('.fp-chart img').forEach(img => {
            if (img.getBoundingClientRect().height > 900) {
                img.style.maxHeight = '225mm'; img.style.width = 'auto'; img.style.margin = '0 auto';
                const note = document.createElement('p');
                note.className = 'fp-print-note';
                note.textContent = 'Reduced to fit the page; zoom in, or see the online edition for the full-size figure.';
                img.closest('.fp-chart').after(note);
            }})""")

        def pdf() -> bytes:
            return page.pdf(format="A4", print_background=True, outline=True, tagged=True,
                            display_header_footer=True, header_template="<span></span>", footer_template=FOOTER,
                            margin={"top": "18mm", "bottom": "20mm", "left": "16mm", "right": "16mm"})

        def printed_with_destinations() -> tuple[bytes, dict[str, int]]:
            # Seen here with Chromium 156: of two prints of one page in a row, the second can lack
            # some named destinations (538 in one print, 379 in the next, 538 in the third), which
            # would leave internal links dangling. Print again until each target is there.
            for attempt in range(4):
                out = pdf()
                try:
                    return out, page_numbers(out, targets)
                except RuntimeError:
                    if attempt == 3:
                        raise

        targets = page.eval_on_selector_all(".fp-print-contents a", "as => as.map(a => a.hash.slice(1))")
        _, numbers = printed_with_destinations()
        page.evaluate("""numbers => document.querySelectorAll('.fp-print-contents a').forEach(a =>
            a.querySelector('.fp-toc-page').textContent = numbers[a.hash.slice(1)])""", numbers)
        printed, again = printed_with_destinations()
        # The numbers are as wide as their placeholder, so the second print keeps every page
        # where the first put it; check rather than trust.
        if again != numbers:
            raise RuntimeError("filling in the contents moved the pages; the placeholder is too narrow")
        browser.close()
    httpd.shutdown()
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_bytes(printed)
    print(f"wrote {TARGET} ({len(printed) / 1e6:.1f} MB, {charts} charts, {max(numbers.values())}+ pages)")


if __name__ == "__main__":
    main()

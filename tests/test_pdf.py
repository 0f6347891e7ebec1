"""The PDF edition: every chapter is there, with every figure and its caption, and it can be
cited: title page, contents with page numbers, numbered pages, links that work in the PDF."""
from __future__ import annotations

import datetime
import html
import re
import shutil
import subprocess

from urllib.parse import urlparse

import pytest

from fourpillars import citation
from fourpillars.data import ROOT

BOOK = citation.read_book()
ED = BOOK.edition_text.replace(" edition", " ed.")  # "2nd ed.", as APA and Chicago write it

PDF = ROOT / "_build" / "html" / "downloads" / "four-pillars.pdf"


@pytest.fixture(scope="module")
def pdf_text(built) -> str:
    if not PDF.is_file():
        pytest.fail("no PDF: run `make pdf` (make test does)")
    assert shutil.which("pdftotext"), "pdftotext (Debian poppler-utils) is needed to read the PDF"
    return subprocess.run(["pdftotext", "-layout", str(PDF), "-"], capture_output=True, text=True, check=True).stdout


def chapter_titles(built) -> list[str]:
    titles = []
    for page in sorted((built / "notebooks").glob("*.html")):
        h1 = re.search(r'<h1><span class="section-number">[\d.]+\s*</span>(.*?)<a class="headerlink"',
                       page.read_text(encoding="utf-8"), re.S)
        titles.append(html.unescape(re.sub(r"<[^>]+>", "", h1.group(1))).strip())
    return titles


def test_pdf_has_every_chapter_title(built, pdf_text):
    flat = " ".join(pdf_text.split())
    for title in chapter_titles(built):
        assert " ".join(title.split()) in flat, f"chapter missing from the PDF: {title}"


def test_pdf_has_every_figure(built, pdf_text):
    expected = sorted(set(re.findall(r'<span class="caption-number">Fig\. ([A-Z\d]+\.\d+) </span>',
                                     "".join(p.read_text(encoding="utf-8") for p in built.glob("*/*.html")))))
    found = sorted(set(re.findall(r"Fig\. ([A-Z\d]+\.\d+) ", pdf_text)))
    assert expected, "the built chapters have no numbered figures"
    assert found == expected, f"figures in the HTML but not in the PDF: {sorted(set(expected) - set(found))}"


def test_pdf_charts_are_vector_graphics(pdf_text):
    # An SVG chart prints its axis labels as text; a raster image would not.
    assert re.search(r"USD billion|EUR million|percent|Year", pdf_text), "no chart text found in the PDF"


# --- A PDF one can cite --------------------------------------------------------------

@pytest.fixture(scope="module")
def pdf_pages(pdf_text) -> list[str]:
    """The text of each page (pdftotext ends every page with a form feed)."""
    return pdf_text.split("\f")[:-1]


def flat(text: str) -> str:
    return " ".join(text.split())


def test_pdf_opens_with_a_title_page(pdf_pages):
    first = flat(pdf_pages[0])
    day = datetime.date.fromisoformat(BOOK.date)
    released = f"{BOOK.edition_text.capitalize()}, released {day.day} {day:%B %Y}"  # as CITATION.cff dates it
    for needed in (flat(BOOK.title), BOOK.author_text, released, BOOK.license, BOOK.url, BOOK.pdf_url,
                   "How to cite this book", f"{BOOK.author_text}. ({BOOK.year}). {flat(BOOK.title)} ({ED})."):
        assert needed in first, f"the title page lacks {needed!r}"


def test_pdf_contents_give_the_page_of_every_chapter(built, pdf_pages):
    contents = dict((flat(m.group(1)), int(m.group(2)))
                    for m in re.finditer(r"^\s*(\S.*?)\s{2,}(\d+)\s*$", pdf_pages[1], re.M))
    assert "Contents" in pdf_pages[1]
    for title in chapter_titles(built):
        number = next((n for entry, n in contents.items() if entry.endswith(flat(title))), None)
        assert number, f"the contents do not list {title!r}: {contents}"
        assert flat(title) in flat(pdf_pages[number - 1]), f"{title!r} is not on page {number}, as the contents say"


def test_pdf_pages_are_numbered(pdf_pages):
    for number, page in enumerate(pdf_pages, start=1):
        assert page.split()[-1] == str(number), f"page {number} does not end with its number"


def test_pdf_links_resolve_inside_the_pdf_or_to_the_book_online():
    """Citations, cross-references and the contents jump inside the PDF; links to the book's
    files go to its canonical address; none to the temporary server it was printed from."""
    from pypdf import PdfReader
    reader = PdfReader(PDF)
    dests = {name.lstrip("/") for name in reader.named_destinations}
    internal, external, broken = 0, [], []
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") != "/Link":
                continue
            if "/Dest" in annot:
                internal += 1
                if str(annot["/Dest"]).lstrip("/") not in dests:
                    broken.append(annot["/Dest"])
            elif "/A" in annot and "/URI" in annot["/A"]:
                external.append(str(annot["/A"]["/URI"]))
    loopback = [u for u in external if urlparse(u).hostname in ("127.0.0.1", "localhost", "::1", "0.0.0.0")]
    assert loopback == [], f"{len(loopback)} links point to a local server, e.g. {loopback[:3]}"
    assert broken == [], f"links to places the PDF does not have: {broken[:5]}"
    assert internal > 300, f"only {internal} links inside the PDF (contents, citations, cross-references)"
    assert any(u.startswith(BOOK.url) for u in external)


def test_pdf_repeats_no_screen_only_instructions_or_controls(pdf_text):
    text = flat(pdf_text)
    for screen_only in ("Show code cell source", "Download this figure", "Download RIS", "Hover over a chart",
                        "click \u201cShow code", "all actors", "all pillars", "See also"):
        assert screen_only not in text, f"the PDF prints the screen-only {screen_only!r}"


def test_pdf_captions_ask_for_nothing_a_page_cannot_do(pdf_text):
    found = re.findall(r"[^.]*\b(?:[Hh]over|[Cc]lick|menus? under the chart)\b[^.]*\.", flat(pdf_text))
    assert found == []


def test_pdf_prints_every_citation(built, pdf_text):
    text = flat(pdf_text)
    assert text.count("Cite this chapter APA 7") == len(chapter_titles(built))
    figures = re.findall(r'<span class="caption-number">Fig\. ([A-Z\d]+\.\d+) </span>',
                         "".join(p.read_text(encoding="utf-8") for p in sorted(built.glob("*/*.html"))))
    assert sorted(re.findall(r"Cite this figure: Figure ([A-Z\d]+\.\d+) in", text)) == sorted(figures)

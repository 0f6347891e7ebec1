"""The PDF edition: every chapter is there, with every figure and its caption."""
from __future__ import annotations

import html
import re
import shutil
import subprocess

import pytest

from fourpillars.data import ROOT

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
    expected = sorted(set(re.findall(r'<span class="caption-number">Fig\. (\d+\.\d+) </span>',
                                     "".join(p.read_text(encoding="utf-8") for p in (built / "notebooks").glob("*.html")))))
    found = sorted(set(re.findall(r"Fig\. (\d+\.\d+) ", pdf_text)))
    assert expected, "the built chapters have no numbered figures"
    assert found == expected, f"figures in the HTML but not in the PDF: {sorted(set(expected) - set(found))}"


def test_pdf_charts_are_vector_graphics(pdf_text):
    # An SVG chart prints its axis labels as text; a raster image would not.
    assert re.search(r"USD billion|EUR million|percent|Year", pdf_text), "no chart text found in the PDF"

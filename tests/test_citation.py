"""Citing and downloading: everything generated from CITATION.cff and data/, checked
in the built HTML against that metadata."""
from __future__ import annotations

import html
import io
import json
import re
import zipfile

import jsonschema
import pytest
import yaml

from conftest import html_pages
from fourpillars import citation, load
from fourpillars.data import DATA_DIR, ROOT, read_package

BOOK = citation.read_book()
CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_citation_cff_is_valid_against_the_cff_1_2_schema():
    schema = json.loads((ROOT / "tests" / "schemas" / "cff-1.2.0.json").read_text(encoding="utf-8"))
    doc = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    doc["date-released"] = str(doc["date-released"])  # YAML reads dates as dates; the schema wants a string
    jsonschema.validate(doc, schema, format_checker=jsonschema.FormatChecker())


def meta(page: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, content in re.findall(r'<meta name="(citation_[a-z_]+)" content="([^"]*)"', page):
        out.setdefault(name, []).append(html.unescape(content))
    return out


def chapter_title(page: str) -> str:
    h1 = re.search(r'<h1><span class="section-number">[\d.]+\s*</span>(.*?)<a class="headerlink"', page, re.S).group(1)
    return html.unescape(re.sub(r"<[^>]+>", "", h1)).strip()


@pytest.mark.parametrize("nb", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_has_highwire_tags_matching_the_metadata(built, nb):
    page = (built / "notebooks" / f"{nb.stem}.html").read_text(encoding="utf-8")
    tags = meta(page)
    assert tags.get("citation_title") == [chapter_title(page)]
    assert tags.get("citation_author") == BOOK.authors
    assert tags.get("citation_publication_date") == [BOOK.date.replace("-", "/")]
    assert tags.get("citation_book_title") == [BOOK.title]


@pytest.mark.parametrize("nb", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_has_a_cite_block_and_a_ris_file(built, nb):
    path = built / "notebooks" / f"{nb.stem}.html"
    page = path.read_text(encoding="utf-8")
    block = re.search(r'<section class="fp-cite" id="cite-this-chapter">(.*?)</section>', page, re.S)
    assert block, "no 'Cite this chapter' block"
    text = html.unescape(re.sub(r"<[^>]+>", "", block.group(1)))
    title, number = chapter_title(page), nb.stem.split("-")[0].lstrip("0")
    for style in ("APA 7", "Chicago", "BibTeX"):
        assert style in text
    assert f"{BOOK.author_text}. ({BOOK.year}). {title} (Chapter {number}). In {BOOK.title} (Edition {BOOK.version})." in text
    assert f"@incollection{{{citation.bibtex_key(BOOK, number)}," in text
    ris_href = re.search(r'<a href="([^"]+\.ris)" download>', block.group(1)).group(1)
    ris = (path.parent / ris_href).read_text(encoding="utf-8")
    assert ris.startswith("TY  - CHAP") and f"TI  - {title}" in ris and f"T2  - {BOOK.title}" in ris
    assert ris.rstrip().endswith("ER  -")


@pytest.mark.parametrize("nb", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_figure_offers_its_own_citation(built, nb):
    page = (built / "notebooks" / f"{nb.stem}.html").read_text(encoding="utf-8")
    figures = re.findall(r'<span class="caption-number">Fig\. (\d+\.\d+) </span>', page)
    cites = re.findall(r'<p class="fp-figure-cite">Cite this figure: Figure (\d+\.\d+) in ', page)
    assert sorted(cites) == sorted(figures)


def test_every_page_shows_the_edition(built):
    for page in html_pages():
        text = page.read_text(encoding="utf-8")
        assert f"Edition {BOOK.version}, released {BOOK.date}." in text, f"{page.name} lacks the edition line"


def test_how_to_cite_page_gives_the_book_citation(built):
    text = html.unescape(re.sub(r"<[^>]+>", "", (built / "book" / "how-to-cite.html").read_text(encoding="utf-8")))
    assert f"{BOOK.author_text}. ({BOOK.year}). {BOOK.title} (Edition {BOOK.version})." in text
    assert (built / "cite" / "book.ris").read_text(encoding="utf-8").startswith("TY  - BOOK")


def test_data_page_offers_the_whole_package_and_describes_every_table(built):
    page = (built / "book" / "data.html").read_text(encoding="utf-8")
    with zipfile.ZipFile(built / "downloads" / "four-pillars-data.zip") as zf:
        names = set(zf.namelist())
        package = json.loads(zf.read("four-pillars-data/datapackage.json"))
    assert package == read_package()
    for res in read_package()["resources"]:
        assert f"four-pillars-data/{res['path']}" in names
        section = re.search(rf'<section class="fp-resource" id="table-{res["name"]}">(.*?)</section>', page, re.S)
        assert section, f"data page lacks a section for {res['name']}"
        assert f"<strong>{len(load(res['name']))} rows.</strong>" in section.group(1)
        for field in res["schema"]["fields"]:
            assert f"<code>{field['name']}</code>" in section.group(1)

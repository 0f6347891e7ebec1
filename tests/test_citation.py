"""Citing and downloading: everything generated from CITATION.cff and data/, checked
in the built HTML against that metadata."""
from __future__ import annotations

import html
import io
import json
import re
import zipfile

import bibtexparser
import jsonschema
import pytest
import rispy
import yaml
from bibtexparser.middlewares import SeparateCoAuthors, SplitNameParts

from conftest import html_pages
from fourpillars import citation, load
from fourpillars.data import DATA_DIR, ROOT, read_package

BOOK = citation.read_book()
ED = BOOK.edition_text.replace(" edition", " ed.")  # "2nd ed.", as APA and Chicago write it
CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_citation_cff_is_valid_against_the_cff_1_2_schema():
    schema = json.loads((ROOT / "tests" / "schemas" / "cff-1.2.0.json").read_text(encoding="utf-8"))
    doc = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    doc["date-released"] = str(doc["date-released"])  # YAML reads dates as dates; the schema wants a string
    jsonschema.validate(doc, schema, format_checker=jsonschema.FormatChecker())


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def chapter_title(page: str) -> str:
    h1 = re.search(r'<h1><span class="section-number">[\d.]+\s*</span>(.*?)<a class="headerlink"', page, re.S).group(1)
    return text(h1)


def test_citation_cff_repeats_its_preferred_citation_at_the_top():
    """GitHub cites the preferred citation (a book); cffconvert and Zenodo read the top level."""
    doc = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    ref = doc["preferred-citation"]
    assert ref["type"] == "book" and ref["publisher"]["name"] and str(ref["edition"]).isdigit()
    assert all(set(a) == {"name"} or "family-names" in a for a in ref["authors"])
    top = (doc["title"], doc["authors"], str(doc["version"]), str(doc["date-released"]), doc["url"], doc["license"])
    assert top == (ref["title"], ref["authors"], str(ref["edition"]), str(ref["date-published"]), ref["url"], ref["license"])
    assert str(ref["year"]) == BOOK.year


@pytest.mark.parametrize("nb", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_has_a_cite_block_and_a_ris_file(built, nb):
    path = built / "notebooks" / f"{nb.stem}.html"
    page = path.read_text(encoding="utf-8")
    block = re.search(rf'<section class="fp-cite" id="cite-{nb.stem}">(.*?)</section>', page, re.S)
    assert block, "no 'Cite this chapter' block"
    shown = text(block.group(1))
    title, number, rel = chapter_title(page), nb.stem.split("-")[0].lstrip("0"), f"notebooks/{nb.stem}.html"
    url = BOOK.address(rel)
    # APA 7 and Chicago author-date, as their official CSL styles write a chapter of an edited book.
    assert f"{BOOK.author_text}. ({BOOK.year}). {title}{'' if title[-1] in '?!' else '.'} In {BOOK.title} ({ED}, Chapter {number}). {BOOK.publisher}. {url}" in shown
    # (Chicago capitalises the chapter title headline-style.)
    end = "" if title[-1] in "?!" else "."
    assert re.search(re.escape(f"{BOOK.author_text}. {BOOK.year}. \u201c{title}{end}\u201d Chap. {number} in {BOOK.title}, "
                               f"{ED} {BOOK.publisher}. {url}."), shown, re.I), shown
    assert f"@incollection{{{citation.bibtex_key(BOOK, number)}," in shown and f"url = {{{url}}}" in shown
    ris_href = re.search(r'<a href="([^"]+\.ris)" download>', block.group(1)).group(1)
    records = rispy.loads((path.parent / ris_href).read_text(encoding="utf-8"))
    assert len(records) == 1
    assert {k: records[0].get(k) for k in ("type_of_reference", "title", "secondary_title", "section", "edition", "urls")} == \
        {"type_of_reference": "CHAP", "title": title, "secondary_title": BOOK.title, "section": number,
         "edition": BOOK.edition, "urls": [url]}


@pytest.mark.parametrize("nb", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_bibtex_parses_with_one_corporate_author(built, nb):
    page = (built / "notebooks" / f"{nb.stem}.html").read_text(encoding="utf-8")
    bib = html.unescape(re.search(r'<pre class="fp-bibtex">(.*?)</pre>', page, re.S).group(1))
    library = bibtexparser.parse_string(bib, append_middleware=[SeparateCoAuthors(), SplitNameParts()])
    assert not library.failed_blocks and len(library.entries) == 1
    entry = library.entries[0]
    assert entry.entry_type == "incollection"
    assert [(n.first, n.last) for n in entry["author"]] == [([], ["{The Four Pillars authors}"])], \
        "an organisation must stay one name, not 'authors, The Four Pillars'"
    assert (entry["edition"], entry["publisher"], entry["chapter"]) == (BOOK.edition, BOOK.publisher,
                                                                         nb.stem.split("-")[0].lstrip("0"))


HOSTILE = citation.Book(
    title="Pillars} , title = {Forged}, note = {x\r\nTY  - JOUR\r\nER  - ",
    authors=(citation.Author(name="Org}} and {Mallory"), citation.Author(family="Doe\nAU  - Eve", given="J. % \\")),
    publisher="Pub & Co_ #1 ~ $5 ^", edition="1", date="2026-11-22", license="CC-BY-4.0",
    url='https://example.org/a b}"{\\/')


def test_metadata_cannot_break_out_of_bibtex_ris_or_html():
    """Red-team report 4: whatever CITATION.cff says, each value stays inside its field."""
    bib = citation.bibtex(HOSTILE, "Ch}apter", "2", "x.html")
    library = bibtexparser.parse_string(bib)
    assert not library.failed_blocks and len(library.entries) == 1
    entry = library.entries[0]
    assert set(entry.fields_dict) == {"author", "title", "booktitle", "chapter", "publisher", "year", "edition", "url", "note"}
    assert entry["booktitle"] == "{" + citation.tex(HOSTILE.title) + "}" and "\n" not in entry["booktitle"]
    assert entry["publisher"] == r"Pub \& Co\_ \#1 \textasciitilde{} \$5 \textasciicircum{}"
    assert entry["url"] == "https://example.org/a%20b%7D%22%7B%5C/x.html"
    records = rispy.loads(citation.ris(HOSTILE, "Ch}apter", "2", "x.html"))
    assert len(records) == 1 and records[0]["type_of_reference"] == "CHAP"
    assert records[0]["secondary_title"] == " ".join(HOSTILE.title.split())
    assert records[0]["authors"] == ["Org}} and {Mallory", "Doe AU - Eve, J. % \\"]
    assert records[0]["urls"] == ["https://example.org/a%20b%7D%22%7B%5C/x.html"]
    tags = citation.meta_tags(HOSTILE, "Ch\"apter", "2", "x.html")
    parsed = re.findall(r'<meta (?:name|property)="([^"]+)" content="([^"]*)">', citation.meta_html(tags))
    assert [(k, html.unescape(v)) for k, v in parsed] == tags


@pytest.mark.parametrize("page", ["notebooks", "book"])
def test_every_figure_offers_its_own_citation_addressed_to_it(built, page):
    for path in sorted((built / page).glob("*.html")):
        text_ = path.read_text(encoding="utf-8")
        figures = re.findall(r'<figure class="[^"]*" id="(fig-[a-z0-9-]+)">.*?<span class="caption-number">Fig\. ([A-Z\d]+\.\d+) </span>',
                             text_, re.S)
        cites = re.findall(r'<p class="fp-figure-cite">Cite this figure: Figure ([A-Z\d]+\.\d+) in .*?'
                           r'<a href="([^"]+)">', text_, re.S)
        rel = path.relative_to(built).as_posix()
        assert sorted(cites) == sorted((n, BOOK.address(rel, f)) for f, n in figures), path.name


def test_reference_pages_number_their_figures_like_appendices(built):
    """Not 'Fig. 1' beside the chapters' 'Fig. 1.1': the timeline's figure is A.1, the map's B.1."""
    numbers = {p.stem: re.findall(r'<span class="caption-number">Fig\. ([^ <]+) </span>', p.read_text(encoding="utf-8"))
               for p in (built / "book").glob("*.html")}
    assert {k: v for k, v in numbers.items() if v} == {"timeline": ["A.1"], "map": ["B.1"]}


def test_every_page_shows_the_edition(built):
    for page in html_pages():
        text_ = page.read_text(encoding="utf-8")
        assert f"{BOOK.edition_text}, released {BOOK.date}." in text_, f"{page.name} lacks the edition line"


def test_how_to_cite_page_gives_the_book_citation(built):
    shown = text((built / "book" / "how-to-cite.html").read_text(encoding="utf-8"))
    assert f"{BOOK.author_text}. ({BOOK.year}). {BOOK.title} ({ED}). {BOOK.publisher}. {BOOK.url}" in shown
    assert f"{BOOK.author_text}. {BOOK.year}. {BOOK.title}. {ED} {BOOK.publisher}. {BOOK.url}." in shown
    records = rispy.loads((built / "cite" / "book.ris").read_text(encoding="utf-8"))
    assert [(r["type_of_reference"], r["title"], r["edition"], r["urls"]) for r in records] == \
        [("BOOK", BOOK.title, BOOK.edition, [BOOK.url])]


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

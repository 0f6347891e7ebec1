"""What Zotero makes of the book's pages: each built page's meta tags are read the way Zotero's
browser connector reads them, and the item it would save is checked field by field, then cited
in APA and compared with the citation the page itself shows.

The connector imports a page with its "Embedded Metadata" translator. The mapping below encodes
the parts of it that these pages rely on, from the public sources (the translator's code is not
copied here):

- zotero/translators, "Embedded Metadata.js" at f6350edad7f4b627903eb6a5601ac3f700aacfbd
  (lastUpdated 2026-04-27): HIGHWIRE_MAPPINGS; the item type from citation_book_title /
  citation_inbook_title in init(); authors in processHighwireCreators(); citation_pdf_url;
  meta tags with a known prefix (og:, prism., z:) handed to the RDF translator.
- zotero/translators, "RDF.js" at 6c9e20a05fdfdb524b10ad87d5934850498b8bdb: detectType()
  (og:type "book" -> book); edition from prism:edition; any z:<field> copied to that field.
- zotero/utilities, utilities.js at 86948f960557c18eb6489ebe228b820957d13cf0: cleanAuthor(),
  which splits a name without a comma at its last space.
- zotero/utilities, utilities_item.js at 4051881d59c6c12d34417d4c226f37218051be90:
  itemToCSLJSON() and extraToCSL() (a "chapter-number: 3" line in Extra reaches the styles).
"""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from conftest import html_pages
from fourpillars import citation

BOOK = citation.read_book()
ED = BOOK.edition_text.replace(" edition", " ed.")  # "2nd ed.", as APA and Chicago write it

# Embedded Metadata.js, HIGHWIRE_MAPPINGS (the tags these pages use or could use by mistake).
HIGHWIRE = {"citation_title": "title", "citation_publication_date": "date", "citation_date": "date",
            "citation_journal_title": "publicationTitle", "citation_inbook_title": "publicationTitle",
            "citation_book_title": "bookTitle", "citation_publisher": "publisher", "citation_isbn": "ISBN",
            "citation_doi": "DOI", "citation_public_url": "url", "citation_language": "language"}
# RDF.js: which prefixed tags set a field (prism:edition -> edition; z:<field> -> <field>).
RDF_FIELDS = {"prism.edition": "edition", "prism:edition": "edition", "bibo.edition": "edition"}


class Head(HTMLParser):
    """The (name or property, content) pairs of a page's <meta> tags, in order."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and (a.get("name") or a.get("property")) and a.get("content"):
            self.tags.append((a.get("name") or a["property"], a["content"]))


def clean_author(name: str, use_comma: bool) -> dict:
    """ZU.cleanAuthor, for the names these pages write (no initials to expand)."""
    name = re.sub(r"[\s\u00A0.,/\[\]:]+$", "", re.sub(r"^[\s\u00A0.,/\[\]:]+", "", name))
    if use_comma:
        parts = re.split(r"[,\u060C] ?", name)
        return {"lastName": parts[0], "firstName": parts[1] if len(parts) > 1 else None}
    first, _, last = name.rpartition(" ")
    return {"lastName": last, "firstName": first}


def creators(values: list[str], lang: str | None) -> list[dict]:
    """processHighwireCreators(): one tag may hold several names split by ';' (or by ','
    when there is a single tag and words on both sides); each goes through cleanAuthor."""
    out = []
    for value in values:
        names = re.split(r"\s*;\s*", value)
        if len(names) == 1 and len(values) == 1:
            by_comma = re.split(r"\s*,\s*", names[0])
            if len(by_comma) > 1 and " " in by_comma[0] and " " in by_comma[1]:
                names = by_comma  # (the translator also spares two-word Spanish surnames; none here)
        out += [clean_author(n.strip(), "," in n) for n in names if re.search(r"[^\s,\-.;]", n)]
    return out


def zotero_item(tags: list[tuple[str, str]], page_url: str) -> dict:
    names = [n for n, _ in tags]
    first = {}
    for n, v in tags:
        first.setdefault(n, v)
    if {"citation_book_title", "citation_inbook_title"} & set(names):
        item_type = "bookSection"
    elif "citation_journal_title" in names:
        item_type = "journalArticle"
    elif first.get("og:type") == "book":
        item_type = "book"
    elif "citation_title" in names:
        item_type = "journalArticle"  # the translator's guess for a bare citation_title
    else:
        item_type = "webpage"
    item = {"itemType": item_type}
    for tag, field in HIGHWIRE.items():
        if tag in first:
            item[field] = " ".join(first[tag].split())
    for tag, value in first.items():
        if tag in RDF_FIELDS:
            item[RDF_FIELDS[tag]] = value
        elif tag.startswith(("z:", "z.")) and tag[2:] != "itemType":
            item[tag[2:]] = value
    item["creators"] = creators([v for n, v in tags if n == "citation_author"] or
                                [v for n, v in tags if n == "citation_authors"], first.get("citation_language"))
    item.setdefault("url", first.get("citation_abstract_html_url") or page_url)
    item["attachments"] = [first["citation_pdf_url"]] if "citation_pdf_url" in first else ["snapshot"]
    return item


def csl_json(item: dict) -> dict:
    """itemToCSLJSON() for the fields here, with Extra's CSL lines (extraToCSL)."""
    csl = {"id": "item", "type": {"bookSection": "chapter", "book": "book"}[item["itemType"]],
           "title": item["title"], "publisher": item.get("publisher"), "edition": item.get("edition"),
           "URL": item["url"], "issued": {"date-parts": [[int(p) for p in item["date"].split("/")]]},
           # Zotero writes {family, given: ""} for a name with no first name, which citeproc-js (its
           # processor) prints as the family name alone; citeproc-py would print "Name, ." for the
           # empty given name, so it is left out here.
           "author": [{"family": c["lastName"], **({"given": c["firstName"]} if c["firstName"] else {})}
                      for c in item["creators"]]}
    if item["itemType"] == "bookSection":
        csl["container-title"] = item.get("bookTitle") or item.get("publicationTitle")
    for line in item.get("extra", "").splitlines():
        key, _, value = line.partition(":")
        csl[key.strip().lower().replace(" ", "-")] = value.strip()
    return {k: v for k, v in csl.items() if v is not None}


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def test_a_name_without_a_comma_is_split_as_a_person():
    """Why organisations are written 'Name,': the emulation reproduces the split the new-user
    report saw in Zotero (firstName 'The Four Pillars', lastName 'authors')."""
    assert creators(["The Four Pillars authors"], "en") == [{"lastName": "authors", "firstName": "The Four Pillars"}]
    assert creators(["The Four Pillars authors,"], "en") == [{"lastName": "The Four Pillars authors", "firstName": None}]
    assert creators(["Doe, Jane"], "en") == [{"lastName": "Doe", "firstName": "Jane"}]


PAGES = [p for p in html_pages() if p.parent.name in ("book", "notebooks")]


@pytest.mark.parametrize("path", PAGES, ids=[f"{p.parent.name}/{p.stem}" for p in PAGES])
def test_zotero_saves_each_page_as_part_of_the_book(built, path):
    page = path.read_text(encoding="utf-8")
    rel = path.relative_to(built).as_posix()
    head = Head()
    head.feed(page.split("</head>")[0])
    item = zotero_item(head.tags, page_url=f"http://127.0.0.1/{rel}")
    home = rel == "book/intro.html"
    assert item["itemType"] == ("book" if home else "bookSection"), item
    assert item["creators"] == [{"lastName": a.name, "firstName": None} if a.name else
                                {"lastName": a.family, "firstName": a.given} for a in BOOK.authors]
    assert (item["publisher"], item["edition"], item["date"], item["language"]) == \
        (BOOK.publisher, BOOK.edition, BOOK.date.replace("-", "/"), "en")
    assert item["url"] == (BOOK.url if home else BOOK.address(rel)), "the canonical address, not the one read from"
    assert item["attachments"] == [BOOK.pdf_url]
    assert f'<link rel="canonical" href="{BOOK.address(rel)}" />' in page
    if home:
        assert item["title"] == BOOK.title
        return
    assert item["bookTitle"] == BOOK.title
    h1 = re.search(r'<h1>((?:(?!</h1>).)*?)<a class="headerlink"', page, re.S).group(1)  # the page's own h1
    number = re.match(r'<span class="section-number">(\d+)\.\s*</span>', h1)
    assert item["title"] == text(re.sub(r'<span class="section-number">.*?</span>', "", h1))
    assert item.get("extra") == (f"chapter-number: {number.group(1)}" if number else None)


@pytest.mark.parametrize("path", sorted(p for p in PAGES if p.parent.name == "notebooks"), ids=lambda p: p.stem)
def test_zotero_cites_a_chapter_as_the_page_does(built, path):
    """The item Zotero saves, cited with the official APA style, reads exactly like the APA
    citation in the page's own 'Cite this chapter' block."""
    page = path.read_text(encoding="utf-8")
    head = Head()
    head.feed(page.split("</head>")[0])
    item = zotero_item(head.tags, page_url="http://127.0.0.1/")
    shown = re.search(r"<strong>APA 7</strong><br>(.*?)</p>", page, re.S).group(1)
    assert text(citation.render("apa", csl_json(item))) == text(shown)
    assert f"({ED}, Chapter" in text(shown) and BOOK.address(path.relative_to(built).as_posix()) in text(shown)

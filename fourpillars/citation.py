"""Citations of the book, its chapters and figures, generated from CITATION.cff alone."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .data import ROOT

CFF_PATH = ROOT / "CITATION.cff"


@dataclass(frozen=True)
class Book:
    title: str
    authors: list[str]
    version: str
    date: str  # YYYY-MM-DD
    license: str
    url: str = ""

    @property
    def year(self) -> str:
        return self.date[:4]

    @property
    def author_text(self) -> str:
        return ", ".join(self.authors[:-1]) + (" & " if len(self.authors) > 1 else "") + self.authors[-1]


def read_book(path: Path = CFF_PATH) -> Book:
    cff = yaml.safe_load(path.read_text(encoding="utf-8"))
    authors = [a.get("name") or f"{a['family-names']}, {a['given-names']}" for a in cff["authors"]]
    return Book(title=cff["title"], authors=authors, version=str(cff["version"]),
                date=str(cff["date-released"]), license=cff["license"], url=cff.get("url", ""))


def _url(book: Book, path: str = "") -> str:
    return f" {book.url.rstrip('/')}/{path}" if book.url else ""


def apa(book: Book, chapter: str | None = None, number: str | None = None, path: str = "") -> str:
    if chapter is None:
        return f"{book.author_text}. ({book.year}). *{book.title}* (Edition {book.version}).{_url(book)}"
    return (f"{book.author_text}. ({book.year}). {chapter} (Chapter {number}). In *{book.title}* "
            f"(Edition {book.version}).{_url(book, path)}")


def chicago(book: Book, chapter: str | None = None, number: str | None = None, path: str = "") -> str:
    if chapter is None:
        return f"{book.author_text}. {book.year}. *{book.title}*. Edition {book.version}.{_url(book)}"
    return (f"{book.author_text}. {book.year}. \u201c{chapter}.\u201d Chapter {number} in *{book.title}*. "
            f"Edition {book.version}.{_url(book, path)}")


def bibtex_key(book: Book, number: str | None = None) -> str:
    return f"fourpillars{book.year}" + (f"ch{number}" if number else "")


def bibtex(book: Book, chapter: str | None = None, number: str | None = None, path: str = "") -> str:
    fields = [("author", " and ".join("{" + a + "}" for a in book.authors))]
    if chapter is None:
        kind, fields = "book", fields + [("title", "{" + book.title + "}")]
    else:
        kind, fields = "incollection", fields + [("title", "{" + chapter + "}"), ("booktitle", "{" + book.title + "}"),
                                                ("chapter", number)]
    fields += [("year", book.year), ("edition", book.version), ("note", f"Released {book.date}; licence {book.license}")]
    if book.url:
        fields.append(("url", f"{book.url.rstrip('/')}/{path}"))
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
    return f"@{kind}{{{bibtex_key(book, number)},\n{body}\n}}"


def ris(book: Book, chapter: str | None = None, number: str | None = None, path: str = "") -> str:
    lines = [("TY", "BOOK" if chapter is None else "CHAP")]
    lines += [("AU", a) for a in book.authors]
    lines += [("TI", book.title)] if chapter is None else [("TI", chapter), ("T2", book.title), ("SE", f"Chapter {number}")]
    lines += [("PY", book.year), ("DA", book.date.replace("-", "/")), ("ET", book.version)]
    if book.url:
        lines.append(("UR", f"{book.url.rstrip('/')}/{path}"))
    lines.append(("ER", ""))
    return "\r\n".join(f"{tag}  - {value}".rstrip() if tag == "ER" else f"{tag}  - {value}" for tag, value in lines) + "\r\n"


def figure_citation(book: Book, figure_number: str, chapter: str, number: str, path: str = "") -> str:
    return f"Figure {figure_number} in {apa(book, chapter, number, path)}"


def highwire(book: Book, chapter: str, pdf_url: str = "") -> list[tuple[str, str]]:
    """Highwire Press tags that Zotero and Google Scholar read for a book chapter."""
    tags = [("citation_title", chapter)]
    tags += [("citation_author", a) for a in book.authors]
    tags += [("citation_publication_date", book.date.replace("-", "/")), ("citation_book_title", book.title),
             ("citation_inbook_title", book.title), ("citation_edition", book.version), ("citation_language", "en")]
    if pdf_url:
        tags.append(("citation_pdf_url", pdf_url))
    return tags

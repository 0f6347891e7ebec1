"""Sphinx extension: the book's citations, generated from CITATION.cff alone.

- The book's title, authors and edition on every page (config) and its citation on the
  How-to-cite page (``{fourpillars-book-citation}``).
- On each chapter: a "Cite this chapter" block (APA, Chicago, BibTeX, RIS), Highwire
  citation_* meta tags, and a line under each figure with the figure's own citation.
"""
from __future__ import annotations

import html
import os
import re
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from fourpillars import citation

CHAPTER_DIR = "notebooks/"


def rel(docname: str, target: str) -> str:
    return os.path.relpath(target, os.path.dirname(docname) or ".")


def md_html(text: str) -> str:
    """The citation strings mark titles *like this*; render that as <em>."""
    return re.sub(r"\*(.+?)\*", r"<em>\1</em>", html.escape(text, quote=False))


def chapter_of(env, docname: str) -> tuple[str, str]:
    number = ".".join(map(str, env.toc_secnumbers.get(docname, {}).get("", ()))) or "?"
    return env.titles[docname].astext(), number


def figure_citation_html(app, name: str, docname: str) -> str:
    """The 'Cite this figure' line under a chapter figure (empty elsewhere)."""
    number = app.env.toc_fignumbers.get(docname, {}).get("figure", {}).get(name)
    if not (number and docname.startswith(CHAPTER_DIR)):
        return ""
    title, chapter = chapter_of(app.env, docname)
    cite = citation.figure_citation(app.config.fp_book, ".".join(map(str, number)), title, chapter, docname + ".html")
    return f'<p class="fp-figure-cite">Cite this figure: {md_html(cite)}</p>'


# --- Citations ---------------------------------------------------------------------

def citation_block(book, title: str, number: str, docname: str, ris_href: str) -> str:
    path = docname + ".html"
    bib = html.escape(citation.bibtex(book, title, number, path))
    return (
        '<section class="fp-cite" id="cite-this-chapter"><h2>Cite this chapter</h2>'
        f'<p><strong>APA 7</strong><br>{md_html(citation.apa(book, title, number, path))}</p>'
        f'<p><strong>Chicago</strong><br>{md_html(citation.chicago(book, title, number, path))}</p>'
        f'<p><strong>BibTeX</strong></p><pre class="fp-bibtex">{bib}</pre>'
        f'<p><a href="{ris_href}" download>Download RIS</a> (Zotero, EndNote, Mendeley). '
        'Each figure above has its own citation under it.</p></section>')


SEE_ALSO = [("book/timeline", "Timeline of events, 1999–2026"), ("book/map", "Map of the region"),
            ("book/contested", "Contested figures"), ("book/data", "The data")]


def see_also(app, pagename: str) -> str:
    links = [f'<li><a href="{rel(pagename, doc + ".html")}">{label}</a></li>'
             for doc, label in SEE_ALSO if doc in app.env.found_docs]
    return f'<nav class="fp-see-also" aria-label="See also"><h2>See also</h2><ul>{"".join(links)}</ul></nav>' if links else ""


def add_chapter_citation(app, pagename: str, context: dict) -> None:
    book = app.config.fp_book
    title, number = chapter_of(app.env, pagename)
    stem = Path(pagename).name
    ris_path = Path(app.outdir) / "cite" / f"{stem}.ris"
    ris_path.parent.mkdir(parents=True, exist_ok=True)
    ris_path.write_text(citation.ris(book, title, number, pagename + ".html"), encoding="utf-8", newline="")
    context["body"] += see_also(app, pagename) + citation_block(book, title, number, pagename, rel(pagename, f"cite/{stem}.ris"))
    tags = citation.highwire(book, title)
    context["metatags"] = context.get("metatags", "") + "".join(
        f'\n<meta name="{k}" content="{html.escape(v, quote=True)}">' for k, v in tags)


class BookCitation(SphinxDirective):
    """``{fourpillars-book-citation}``: the whole book's citation, from CITATION.cff."""

    def run(self):
        book = self.config.fp_book
        out = Path(self.env.app.outdir) / "cite" / "book.ris"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(citation.ris(book), encoding="utf-8", newline="")
        href = rel(self.env.docname, "cite/book.ris")
        body = (f'<div class="fp-cite"><p><strong>APA 7</strong><br>{md_html(citation.apa(book))}</p>'
                f'<p><strong>Chicago</strong><br>{md_html(citation.chicago(book))}</p>'
                f'<p><strong>BibTeX</strong></p><pre class="fp-bibtex">{html.escape(citation.bibtex(book))}</pre>'
                f'<p><a href="{href}" download>Download RIS</a></p></div>')
        return [nodes.raw("", body, format="html")]


def on_page(app, pagename, templatename, context, doctree) -> None:
    # The theme prints the title (sidebar) and the author (footer) as HTML, unescaped: give the
    # templates them escaped, as Markup, so those that do escape them do not escape them twice.
    from markupsafe import Markup
    context["docstitle"] = Markup.escape(app.config.fp_book.title)
    context["author"] = Markup.escape(app.config.fp_book.author_text)
    if pagename.startswith(CHAPTER_DIR) and doctree is not None:
        add_chapter_citation(app, pagename, context)


def on_config_inited(app, config) -> None:
    """Title, author, edition and licence come from CITATION.cff, nowhere else."""
    book = citation.read_book()
    config.fp_book = book
    config.project = config.html_title = book.title
    config.author = book.author_text
    config.copyright = f"{book.year}, {book.author_text}"
    e = html.escape
    config.html_theme_options["extra_footer"] = (
        f'<p class="fp-edition">Edition {e(book.version)}, released {e(book.date)}. '
        f'Text, figures and data: {e(book.license)}.</p>')


def setup(app):
    app.add_config_value("fp_book", None, "env")
    app.connect("config-inited", on_config_inited)
    app.connect("html-page-context", on_page, priority=900)
    app.add_directive("fourpillars-book-citation", BookCitation)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": False}

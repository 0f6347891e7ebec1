"""Sphinx extension: the book's citations, generated from CITATION.cff alone.

- The book's title, authors, edition and canonical address (`html_baseurl`, so every page has
  a <link rel="canonical">) from the file (config); its citation on the How-to-cite page
  (``{fourpillars-book-citation}``).
- On every page: citation_* meta tags for reference managers (the book on the home page, a
  section of it elsewhere).
- On each chapter: a "Cite this chapter" block (APA, Chicago, BibTeX, RIS) and a line under
  each figure with the figure's own citation, addressed to the figure. These are put into the
  document itself, so the single-page build that becomes the PDF prints them too.
- Figures on pages outside the numbered chapters are numbered like appendices (A.1, B.1).
"""
from __future__ import annotations

import html
import os
import string
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.util.docutils import SphinxDirective

from fourpillars import citation

CHAPTER_DIR = "notebooks/"


def rel(docname: str, target: str) -> str:
    return os.path.relpath(target, os.path.dirname(docname) or ".")


def chapter_of(env, docname: str) -> tuple[str, str | None]:
    """A page's title and its chapter number (None outside the numbered chapters)."""
    number = ".".join(map(str, env.toc_secnumbers.get(docname, {}).get("", ()))) or None
    return env.titles[docname].astext(), number


def source_doc(node, docname: str) -> str:
    """The document a node comes from: the single-page build inlines every document into the
    root one and marks each inlined section with its docname (its nodes' parents still point
    into the inlined document, not to the start_of_file node around it); the other builds keep
    one document per page."""
    while node is not None:
        if isinstance(node, (nodes.section, addnodes.start_of_file)) and "docname" in node:
            return node["docname"]
        node = node.parent
    return docname


def figure_citation_html(app, name: str, docname: str) -> str:
    """The 'Cite this figure' line under a numbered figure, linking to the figure itself."""
    number = app.env.toc_fignumbers.get(docname, {}).get("figure", {}).get(name)
    if not number:
        return ""
    title, chapter = chapter_of(app.env, docname)
    cite = citation.figure_citation(app.config.fp_book, ".".join(map(str, number)), title, chapter,
                                    docname + ".html", name)
    return f'<p class="fp-figure-cite">Cite this figure: {cite}</p>'


# --- Citations ---------------------------------------------------------------------

def citation_block(book, title: str, number: str, docname: str, ris_href: str) -> str:
    path = docname + ".html"
    bib = html.escape(citation.bibtex(book, title, number, path))
    return (
        f'<section class="fp-cite" id="cite-{Path(docname).name}"><h2>Cite this chapter</h2>'
        f'<p><strong>APA 7</strong><br>{citation.apa(book, title, number, path)}</p>'
        f'<p><strong>Chicago</strong><br>{citation.chicago(book, title, number, path)}</p>'
        f'<p><strong>BibTeX</strong></p><pre class="fp-bibtex">{bib}</pre>'
        f'<p><span class="fp-screen-only"><a href="{ris_href}" download>Download RIS</a> (Zotero, EndNote, '
        'Mendeley). </span>Each figure above has its own citation under it.</p></section>')


SEE_ALSO = [("book/timeline", "Timeline of events, 1999–2026"), ("book/map", "Map of the region"),
            ("book/contested", "Contested figures"), ("book/data", "The data")]


def see_also(app, docname: str) -> str:
    links = [f'<li><a href="{rel(docname, doc + ".html")}">{label}</a></li>'
             for doc, label in SEE_ALSO if doc in app.env.found_docs]
    return f'<nav class="fp-see-also" aria-label="See also"><h2>See also</h2><ul>{"".join(links)}</ul></nav>' if links else ""


def add_chapter_citations(app, doctree, docname: str) -> None:
    """Close each chapter with 'See also' and 'Cite this chapter' (in the single-page build,
    each chapter inlined into the root document gets its own)."""
    if app.builder.format != "html":
        return
    book = app.config.fp_book
    parts = list(doctree.findall(addnodes.start_of_file)) or [doctree]
    for part in parts:
        doc = part["docname"] if isinstance(part, addnodes.start_of_file) else docname
        if not doc.startswith(CHAPTER_DIR):
            continue
        title, number = chapter_of(app.env, doc)
        ris_href = rel(docname, f"cite/{Path(doc).name}.ris")  # relative to the page being written
        part += nodes.raw("", see_also(app, docname) + citation_block(book, title, number, doc, ris_href), format="html")


def write_ris_files(app, exception) -> None:
    """cite/<chapter>.ris for every chapter, and cite/book.ris."""
    if exception is not None or app.builder.format != "html":
        return
    book, out = app.config.fp_book, Path(app.outdir) / "cite"
    out.mkdir(parents=True, exist_ok=True)
    (out / "book.ris").write_text(citation.ris(book), encoding="utf-8", newline="")
    for doc in sorted(d for d in app.env.found_docs if d.startswith(CHAPTER_DIR)):
        title, number = chapter_of(app.env, doc)
        (out / f"{Path(doc).name}.ris").write_text(citation.ris(book, title, number, doc + ".html"),
                                                   encoding="utf-8", newline="")


def add_meta_tags(app, pagename: str, templatename, context: dict, doctree) -> None:
    """citation_* tags on every page of the book: the book itself on the home page, a section
    of it (a chapter, with its number) on every other page."""
    if doctree is None:  # Sphinx's own pages (search, index)
        return
    book = app.config.fp_book
    if pagename == app.config.root_doc:
        tags = citation.meta_tags(book)
    else:
        title, number = chapter_of(app.env, pagename)
        tags = citation.meta_tags(book, title, number, pagename + ".html")
    context["metatags"] = context.get("metatags", "") + citation.meta_html(tags)


class BookCitation(SphinxDirective):
    """``{fourpillars-book-citation}``: the whole book's citation, from CITATION.cff."""

    def run(self):
        book = self.config.fp_book
        href = rel(self.env.docname, "cite/book.ris")
        body = (f'<div class="fp-cite"><p><strong>APA 7</strong><br>{citation.apa(book)}</p>'
                f'<p><strong>Chicago</strong><br>{citation.chicago(book)}</p>'
                f'<p><strong>BibTeX</strong></p><pre class="fp-bibtex">{html.escape(citation.bibtex(book))}</pre>'
                f'<p class="fp-screen-only"><a href="{href}" download>Download RIS</a></p></div>')
        return [nodes.raw("", body, format="html")]


def escape_title_and_author(app, pagename, templatename, context, doctree) -> None:
    """The theme prints the title (sidebar) and the author (footer) as HTML, unescaped: give the
    templates them escaped, as Markup, so those that do escape them do not escape them twice."""
    from markupsafe import Markup
    context["docstitle"] = Markup.escape(app.config.fp_book.title)
    context["author"] = Markup.escape(app.config.fp_book.author_text)


def number_appendix_figures(app, env) -> list[str]:
    """Sphinx numbers the figures of unnumbered pages 1, 2, ... across the book, beside the
    chapters' 1.1, 3.2; number them like appendices instead, one letter per page in the order
    of the contents (the timeline's figure A.1, the map's B.1). Runs after Sphinx's own
    numbering, which it redoes on every build."""
    env.fp_sphinx_fignumbers = {}
    letters = iter(string.ascii_uppercase)
    for docname, kinds in env.toc_fignumbers.items():
        figures = kinds.get("figure", {})
        if figures and all(len(n) == 1 for n in figures.values()):
            env.fp_sphinx_fignumbers[docname] = dict(figures)
            letter = next(letters)
            for i, name in enumerate(sorted(figures, key=figures.get), start=1):
                figures[name] = (letter, i)
    return []


def restore_sphinx_fignumbers(app, env) -> list[str]:
    """Sphinx rewrites the pages whose new figure numbers differ from the saved ones: give it
    its own numbers back before it compares, or the letters alone would have the timeline and
    map rewritten at every rebuild."""
    for docname, figures in getattr(env, "fp_sphinx_fignumbers", {}).items():
        if "figure" in env.toc_fignumbers.get(docname, {}):
            env.toc_fignumbers[docname]["figure"] = dict(figures)
    return []


def on_config_inited(app, config) -> None:
    """Title, author, edition, licence and address come from CITATION.cff, nowhere else."""
    book = citation.read_book()
    config.fp_book = book
    config.project = config.html_title = book.title
    config.author = book.author_text
    config.copyright = f"{book.year}, {book.author_text}"
    config.html_baseurl = book.url  # Sphinx writes <link rel="canonical" href="{url}{page}.html">
    config.html_theme_options["extra_footer"] = (
        f'<p class="fp-edition">{html.escape(book.edition_text.capitalize())}, released {html.escape(book.date)}. '
        f'Text, figures and data: {html.escape(book.license)}.</p>')


def setup(app):
    app.add_config_value("fp_book", None, "env")
    app.connect("config-inited", on_config_inited)
    app.connect("env-get-updated", restore_sphinx_fignumbers, priority=100)  # before Sphinx numbers (500)
    app.connect("env-get-updated", number_appendix_figures, priority=900)  # after
    app.connect("doctree-resolved", add_chapter_citations)
    app.connect("build-finished", write_ris_files)
    app.connect("html-page-context", add_meta_tags, priority=900)
    app.connect("html-page-context", escape_title_and_author)
    app.add_directive("fourpillars-book-citation", BookCitation)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": False}

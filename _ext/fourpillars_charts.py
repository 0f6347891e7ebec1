"""Sphinx extension: offline charts, figure exports and citations for the book.

- Serves Vega, Vega-Lite and vega-embed from the book's own _static (the bundle
  vl-convert ships), wrapped in a function scope so its top-level `const _`
  cannot clash with Sphinx's `_`. Loaded only on pages that hold a chart.
- For each figure (a `div.fp-figure` emitted by `fourpillars.Figure`), writes
  figures/<name>.csv (exactly the rows it draws), .svg, .png and .vl.json into
  the HTML output, and links them under the chart with the figure's citation.
- From CITATION.cff alone: the book's title and edition on every page, a
  "Cite this chapter" block (APA, Chicago, BibTeX, RIS) and Highwire citation_*
  meta tags on each chapter, and the book's citation on the How-to-cite page.
"""
from __future__ import annotations

import csv
import html
import io
import json
import multiprocessing
import os
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from fourpillars import citation

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
FIGURE_RE = re.compile(r'<div class="fp-figure" data-figure="(fig-[a-z0-9-]+)" data-rows="(data-[a-z0-9]+)">.*?'
                       r'<script type="application/json" class="fp-spec">(.*?)</script></div>', re.S)
EXPORT_WIDTH = 720  # charts fill the text width on screen; exported images get a fixed one
CHAPTER_DIR = "notebooks/"


# --- Vega, offline -----------------------------------------------------------------

def bundle_name() -> str:
    import vl_convert as vlc
    return f"vega-bundle-{vlc.get_vega_version()}-{vlc.get_vegalite_versions()[-1]}-{vlc.get_vega_embed_version()}.js"


def write_bundle(outdir: Path) -> None:
    import vl_convert as vlc
    target = outdir / "_static" / "fourpillars" / bundle_name()
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("(function () {\n" + vlc.javascript_bundle() + "\n})();\n", encoding="utf-8")


# --- Figure exports ----------------------------------------------------------------

def rows_csv(spec: dict, rows_key: str) -> str:
    values = spec["datasets"][rows_key]
    columns = list(dict.fromkeys(k for row in values for k in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(values)
    return out.getvalue()


def export(spec: dict, name: str, rows_key: str, outdir: Path) -> None:
    """Write the figure's files, skipping the slow image renders when nothing changed."""
    import vl_convert as vlc
    folder = outdir / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(spec, sort_keys=True, indent=1, ensure_ascii=False)
    spec_path = folder / f"{name}.vl.json"
    if spec_path.exists() and spec_path.read_text(encoding="utf-8") == text and (folder / f"{name}.png").exists():
        return
    fixed = dict(spec, width=EXPORT_WIDTH) if spec.get("width") == "container" else spec
    (folder / f"{name}.csv").write_text(rows_csv(spec, rows_key), encoding="utf-8")
    svg = vlc.vegalite_to_svg(fixed)
    (folder / f"{name}.svg").write_text(svg, encoding="utf-8")
    # Rasterise the SVG just drawn rather than drawing the chart a second time (saves ~4 s a build).
    (folder / f"{name}.png").write_bytes(vlc.svg_to_png(svg, scale=2))
    spec_path.write_text(text, encoding="utf-8")


def start_export(app, spec: dict, name: str, rows_key: str) -> None:
    """Drawing a figure's images takes ~0.2 s of CPU and vl-convert holds the GIL, so the
    exports run in two worker processes while Sphinx goes on writing pages."""
    if not hasattr(app, "fp_exports"):
        pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))
        app.fp_exports = (pool, [])
    pool, jobs = app.fp_exports
    jobs.append((name, pool.submit(export, spec, name, rows_key, Path(app.outdir))))


def finish_exports(app, exception) -> None:
    """Every figure's files exist before the build reports success; a failed export fails it."""
    pool, jobs = getattr(app, "fp_exports", (None, []))
    if pool is None:
        return
    try:
        for name, job in jobs if exception is None else []:
            if (error := job.exception()) is not None:
                raise ExtensionError(f"exporting figure {name} (CSV, SVG, PNG) failed: {error!r}") from error
    finally:
        pool.shutdown(cancel_futures=True)


def rel(docname: str, target: str) -> str:
    return os.path.relpath(target, os.path.dirname(docname) or ".")


def md_html(text: str) -> str:
    """The citation strings mark titles *like this*; render that as <em>."""
    return re.sub(r"\*(.+?)\*", r"<em>\1</em>", html.escape(text, quote=False))


def chapter_of(env, docname: str) -> tuple[str, str]:
    number = ".".join(map(str, env.toc_secnumbers.get(docname, {}).get("", ()))) or "?"
    return env.titles[docname].astext(), number


def under_figure(app, name: str, docname: str) -> str:
    base = rel(docname, "figures")
    links = [(f"{base}/{name}.csv", "data (CSV)"), (f"{base}/{name}.svg", "SVG"), (f"{base}/{name}.png", "PNG")]
    items = " · ".join(f'<a href="{href}" download>{label}</a>' for href, label in links)
    out = f'<p class="fp-downloads">Download this figure: {items}</p>'
    number = app.env.toc_fignumbers.get(docname, {}).get("figure", {}).get(name)
    if number and docname.startswith(CHAPTER_DIR):
        title, chapter = chapter_of(app.env, docname)
        cite = citation.figure_citation(app.config.fp_book, ".".join(map(str, number)), title, chapter, docname + ".html")
        out += f'<p class="fp-figure-cite">Cite this figure: {md_html(cite)}</p>'
    return out


def process_figures(app, doctree, docname: str) -> None:
    if app.builder.format != "html":
        return
    seen = getattr(app.env, "fp_figures", {})
    for node in doctree.findall(nodes.raw):
        text = node.astext()
        if "fp-figure" not in text:
            continue
        for match in FIGURE_RE.finditer(text):
            name, rows_key, raw_spec = match.groups()
            if seen.setdefault(name, docname) != docname:
                logger.warning(f"figure name '{name}' is used in both {seen[name]} and {docname}", location=docname)
            start_export(app, json.loads(raw_spec), name, rows_key)
            text = text.replace(match.group(0), match.group(0) + under_figure(app, name, docname))
        node.children = [nodes.Text(text)]
    app.env.fp_figures = seen


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


class DataPackage(SphinxDirective):
    """``{fourpillars-data-package}``: every table of data/, described from its schema,
    and the whole package as one zip (deterministic: fixed dates, sorted names)."""

    def run(self):
        import zipfile
        from fourpillars.data import DATA_DIR, read_package
        from fourpillars import load
        package = read_package()
        sources = load("sources").set_index("id")
        out = Path(self.env.app.outdir) / "downloads" / "four-pillars-data.zip"
        out.parent.mkdir(parents=True, exist_ok=True)
        files = sorted(p for p in DATA_DIR.rglob("*") if p.is_file())
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in files:
                info = zipfile.ZipInfo(f"four-pillars-data/{path.relative_to(DATA_DIR).as_posix()}", (1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
            self.env.note_dependency(str(DATA_DIR / "datapackage.json"))
        parts = [f'<p><a href="{rel(self.env.docname, "downloads/four-pillars-data.zip")}" download>'
                 f"Download the whole data package</a> (zip: {len(files)} files, the CSVs and datapackage.json).</p>"]
        for res in package["resources"]:
            table = load(res["name"])
            used = sorted(set(table["source_id"])) if "source_id" in table else []
            rows = "".join(
                f"<tr><td><code>{html.escape(f['name'])}</code></td><td>{f['type']}</td>"
                f"<td>{html.escape(f.get('description', ''))}</td>"
                f"<td>{html.escape(', '.join(f'{k}: {v}' for k, v in f.get('constraints', {}).items()))}</td></tr>"
                for f in res["schema"]["fields"])
            cited = "; ".join(html.escape(str(sources.loc[i, "publisher"])) for i in used[:12])
            more = f" and {len(used) - 12} more" if len(used) > 12 else ""
            parts.append(
                f'<section class="fp-resource" id="table-{res["name"]}"><h2><code>{res["path"]}</code>: {html.escape(res["title"])}</h2>'
                f'<p>{html.escape(res["description"])} <strong>{len(table)} rows.</strong> '
                + (f"Sources used: {len(used)} ({cited}{more}).</p>" if used else "</p>")
                + '<table class="fp-table"><thead><tr><th>Field</th><th>Type</th><th>Description</th>'
                f"<th>Constraints</th></tr></thead><tbody>{rows}</tbody></table></section>")
        return [nodes.raw("", "".join(parts), format="html")]


class Versions(SphinxDirective):
    """``{fourpillars-versions}``: the exact versions the book was built with."""

    PACKAGES = ["jupyter-book", "sphinx", "myst-nb", "sphinx-book-theme", "sphinxcontrib-bibtex", "altair",
                "vl-convert-python", "pandas", "frictionless", "nbval", "playwright", "axe-playwright-python"]

    def run(self):
        import platform
        from importlib.metadata import version
        import vl_convert as vlc
        rows = [("Python", platform.python_version())] + [(p, version(p)) for p in self.PACKAGES]
        rows += [("Vega (bundled)", vlc.get_vega_version()), ("Vega-Lite (bundled)", vlc.get_vegalite_versions()[-1]),
                 ("vega-embed (bundled)", vlc.get_vega_embed_version())]
        body = "".join(f"<tr><td>{html.escape(n)}</td><td><code>{html.escape(v)}</code></td></tr>" for n, v in rows)
        return [nodes.raw("", '<table class="fp-table"><thead><tr><th>Package</th><th>Version</th></tr></thead>'
                              f"<tbody>{body}</tbody></table>", format="html")]


# --- Page assets -------------------------------------------------------------------

def _unwanted(asset) -> bool:
    """sphinx-thebe (no live kernels here) and MathJax (the book has no math) both come from CDNs."""
    text = f"{getattr(asset, 'filename', asset)} {getattr(asset, 'attributes', {}).get('body', '')}".lower()
    return "thebe" in text or "mathjax" in text


def on_page(app, pagename, templatename, context, doctree) -> None:
    # Nothing may load from a CDN: drop sphinx-thebe's assets (which also declare their
    # globals twice, a console error) and MathJax (the single-page build adds it unasked).
    context["script_files"][:] = [s for s in context.get("script_files", []) if not _unwanted(s)]
    context["css_files"][:] = [c for c in context.get("css_files", []) if not _unwanted(c)]
    if 'class="sd-' not in (context.get("body") or ""):
        # jupyter-book always loads sphinx-design (62 KB); a page without its cards or tabs
        # does not need it.
        context["script_files"][:] = [s for s in context["script_files"] if "design-tabs" not in str(s)]
        context["css_files"][:] = [c for c in context["css_files"] if "sphinx-design" not in str(c)]
    if "fp-figure" in (context.get("body") or ""):
        app.add_js_file(f"fourpillars/{bundle_name()}", priority=510)
        app.add_js_file("fourpillars-charts.js", priority=520)
    if pagename.startswith(CHAPTER_DIR) and doctree is not None:
        add_chapter_citation(app, pagename, context)
    if 'role="doc-biblioentry"' in (context.get("body") or ""):
        # sphinxcontrib-bibtex puts deprecated doc-biblioentry items in a role="list";
        # assistive technology expects list items there.
        context["body"] = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')


def on_builder_inited(app) -> None:
    if app.builder.format == "html":
        write_bundle(Path(app.outdir))


def on_config_inited(app, config) -> None:
    """Title, author, edition and licence come from CITATION.cff, nowhere else."""
    book = citation.read_book()
    config.fp_book = book
    config.project = config.html_title = book.title
    config.author = book.author_text
    config.copyright = f"{book.year}, {book.author_text}"
    config.html_static_path.append(str(STATIC))
    # Shadows two theme templates, to drop the 1.5 MB Font Awesome script and the search
    # index on every page (see the files).
    config.templates_path.insert(0, str(Path(__file__).parent / "templates"))
    config.html_theme_options["extra_footer"] = (
        f'<p class="fp-edition">Edition {book.version}, released {book.date}. '
        f'Text, figures and data: {book.license}.</p>')


def setup(app):
    app.add_config_value("fp_book", None, "env")
    app.connect("config-inited", on_config_inited)
    app.connect("builder-inited", on_builder_inited)
    app.connect("doctree-resolved", process_figures)
    app.connect("html-page-context", on_page, priority=900)
    app.connect("build-finished", finish_exports)
    app.add_directive("fourpillars-book-citation", BookCitation)
    app.add_directive("fourpillars-data-package", DataPackage)
    app.add_directive("fourpillars-versions", Versions)
    app.add_css_file("fourpillars.css")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": False}

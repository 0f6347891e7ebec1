"""Sphinx extension: offline charts and figure exports.

- Serves Vega, Vega-Lite and vega-embed from the book's own _static (the bundle
  vl-convert ships), wrapped in a function scope so its top-level `const _`
  cannot clash with Sphinx's `_`. Loaded only on pages that hold a chart.
- For each figure (a `div.fp-figure` emitted by `fourpillars.Figure`), writes
  figures/<name>.csv (exactly the rows it draws), .svg, .png and .vl.json into
  the HTML output, and links them under the chart with the figure's citation.
- Page assets: nothing from a CDN, nothing a page does not use.
"""
from __future__ import annotations

import csv
import io
import json
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.util import logging

from fourpillars_cite import figure_citation_html, rel, source_doc

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
FIGURE_RE = re.compile(r'<div class="fp-figure" data-figure="(fig-[a-z0-9-]+)" data-rows="(data-[a-z0-9]+)">.*?'
                       r'<script type="application/json" class="fp-spec">(.*?)</script></div>', re.S)
EXPORT_WIDTH = 720  # charts fill the text width on screen; exported images get a fixed one


# --- Vega, offline -----------------------------------------------------------------

def bundle_name() -> str:
    import vl_convert as vlc
    return f"vega-bundle-{vlc.get_vega_version()}-{vlc.get_vegalite_versions()[-1]}-{vlc.get_vega_embed_version()}.js"


def write_bundle(app) -> None:
    """Write the bundle unless the file holds exactly what was last written: a torn or edited
    copy is replaced. (Making the bundle takes vl-convert ~5 s, so the digest of what was
    written is kept beside Sphinx's environment rather than the bundle remade to compare.)"""
    import hashlib
    import vl_convert as vlc
    target = Path(app.outdir) / "_static" / "fourpillars" / bundle_name()
    record = Path(app.doctreedir) / f"{bundle_name()}.sha256"
    digest = lambda data: hashlib.sha256(data).hexdigest()
    if target.exists() and record.exists() and digest(target.read_bytes()) == record.read_text():
        return
    data = ("(function () {\n" + vlc.javascript_bundle() + "\n})();\n").encode("utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    partial.write_bytes(data)
    partial.replace(target)  # a killed build leaves the old file or the new one, never half of one
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(digest(data))

# --- Figure exports ----------------------------------------------------------------

def rows_csv(spec: dict, rows_key: str) -> str:
    """The figure's rows as CSV, written as the data package writes them (booleans true/false).
    A text cell a spreadsheet would run as a formula stops the build: the loader refuses them in
    the data, so one here was made by a chapter's code."""
    from fourpillars.data import FORMULA_START
    values = spec["datasets"][rows_key]
    columns = list(dict.fromkeys(k for row in values for k in row))
    for row in values:
        for column, value in row.items():
            if isinstance(value, str) and re.match(FORMULA_START, value):
                raise ValueError(f"column '{column}': {value[:80]!r} would run as a formula in a spreadsheet; "
                                 "expected text that does not start with = + @, a space or - followed by a non-digit")
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: str(v).lower() if isinstance(v, bool) else v for k, v in row.items()} for row in values)
    return out.getvalue()


def export(spec: dict, name: str, rows_key: str, outdir: Path) -> None:
    """Write the figure's files, skipping the slow image renders when nothing changed."""
    import vl_convert as vlc
    from fourpillars import fonts
    fonts.register()  # draw with the book's own fonts, never the machine's
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


def unexported(app, env, added, changed, removed) -> list[str]:
    """A page written by a build that was killed (or failed) while drawing its figures has no
    complete exports, and a later build, finding the page up to date, would neither write nor
    draw it again: such pages are read again. (A figure's .vl.json is written last.)"""
    if app.builder.name != "html":  # the single-page build writes, and draws, everything each time
        return []
    out = Path(app.outdir)
    stale = []
    for docname in sorted(env.found_docs - set(added) - set(changed)):
        page = out / f"{docname}.html"
        names = re.findall(r'data-figure="(fig-[a-z0-9-]+)"', page.read_text(encoding="utf-8")) if page.exists() else []
        if any(not (out / "figures" / f"{name}.vl.json").exists() for name in names):
            stale.append(docname)
    return stale


def under_figure(app, name: str, docname: str, source: str) -> str:
    """Download links (relative to the page written) and the citation (of the figure's own document)."""
    base = rel(docname, "figures")
    links = [(f"{base}/{name}.csv", "data (CSV)"), (f"{base}/{name}.svg", "SVG"), (f"{base}/{name}.png", "PNG")]
    items = " · ".join(f'<a href="{href}" download>{label}</a>' for href, label in links)
    return f'<p class="fp-downloads">Download this figure: {items}</p>' + figure_citation_html(app, name, source)


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
            text = text.replace(match.group(0), match.group(0) + under_figure(app, name, docname, source_doc(node, docname)))
        node.children = [nodes.Text(text)]
    app.env.fp_figures = seen


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
    if 'role="doc-biblioentry"' in (context.get("body") or ""):
        # sphinxcontrib-bibtex puts deprecated doc-biblioentry items in a role="list";
        # assistive technology expects list items there.
        context["body"] = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')


def on_builder_inited(app) -> None:
    if app.builder.format == "html":
        write_bundle(app)
        from fourpillars import fonts
        fonts.web_fonts(Path(app.outdir) / "_static" / "fourpillars" / "fonts")
        # myst-nb copies its stylesheet only when the build ends, and Sphinx adds ?v=<checksum>
        # to links of files already in the output: a clean build linked it without one, every
        # later build with one. Copied before any page is written, every build links it alike.
        from myst_nb.sphinx_ext import add_global_html_resources
        add_global_html_resources(app, None)


def on_config_inited(app, config) -> None:
    config.html_static_path.append(str(STATIC))
    # Shadows two theme templates, to drop the 1.5 MB Font Awesome script and the search
    # index on every page (see the files).
    config.templates_path.insert(0, str(Path(__file__).parent / "templates"))


def setup(app):
    app.connect("config-inited", on_config_inited)
    app.connect("builder-inited", on_builder_inited)
    app.connect("env-get-outdated", unexported)
    app.connect("doctree-resolved", process_figures)
    app.connect("html-page-context", on_page, priority=900)
    app.connect("build-finished", finish_exports)
    app.add_css_file("fourpillars.css")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": False}

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
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.util import logging

from fourpillars.files import kept, write_whole
from fourpillars_cite import figure_citation_html, rel, source_doc

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


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
    # The bundle depends only on the installed vl-convert (its versions name the file), so it is
    # made once per environment, as fourpillars/fonts.py makes the fonts, and a clean build copies it.
    data = kept(Path(sys.prefix) / "share" / "fourpillars-vega" / bundle_name(),
                lambda: ("(function () {\n" + vlc.javascript_bundle() + "\n})();\n").encode("utf-8"))
    write_whole(target, data)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(digest(data))

# --- Figure exports ----------------------------------------------------------------

FIGURE_RE = re.compile(
    r'<div class="fp-figure" data-figure="(?P<name>fig-[a-z0-9-]+)" data-rows="(?P<rows>data-[a-z0-9]+)">'
    r'<div class="fp-chart" role="(?P<role>img|group)" aria-label="(?P<alt>[^"]*)">'
    r'<div class="fp-static" data-variant="L">(?P<wide><svg.*?</svg>)</div></div>'
    r'<script type="application/json" class="fp-spec">(?P<spec>.*?)</script></div>', re.S)


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


def write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def export_png(svg_path: Path, png_path: Path) -> None:
    """The PNG download, rasterised from the wide drawing (vl-convert, in a worker process)."""
    from fourpillars import render
    write_whole(png_path, render.png(svg_path.read_text(encoding="utf-8"), scale=2))  # a killed build leaves no torn PNG


def pool(app) -> ProcessPoolExecutor:
    """Two worker processes for vl-convert's work (it holds the GIL): the phone and tablet layouts
    of each figure and its PNG download, started as soon as its notebook has run or its page is read."""
    if not hasattr(app, "fp_pool"):
        app.fp_pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))
        app.fp_jobs, app.fp_layouts = [], {}
    return app.fp_pool


def start_png(app, name: str, svg_path: Path, png_path: Path) -> None:
    job = pool(app).submit(export_png, svg_path, png_path)  # creates app.fp_jobs on first use
    app.fp_jobs.append((name, job))


def start_drawing(app, text: str) -> None:
    """Starts drawing, in the workers, the layouts and PNG of each figure in `text` not drawn yet;
    the page is written with them later (layouts_of). A figure an earlier build drew is read
    from its files then, and needs no worker."""
    from fourpillars.layout import all_cached
    for match in FIGURE_RE.finditer(text):
        key = (match["name"], match["spec"])
        exported = (Path(app.outdir) / "figures" / f"{match['name']}.png").exists()
        if key not in getattr(app, "fp_layouts", {}) and not (all_cached(match["spec"]) and exported):
            app.fp_layouts[key] = pool(app).submit(drawings_of, match["spec"], True)


def start_layouts(app, doctree) -> None:
    """As soon as a page is read, its figures' layouts are drawn, while Sphinx goes on reading."""
    if app.builder.format != "html":
        return
    for node in doctree.findall(nodes.raw):
        if "fp-figure" in (text := node.astext()):
            start_drawing(app, text)


def start_layouts_early(app, nb) -> None:
    """A notebook just executed ahead of reading (_ext/fourpillars_speed.py): its figures are
    drawn while the other notebooks run, rather than once Sphinx reads its page."""
    if app.builder.format != "html":
        return
    for text in figure_outputs(nb):
        start_drawing(app, text)


def figure_outputs(nb):
    """The HTML outputs of a notebook that hold figures."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            for mime, text in output.get("data", {}).items():
                if mime.endswith("text/html") and "fp-figure" in text:
                    yield text


def drawings_of(spec_text: str, png: bool = False) -> dict:
    """A figure's layouts (fourpillars.layout.drawings) and, if asked, its PNG download, drawn in
    the same worker so that it is ready when the page is written."""
    from fourpillars import render
    from fourpillars.layout import drawings
    drawn = drawings(spec_text)
    if png:
        drawn["png"] = render.png(drawn["svg"]["L"], scale=2)
    return drawn


def layouts_of(app, match: re.Match) -> dict:
    job = getattr(app, "fp_layouts", {}).pop((match["name"], match["spec"]), None)
    try:
        return job.result() if job else drawings_of(match["spec"])
    except Exception as error:
        raise ExtensionError(f"drawing the layouts of figure {match['name']} failed: {error!r}") from error


def finish_exports(app, exception) -> None:
    """Every figure's files exist before the build reports success; a failed export fails it."""
    if not hasattr(app, "fp_pool"):
        return
    try:
        for name, job in app.fp_jobs if exception is None else []:
            if (error := job.exception()) is not None:
                raise ExtensionError(f"exporting figure {name} (PNG) failed: {error!r}") from error
    finally:
        app.fp_pool.shutdown(cancel_futures=True)


def export(app, match: re.Match, drawn: dict) -> dict:
    """Writes a figure's drawings and live spec to figures/ (the page then loads only the drawing
    its screen needs, and the spec when the live chart is drawn), and the CSV of exactly the rows
    it draws. Returns each variant's drawing size."""
    from fourpillars.render import svg_size
    name = match["name"]
    folder = Path(app.outdir) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    spec = drawn["live"]
    sizes = {}
    for variant, svg in drawn["svg"].items():
        path = folder / (f"{name}.svg" if variant == "L" else f"{name}.{variant}.svg")
        changed = write_if_changed(path, svg)
        png = folder / f"{name}.png"
        if variant == "L" and (changed or not png.exists()):
            if "png" in drawn:  # drawn with the layouts
                write_whole(png, drawn["png"])
            else:
                start_png(app, name, path, png)
        sizes[variant] = tuple(round(x) for x in svg_size(svg))
    write_if_changed(folder / f"{name}.csv", rows_csv(spec, match["rows"]))
    write_if_changed(folder / f"{name}.vl.json", json.dumps(spec, sort_keys=True, indent=1, ensure_ascii=False))
    # The same spec as a script, so the live chart also draws from a book opened as files
    # (a browser will not fetch() a file:// URL, but it runs a script).
    write_if_changed(folder / f"{name}.vl.js", f"fourpillarsSpec({json.dumps(name)}, "
                     + json.dumps(spec, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + ");\n")
    return sizes


def page_figure(app, match: re.Match, docname: str, first: bool) -> str:
    """A figure on the page: its static drawing, the one variant the screen width picks, sized
    so nothing moves; the page script later draws the same variant live over it. Under it, the
    rows it draws as a data table. The text alternative is written once, as the drawing's alt;
    the page script gives it to the chart's container (role img, or group for a chart with
    controls) when the live chart hides the drawing."""
    from fourpillars.figures import data_table
    from fourpillars.layout import VARIANTS
    drawn = layouts_of(app, match)
    sizes = export(app, match, drawn)
    name, base = match["name"], rel(docname, "figures")
    sources = "".join(f'<source media="{media}" srcset="{base}/{name}.{v}.svg" width="{sizes[v][0]}" '
                      f'height="{sizes[v][1]}">' for v, (_, _, media) in VARIANTS.items() if v != "L")
    width, height = sizes["L"]
    # The first figure may be the largest thing in the first screen: fetch it at once.
    loading = "eager" if first else "lazy"
    picture = (f'<picture>{sources}<img src="{base}/{name}.svg" width="{width}" height="{height}" '
               f'alt="{match["alt"]}" loading="{loading}" decoding="async" elementtiming="{name}"></picture>')
    table = data_table(name, json.loads(match["spec"]), match["rows"])
    return (f'<div class="fp-figure" data-figure="{name}" data-spec="{base}/{name}.vl.js">'
            f'<div class="fp-chart" data-role="{match["role"]}">{picture}</div>{table}</div>')


def unexported(app, env, added, changed, removed) -> list[str]:
    """A page written by a build that was killed (or failed) while drawing its figures has no
    complete exports (the PNG is drawn in a worker after the page is written), and a later
    build, finding the page up to date, would neither write nor draw it again: such pages are
    read again."""
    if app.builder.name != "html":  # the single-page build writes, and draws, everything each time
        return []
    out = Path(app.outdir)
    stale = []
    for docname in sorted(env.found_docs - set(added) - set(changed)):
        page = out / f"{docname}.html"
        names = re.findall(r'data-figure="(fig-[a-z0-9-]+)"', page.read_text(encoding="utf-8")) if page.exists() else []
        if any(not (out / "figures" / f"{name}.{kind}").exists() for name in names for kind in ("png", "vl.json")):
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
    first = True
    for node in doctree.findall(nodes.raw):
        text = node.astext()
        if "fp-figure" not in text:
            continue
        out, end = [], 0
        for match in FIGURE_RE.finditer(text):
            name = match["name"]
            if seen.setdefault(name, docname) != docname:
                logger.warning(f"figure name '{name}' is used in both {seen[name]} and {docname}", location=docname)
            out += [text[end:match.start()], page_figure(app, match, docname, first), under_figure(app, name, docname, source_doc(node, docname))]
            end, first = match.end(), False
        if out:
            node.children = [nodes.Text("".join(out) + text[end:])]
    app.env.fp_figures = seen


# --- Page assets -------------------------------------------------------------------

def _unwanted(asset) -> bool:
    """sphinx-thebe (no live kernels here) and MathJax (the book has no math) both come from CDNs."""
    text = f"{getattr(asset, 'filename', asset)} {getattr(asset, 'attributes', {}).get('body', '')}".lower()
    return "thebe" in text or "mathjax" in text


PLAIN_TOKEN = re.compile(r'<span class="[npw]">([^<]*)</span>')
CODE_BLOCK = re.compile(r'<div class="highlight"><pre>.*?</pre>', re.S)


def plain_tokens(body: str) -> str:
    """Pygments wraps every name, punctuation mark and space of code in its own span, though the
    theme draws those three in the code's own colour, light and dark: unwrapped, the code looks the
    same. (The hidden code cells are written without highlighting at all: _ext/fourpillars_notebook.py.)"""
    return CODE_BLOCK.sub(lambda m: PLAIN_TOKEN.sub(r"\1", m.group(0)), body)


INDENT = re.compile(r"\n[ \t]+")
VERBATIM = re.compile(r"(<pre\b.*?</pre>|<textarea\b.*?</textarea>|<script\b.*?</script>|<style\b.*?</style>)", re.S)


def no_indent(body: str) -> str:
    """The indentation docutils, myst-nb and pandas write before each line of markup (some 5 KB of a
    chapter page) is dropped; a line break still separates the words, and text whose spaces
    count (code, scripts) is left as it is."""
    parts = VERBATIM.split(body)
    parts[::2] = [INDENT.sub("\n", part) for part in parts[::2]]
    return "".join(parts)


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
        # Text first: the page script is deferred and small; it fetches the Vega bundle itself
        # after the page has loaded (the charts' static drawings are already on screen), and
        # draws each chart live as it nears the viewport.
        from fourpillars.layout import VARIANTS
        media = json.dumps({v: m for v, (_, _, m) in VARIANTS.items()}, separators=(",", ":"))
        app.add_js_file("fourpillars-charts.js", priority=520, defer="defer",
                        **{"data-bundle": f"fourpillars/{bundle_name()}", "data-media": media})
    if '<div class="highlight"><pre>' in (context.get("body") or ""):
        context["body"] = plain_tokens(context["body"])
    if context.get("body"):
        context["body"] = no_indent(context["body"])
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
    app.connect("doctree-read", start_layouts)
    app.add_event("fourpillars-executed")  # emitted by _ext/fourpillars_speed.py
    app.connect("fourpillars-executed", start_layouts_early)
    app.connect("doctree-resolved", process_figures)
    app.connect("html-page-context", on_page, priority=900)
    app.connect("build-finished", finish_exports)
    app.add_css_file("fourpillars.css")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": False}

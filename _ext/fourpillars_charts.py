"""Sphinx extension: draw the book's charts offline and export every figure.

- Serves Vega, Vega-Lite and vega-embed from the book's own _static (the bundle
  vl-convert ships), wrapped in a function scope so its top-level `const _`
  cannot clash with Sphinx's `_`. Loaded only on pages that hold a chart.
- For each figure (a `div.fp-figure` emitted by `fourpillars.Figure`), writes
  figures/<name>.csv (exactly the rows it draws), .svg, .png and .vl.json into
  the HTML output, and links them under the chart.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
FIGURE_RE = re.compile(r'<div class="fp-figure" data-figure="(fig-[a-z0-9-]+)">.*?'
                       r'<script type="application/json" class="fp-spec">(.*?)</script></div>', re.S)
EXPORT_WIDTH = 720  # charts fill the text width on screen; exported images get a fixed one


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


def rows_csv(spec: dict) -> str:
    (values,) = spec["datasets"].values()
    columns = list(dict.fromkeys(k for row in values for k in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(values)
    return out.getvalue()


def export(spec: dict, name: str, outdir: Path) -> None:
    """Write the figure's files, skipping the slow image renders when nothing changed."""
    import vl_convert as vlc
    folder = outdir / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(spec, sort_keys=True, indent=1, ensure_ascii=False)
    spec_path = folder / f"{name}.vl.json"
    if spec_path.exists() and spec_path.read_text(encoding="utf-8") == text and (folder / f"{name}.png").exists():
        return
    fixed = dict(spec, width=EXPORT_WIDTH) if spec.get("width") == "container" else spec
    (folder / f"{name}.csv").write_text(rows_csv(spec), encoding="utf-8")
    (folder / f"{name}.svg").write_text(vlc.vegalite_to_svg(fixed), encoding="utf-8")
    (folder / f"{name}.png").write_bytes(vlc.vegalite_to_png(fixed, scale=2))
    spec_path.write_text(text, encoding="utf-8")


def downloads(name: str, docname: str) -> str:
    base = os.path.relpath("figures", os.path.dirname(docname) or ".")
    links = [(f"{base}/{name}.csv", "data (CSV)"), (f"{base}/{name}.svg", "SVG"), (f"{base}/{name}.png", "PNG")]
    items = " · ".join(f'<a href="{href}" download>{label}</a>' for href, label in links)
    return f'<p class="fp-downloads">Download this figure: {items}</p>'


def process_figures(app, doctree, docname: str) -> None:
    if app.builder.format != "html":
        return
    seen = app.env.fp_figures if hasattr(app.env, "fp_figures") else {}
    for node in doctree.findall(nodes.raw):
        text = node.astext()
        if "fp-figure" not in text:
            continue
        for match in FIGURE_RE.finditer(text):
            name, raw_spec = match.groups()
            if seen.setdefault(name, docname) != docname:
                logger.warning(f"figure name '{name}' is used in both {seen[name]} and {docname}", location=docname)
            spec = json.loads(raw_spec)
            export(spec, name, Path(app.outdir))
            text = text.replace(match.group(0), match.group(0) + downloads(name, docname))
        node.children = [nodes.Text(text)]
    app.env.fp_figures = seen


def _is_thebe(asset) -> bool:
    text = f"{getattr(asset, 'filename', asset)} {getattr(asset, 'attributes', {}).get('body', '')}"
    return "thebe" in text.lower()


def add_page_assets(app, pagename, templatename, context, doctree) -> None:
    # The book offers no live kernels: drop sphinx-thebe's assets, which declare
    # their globals twice (a console error) and name a CDN.
    context["script_files"][:] = [s for s in context.get("script_files", []) if not _is_thebe(s)]
    context["css_files"][:] = [c for c in context.get("css_files", []) if not _is_thebe(c)]
    if "fp-figure" in (context.get("body") or ""):
        app.add_js_file(f"fourpillars/{bundle_name()}", priority=510)
        app.add_js_file("fourpillars-charts.js", priority=520)


def on_builder_inited(app) -> None:
    if app.builder.format == "html":
        write_bundle(Path(app.outdir))


def on_config_inited(app, config) -> None:
    config.html_static_path.append(str(STATIC))


def setup(app):
    app.connect("config-inited", on_config_inited)
    app.connect("builder-inited", on_builder_inited)
    app.connect("doctree-resolved", process_figures)
    app.connect("html-page-context", add_page_assets, priority=900)
    app.add_css_file("fourpillars.css")
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": False}

"""One chart definition, the layouts a screen needs.

Each figure is drawn in three variants computed from its one Vega-Lite spec at build time:

- S, a phone (viewport < 480 px): panels stacked in one column, long labels and titles wrapped
  onto several lines, legends stacked, fitted to 272 px (the text column at 320 px);
- M, a small tablet or a phone held sideways (480-767 px): the same, fitted to 432 px;
- L, everything wider: the chart's own layout (side-by-side panels), fitted to 672 px.

A variant is shown between 1x and 1.3x its design width, so its text, never smaller than
11 px in the design, is never smaller than 11 px on screen, and no label is cut with "…":
label limits are lifted and long labels wrapped instead. The static drawing of a variant
and the live chart drawn from the same variant spec have the same size, so the page does
not move when the live chart replaces the drawing.
"""
from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import textwrap
from pathlib import Path

from . import render
from .data import ROOT

CACHE = ROOT / "_build" / ".fp-layout"

# name: (layout, design width in px, the CSS media query that shows it). _ext/static/fourpillars.css
# repeats the widths (max 1.3x) and the breakpoints; tests/test_layout.py checks that they agree.
VARIANTS = {
    "S": ("narrow", 272, "(max-width: 479.98px)"),
    "M": ("narrow", 432, "(min-width: 480px) and (max-width: 767.98px)"),
    "L": ("wide", 672, "(min-width: 768px)"),
}
MAX_SCALE = 1.3
MIN_FONT = 11
COMPOUND = ("facet", "hconcat", "vconcat", "concat", "repeat")
FONT_KEYS = ("fontSize", "labelFontSize", "titleFontSize", "subtitleFontSize")
LIMIT_KEYS = ("labelLimit", "titleLimit")
CHAR = 0.58  # average glyph width as a share of the font size (sans-serif, mixed case), for wrapping


def _walk(node, visit) -> None:
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, list):
        for item in node:
            _walk(item, visit)


def _lift_limits(spec: dict) -> None:
    """No label, legend entry or header is ever cut with an ellipsis."""
    def visit(d):
        for k in LIMIT_KEYS:
            if k in d:
                d[k] = 0
    _walk(spec, visit)
    config = spec.setdefault("config", {})
    for part in ("axis", "legend", "header"):
        config.setdefault(part, {}).update({"labelLimit": 0})
    config["legend"]["titleLimit"] = 0


def _min_fonts(spec: dict) -> None:
    def visit(d):
        for k in FONT_KEYS:
            if isinstance(d.get(k), (int, float)) and d[k] < MIN_FONT:
                d[k] = MIN_FONT
    _walk(spec, visit)


def _reflow(node) -> None:
    """Side by side becomes one above the other: hconcat -> vconcat, column facets -> rows,
    wrapped facets and concats -> one column."""
    if isinstance(node, list):
        for item in node:
            _reflow(item)
        return
    if not isinstance(node, dict):
        return
    if "hconcat" in node:
        node["vconcat"] = node.pop("hconcat")
    if "columns" in node and ("facet" in node or "concat" in node):
        node["columns"] = 1
    facet = node.get("facet")
    if isinstance(facet, dict) and "column" in facet and "row" not in facet:
        row = facet.pop("column")
        header = row.setdefault("header", {})
        header.update({"labelOrient": "top", "labelAnchor": "start", "labelAngle": 0})
        facet["row"] = row
    for value in node.values():
        _reflow(value)


def _values(spec: dict, field: str) -> list[str]:
    """Every distinct string the spec's datasets hold in `field`, in first-seen order."""
    seen = {}
    for rows in spec.get("datasets", {}).values():
        if isinstance(rows, list):
            for row in rows:
                if isinstance(row, dict) and isinstance(row.get(field), str):
                    seen.setdefault(row[field], None)
    return list(seen)


def _lines(text: str, chars: int) -> list[str]:
    return textwrap.wrap(text, max(chars, 8), break_long_words=False, break_on_hyphens=False) or [text]


def _lookup(values: list[str], chars: int) -> tuple[str | None, int]:
    """A Vega expression that shows each long value on several lines, and the most lines used."""
    wrapped = {v: _lines(v, chars) for v in values if len(v) > chars}
    if not wrapped:
        return None, 1
    table = json.dumps(wrapped, ensure_ascii=True, separators=(",", ":"))
    return f"{table}[datum.label] || datum.label", max(len(w) for w in wrapped.values())


def _wrap(spec: dict, width: int) -> None:
    """Titles, axis and legend labels and facet headers that would not fit go onto more lines."""
    axis_chars = int(width * 0.45 / (MIN_FONT * CHAR))
    title_chars = int(width / (15 * CHAR))
    text_chars = int(width / (12 * CHAR))
    most = [1]

    def wrap_title(holder, key, chars):
        title = holder.get(key)
        if isinstance(title, str) and len(title) > chars:
            holder[key] = _lines(title, chars)
        elif isinstance(title, dict):
            for part, c in (("text", chars), ("subtitle", text_chars)):
                if isinstance(title.get(part), str) and len(title[part]) > c:
                    title[part] = _lines(title[part], c)

    def visit(d):
        if any(k in d for k in ("mark", "layer", *COMPOUND)):  # a view: its own title
            wrap_title(d, "title", title_chars)
        for channel, enc in (d.get("encoding") or {}).items():
            if not isinstance(enc, dict):
                continue
            wrap_title(enc, "title", text_chars)
            field = enc.get("field")
            if not isinstance(field, str) or enc.get("type") not in ("nominal", "ordinal"):
                continue
            if channel in ("y", "x"):
                axis = enc.get("axis")
                if axis is None or (isinstance(axis, dict) and "labelExpr" not in axis):
                    expr, n = _lookup(_values(spec, field), axis_chars if channel == "y" else text_chars // 3)
                    if expr:
                        enc["axis"] = dict(axis or {}, labelExpr=expr)
                        if channel == "y":
                            most[0] = max(most[0], n)
            elif channel in ("color", "fill", "shape", "opacity", "fillOpacity", "strokeDash", "size"):
                legend = enc.get("legend", {})
                if isinstance(legend, dict) and "labelExpr" not in legend:
                    expr, _ = _lookup(_values(spec, field), int(width * 0.8 / (12 * CHAR)))
                    if expr:
                        enc["legend"] = dict(legend, labelExpr=expr)
        facet = d.get("facet")
        for enc in ([facet] if isinstance(facet, dict) and "field" in facet else
                    [facet.get("row"), facet.get("column")] if isinstance(facet, dict) else []):
            if isinstance(enc, dict) and isinstance(enc.get("field"), str):
                header = enc.setdefault("header", {})
                if "labelExpr" not in header:
                    expr, _ = _lookup(_values(spec, enc["field"]), text_chars)
                    if expr:
                        header["labelExpr"] = expr

    wrap_title(spec, "title", title_chars)
    _walk(spec, visit)
    if most[0] > 1:  # rows of wrapped labels need room for their lines
        def grow(d):
            h = d.get("height")
            if isinstance(h, dict) and isinstance(h.get("step"), (int, float)):
                h["step"] = max(h["step"], most[0] * 13 + 4)
        _walk(spec, grow)


def _stack_legends(spec: dict) -> None:
    legend = spec.setdefault("config", {}).setdefault("legend", {})
    legend["layout"] = {o: {"direction": "vertical", "anchor": "start"} for o in ("top", "bottom")}


def _one_column_legends(spec: dict) -> None:
    def visit(d):
        enc = d.get("encoding")
        for channel in ("color", "fill", "shape", "opacity", "fillOpacity", "strokeDash", "size"):
            e = enc.get(channel) if isinstance(enc, dict) else None
            if isinstance(e, dict) and e.get("legend", {}) is not None:
                legend = e.setdefault("legend", {})
                legend.pop("columns", None)
                legend["direction"] = "vertical"
    _walk(spec, visit)


def _columns(spec: dict) -> int:
    """How many panels stand side by side in a compound spec."""
    if "hconcat" in spec:
        return len(spec["hconcat"])
    if "facet" in spec:
        facet = spec["facet"]
        if "field" in facet:
            return max(1, min(spec.get("columns", 99), len(_values(spec, facet["field"])) or 1))
        if "column" in facet:
            return max(1, len(_values(spec, facet["column"]["field"])))
    if "concat" in spec:
        return max(1, min(spec.get("columns", 99), len(spec["concat"])))
    return 1


def _panels(spec: dict) -> list[dict]:
    """The views whose width sets a compound spec's width."""
    if "facet" in spec or "repeat" in spec:
        return [spec["spec"]]
    return [v for key in ("hconcat", "vconcat", "concat") for v in spec.get(key, [])]


def _draw(spec: dict) -> tuple[str, float]:
    out = render.svg(spec)
    return out, render.svg_size(out)[0]


def _fit(spec: dict, width: int) -> tuple[dict, str, float]:
    spec = copy.deepcopy(spec)
    if not any(k in spec for k in COMPOUND):
        spec["width"] = width
        spec["autosize"] = {"type": "fit-x", "contains": "padding"}
        out, actual = _draw(spec)
        return spec, out, actual
    columns, panels = _columns(spec), _panels(spec)
    guess = max(60, (width - 90) / columns - 20)
    for p in panels:
        if not isinstance(p.get("width"), (int, float)):
            p["width"] = guess
    out, actual = _draw(spec)
    for _ in range(3):
        if abs(actual - width) <= 2 or (actual <= width and all(p["width"] <= 60 for p in panels)):
            break
        step = (width - actual) / columns
        for p in panels:
            p["width"] = max(40, round(p["width"] + step))
        before = actual
        out, actual = _draw(spec)
        if actual == before and actual > width:  # something other than the panels sets the width
            break
    return spec, out, actual


@functools.lru_cache(maxsize=1)
def _code_key() -> str:
    """What the drawings depend on besides the spec: this module, the renderer, vl-convert."""
    import importlib.metadata
    here = Path(__file__).parent
    code = (here / "layout.py").read_bytes() + (here / "render.py").read_bytes()
    return hashlib.sha256(code + importlib.metadata.version("vl-convert-python").encode()).hexdigest()


def variant(spec: dict, name: str) -> tuple[dict, str]:
    """The spec of one variant and its drawing (SVG), fitted to the variant's width. Drawing and
    fitting take a few vl-convert renders, so results are kept in _build/.fp-layout, keyed by the
    spec, the variant and the code that draws them (`make notebooks` then `make book` draws once)."""
    key = hashlib.sha256(json.dumps([spec, name, _code_key()], sort_keys=True).encode()).hexdigest()
    cached = CACHE / f"{key}.json"
    if cached.exists():
        hit = json.loads(cached.read_text(encoding="utf-8"))
        return hit["spec"], hit["svg"]
    fitted, out = _variant(spec, name)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"spec": fitted, "svg": out}, ensure_ascii=False), encoding="utf-8")
    tmp.replace(cached)
    return fitted, out


def _variant(spec: dict, name: str) -> tuple[dict, str]:
    layout, width, _ = VARIANTS[name]
    base = copy.deepcopy(spec)
    base.pop("$schema", None)
    _lift_limits(base)
    _min_fonts(base)
    if layout == "narrow":
        _reflow(base)
    _wrap(base, width)
    if layout == "narrow":
        if "projection" in json.dumps(base) and isinstance(base.get("height"), (int, float)):
            base["height"] = round(base["height"] * width / 640)  # a map keeps its shape
    best = None
    for squeeze in (None, _stack_legends, _one_column_legends):
        if squeeze:
            squeeze(base)
        fitted, out, actual = _fit(base, width)
        best = (fitted, out)
        if actual <= width + 1:
            break
    fitted, out = best
    if "$schema" in spec:
        fitted = {"$schema": spec["$schema"], **fitted}
    return fitted, out

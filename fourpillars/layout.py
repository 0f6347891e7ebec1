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
import math
import json
import os
import re
import textwrap
from pathlib import Path

from . import render
from .data import ROOT
from .files import write_whole

# Drawings already made, kept beside the build they were made for. A build into another folder
# (the benchmark's copies of the book) names its own, so that its clean build starts with none.
CACHE = Path(os.environ.get("FOURPILLARS_LAYOUT_CACHE") or ROOT / "_build" / ".fp-layout")

# name: (layout, design width in px, the CSS media query that shows it). _ext/static/fourpillars.css
# repeats the widths (max 1.3x) and the breakpoints; tests/test_layout.py checks that they agree.
# Screens pick a layout by width; print always takes the wide one (the <img> the <picture>
# falls back to), which fits an A4 page between the margins.
VARIANTS = {
    "S": ("narrow", 272, "screen and (max-width: 479.98px)"),
    "M": ("narrow", 432, "screen and (min-width: 480px) and (max-width: 767.98px)"),
    "L": ("wide", 672, "(min-width: 768px)"),
}
# A layout fitted from another's result, drawn first (the narrow ones share their structure).
FIT_FROM = {"M": "S"}
MAX_SCALE = 1.3
MIN_FONT = 11
COMPOUND = ("facet", "hconcat", "vconcat", "concat", "repeat")
FONT_KEYS = ("fontSize", "labelFontSize", "titleFontSize", "subtitleFontSize")
LIMIT_KEYS = ("labelLimit", "titleLimit")
LEGEND_CHANNELS = ("color", "fill", "stroke", "shape", "opacity", "fillOpacity", "strokeDash", "size")
CHAR = 0.58  # average glyph width as a share of the font size (sans-serif, mixed case), for wrapping
BOLD_CHAR = 0.64  # the same for titles (semi-bold)


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
    # Facet headers default to 10 px in Vega-Lite: give them the axes' size.
    header = spec.setdefault("config", {}).setdefault("header", {})
    for k in ("labelFontSize", "titleFontSize"):
        header[k] = max(header.get(k, 12), MIN_FONT)


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


def _lookup(values: list[str], chars: int, var: str = "datum.label") -> tuple[str | None, int]:
    """A Vega expression that shows each long value on several lines, and the most lines used.
    (A facet header's expression sees its value as `datum.value`; `datum.label` is not set there.)"""
    wrapped = {v: _lines(v, chars) for v in values if len(v) > chars}
    if not wrapped:
        return None, 1
    table = json.dumps(wrapped, ensure_ascii=True, separators=(",", ":"))
    return f"{table}[{var}] || {var}", max(len(w) for w in wrapped.values())


# A string a label expression returns (after `?` or `:`), e.g. `datum.label == 'EU' ? 'EU (all member
# states together)' : datum.label`; strings it compares against are left alone.
RESULT_LITERAL = re.compile(r"""([?:]\s*)(['"])((?:(?!\2).)*)\2""")


def _wrap_expr(expr: str, chars: int) -> str:
    """A chart's own label expression with each long label it returns put on several lines."""
    def lines(m):
        text = m.group(3)
        return m.group(0) if len(text) <= chars else m.group(1) + json.dumps(_lines(text, chars), ensure_ascii=True)
    return RESULT_LITERAL.sub(lines, expr)


def _label(holder: dict, key: str, values: list[str], chars: int, var: str = "datum.label") -> int:
    """Wrap the labels of an axis, legend or header (`holder[key]`): the chart's own label
    expression if it has one, else a look-up of its long values. Returns the most lines used."""
    part = holder.get(key)
    if part is None and key in holder:  # axis=None, legend=None: nothing drawn
        return 1
    part = dict(part or {})
    if "labelExpr" in part:
        part["labelExpr"] = _wrap_expr(part["labelExpr"], chars)
        holder[key] = part
        return 1
    expr, n = _lookup(values, chars, var)
    if expr:
        part["labelExpr"] = expr
        holder[key] = part
    return n


def _wrap(spec: dict, width: int, share: float = 1.0, marks: bool = False,
          legend_share: float | None = None) -> None:
    """Titles, axis and legend labels and facet headers that would not fit go onto more lines.
    Each view wraps to the width it gets: side-by-side panels (hconcat, wrapped facets and
    concats) share their parent's width. `share` < 1 wraps labels tighter still, for a second
    try when a drawing comes out too wide (a top legend starts where the plot starts, to the
    right of the y-axis labels); `legend_share` wraps the legends' labels alone tighter. `marks`
    (the narrow layouts) wraps the long strings of text marks too: a label drawn beside a bar or
    over a period, which no axis or legend wraps."""
    most = [1]

    def wrap_lines(text, chars):
        """A title as one string or as a list of lines: each line too long goes onto more lines."""
        if isinstance(text, str):
            return _lines(text, chars) if len(text) > chars else text
        if isinstance(text, list) and all(isinstance(t, str) for t in text):
            return [part for line in text for part in (_lines(line, chars) if len(line) > chars else [line])]
        return text

    def wrap_title(holder, key, chars, sub_chars):
        title = holder.get(key)
        if isinstance(title, (str, list)):
            holder[key] = wrap_lines(title, chars)
        elif isinstance(title, dict):
            for part, c in (("text", chars), ("subtitle", sub_chars)):
                if part in title:
                    title[part] = wrap_lines(title[part], c)

    def encodings(d, avail):
        axis_chars = int(avail * 0.45 * share / (MIN_FONT * CHAR))
        text_chars = int(avail / (12 * CHAR))
        legend_chars = int(width * 0.8 * (share if legend_share is None else legend_share) / (12 * CHAR))
        for channel, enc in (d.get("encoding") or {}).items():
            if not isinstance(enc, dict):
                continue
            wrap_title(enc, "title", text_chars, text_chars)
            field = enc.get("field")
            values = _values(spec, field) if isinstance(field, str) and enc.get("type") in ("nominal", "ordinal") else []
            if channel == "y":
                most[0] = max(most[0], _label(enc, "axis", values, axis_chars))
            elif channel == "x":
                _label(enc, "axis", values, max(8, text_chars // 3))
            elif channel in LEGEND_CHANNELS:
                _label(enc, "legend", values, legend_chars)

    def text_mark(d, avail):
        """A text mark's long strings (a label beside a bar, over a period) on more lines, at most
        half the view's width each; text placed above its mark grows upward, any other downward."""
        mark = d.get("mark")
        enc = (d.get("encoding") or {}).get("text")
        if (mark if isinstance(mark, str) else mark.get("type") if isinstance(mark, dict) else None) != "text":
            return
        if not isinstance(enc, dict) or not isinstance(enc.get("field"), str) \
                or enc.get("type") not in ("nominal", "ordinal"):
            return
        mark = {"type": "text"} if isinstance(mark, str) else dict(mark)
        size = mark.get("fontSize", MIN_FONT) if isinstance(mark.get("fontSize"), (int, float)) else MIN_FONT
        chars = max(8, int(avail * 0.5 * share / (size * CHAR)))
        field = enc["field"]
        wrapped = {v: "\n".join(_lines(v, chars)) for v in _values(spec, field) if len(v) > chars}
        if not wrapped:
            return
        table = json.dumps(wrapped, ensure_ascii=True, separators=(",", ":"))
        shown = f"{field}__lines"
        d["transform"] = list(d.get("transform", [])) + [
            {"calculate": f"{table}[datum[{json.dumps(field)}]] || datum[{json.dumps(field)}]", "as": shown}]
        d["encoding"] = {**d["encoding"], "text": {**enc, "field": shown}}
        mark["lineBreak"] = "\n"
        dy = mark.get("dy")
        if isinstance(dy, (int, float)) and dy < 0:
            # Vega draws a text's further lines below its first whatever the baseline: text placed
            # above its mark moves up by the lines it gained, so it does not run into the mark.
            extra = max(len(v.split("\n")) for v in wrapped.values()) - 1
            mark["dy"] = dy - extra * mark.get("lineHeight", size + 2)
        d["mark"] = mark

    def headers(facet, avail):
        chars = int(avail * share / (12 * CHAR))
        for enc in ([facet] if "field" in facet else [facet.get("row"), facet.get("column")]):
            if isinstance(enc, dict) and isinstance(enc.get("field"), str):
                enc.setdefault("header", {})
                _label(enc, "header", _values(spec, enc["field"]), chars, "datum.value")

    def view(d, avail):
        if not isinstance(d, dict):
            return
        title_chars, text_chars = int(avail / (15 * BOLD_CHAR)), int(avail / (12 * CHAR))
        if any(k in d for k in ("mark", "layer", *COMPOUND)):  # a view: its own title
            wrap_title(d, "title", title_chars, text_chars)
        encodings(d, avail)
        if marks:
            text_mark(d, avail)
        panel = avail / max(1, _columns(d, spec)) if any(k in d for k in COMPOUND) else avail
        if isinstance(d.get("facet"), dict):
            headers(d["facet"], panel)
        for key in ("layer", "hconcat", "vconcat", "concat"):
            for child in d.get(key, []):
                view(child, avail if key in ("layer", "vconcat") else panel)
        if isinstance(d.get("spec"), dict):
            view(d["spec"], panel)

    view(spec, width)
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
        for channel in LEGEND_CHANNELS:
            e = enc.get(channel) if isinstance(enc, dict) else None
            if isinstance(e, dict) and e.get("legend", {}) is not None:
                legend = e.setdefault("legend", {})
                legend.pop("columns", None)
                legend["direction"] = "vertical"
    _walk(spec, visit)


def _columns(spec: dict, top: dict | None = None) -> int:
    """How many panels stand side by side in a compound spec (`top`: the spec holding the data)."""
    top = top or spec
    if "hconcat" in spec:
        return len(spec["hconcat"])
    if "facet" in spec:
        facet = spec["facet"]
        if "field" in facet:
            return max(1, min(spec.get("columns", 99), len(_values(top, facet["field"])) or 1))
        if "column" in facet:
            return max(1, len(_values(top, facet["column"]["field"])))
    if "concat" in spec:
        return max(1, min(spec.get("columns", 99), len(spec["concat"])))
    return 1


def _panels(spec: dict) -> list[dict]:
    """The views whose width sets a compound spec's width."""
    if "facet" in spec or "repeat" in spec:
        return [spec["spec"]]
    return [v for key in ("hconcat", "vconcat", "concat") for v in spec.get(key, [])]


_DRAWN: dict[str, str] = {}  # the last drawings made in this process, by their spec as written


def _draw(spec: dict) -> tuple[str, float]:
    """Fitting a layout can try the very same spec twice (about one drawing in ten): drawn once."""
    key = json.dumps(spec)
    if key not in _DRAWN:
        _DRAWN[key] = render.svg(spec)
        if len(_DRAWN) > 64:
            del _DRAWN[next(iter(_DRAWN))]
    out = _DRAWN[key]
    return out, render.svg_size(out)[0]


def _fit(spec: dict, width: int, start: dict | None = None) -> tuple[dict, str, float]:
    """Size the view (or each panel) so the whole drawing, axes, legends and labels included, is
    `width` wide: a few drawings, each correcting the last by what it measured. `start`, the
    fitted spec of the same figure at another width in the same layout, tells the first
    drawing how much room its axes and legends take, so that it usually fits at once."""
    spec = copy.deepcopy(spec)
    if not any(k in spec for k in COMPOUND):
        spec["width"] = width
        spec["autosize"] = {"type": "fit-x", "contains": "padding"}
        out, actual = _draw(spec)
        for _ in range(2):  # text drawn past the plot's edge is outside what fit-x fits
            if actual <= width:
                break
            spec["width"] = round(spec["width"] - (actual - width))
            out, actual = _draw(spec)
        return spec, out, actual
    columns, panels = _columns(spec), _panels(spec)
    # Any width in [low, width] will do: aim at the middle, so a drawing that comes out a pixel
    # wider or narrower than predicted (a label's edge moving with the scale) still fits.
    low = width - 2 * columns - 2
    aim = (low + width) / 2
    earlier = _start_widths(start, columns, len(panels))
    if earlier:
        widths, drawn = earlier
        for p, w in zip(panels, widths):
            p["width"] = max(40, round(w + (aim - drawn) / columns))
    else:
        guess = max(60, (width - 90) / columns - 20)
        for p in panels:
            if not isinstance(p.get("width"), (int, float)):
                p["width"] = guess
    out, actual = _draw(spec)
    nudge = 1
    for _ in range(6):
        if low <= actual <= width or (actual <= width and all(p["width"] <= 60 for p in panels)):
            break
        # rounded down, so never past the width; a step too small to move the drawing grows
        step = math.floor((aim - actual) / columns) * nudge
        for p in panels:
            p["width"] = max(40, round(p["width"] + step))
        before = actual
        out, actual = _draw(spec)
        if actual == before:
            if nudge > 8 or abs(step) >= 4:  # something other than the panels sets the width
                break
            nudge *= 3
    return spec, out, actual


def _start_widths(start: dict | None, columns: int, n: int) -> tuple[list[float], float] | None:
    """The panel widths of an earlier fit of the same figure and the width it was drawn at, if
    its panels are laid out as this one's."""
    if not start or _columns(start["spec"]) != columns:
        return None
    widths = [p.get("width") for p in _panels(start["spec"])]
    if len(widths) != n or not all(isinstance(w, (int, float)) for w in widths):
        return None
    return widths, start["width"]


@functools.lru_cache(maxsize=1)
def _code_key() -> str:
    """What the drawings depend on besides the spec: this module, the renderer, vl-convert and
    the typeface it draws with."""
    import importlib.metadata
    from . import fonts
    here = Path(__file__).parent
    code = (here / "layout.py").read_bytes() + (here / "render.py").read_bytes() + fonts._key().encode()
    return hashlib.sha256(code + importlib.metadata.version("vl-convert-python").encode()).hexdigest()


def _cached(spec: dict, name: str) -> Path:
    key = hashlib.sha256(json.dumps([spec, name, _code_key()], sort_keys=True).encode()).hexdigest()
    return CACHE / f"{key}.json"


def all_cached(spec_json: str) -> bool:
    """Whether every variant of this figure is already drawn (then `drawings` only reads files)."""
    spec = json.loads(spec_json)
    return all(_cached(spec, v).exists() for v in VARIANTS)


def variant(spec: dict, name: str) -> tuple[dict, str]:
    """The spec of one variant and its drawing (SVG), fitted to the variant's width. Drawing and
    fitting take a few vl-convert renders, so results are kept in _build/.fp-layout, keyed by the
    spec, the variant and the code that draws them (`make notebooks` then `make book` draws once)."""
    cached = _cached(spec, name)
    if cached.exists():
        hit = json.loads(cached.read_text(encoding="utf-8"))
        return hit["spec"], hit["svg"]
    fitted, out = _variant(spec, name)
    write_whole(cached, json.dumps({"spec": fitted, "svg": out}, ensure_ascii=False).encode("utf-8"))
    return fitted, out


def _merge(into: dict, patch: dict) -> None:
    """A figure's own changes for one layout: dicts merged key by key, lists item by item."""
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif isinstance(value, list) and isinstance(into.get(key), list):
            for mine, theirs in zip(into[key], value):
                if isinstance(mine, dict) and isinstance(theirs, dict):
                    _merge(mine, theirs)
        elif isinstance(value, str) and isinstance(into.get(key), dict) and key == "title":
            into[key]["text"] = value
        else:
            into[key] = copy.deepcopy(value)


def _variant(spec: dict, name: str) -> tuple[dict, str]:
    layout, width, _ = VARIANTS[name]
    base = copy.deepcopy(spec)
    base.pop("$schema", None)
    # A figure may say what changes in a layout beyond these rules (the map zooms in on a phone):
    # chart.properties(usermeta={"fourpillars": {"narrow": {...}}}), merged into its spec.
    own = (base.pop("usermeta", None) or {}).get("fourpillars", {}).get(layout)
    _lift_limits(base)
    _min_fonts(base)
    if layout == "narrow":
        _reflow(base)
    if layout == "narrow":
        if "projection" in json.dumps(base) and isinstance(base.get("height"), (int, float)):
            base["height"] = round(base["height"] * width / 640)  # a map keeps its shape
    if layout == "narrow":
        # Legend entries in columns run past a narrow drawing's edge, where fit-x does not see
        # them (the map's two-column status legend was cut at 272 px): one entry a line. Two top
        # legends side by side do the same (fig-ru-timeline's shape legend was cut at the right
        # edge): one legend under the other.
        _one_column_legends(base)
        _stack_legends(base)
    if own:
        _merge(base, own)
    # The tablet layout starts from the phone layout's fit (the same layout, a wider width).
    start = None
    if name in FIT_FROM:
        fitted, out = variant(spec, FIT_FROM[name])
        start = {"spec": fitted, "width": render.svg_size(out)[0]}
    best = None
    # Labels wrapped for the width first; if the drawing is still too wide, legends stacked, then in
    # one column, then the legends' labels wrapped tighter (a top legend starts right of the y-axis
    # labels, so it has less than the width: wrapping it first keeps the axis labels on fewer lines),
    # then every label wrapped tighter (never a smaller font).
    tries = ((1.0, 1.0, (None, _stack_legends, _one_column_legends)), (1.0, 0.5, (None,)),
             (0.7, 0.7, (None,)), (0.5, 0.5, (None,)))
    for share, legend_share, squeezes in tries:
        wrapped = copy.deepcopy(base)
        _wrap(wrapped, width, share, marks=layout == "narrow", legend_share=legend_share)
        for squeeze in squeezes:
            if squeeze:
                squeeze(wrapped)
            fitted, out, actual = _fit(wrapped, width, start)
            if best is None or actual < best[2]:
                best = (fitted, out, actual)
            if actual <= width:
                break
        if best[2] <= width:
            break
        _stack_legends(base)
        _one_column_legends(base)
    fitted, out, _ = best
    if "$schema" in spec:
        fitted = {"$schema": spec["$schema"], **fitted}
    return fitted, render.compact(out)


def live_spec(variants: dict[str, tuple[dict, str]]) -> dict:
    """The wide variant, a complete Vega-Lite spec, carrying the other variants (without their
    copy of the data) under `usermeta`, for the page script to pick by screen width."""
    wide = dict(variants["L"][0])
    others = {v: {k: x for k, x in spec.items() if k not in ("datasets", "$schema")}
              for v, (spec, _) in variants.items() if v != "L"}
    wide["usermeta"] = {"fourpillars": {"variants": others}}
    return wide


def drawings(spec_json: str) -> dict:
    """What a book page needs from one figure's spec, as written in the notebook: each variant's
    drawing and the live spec. Run by the Sphinx extension in its worker processes at build time
    (the notebook itself holds only the wide drawing); each variant comes from the cache when the
    kernel or an earlier build drew it."""
    spec = json.loads(spec_json)
    variants = {v: variant(spec, v) for v in VARIANTS}
    return {"live": live_spec(variants), "svg": {v: out for v, (_, out) in variants.items()}}

"""The one way the book draws a chart offline: every vl-convert call goes through here.

vl-convert lays text out with the fonts it finds, so the images depend on the fonts
available. To draw with the book's own font, register it once in `_vlc()` (one line);
every figure image (the static drawings on the page, the SVG and PNG downloads, the
drawing in a notebook's output) then changes with it.
"""
from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=1)
def _vlc():
    import vl_convert as vlc
    return vlc


def svg(spec: dict) -> str:
    """A Vega-Lite spec drawn as SVG text."""
    return _vlc().vegalite_to_svg(spec)


def png(svg_text: str, scale: float = 2) -> bytes:
    """An SVG drawing rasterised (the PNG download), with the same fonts as `svg`."""
    return _vlc().svg_to_png(svg_text, scale=scale)


def svg_size(svg_text: str) -> tuple[float, float]:
    """Width and height of a drawing, in CSS pixels, from its root element."""
    head = svg_text[:svg_text.index(">")]
    width, height = (float(re.search(rf'\b{k}="([\d.]+)"', head).group(1)) for k in ("width", "height"))
    return width, height

"""The one way the book draws a chart offline: every vl-convert call goes through here.

vl-convert lays text out with the fonts it finds, so the images would depend on the fonts
the machine has; `_vlc()` registers the book's own typeface (fourpillars/fonts.py) first, so
every figure image (the static drawings on the page, the SVG and PNG downloads, the drawing
in a notebook's output) is drawn with it.
"""
from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=1)
def _vlc():
    import vl_convert as vlc
    from .fonts import register
    register()  # the book's own typeface, never the machine's fonts
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


TAG = re.compile(r'<(?:[^>"]|"[^"]*")*>')
DROP = re.compile(r'\s(?:role|aria-roledescription|aria-label|aria-hidden|pointer-events)="[^"]*"|'
                  r'\sclass="(?!marks")[^"]*"|\sopacity="1"')
NUMBERS = re.compile(r'(\s(?:d|transform|x|y|x1|x2|y1|y2|width|height|points)=")([^"]*)"')
LONG = re.compile(r"(\d+\.\d\d)\d+")


def compact(svg_text: str) -> str:
    """A static drawing without what only a live chart uses, about 40% smaller and drawn the same:
    no ARIA roles or class names (an image's inside is not read out; the figure carries its text
    alternative), the most common font named once on the root instead of on every text, coordinates
    to 0.01 px. Only tags are touched, never the text a drawing shows."""
    fonts = re.findall(r'\sfont-family="[^"]*"', svg_text)
    common = max(set(fonts), key=fonts.count) if fonts else None

    def tag(m):
        t = DROP.sub("", m.group(0))
        if common:
            t = t.replace(common, "") if not t.startswith("<svg") else t.replace("<svg", "<svg" + common, 1)
        return NUMBERS.sub(lambda n: n.group(1) + LONG.sub(r"\1", n.group(2)) + '"', t)
    out = TAG.sub(tag, svg_text)
    return out.replace('<path d="M0,0h0v0h0Z"/>', "")

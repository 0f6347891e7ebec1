"""The one typeface of the charts, wherever they are drawn: on screen, in the SVG and PNG
exports, and in the PDF.

vl-convert draws text with the fonts it finds on the machine, so the same chart came out
differently once a package (chromium brings fonts-liberation) added fonts. The charts therefore
name a family that no system carries, FAMILY, made here from Source Sans 3 (installed from
PyPI as fontpkg-source-sans-3, pinned): cut to the characters the book writes (Latin with
Latin Extended-A for names such as Vučić and Đukanović, and typographic punctuation), fixed at
the two weights the charts use, and renamed, as the font's licence (OFL, reserved name
"Source") asks of a modified copy. Every character a chart shows is in it, so no glyph falls
back to a system font.

    FAMILY, FONT_STACK   the family name, and the font stack the altair theme and the CSS use
    register()           makes vl-convert draw with these fonts (idempotent); call it before
                         every vl-convert conversion
    web_fonts(folder)    writes the WOFF2 files that the book's CSS serves to browsers
    fontconfig()         a fontconfig file that adds the fonts to a browser printing the PDF
                         (a drawing shown as an <img> cannot use the page's web fonts)
"""
from __future__ import annotations

import hashlib
import io
import shutil
import sys
from functools import lru_cache
from pathlib import Path

from .files import write_whole

FAMILY = "Four Pillars Sans"
# On screen the browser falls back to the rest of the stack only until the web font arrives.
FONT_STACK = f"'{FAMILY}', system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
WEIGHTS = {400: "Regular", 600: "SemiBold"}  # the theme draws titles at 600, everything else at 400
# Basic Latin, Latin-1 (× · °), Latin Extended-A (č ć ž š đ ...), Romanian comma-below letters,
# then dashes, quotes, daggers, bullet, ellipsis, narrow no-break space, per mille, primes,
# angle quotes, euro, trade mark, arrows, minus and ≤ ≥.
CHARACTERS = "".join(map(chr, [*range(0x20, 0x7F), *range(0xA0, 0x180), *range(0x218, 0x21C)])) + \
    "‐‑‒–—―‘’‚“”„†‡•…\u202f‰′″‹›€™←↑→↓−≤≥"
# Made once per environment, like the installed packages they come from (about 3 s): a clean
# build does not make them again.
CACHE = Path(sys.prefix) / "share" / "fourpillars-fonts"


def _source() -> Path:
    import fontpkg_source_sans_3
    return fontpkg_source_sans_3.ROOT / "files" / "SourceSans3[wght].ttf"


def _key() -> str:
    """Names the cache folder after everything the fonts are made from."""
    made_from = _source().read_bytes() + repr((FAMILY, WEIGHTS, CHARACTERS)).encode() + Path(__file__).read_bytes()
    return hashlib.sha256(made_from).hexdigest()[:16]


def _make() -> dict:
    """Static, subset, renamed instances of the variable source font: weight -> font."""
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer
    # recalcTimestamp=False: the same input gives the same bytes, build after build.
    source = TTFont(_source(), recalcTimestamp=False)
    options = subset.Options(name_IDs=[0, 13, 14], name_languages=[0x409], notdef_outline=True)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=CHARACTERS)
    subsetter.subset(source)  # cut first: instancing the whole font takes ~20 s, the cut one ~1 s
    fonts = {}
    for weight, style in WEIGHTS.items():
        font = instancer.instantiateVariableFont(source, {"wght": weight})
        names = {1: FAMILY if style == "Regular" else f"{FAMILY} {style}", 2: "Regular",
                 4: f"{FAMILY} {style}", 6: f"FourPillarsSans-{style}", 16: FAMILY, 17: style}
        for name_id, text in names.items():
            font["name"].setName(text, name_id, 3, 1, 0x409)
        fonts[weight] = font
    return fonts


def _write(path: Path, font, flavor: str | None = None) -> None:
    font.flavor = flavor
    buffer = io.BytesIO()
    font.save(buffer)
    write_whole(path, buffer.getvalue())  # two processes making the fonts at once both leave a whole file


@lru_cache(maxsize=None)
def font_dir() -> Path:
    """The folder of the fonts, TTF for vl-convert and WOFF2 for browsers, made on first use."""
    folder = CACHE / _key()
    if not all((folder / f"FourPillarsSans-{style}.{kind}").exists() for style in WEIGHTS.values() for kind in ("ttf", "woff2")):
        folder.mkdir(parents=True, exist_ok=True)
        for weight, font in _make().items():
            _write(folder / f"FourPillarsSans-{WEIGHTS[weight]}.ttf", font)
            _write(folder / f"FourPillarsSans-{WEIGHTS[weight]}.woff2", font, "woff2")
    return folder


@lru_cache(maxsize=None)
def register() -> None:
    """Make vl-convert draw text with the book's fonts. Call before every conversion;
    the work is done once per process."""
    import vl_convert as vlc
    vlc.register_font_directory(str(font_dir()))


def web_fonts(folder: Path) -> dict[int, Path]:
    """Put the WOFF2 files for browsers into `folder` (unless already there): weight -> file."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for weight, style in WEIGHTS.items():
        made, out[weight] = font_dir() / f"FourPillarsSans-{style}.woff2", folder / f"FourPillarsSans-{style}.woff2"
        if not out[weight].exists() or out[weight].read_bytes() != made.read_bytes():
            shutil.copyfile(made, out[weight])
    return out


def fontconfig() -> Path:
    """A fontconfig file: the machine's configuration plus the book's fonts. Chromium, printing
    the PDF with FONTCONFIG_FILE set to it, draws the figures' static drawings (SVG images, which
    cannot load the page's web fonts) in the book's typeface rather than a font of the machine."""
    folder = font_dir()
    path = folder / "fonts.conf"
    text = ('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
            '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
            f"  <dir>{folder}</dir>\n</fontconfig>\n")
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path

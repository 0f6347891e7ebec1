"""Sphinx extension: load only the Font Awesome icons the book shows.

The theme bundles every Font Awesome icon: about 1,900 CSS rules (72 KB) in its
stylesheet and a 150 KB font that every page downloads. The book shows about a dozen
icons. After an HTML build this drops the rules for icons that no page or theme script
names, and cuts the fonts down to the glyphs the remaining CSS can still draw.
Deterministic: same pages in, same bytes out.
"""
from __future__ import annotations

import re
from pathlib import Path

from buildcache import remembered

ICON_CLASS = re.compile(r"\bfa-[a-z0-9-]+")
# One icon rule as the theme writes it: `.fa-a:before,.fa-b:before{content:"\f015"}`.
ICON_RULE = re.compile(r'(?:\.fa-[a-z0-9-]+:{1,2}before,?)+\{content:"[^"]*"\}')
ESCAPE = re.compile(r"\\([0-9a-fA-F]{2,6}) ?")
PRIVATE_USE = range(0xE000, 0xF900)  # where Font Awesome puts its glyphs
THEME_CSS = "_static/styles/pydata-sphinx-theme.css"
FONTS = "_static/vendor/fontawesome/webfonts"


def used_classes(outdir: Path) -> set[str]:
    """Icon classes named in any page or in the theme's scripts (which add some at run time)."""
    files = [*outdir.rglob("*.html"), *(outdir / "_static").rglob("*.js")]
    return {c for f in files for c in ICON_CLASS.findall(f.read_text(encoding="utf-8", errors="replace"))}


def trim_rules(css: str, used: set[str]) -> str:
    def keep(match: re.Match) -> str:
        return match.group(0) if used & set(ICON_CLASS.findall(match.group(0))) else ""
    return ICON_RULE.sub(keep, css)


def glyphs(css: str) -> set[int]:
    """Every private-use code point the CSS can still ask for, written as an escape or
    literally (the theme's --pst-icon-* variables hold the characters themselves)."""
    escaped = {int(h, 16) for h in ESCAPE.findall(css)}
    return {c for c in escaped | set(map(ord, css)) if c in PRIVATE_USE}


def subset_font(path: Path, codepoints: set[int]) -> bytes:
    """The font at `path` cut down to `codepoints` (written back to `path`, and returned)."""
    from fontTools import subset
    options = subset.Options()
    options.flavor = "woff2"
    font = subset.load_font(str(path), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codepoints))
    subsetter.subset(font)
    subset.save_font(font, str(path), options)
    return path.read_bytes()


def on_build_finished(app, exception) -> None:
    if exception or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    theme_css = outdir / THEME_CSS
    if not theme_css.exists():  # another theme: nothing to trim
        return
    css = trim_rules(theme_css.read_text(encoding="utf-8"), used_classes(outdir))
    theme_css.write_text(css, encoding="utf-8")
    all_css = "".join(p.read_text(encoding="utf-8") for p in (outdir / "_static").rglob("*.css"))
    codepoints = glyphs(all_css)
    for font in sorted((outdir / FONTS).glob("*.woff2")):
        original = font.read_bytes()
        font.write_bytes(remembered(app, "icon-font", original + repr(sorted(codepoints)).encode(),
                                    lambda: subset_font(font, codepoints)))


def setup(app):
    app.connect("build-finished", on_build_finished)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

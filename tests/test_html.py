"""The built book, read as HTML: figures numbered, captioned, sourced and downloadable;
no third-party asset anywhere; chapter pages light enough to load fast."""
from __future__ import annotations

import csv
import html
import re
from pathlib import Path

import pandas as pd
import pytest

from conftest import html_pages
from fourpillars import load
from fourpillars.data import ROOT
from fourpillars.sources import source_line

CHAPTERS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
FIGURE = re.compile(r'<figure class="[^"]*" id="(fig-[a-z0-9-]+)">(.*?)</figure>', re.S)


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def figures(page: Path) -> list[dict]:
    out = []
    for name, body in FIGURE.findall(page.read_text(encoding="utf-8")):
        caption = re.search(r"<figcaption>(.*?)</figcaption>", body, re.S)
        label = re.search(r'class="fp-chart" data-role="(?:img|group)"><picture>.*?<img [^>]*\balt="([^"]*)"', body, re.S)
        out.append({"name": name, "caption": text_of(caption.group(1)) if caption else "",
                    "alt": html.unescape(label.group(1)) if label else "",
                    "links": re.findall(r'<a href="([^"]+)" download>', body)})
    return out


@pytest.mark.parametrize("stem", CHAPTERS)
def test_chapter_page_is_built(built, stem):
    assert (built / "notebooks" / f"{stem}.html").is_file()


@pytest.mark.parametrize("stem", CHAPTERS)
def test_figures_are_numbered_captioned_sourced_and_downloadable(built, stem):
    page = built / "notebooks" / f"{stem}.html"
    chapter = int(stem.split("-")[0])
    for fig in figures(page):
        where = f"{stem}: {fig['name']}"
        assert re.match(rf"Fig\. {chapter}\.\d+ ", fig["caption"]), f"{where}: caption not numbered in chapter {chapter}: {fig['caption'][:80]}"
        assert fig["alt"].strip(), f"{where}: chart has no alt text"
        assert [Path(l).suffix for l in fig["links"]] == [".csv", ".svg", ".png"], f"{where}: downloads {fig['links']}"
        files = [(page.parent / l).resolve() for l in fig["links"]]
        assert all(f.is_file() for f in files), f"{where}: missing download files {files}"
        rows = pd.read_csv(files[0], dtype=str, keep_default_na=False)
        assert len(rows) > 0 and "source_id" in rows, f"{where}: CSV has no rows or no source_id column"
        # The caption's Source line is exactly the one the figure's own rows generate.
        # (Sphinx's smart quotes turn ' into ’ on the page; that is typography, not a mismatch.)
        expected = source_line(rows).replace("'", "\u2019")
        assert expected in fig["caption"].replace("'", "\u2019"), f"{where}: caption source line does not match the rows it draws"
        assert files[1].read_text(encoding="utf-8").lstrip().startswith("<svg"), f"{where}: SVG export is not SVG"
        assert files[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{where}: PNG export is not PNG"


# (<link rel="canonical"> names the page's published address; it loads nothing.)
ASSET = re.compile(r'<(script|link|img|iframe|source|video|audio|embed)\b(?![^>]*\brel="canonical")[^>]*\b(?:src|href)="((?:https?:)?//[^"]+)"', re.I)


def test_no_page_loads_a_third_party_asset(built):
    offenders = []
    for page in html_pages() + [built / "index.html", built / "search.html", built / "genindex.html"]:
        for tag, url in ASSET.findall(page.read_text(encoding="utf-8")):
            offenders.append(f"{page.relative_to(built)}: <{tag}> {url}")
    for css in built.glob("_static/**/*.css"):
        for url in re.findall(r"url\(\s*['\"]?((?:https?:)?//[^'\")]+)", css.read_text(encoding="utf-8", errors="replace")):
            offenders.append(f"{css.relative_to(built)}: url({url})")
    assert not offenders, "third-party assets:\n" + "\n".join(offenders[:20])


@pytest.mark.parametrize("stem", CHAPTERS)
def test_chapter_html_stays_under_300_kb(built, stem):
    size = (built / "notebooks" / f"{stem}.html").stat().st_size
    assert size <= 300_000, f"{stem}.html is {size / 1000:.0f} KB"


def test_bibliography_lists_every_source_the_data_cites(built):
    page = text_of((built / "book" / "bibliography.html").read_text(encoding="utf-8"))
    sources = load("sources").set_index("id")
    used = set()
    for path in (ROOT / "data").glob("*.csv"):
        with path.open(encoding="utf-8") as f:
            used |= {row["source_id"] for row in csv.DictReader(f) if "source_id" in row}
    missing = [i for i in sorted(used) if " ".join(sources.loc[i, "title"].split()) not in page]
    assert not missing, f"bibliography lacks the sources of these data rows: {missing}"


def test_every_local_link_resolves(built):
    """No dead links inside the book: every relative href on every page names a file that was
    built (pages, figure downloads, RIS files, the data zip and, after `make pdf`, the PDF)."""
    dead = []
    for page in sorted(built.rglob("*.html")):
        if "_static" in page.parts:
            continue
        for href in re.findall(r'<a\b[^>]*\bhref="([^"#?]+)', page.read_text(encoding="utf-8")):
            if re.match(r"[a-z][a-z0-9+.-]*:", href):  # http:, mailto:, ... (offline checks live elsewhere)
                continue
            if not (page.parent / html.unescape(href)).resolve().exists():
                dead.append(f"{page.relative_to(built)} -> {href}")
    assert not dead, f"{len(dead)} dead links, e.g. {dead[:8]}"


def test_icon_font_keeps_every_icon_the_pages_show_and_little_else(built):
    """The icon trimming (_ext/fourpillars_icons.py) must not blank an icon: every Font
    Awesome icon a page or theme script names keeps its CSS rule and its glyph in the font."""
    import sys
    import pydata_sphinx_theme
    from fontTools.ttLib import TTFont
    sys.path.insert(0, str(ROOT / "_ext"))
    from fourpillars_icons import FONTS, ICON_RULE, THEME_CSS, glyphs, used_classes

    def icons(css: str) -> dict[str, int]:
        """icon class -> code point, from rules like .fa-bars:before{content:"\\f0c9"}"""
        out = {}
        for rule in ICON_RULE.findall(css):
            point = re.search(r'content:"\\([0-9a-f]+)', rule)
            if point:  # a few rules hold a plain character (e.g. .fa-exclamation:before{content:"!"})
                out.update({cls: int(point.group(1), 16) for cls in re.findall(r"\.(fa-[a-z0-9-]+):", rule)})
        return out

    original = icons((Path(pydata_sphinx_theme.__file__).parent / "theme" / "pydata_sphinx_theme" / "static" / "styles" / "pydata-sphinx-theme.css").read_text(encoding="utf-8"))
    trimmed_css = (built / THEME_CSS).read_text(encoding="utf-8")
    trimmed = icons(trimmed_css)
    shown = used_classes(built) & set(original)
    assert {"fa-bars", "fa-magnifying-glass"} <= shown, "the theme's menu and search icons are not found on the pages"
    assert not shown - set(trimmed), f"icons shown on pages lost their CSS rule: {sorted(shown - set(trimmed))}"
    cmap = TTFont(built / FONTS / "fa-solid-900.woff2").getBestCmap()
    assert not {original[c] for c in shown} - set(cmap), f"icons shown on pages lost their glyph: {sorted(c for c in shown if original[c] not in cmap)}"
    every_font = set().union(*(TTFont(f).getBestCmap() for f in (built / FONTS).glob("*.woff2")))
    assert glyphs(trimmed_css) <= every_font, "the theme's own icon variables (admonitions, links) lost glyphs"
    assert len(trimmed) < 100 < len(original), f"{len(trimmed)} of {len(original)} icon rules kept: the trimming did not run"


def test_unwrapped_code_tokens_keep_their_colour(built):
    """Code cells are written without the spans pygments puts round names, punctuation and
    spaces (_ext/fourpillars_charts.py, plain_tokens): that holds only while the theme draws
    those tokens in the code's own colour, in the light and the dark theme."""
    css = (built / "_static" / "pygments.css").read_text(encoding="utf-8")
    for mode in ("light", "dark"):
        colour = dict(re.findall(rf'html\[data-theme="{mode}"\] \.highlight( \.[a-z0-9]+)? \{{[^}}]*?color: (#[0-9A-Fa-f]+)', css))
        assert "" in colour, f"{mode}: no colour for code"
        for token in (" .n", " .p", " .w"):
            assert colour.get(token, colour[""]) == colour[""], f"{mode}: {token.strip()} has a colour of its own"

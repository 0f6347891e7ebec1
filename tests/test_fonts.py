"""The charts' typeface: the book's own, the same on every machine, with every character the
charts write. (fourpillars/fonts.py explains why.)"""
from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from fourpillars import fonts
from fourpillars.data import ROOT

# Serbian names and the typography the charts use; any of them missing would fall back to
# whatever font the machine has.
NEEDED = "čćžšđČĆŽŠĐ–—’‘“”…≥≤·×€"


def cmap(path: Path) -> set[int]:
    return set(TTFont(path).getBestCmap())


def test_the_font_has_every_character_the_book_needs():
    assert set(NEEDED) <= set(fonts.CHARACTERS)
    assert all(chr(c) in fonts.CHARACTERS for c in range(0x100, 0x180)), "Latin Extended-A is incomplete"
    for weight, style in fonts.WEIGHTS.items():
        font = TTFont(fonts.font_dir() / f"FourPillarsSans-{style}.ttf")
        missing = {c for c in fonts.CHARACTERS if ord(c) not in font.getBestCmap()}
        assert not missing, f"{style}: the source font lacks {sorted(missing)}"
        assert font["name"].getDebugName(16) == fonts.FAMILY and font["OS/2"].usWeightClass == weight
        assert "fvar" not in font, "vl-convert needs static instances"


def test_the_theme_and_the_css_name_the_books_font_first():
    import altair as alt
    import fourpillars.figures  # noqa: F401  (registers and enables the theme)
    assert alt.theme.get()()["config"]["font"] == fonts.FONT_STACK
    assert fonts.FONT_STACK.startswith(f"'{fonts.FAMILY}',")
    css = (ROOT / "_ext" / "static" / "fourpillars.css").read_text(encoding="utf-8")
    faces = re.findall(r"@font-face\s*\{([^}]*)\}", css)
    declared = {(re.search(r'font-family:\s*"([^"]+)"', f).group(1), int(re.search(r"font-weight:\s*(\d+)", f).group(1)),
                 re.search(r'url\("fourpillars/fonts/([^"]+)"\)', f).group(1)) for f in faces}
    assert declared == {(fonts.FAMILY, w, f"FourPillarsSans-{s}.woff2") for w, s in fonts.WEIGHTS.items()}
    chart_rule = re.search(r"\.fp-chart\s*\{([^}]*)\}", css).group(1)
    assert re.search(rf'font-family:\s*"{fonts.FAMILY}",', chart_rule), "the chart's CSS font stack must start with the book's font"


def test_the_web_fonts_are_small_and_complete(built):
    files = sorted((built / "_static" / "fourpillars" / "fonts").glob("*.woff2"))
    assert [f.name for f in files] == sorted(f"FourPillarsSans-{s}.woff2" for s in fonts.WEIGHTS.values())
    for f in files:
        assert {ord(c) for c in fonts.CHARACTERS} <= cmap(f), f"{f.name} lacks characters"
    assert sum(f.stat().st_size for f in files) < 40_000, "the web fonts grew: they load on every chart page"


def test_no_exported_chart_writes_a_character_the_font_lacks(built):
    """Every character of every exported chart (titles, labels, legends, data) is in the font:
    none falls back to a font of the machine."""
    have = {ord(c) for c in fonts.CHARACTERS}
    lacking = {}
    for svg in sorted((built / "figures").glob("*.svg")):
        text = html.unescape("".join(re.findall(r"<text\b[^>]*>([^<]*)</text>", svg.read_text(encoding="utf-8"))))
        missing = {c for c in text if ord(c) not in have and not c.isspace()}
        if missing:
            lacking[svg.name] = sorted(missing)
    assert not lacking, f"characters the book's font lacks: {lacking}"


RENDER = """
import hashlib, json, sys
import vl_convert as vlc
from fourpillars import fonts
fonts.register()
svg = vlc.vegalite_to_svg(json.loads(sys.argv[1]))
png = vlc.svg_to_png(svg, scale=2)
print(hashlib.sha256(svg.encode()).hexdigest(), hashlib.sha256(png).hexdigest())
"""


def _impostors(folders: list[Path], families: list[str]) -> None:
    """Fonts that look nothing like the book's (the lightest and the heaviest cut of its source),
    under each of `families`, in each of `folders`."""
    from fontTools import subset
    from fontTools.varLib import instancer
    base = TTFont(fonts._source())
    sub = subset.Subsetter(subset.Options(name_IDs=["*"]))
    sub.populate(text=fonts.CHARACTERS)
    sub.subset(base)
    cuts = [instancer.instantiateVariableFont(base, {"wght": w}) for w in (200, 900)]
    for i, family in enumerate(families):
        font = cuts[i % 2]
        for name_id in (1, 4, 16):
            font["name"].setName(family, name_id, 3, 1, 0x409)
        font["name"].setName(family.replace(" ", "") + "-Regular", 6, 3, 1, 0x409)
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            font.save(folder / f"extra{i}.ttf")


def test_exports_do_not_change_when_the_machines_fonts_do(tmp_path):
    """vl-convert also reads the fonts of the user running it ($HOME/.fonts,
    $XDG_DATA_HOME/fonts). Drawing a chart with a home full of other fonts (under the names
    vl-convert falls back to, Arial, Helvetica, Liberation Sans, DejaVu Sans, and the rest of
    the theme's stack) must give the same SVG and PNG bytes as with an empty home."""
    import altair as alt
    import pandas as pd
    import fourpillars.figures  # noqa: F401  (the book's theme)
    rows = pd.DataFrame({"label": ["Vučić – Đukanović", "Čačak … Niš", "Šabac · Žabalj", "“≥ 1 × 2” — ’"],
                         "value": [1.0, 2.5, 3.0, 4.5]})
    chart = alt.Chart(rows).mark_bar().encode(x=alt.X("value:Q", title="USD billion ≥ 1"), y="label:N",
                                              color="label:N").properties(title="Serbia’s partners – 2024", width=400)
    spec = json.dumps(chart.to_dict())
    homes = {"empty": tmp_path / "empty", "crowded": tmp_path / "crowded"}
    homes["empty"].mkdir()
    _impostors([homes["crowded"] / folder for folder in (".fonts", ".local/share/fonts", "xdg/fonts")],
               ["Arial", "Helvetica", "Liberation Sans", "DejaVu Sans", "Roboto", "Segoe UI", "system-ui"])
    digests = {}
    for label, home in homes.items():
        env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "xdg"), "XDG_CONFIG_HOME": str(home / "config")}
        out = subprocess.run([sys.executable, "-c", RENDER, spec], env=env, capture_output=True, text=True, check=True)
        assert "fallback" not in out.stderr.lower() and "no match" not in out.stderr.lower(), out.stderr
        digests[label] = out.stdout.split()
    assert digests["crowded"] == digests["empty"], "the exported SVG or PNG changed with the fonts in the user's home"


def test_the_impostor_fonts_would_be_seen(tmp_path):
    """Control for the test above: vl-convert does read a font from the user's home, so the
    comparison is not vacuous."""
    _impostors([tmp_path / ".fonts"], ["Impostor Sans"])
    spec = json.dumps({"data": {"values": [{}]}, "mark": {"type": "text", "fontSize": 40},
                       "encoding": {"text": {"value": "Vučić"}}, "config": {"font": "Impostor Sans"}})
    runs = []
    for home in (tmp_path, tmp_path / "nowhere"):
        env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "xdg")}
        out = subprocess.run([sys.executable, "-c", RENDER, spec], env=env, capture_output=True, text=True, check=True)
        runs.append(out.stdout.split()[1])
    assert runs[0] != runs[1], "vl-convert ignored a font in $HOME/.fonts: the test above proves nothing"


def test_charts_in_the_browser_use_the_books_font(built, server, browser):
    page = browser.new_page()
    page.goto(f"{server}/notebooks/03-china.html")
    page.wait_for_function("document.documentElement.getAttribute('data-charts-drawn') !== null", timeout=15000)
    loaded = page.evaluate("""family => Array.from(document.fonts).filter(f => f.family.replace(/["']/g, '') === family)
                                        .map(f => f.weight + ' ' + f.status).sort()""", fonts.FAMILY)
    family = page.evaluate("getComputedStyle(document.querySelector('.fp-chart svg text')).fontFamily")
    page.close()
    assert loaded == [f"{w} loaded" for w in sorted(fonts.WEIGHTS)], f"the book's web fonts did not load before the charts were drawn: {loaded}"
    assert family.startswith(f'"{fonts.FAMILY}"') or family.startswith(f"'{fonts.FAMILY}'"), family


def test_the_pdf_prints_its_charts_in_the_books_font(built):
    """The PDF prints each figure as its static drawing, an SVG image, which cannot load the
    page's web fonts: the printing browser gets the book's typeface through fontconfig."""
    import shutil
    pdf = built / "downloads" / "four-pillars.pdf"
    if not pdf.is_file():
        pytest.fail("no PDF: run `make pdf` (make test does)")
    assert shutil.which("pdffonts"), "pdffonts (Debian poppler-utils) is needed to read the PDF's fonts"
    listed = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    for style in fonts.WEIGHTS.values():
        assert f"FourPillarsSans-{style}" in listed, f"the PDF's charts are not printed in the book's font:\n{listed}"

"""No data value runs as code anywhere a reader looks.

Markup in the data is valid data (a title may hold '<'): every path from the data or
CITATION.cff into a page must escape it for its target. The main test builds a copy of the
book whose data and CITATION.cff carry the edition-1.0 red-team payloads, one per path, and
opens every page that shows them in Chromium: no payload may run, and each must be shown as
text, which proves the path was taken. Smaller tests cover the Markdown escaping, the figure
CSVs and the data zip directly.
"""
from __future__ import annotations

import csv
import functools
import html
import http.server
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from urllib.parse import urlparse

import pytest

from fourpillars.data import DATA_DIR, ROOT
from fourpillars.escape import markdown_text

MARKUP = ['<script>window.__xss_md=1</script>', '<img src=x onerror="window.__xss_md=1">',
          "[click](javascript:window.__xss_md=1)", "*not emphasis* _nor_ `code` {cite}`lolucas2021`",
          "{{ substitution }} &amp; &#60;b&#62; \\<b> ![img](x) <https://example.org>", "line\n\n# not a heading"]


def test_data_text_in_markdown_renders_as_exactly_that_text():
    """Through MyST's own parser, with the book's extensions: no element, entity or role."""
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser
    config = MdParserConfig(enable_extensions={"colon_fence", "deflist", "linkify", "substitution"})
    parser = create_md_parser(config, RendererHTML)
    for text in MARKUP:
        rendered = parser.render(f"Source: {markdown_text(text)}").strip()
        inner = rendered.removeprefix("<p>").removesuffix("</p>")
        # A bare web address becomes a link (linkify), as a reader would expect; nothing else may.
        inner = re.sub(r'<a href="https://[^"<>]*">([^<]*)</a>', r"\1", inner)
        assert "<" not in inner and html.unescape(inner) == "Source: " + " ".join(text.split()), rendered


def test_a_figure_csv_refuses_formula_like_cells_and_writes_booleans_as_the_data_does():
    sys.path.insert(0, str(ROOT / "_ext"))
    from fourpillars_charts import rows_csv
    spec = {"datasets": {"d": [{"label": "-5 percent", "flag": True, "value": -5.0}]}}
    assert rows_csv(spec, "d") == "label,flag,value\n-5 percent,true,-5.0\n"
    for bad in ["=HYPERLINK(\"http://evil.example\")", "+cmd", "@SUM(1)", "-cmd", "\tx"]:
        with pytest.raises(ValueError, match="formula"):
            rows_csv({"datasets": {"d": [{"label": bad}]}}, "d")


def test_the_data_zip_holds_exactly_the_package_and_its_readmes(tmp_path):
    """Not an editor's lock file, a backup, or anything else left in data/."""
    sys.path.insert(0, str(ROOT / "_ext"))
    from fourpillars_pages import write_data_zip
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    (data / ".~lock.economy.csv#").write_text("user,host", encoding="utf-8")
    (data / "economy.csv.bak").write_text("old", encoding="utf-8")
    names = write_data_zip(tmp_path / "out.zip", data)
    package = json.loads((data / "datapackage.json").read_text(encoding="utf-8"))
    readmes = {p.relative_to(data).as_posix() for p in data.rglob("README.md")}
    assert {"README.md", "geo/README.md"} <= readmes
    expected = {"datapackage.json"} | readmes | {r["path"] for r in package["resources"]}
    with zipfile.ZipFile(tmp_path / "out.zip") as zf:
        assert {n.removeprefix("four-pillars-data/") for n in zf.namelist()} == expected == set(names)


# --- The whole book, built from hostile data -------------------------------------------

def flag(name: str) -> str:
    return f"window.__xss_{name}=1"


# (file, row id, column, payload): one path each. The values are valid data.
POISON = [
    ("sources.csv", "china-observers-in-2025", "publisher", f'CHOICE <img src=x onerror="{flag("publisher")}">'),
    ("sources.csv", "cgtn-2023", "reports", f"China MOFCOM <script>{flag('reports')}</script>"),
    ("sources.csv", "cgtn-2023", "title", f'CGTN <svg onload="{flag("title")}"></svg> on trade'),
    ("claims.csv", "cn-trade-2022", "topic", f'Serbia–China trade <img src=x onerror="{flag("topic")}"> '
                                             f"[click](javascript:{flag('mdlink')})"),
    ("claims.csv", "cn-trade-2022", "reading", f"The two values differ. <script>{flag('reading')}</script>"),
    ("events.csv", "us-kfor-1999", "title", f'KFOR <img src=x onerror="{flag("event")}">'),
    ("sites.csv", "map-site-smederevo", "name", f"HBIS <script>{flag('site')}</script> Smederevo"),
]
CFF = {"title": f'Four Pillars <img src=x onerror="{flag("cff")}">',
       "name": f"The Four Pillars authors <svg onload=\"{flag('author')}\"></svg>"}
FIELD_DESCRIPTION = f'Citation key <img src=x onerror="{flag("schema")}">'
PAGES = {  # page: the payload flags it must show as text
    "notebooks/03-china.html": ["publisher", "reports", "cff", "author"],
    "book/contested.html": ["topic", "reading", "mdlink"],
    "book/data.html": ["schema"],
    "book/bibliography.html": ["title"],
    "book/timeline.html": ["event"],
    "book/map.html": ["site"],
    "book/how-to-cite.html": ["cff", "author"],
    "book/claims.html": [],
    "book/intro.html": [],
}
CHAPTER = "notebooks/03-china"


def _poison(book: Path) -> None:
    for name, row_id, column, payload in POISON:
        path = book / "data" / name
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
        row = next(r for r in rows if r[0] == row_id)
        row[rows[0].index(column)] = payload
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        path.write_text(out.getvalue(), encoding="utf-8")
    package = json.loads((book / "data" / "datapackage.json").read_text(encoding="utf-8"))
    package["resources"][0]["schema"]["fields"][0]["description"] = FIELD_DESCRIPTION
    (book / "data" / "datapackage.json").write_text(json.dumps(package, indent=1), encoding="utf-8")
    cff = book / "CITATION.cff"
    text = cff.read_text(encoding="utf-8")
    for key, value in CFF.items():  # every title: and name: (authors, publisher; top level and preferred-citation)
        text = re.sub(rf"(?m)^(\s*(?:- )?){key}: .*$", lambda m: f"{m.group(1)}{key}: {json.dumps(value)}", text)
    cff.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_book(tmp_path_factory) -> Path:
    book = tmp_path_factory.mktemp("hostile")
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    # The pages that show data, every Markdown page (the pages link to each other) and every chapter:
    # the introduction's theses link to claims that chapters 01-05 check, and a strict build
    # refuses a link to a claim it has not seen.
    pages = sorted({p.removesuffix(".html") for p in PAGES}
                   | {n.removesuffix(".md") for n in tracked if n.startswith("book/") and n.endswith(".md")}
                   | {n.removesuffix(".ipynb") for n in tracked if n.startswith("notebooks/") and n.endswith(".ipynb")})
    for name in tracked:
        if name.endswith(".ipynb") and name.removesuffix(".ipynb") not in pages:
            continue
        (book / name).parent.mkdir(parents=True, exist_ok=True)
        (book / name).write_bytes((ROOT / name).read_bytes())
    (book / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n" + "".join(
        f"  - file: {p}\n" for p in pages if p != "book/intro"), encoding="utf-8")
    _poison(book)
    env = {**os.environ, "PYTHONPATH": str(book)}  # the copy's own package and data
    done = subprocess.run([sys.executable, "-m", "fourpillars"], cwd=book, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"the hostile data should be valid data: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    done = subprocess.run([str(Path(sys.executable).with_name("jupyter-book")), "build", ".", "-n", "-W", "--keep-going"],
                          cwd=book, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"the book with hostile data did not build: {(done.stdout + done.stderr)[-4000:]}"
    return book / "_build" / "html"


@pytest.fixture(scope="module")
def hostile_server(hostile_book):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(hostile_book))
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.parametrize("page", list(PAGES))
def test_hostile_data_stays_text_in_the_browser(hostile_book, hostile_server, browser, page):
    context = browser.new_context()
    tab = context.new_page()
    dialogs = []
    tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    tab.route("**/*", lambda r: r.continue_() if urlparse(r.request.url).hostname == "127.0.0.1" else r.abort())
    tab.goto(f"{hostile_server}/{page}", wait_until="load")
    tab.wait_for_function("document.documentElement.getAttribute('data-charts-drawn') !== null "
                          "|| !document.querySelector('.fp-figure')", timeout=30000)
    tooltips = []
    for mark in tab.query_selector_all(".fp-chart svg .role-mark path")[:60]:  # show tooltips
        box = mark.bounding_box()
        if box:
            tab.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            tooltips.append(tab.evaluate("(document.getElementById('vg-tooltip-element') || {}).textContent || ''"))
    state = tab.evaluate("""() => ({
        ran: Object.keys(window).filter(k => k.startsWith('__xss')),
        text: document.body.innerText + ' ' + document.title,
        injected: document.querySelectorAll('img[src="x"], svg[onload], [onerror]').length,
    })""")
    context.close()
    assert not state["ran"] and not dialogs, f"{page}: data ran as code: {state['ran']} {dialogs}"
    assert state["injected"] == 0, f"{page}: markup in the data became {state['injected']} elements"
    text = state["text"] + " ".join(tooltips)
    for name in PAGES[page]:
        assert flag(name) in text, f"{page}: the payload '{name}' is not shown as text, so its path was not tested"

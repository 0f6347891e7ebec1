"""Re-running a chapter in JupyterLab, offline, as `make lab` starts it.

JupyterLab runs from the project's environment on 127.0.0.1 with the reader's copies of the
notebooks; headless Chromium opens a chapter, runs every cell, and counts the charts drawn
under each figure's caption. The browser may reach no host but 127.0.0.1.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from conftest import ROOT
from fourpillars.reader import Book, cite_label, lab_command, notebooks, reader_copy, write_copies

CHAPTER = "notebooks/03-china.ipynb"
RAW_MYST = re.compile(r"\{[a-z][a-z:-]*\}`|^(`{3,}|:{3,})\{", re.M)  # a role, or a directive's fence
RAW_RENDERED = re.compile(r"\{[a-z][a-z:-]*\}")  # what is left of one once JupyterLab renders it


def figures_in(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return re.findall(r"\{glue:figure\}\s*(\S+)", "\n".join(c.source for c in nb.cells if c.cell_type == "markdown"))


# --- Figure cells: drawn in the notebook, shown once in the book ------------------------------

def test_a_figure_cell_draws_its_chart_for_a_person_and_not_in_batch_runs(monkeypatch):
    """figure() shows the chart in its cell as an image (JupyterLab draws it offline), marked by a
    text form the book's build recognises; with FOURPILLARS_CELL_DRAWINGS=off (the build, `make
    notebooks`, nbval) it shows nothing, so the committed notebooks hold no drawing."""
    import altair as alt
    import pandas as pd
    from fourpillars import figures

    shown = []
    monkeypatch.setattr(figures, "display", shown.append)
    monkeypatch.setattr(figures.Figure, "glue", lambda self: None)
    rows = pd.DataFrame({"year": [2020, 2021], "value": [1.0, 2.0], "source_id": ["lolucas2021"] * 2})
    chart = alt.Chart(rows).mark_bar().encode(x="year:O", y="value:Q")
    monkeypatch.setenv("FOURPILLARS_CELL_DRAWINGS", "on")
    figures.figure(chart, rows, "fig-test-drawing", "A test chart.")
    data, metadata = shown[0]._repr_mimebundle_()
    assert sorted(data) == ["image/png", "text/plain"] and data["text/plain"] == "[notebook drawing of fig-test-drawing]"
    assert metadata["image/png"]["width"] > 0
    monkeypatch.setenv("FOURPILLARS_CELL_DRAWINGS", "off")
    figures.figure(chart, rows, "fig-test-drawing", "A test chart.")
    assert len(shown) == 1


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.name)
def test_the_committed_notebooks_hold_no_cell_drawing(path):
    drawn = [o for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code" for o in c.outputs
             if "notebook drawing of" in str(o.get("data", {}).get("text/plain", ""))]
    assert drawn == [], f"{path.name}: re-execute with `make notebooks`, which draws no chart in the cells"


def test_the_built_book_shows_each_figure_once(built):
    for path in notebooks():
        page = (built / path.relative_to(ROOT)).with_suffix(".html").read_text(encoding="utf-8")
        names = re.findall(r'<div class="fp-figure" data-figure="([^"]+)"', page)
        assert sorted(names) == sorted(figures_in(path)), f"{path.name}: figures on the page {names}"
        assert "notebook drawing of" not in page and not re.search(r'<img[^>]*_images/', page), \
            f"{path.name}: a cell's own drawing of a chart reached the page"
        assert not re.search(r'<div class="cell_output docutils container">\s*</div>', page), \
            f"{path.name}: an empty cell output is left on the page"


# --- The reader's copies, without a browser ---------------------------------------------------

@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.name)
def test_the_readers_copy_has_no_myst_markup_left(path):
    copy = reader_copy(Book(), path)
    for cell in copy.cells:
        if cell.cell_type == "markdown":
            assert not RAW_MYST.search(cell.source), f"{path.name}: raw MyST in the reader's copy: {cell.source[:200]}"
        else:
            source = nbformat.read(path, as_version=4).cells[copy.cells.index(cell)].source
            assert cell.source == source, f"{path.name}: the reader's copy changed a code cell"


def test_figure_numbers_and_citations_read_as_in_the_built_book(built):
    """What the reader's copy prints for {numref} and {cite:t} is what the book prints."""
    book = Book()
    for path in notebooks():
        page = (built / path.relative_to(ROOT)).with_suffix(".html").read_text(encoding="utf-8")
        for name, number in book.numbers.items():
            if f'id="{name}"' in page:
                caption = re.search(rf'id="{name}".*?<span class="caption-number">(.*?)</span>', page, re.S)
                assert caption and caption.group(1).strip() == f"Fig. {number}", \
                    f"{name}: the book numbers it {caption and caption.group(1)!r}, the reader's copy 'Fig. {number}'"
        text = re.sub(r"<[^>]+>", "", page)
        nb = nbformat.read(path, as_version=4)
        for key in re.findall(r"\{cite:t\}`([^`,]+)`", "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")):
            label = f"{cite_label(book.source(key))} [{book.year(key)}]"
            assert label in text, f"{path.name}: the book does not print {label!r} for {key}"


def test_a_copy_the_reader_edited_is_kept(tmp_path):
    first = write_copies(tmp_path)
    chapter = tmp_path / CHAPTER
    assert chapter in first
    nb = nbformat.read(chapter, as_version=4)
    nb.cells[1].source += "\n# the reader's own line"
    nbformat.write(nb, chapter)
    write_copies(tmp_path)  # nothing changed in the book: the edit stays in place
    assert "the reader's own line" in chapter.read_text(encoding="utf-8")
    manifest = json.loads((tmp_path / ".generated.json").read_text())
    manifest[CHAPTER] = "0" * 64  # as if the book's chapter had changed since
    (tmp_path / ".generated.json").write_text(json.dumps(manifest))
    chapter.write_text(chapter.read_text(encoding="utf-8").replace("reader's own line", "reader's own line, v2"))
    write_copies(tmp_path)
    kept = tmp_path / "notebooks" / "03-china.yours-1.ipynb"
    assert kept.exists() and "reader's own line, v2" in kept.read_text(encoding="utf-8")
    assert "reader's own line" not in chapter.read_text(encoding="utf-8")


# --- JupyterLab in a browser ------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`make lab`'s JupyterLab, serving fresh reader's copies, isolated from the user's own
    Jupyter settings and workspaces; the chapter under test has its outputs cleared, so every
    chart seen was drawn by this run."""
    home = tmp_path_factory.mktemp("jupyter")
    out = home / "lab"
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(home / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               JUPYTER_DATA_DIR=str(home / "data"))
    env.pop("FOURPILLARS_CELL_DRAWINGS", None)  # a reader's kernel draws the charts
    # Every cell in the page, not only those in view, so that all of them can be counted.
    (home / "settings" / "@jupyterlab" / "notebook-extension").mkdir(parents=True)
    (home / "settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"}))
    write_copies(out)
    chapter = nbformat.read(out / CHAPTER, as_version=4)
    for cell in chapter.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(chapter, out / CHAPTER)
    port, token = free_port(), secrets.token_hex(16)
    log = open(home / "lab.log", "w")
    proc = subprocess.Popen(lab_command(out, port=port, browser=False) + [f"--IdentityProvider.token={token}"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"JupyterLab exited: {(home / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        else:
            pytest.fail(f"JupyterLab did not start: {(home / 'lab.log').read_text()[-2000:]}")
        yield base, token, out
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"


def intro_steps() -> tuple[str, str, str]:
    """The folder, menu and menu item that book/intro.md tells the reader to use, word for word."""
    intro = (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    section = " ".join(intro[intro.index("## How to re-run a chapter"):].split())
    folder = re.search(r"It shows the folder `([^`]+)`", section).group(1)
    item, menu = re.search(r"choose “([^”]+)” in the “([^”]+)” menu", section).groups()
    return folder, menu, item


def test_every_make_command_the_reader_is_told_exists():
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M))
    for doc in ("book/intro.md", "README.md"):
        told = set(re.findall(r"\bmake ([a-z][a-z-]*)", (ROOT / doc).read_text(encoding="utf-8")))
        assert "lab" in told or doc != "book/intro.md"
        assert told <= targets, f"{doc} names make targets that do not exist: {told - targets}"


def open_notebook(browser, base: str, token: str, out: Path, rel: str, as_told: bool = False):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    seen = {"foreign": [], "errors": []}

    def route(r):
        if urlparse(r.request.url).hostname != "127.0.0.1" and not r.request.url.startswith(("data:", "blob:")):
            seen["foreign"].append(r.request.url)
            return r.abort()
        return r.continue_()

    page.route("**/*", route)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    cells = len(nbformat.read(out / rel, as_version=4).cells)
    if as_told:  # as book/intro.md says: JupyterLab opens on a folder, the reader opens the chapter
        folder, _, _ = intro_steps()
        page.goto(f"{base}/?token={token}", wait_until="load")
        assert rel.startswith(folder + "/")
        page.wait_for_selector(f".jp-BreadCrumbs:has-text('{folder}')", timeout=120000)
        page.dblclick(f".jp-DirListing-item:has-text('{Path(rel).name}')", timeout=60000)
    else:
        page.goto(f"{base}/lab/tree/{rel}?token={token}", wait_until="load")
    # Ready when every cell is on the page and the kernel has started and is idle.
    page.wait_for_function(f"""() => document.querySelectorAll('{NOTEBOOK} .jp-Cell').length === {cells}
      && [...document.querySelectorAll('.jp-StatusBar-Widget')].some(w => /\\| Idle/.test(w.innerText))""",
                           timeout=120000)
    return context, page, seen


DRAWN = """() => {
  const cells = [...document.querySelectorAll('%s .jp-Cell')];
  const out = {drawn: 0, under_caption: [], captions: 0, overflow: [], text: ''};
  let last = null;
  for (const cell of cells) {
    if (cell.classList.contains('jp-CodeCell')) {
      last = [...cell.querySelectorAll('.jp-OutputArea-output img')].filter(i => i.complete && i.naturalWidth > 100);
      out.drawn += last.length;
      for (const img of last) {  // a chart fits the notebook's width: nothing cut off or scrolled
        const area = img.closest('.jp-OutputArea-output');
        if (img.getBoundingClientRect().width > area.clientWidth + 1) out.overflow.push(img.getBoundingClientRect().width);
      }
    } else {
      const text = cell.querySelector('.jp-RenderedMarkdown')?.innerText || '';
      out.text += text + '\\n';
      if (/^Fig\\. \\d+(\\.\\d+)?\\./.test(text.trim())) {
        out.captions += 1;
        out.under_caption.push(!!(last && last.length === 1));
      }
      last = null;
    }
  }
  return out;
}""" % NOTEBOOK


def test_a_chapter_runs_in_jupyterlab_and_draws_every_figure_offline(lab, browser):
    base, token, out = lab
    expected = len(figures_in(ROOT / CHAPTER))
    _, menu, item = intro_steps()
    context, page, seen = open_notebook(browser, base, token, out, CHAPTER, as_told=True)
    try:
        assert page.evaluate(DRAWN)["drawn"] == 0, "the chapter's outputs were not cleared before the run"
        page.click(f".lm-MenuBar-itemLabel:text-is('{menu}')")
        page.click(f".lm-Menu-item:has(.lm-Menu-itemLabel:text-is('{item}'))")
        # Done when every chart is drawn or a cell has failed (which stops the run), and the
        # kernel is idle again; the assertions below say which.
        try:
            page.wait_for_function(f"""() => ({DRAWN})().drawn >= {expected} || !!document.querySelector(
              '{NOTEBOOK} .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')""", timeout=180000)
        except PlaywrightTimeout:
            pass
        page.wait_for_function("""() => [...document.querySelectorAll('.jp-StatusBar-Widget')]
          .some(w => /\\| Idle/.test(w.innerText))""", timeout=60000)
        page.wait_for_timeout(500)
        result = page.evaluate(DRAWN)
        errors = page.eval_on_selector_all(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                                           "els => els.map(e => e.innerText)")
        page.locator(f"{NOTEBOOK} .jp-RenderedImage").last.scroll_into_view_if_needed()
        page.screenshot(path=str(out / "03-china-after-run.png"), full_page=False)
    finally:
        context.close()
    assert seen["foreign"] == [], f"JupyterLab asked for non-local hosts: {seen['foreign']}"
    assert errors == [], f"cells wrote to stderr: {errors}"
    assert result["captions"] == expected, f"expected {expected} figure captions, found {result['captions']}"
    assert result["drawn"] == expected, f"expected {expected} charts drawn, found {result['drawn']}"
    assert all(result["under_caption"]), f"a caption is not directly under its chart: {result['under_caption']}"
    assert result["overflow"] == [], f"charts wider than the notebook (px): {result['overflow']}"
    raw = RAW_RENDERED.search(result["text"])
    assert raw is None, f"raw MyST shown to the reader: {result['text'][max(0, raw.start() - 80):raw.end() + 80]}"
    assert "Lo and Lucas (2021)" in result["text"] and "Fig. 3.3" in result["text"]

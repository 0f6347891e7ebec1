"""The builds `make bench` compares the book's own against.

- The stock build: the same book built the way jupyter-book 1.x builds it out of the box,
  that is by the `jupyter-book` command (not the book's _ext/book_build.py) and without the
  book's speed extension (_ext/fourpillars_speed.py: notebooks executed ahead of time, two at
  a time, in forked kernels; pybtex's plug-in look-up and formatting kept; each {numref} target
  page unpickled once; a slower-paced garbage collector). myst-nb then executes the notebooks
  one after another as Sphinx reads them. Everything else the book needs to build (its other
  extensions, the strict flags, the same pinned packages) stays.
- An edit to one chapter: one code cell of a chapter changed, as an author changing a chart
  would, so that the rebuild executes that notebook again and rewrites its page.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Callable

import nbformat
import yaml

SPEED_EXTENSION = "fourpillars_speed"
EDITED_CHAPTER = "notebooks/03-china.ipynb"


def copy_of_book(root: Path, prefix: str) -> Path:
    """A copy of the book's sources (no virtual environment, build, history or benchmark)."""
    copy = Path(tempfile.mkdtemp(prefix=prefix)) / "book"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".venv", "_build", ".git", "bench"))
    return copy


def stock_copy(root: Path) -> Path:
    """The book with the speed extension taken out of _config.yml, and nothing else changed."""
    copy = copy_of_book(root, "fourpillars-stock-")
    config_path = copy / "_config.yml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    extensions = config["sphinx"]["local_extensions"]
    if SPEED_EXTENSION not in extensions:
        raise RuntimeError(f"_config.yml no longer loads {SPEED_EXTENSION}: update bench/stock.py")
    del extensions[SPEED_EXTENSION]
    config_path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return copy


def edit_one_chapter(book: Path, n: int) -> None:
    """Change one code cell of a chapter (a comment line, so the output stays the same): its
    code changes, so myst-nb's cache no longer matches and the rebuild runs it again."""
    path = book / EDITED_CHAPTER
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code")
    cell.source += f"\n# benchmark edit {n}"
    nbformat.write(nb, path)


def stock_build(root: Path, build: Callable[[Path, Path], list[str]], timed: Callable[[list[str]], float],
                runs: int, compare: Callable[[Path], None]) -> float:
    """Seconds for a clean stock build of the book (the fastest of `runs`, each into a fresh folder).
    `compare` is given the last build's HTML folder before it is removed."""
    book = stock_copy(root)
    try:
        outs = [Path(tempfile.mkdtemp(dir=book.parent)) for _ in range(runs)]
        seconds = min(timed(build(book, out)) for out in outs)
        compare(outs[-1] / "_build" / "html")
        return seconds
    finally:
        shutil.rmtree(book.parent)


def edited_rebuild(book: Path, cmd: list[str], timed: Callable[[list[str]], float], runs: int) -> float:
    """Seconds to rebuild `book` (already built by `cmd`) after editing one chapter, the fastest of
    `runs`, each after a new edit."""
    seconds = []
    for n in range(runs):
        edit_one_chapter(book, n)
        seconds.append(timed(cmd))
    return min(seconds)

"""The book's build stops, and says where, when a chapter breaks: a notebook that raises,
or a chapter reading bad data. Each case builds a small copy of the book (the intro, two
chapters and the bibliography, with the real _config.yml, extensions and package) into a
temporary folder. Two chapters, so that the failure passes through the ahead-of-time
parallel execution (_ext/fourpillars_speed.py) as well as myst-nb's own."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat

from fourpillars.data import ROOT

CHAPTER = "notebooks/03-china.ipynb"
OTHER = "notebooks/01-united-states.ipynb"


def small_book(tmp: Path) -> Path:
    """The tracked files of the book, with a table of contents of the intro and two chapters."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
    for name in tracked:
        if name.endswith(".ipynb") and name not in (CHAPTER, OTHER):
            continue
        target = tmp / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / name).read_bytes())
    (tmp / "_toc.yml").write_text(f"format: jb-book\nroot: book/intro\nchapters:\n  - file: {OTHER[:-6]}\n"
                                  f"  - file: {CHAPTER[:-6]}\n"
                                  "  - file: book/bibliography\n", encoding="utf-8")
    return tmp


def build(book: Path) -> tuple[int, str]:
    jb = str(Path(sys.executable).with_name("jupyter-book"))
    # The copy's own package (and so its own data/) must be imported, not the installed one.
    env = {**os.environ, "PYTHONPATH": str(book)}
    done = subprocess.run([jb, "build", ".", "-n", "-W", "--keep-going"], cwd=book, env=env, capture_output=True, text=True)
    return done.returncode, re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)  # drop terminal colours


def test_a_notebook_that_raises_fails_the_build_naming_notebook_and_cell(tmp_path):
    book = small_book(tmp_path)
    nb = nbformat.read(book / CHAPTER, as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell('raise RuntimeError("a deliberate failure")'))
    nbformat.write(nb, book / CHAPTER)
    code, out = build(book)
    assert code != 0, "the build succeeded although a chapter cell raised"
    assert "executing 2 notebooks, 2 at a time" in out, "the parallel execution did not run"
    assert f"{CHAPTER}: WARNING: Executing notebook failed" in out, out[-3000:]   # the notebook
    assert 'raise RuntimeError("a deliberate failure")' in out, out[-3000:]       # the cell, by its source
    assert "RuntimeError: a deliberate failure" in out, out[-3000:]                # and the error


def test_bad_data_fails_the_build_naming_file_row_and_column(tmp_path):
    book = small_book(tmp_path)
    path = book / "data" / "projects.csv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    first = lines[1].split(",")
    first[header.index("start_year")] = "twenty-sixteen"
    lines[1] = ",".join(first)
    path.write_text("".join(lines), encoding="utf-8")
    code, out = build(book)
    assert code != 0, "the build succeeded although a chapter read a malformed table"
    assert f"{CHAPTER}: WARNING: Executing notebook failed" in out, out[-3000:]
    message = next((line for line in out.splitlines() if "DataError" in line and "projects.csv" in line), "")
    for part in ("data/projects.csv", "row 1 (line 2)", "column 'start_year'", "'twenty-sixteen'", "expected"):
        assert part in message, f"the build's error lacks {part!r}: {message or out[-3000:]}"

"""Two clean builds of one commit are byte-identical, apart from the files listed here.

This runs a second clean build (every notebook executed again) into a temporary folder
and compares every file of its HTML output with the build under test.
"""
from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

from fourpillars.data import ROOT

# The files that must differ between two builds, and why. Keep this list short.
MAY_DIFFER = {
    "book/status.html": "the execution table reports how long each notebook took",
    "downloads/four-pillars.pdf": "made after the HTML build by `make pdf`; absent from a bare build",
}


def files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_two_clean_builds_are_byte_identical(built, tmp_path):
    jb = str(Path(sys.executable).with_name("jupyter-book"))
    subprocess.run([jb, "build", ".", "--path-output", str(tmp_path), "-n", "-W", "--keep-going"],
                   cwd=ROOT, check=True, capture_output=True)
    second = tmp_path / "_build" / "html"
    first_files, second_files = files(built) - set(MAY_DIFFER), files(second) - set(MAY_DIFFER)
    assert first_files == second_files, f"only in one build: {sorted(first_files ^ second_files)[:10]}"
    differ = [f for f in sorted(first_files) if not filecmp.cmp(built / f, second / f, shallow=False)]
    assert not differ, f"files that differ between two clean builds: {differ[:15]}"

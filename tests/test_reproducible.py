"""Builds are reproducible: two builds of one commit that both start from nothing are
byte-identical, a rebuild with nothing changed writes the same pages as a clean build, and
the build under test (which `make book` may have updated incrementally) matches them too,
apart from the files listed here with their reasons.

Each build goes to its own temporary folder (`--path-output`), so it starts with no pages,
no Sphinx environment and no notebook cache: every notebook is executed again.
"""
from __future__ import annotations

import filecmp
import re
import subprocess
import sys
from pathlib import Path

from fourpillars.data import ROOT

# The files that may differ between two builds, and why. Keep this list short.
MAY_DIFFER = {
    "book/status.html": "the execution table reports how long each notebook took",
    "downloads/four-pillars.pdf": "made after the HTML build by `make pdf`; absent from a bare build",
}


def build(out: Path) -> Path:
    jb = str(Path(sys.executable).with_name("jupyter-book"))
    done = subprocess.run([jb, "build", ".", "--path-output", str(out), "-n", "-W", "--keep-going"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    return out / "_build" / "html"


def files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def differences(first: Path, second: Path) -> list[str]:
    a, b = files(first) - set(MAY_DIFFER), files(second) - set(MAY_DIFFER)
    only = [f"only in one: {f}" for f in sorted(a ^ b)]
    return only + [f for f in sorted(a & b) if not filecmp.cmp(first / f, second / f, shallow=False)]


def test_builds_from_nothing_match_and_a_rebuild_changes_nothing(built, tmp_path):
    first, second = build(tmp_path / "first"), build(tmp_path / "second")
    assert not differences(first, second), f"two clean builds differ: {differences(first, second)[:15]}"
    # A build killed while drawing a figure's PNG (in a worker, after its page is written)
    # leaves the page and no PNG; the next build must draw it.
    figure = sorted((first / "figures").glob("*.png"))[0]
    figure.unlink()
    build(tmp_path / "first")  # again, with nothing else changed: an incremental rebuild
    assert not differences(first, second), \
        f"a no-change rebuild differs from a clean build: {differences(first, second)[:15]}"
    assert not differences(built, second), \
        f"the build under test differs from a clean build: {differences(built, second)[:15]}"


def test_make_forgets_what_a_change_to_any_input_makes_stale():
    """`make book` and `make pdf` share one rule that forgets the caches and both builds' pages
    when the data, the package, the extensions, CITATION.cff or the installed packages change."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    rule = re.search(r"^_build/\.inputs: (.*)\n\t(.*)$", makefile, re.M)
    assert rule, "no _build/.inputs rule"
    for needed in (".venv/.installed", "CITATION.cff", "data/*", "fourpillars/*.py", "_ext/*.py", "_ext/static/*"):
        assert needed in rule.group(1), f"_build/.inputs does not depend on {needed}"
    for forgotten in ("_build/.jupyter_cache", "_build/.doctrees", "_build/html", "_build/singlehtml"):
        assert forgotten in rule.group(2), f"_build/.inputs does not forget {forgotten}"
    for target in ("book", "pdf"):
        assert re.search(rf"^{target}:.*_build/\.inputs", makefile, re.M), f"make {target} does not use _build/.inputs"


def test_a_torn_vega_bundle_is_rewritten(tmp_path):
    """A bundle cut short (a killed write, a full disk) is replaced on the next build."""
    from types import SimpleNamespace
    sys.path.insert(0, str(ROOT / "_ext"))
    from fourpillars_charts import bundle_name, write_bundle
    app = SimpleNamespace(outdir=str(tmp_path / "html"), doctreedir=str(tmp_path / "doctrees"))
    write_bundle(app)
    bundle = tmp_path / "html" / "_static" / "fourpillars" / bundle_name()
    whole = bundle.read_bytes()
    bundle.write_bytes(whole[:300_000])
    write_bundle(app)
    assert bundle.read_bytes() == whole, "the torn bundle was kept"

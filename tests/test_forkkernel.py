"""A kernel forked from the build's warm process (_ext/forkkernel.py) runs a notebook as a fresh
kernel does: same outputs, same directory, environment and import path, errors reported the
same way, and no process left behind."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_cache.executors.utils import single_nb_execution

from fourpillars.data import ROOT

sys.path.insert(0, str(ROOT / "_ext"))
from fourpillars_speed import Zygote, fork_kernels  # noqa: E402

CELLS = [
    "import os, sys\nimport pandas as pd\nprint(os.getcwd(), sys.path.count(os.getcwd()), '' in sys.path)",
    "print(os.environ.get('FP_TEST_VALUE'), os.environ.get('JPY_PARENT_PID') is not None)",
    "pd.DataFrame({'a': [1, 2], 'b': ['x', '<y>']})",
    "from IPython.display import Markdown, display\ndisplay(Markdown('**shown**'))",
    "import sys\nprint('to stderr', file=sys.stderr)",
]


def notebook(cells: list[str]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    return nb


def outputs(nb: nbformat.NotebookNode) -> list:
    return [[{k: v for k, v in o.items() if k != "execution_count"} for o in c.outputs] for c in nb.cells]


def descendants() -> set[int]:
    """Processes whose parent is this one, or a child of it."""
    parents = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat[0] != "Z":
            parents[int(pid)] = int(stat[1])
    found, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


@pytest.fixture
def zygote(monkeypatch):
    monkeypatch.setenv("FP_TEST_VALUE", "from the build")  # set before the kernels start, not the zygote
    z = Zygote()
    monkeypatch.setenv("FP_TEST_VALUE", "seen by the kernel")
    assert z.ready(), "the warm process did not start"
    yield z
    z.close()


def test_forked_kernel_gives_the_outputs_of_a_fresh_one(zygote, tmp_path):
    forked, fresh = notebook(CELLS), notebook(CELLS)
    for nb, extra in ((forked, {"kernel_manager_class": fork_kernels(zygote)}), (fresh, {})):
        result = single_nb_execution(nb, cwd=str(tmp_path), timeout=60, allow_errors=False, **extra)
        assert result.err is None, result.exc_string
    assert outputs(forked) == outputs(fresh)
    assert forked.cells[0].outputs[0].text.strip() == f"{tmp_path} 0 True"
    assert forked.cells[1].outputs[0].text.strip() == "seen by the kernel True"


def test_forked_kernel_reports_an_error_and_leaves_no_process(zygote, tmp_path):
    before = descendants()
    nb = notebook(["x = 1", "raise ValueError('stop here')", "print('never')"])
    result = single_nb_execution(nb, cwd=str(tmp_path), timeout=60, allow_errors=False,
                                 kernel_manager_class=fork_kernels(zygote))
    assert result.err is not None and "stop here" in result.exc_string
    assert nb.cells[2].outputs == []
    left = descendants() - before
    assert not left, f"processes left running after the kernel shut down: {sorted(left)}"

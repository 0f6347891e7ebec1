"""Sphinx extension: savings in build time that change nothing in the output.

1. Execute the notebooks Sphinx is about to read, several at once, in kernels forked from
a warm process. myst-nb runs notebooks one after another as it reads them, and each new
kernel spends about 2.5 s of CPU starting and importing what every notebook imports. Here a
process that has imported those modules once is started as the build starts (while Sphinx
loads), and each notebook's kernel is a fork of it (_ext/forkkernel.py). Just before
reading, every notebook that has no up-to-date entry in myst-nb's own execution cache runs in
a small thread pool (the work happens in the kernel processes, so threads suffice), and the
results are stored in that cache. myst-nb then finds them there, exactly as it would after a
previous build.

A notebook that fails here is not cached and so not hidden: myst-nb executes it again
and stops the build with its usual message naming the notebook and the cell.
Only active in myst-nb's "cache" execution mode (the book's setting).

2. sphinxcontrib-bibtex asks pybtex for its plain-text backend on every citation it
resolves (400+ per build), and pybtex scans every installed package's entry points each
time (about 3 s in all). Registering that one backend at run time, which pybtex's
lookup checks first, makes each request a dictionary look-up.

3. sphinxcontrib-bibtex has pybtex format all 428 references on every build, about 1.3 s. Each
formatted entry is kept between builds (_build/.doctrees/fp-bibtex.pickle), keyed by everything
the formatting reads (the style, the label and the entry's fields and names), and reused while
those are unchanged.

4. Sphinx resolves each {numref} by unpickling the whole doctree of the page the figure is on,
once per reference (47 references, about 2.4 s of every clean build). Each page's doctree is
unpickled once per build for that look-up, and only read.

5. Python's garbage collector runs less often in the build's process, and neither it nor the
kernels' collectors walk the modules imported before the work starts (gc.freeze).
"""
from __future__ import annotations

import gc
import os
import pickle
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import nbformat
import pybtex.plugin
from pybtex.backends.plaintext import Backend as PlainText
from pybtex.style.formatting import BaseStyle
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution
from jupyter_client import AsyncKernelManager
from sphinx.domains.std import StandardDomain
from sphinx.util import logging

from fourpillars.files import write_whole

logger = logging.getLogger(__name__)
GC_THRESHOLDS = (50000, 20, 20)  # Python's defaults: 700, 10, 10
FORKKERNEL = str(Path(__file__).with_name("forkkernel.py"))
# What the book's notebooks import (their first cells), imported once in the warm process.
PRELOAD = ["ipykernel.kernelapp", "numpy", "pandas", "altair", "krippendorff", "myst_nb", "IPython.display",
           "fourpillars", "fourpillars.claims", "fourpillars.coding", "fourpillars.data", "fourpillars.escape",
           "fourpillars.figures"]


class Zygote:
    """The warm process kernels are forked from (see _ext/forkkernel.py)."""

    def __init__(self):
        self.folder = tempfile.TemporaryDirectory(prefix="fourpillars-kernels-")
        self.socket = os.path.join(self.folder.name, "zygote")
        self.process = subprocess.Popen(
            [sys.executable, FORKKERNEL, "serve", self.socket, ",".join(PRELOAD)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def ready(self) -> bool:
        """Waits for the imports; False if the process failed (kernels then start the usual way)."""
        return self.process.stdout.readline() == b"ready\n"

    def close(self) -> None:
        self.process.stdin.close()  # the zygote's signal to exit; kernels already forked run on
        self.process.wait()
        self.folder.cleanup()


def fork_kernels(zygote: Zygote) -> type[AsyncKernelManager]:
    """A kernel manager that starts each Python kernel as a fork of the zygote: the command
    `python -m ipykernel_launcher <args>` becomes `python forkkernel.py connect <socket> <args>`."""
    class ForkKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            cmd = super().format_kernel_cmd(extra_arguments)
            if cmd[:3] == [sys.executable, "-m", "ipykernel_launcher"]:
                return [sys.executable, "-S", FORKKERNEL, "connect", zygote.socket, *cmd[3:]]
            return cmd
    return ForkKernelManager


def stale_notebooks(cache, env, docnames) -> list[tuple[Path, nbformat.NotebookNode]]:
    """Notebooks with no cached execution, one per cache key: notebooks whose code hashes
    alike share one entry (myst-nb would run only the first of them, too)."""
    stale = {}
    for docname in sorted(docnames):
        path = Path(env.doc2path(docname))
        if path.suffix != ".ipynb":
            continue
        nb = nbformat.read(path, as_version=4)
        try:
            cache.match_cache_notebook(nb)
        except KeyError:  # jupyter-cache's way of saying "no match"
            stale.setdefault(cache.create_hashed_notebook(nb)[1], (path, nb))
    # Longest first (file size stands for work), so the last to finish is a short one.
    return sorted(stale.values(), key=lambda item: -item[0].stat().st_size)


def stop_zygote(app, exception=None) -> None:
    if getattr(app, "fp_zygote", None) is not None:
        app.fp_zygote.close()
        app.fp_zygote = None


def execute_ahead(app, env, docnames) -> None:
    config = env.mystnb_config  # myst-nb's resolved settings, cache path included
    if config.execution_mode != "cache":
        stop_zygote(app)
        return
    cache = get_cache(config.execution_cache_path)
    stale = stale_notebooks(cache, env, docnames)
    zygote = getattr(app, "fp_zygote", None)
    if not stale or zygote is None or not zygote.ready():
        stop_zygote(app)
        return
    manager = fork_kernels(zygote)

    def run(item):
        path, nb = item
        try:
            result = single_nb_execution(
                nb, cwd=str(path.parent), timeout=config.execution_timeout,
                allow_errors=config.execution_allow_errors, meta_override=True, kernel_manager_class=manager)
            return path, nb, result.time if result.err is None else None
        except Exception:  # e.g. a dead kernel: myst-nb meets it again and reports it
            return path, nb, None

    workers = min(len(stale), max(2, os.cpu_count() or 2))
    logger.info(f"executing {len(stale)} notebooks, {workers} at a time")
    with ThreadPoolExecutor(workers) as pool:
        for done in as_completed([pool.submit(run, item) for item in stale]):
            path, nb, seconds = done.result()
            if seconds is not None:  # the cache is written from this thread only
                cache.cache_notebook_bundle(CacheBundleIn(nb, str(path), data={"execution_seconds": seconds}),
                                            check_validity=False, overwrite=True)
                app.emit("fourpillars-executed", nb)  # its figures can be drawn while others run
    stop_zygote(app)


FORMATTED_FILE = "fp-bibtex.pickle"
_format_entry = BaseStyle.format_entry


def load_formatted(app) -> None:
    path = Path(app.doctreedir) / FORMATTED_FILE
    try:
        app.fp_formatted = pickle.loads(path.read_bytes()) if path.exists() else {}
    except Exception:  # unreadable (a killed build, another version): format afresh
        app.fp_formatted = {}
    app.fp_formatted_used = set()

    def format_entry(style, label, entry, bib_data=None):
        if bib_data is not None:  # cross-references read other entries: not kept
            return _format_entry(style, label, entry, bib_data=bib_data)
        key = repr((type(style).__module__, type(style).__qualname__, type(style.name_style).__qualname__,
                    style.abbreviate_names, label, entry.type, entry.key, sorted(entry.fields.items()),
                    sorted((role, [str(p) for p in people]) for role, people in entry.persons.items())))
        if key not in app.fp_formatted:
            app.fp_formatted[key] = _format_entry(style, label, entry)
        app.fp_formatted_used.add(key)
        return app.fp_formatted[key]
    BaseStyle.format_entry = format_entry


def save_formatted(app, exception) -> None:
    if exception is None and getattr(app, "fp_formatted_used", None):
        kept = {k: app.fp_formatted[k] for k in app.fp_formatted_used}  # only what this build used
        write_whole(Path(app.doctreedir) / FORMATTED_FILE, pickle.dumps(kept))


_resolve_numref = StandardDomain._resolve_numref_xref


class _NumrefEnv:
    """The build environment as a {numref} sees it: each page's doctree unpickled once per build.
    The resolver only reads the target node (its ids and type); pages written get their own copy."""

    def __init__(self, env, doctrees: dict):
        self._env, self._doctrees = env, doctrees

    def __getattr__(self, name):
        return getattr(self._env, name)

    def get_doctree(self, docname: str):
        if docname not in self._doctrees:
            self._doctrees[docname] = self._env.get_doctree(docname)
        return self._doctrees[docname]


def resolve_numref(domain, env, *args, **kwargs):
    doctrees = domain.__dict__.setdefault("fp_doctrees", {})  # the domain lives for one build, unpickled
    return _resolve_numref(domain, _NumrefEnv(env, doctrees), *args, **kwargs)


def forget_doctrees(app, env) -> None:
    """Pages read in this build: their doctrees are taken afresh."""
    env.domains["std"].__dict__.pop("fp_doctrees", None)


def setup(app):
    # Python's cycle collector, at its default pace, looks at the youngest objects every 700
    # allocations and at the whole heap, which grows with every page's doctree, every 100 of
    # those; freezing what is imported so far and collecting less often save about 3 s of a
    # clean build (and change nothing the build makes).
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    StandardDomain._resolve_numref_xref = resolve_numref
    app.connect("env-updated", forget_doctrees)
    pybtex.plugin.register_plugin("pybtex.backends", "plaintext", PlainText, force=True)
    app.connect("builder-inited", load_formatted)
    app.connect("build-finished", save_formatted)
    # Started as the extension loads, so its imports overlap Sphinx's own start; stopped unused
    # when no notebook needs running.
    app.fp_zygote = Zygote()
    app.connect("env-before-read-docs", execute_ahead)
    app.connect("build-finished", stop_zygote)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

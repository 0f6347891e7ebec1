"""Sphinx extension: two savings in build time that change nothing in the output.

1. Execute the notebooks Sphinx is about to read, several at once. myst-nb runs
notebooks one after another as it reads them; each spends most of its 1.5-2 s waiting
for a kernel. Just before reading, this runs every notebook that has
no up-to-date entry in myst-nb's own execution cache in a small thread pool (the work
happens in the kernel processes, so threads suffice) and stores the results in that
cache. myst-nb then finds them there, exactly as it would after a previous build.

A notebook that fails here is not cached and so not hidden: myst-nb executes it again
and stops the build with its usual message naming the notebook and the cell.
Only active in myst-nb's "cache" execution mode (the book's setting).

2. sphinxcontrib-bibtex asks pybtex for its plain-text backend on every citation it
resolves (400+ per build), and pybtex scans every installed package's entry points each
time (about 3 s in all). Registering that one backend at run time, which pybtex's
lookup checks first, makes each request a dictionary look-up.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pybtex.plugin
from pybtex.backends.plaintext import Backend as PlainText
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution
from sphinx.util import logging

logger = logging.getLogger(__name__)


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
    return list(stale.values())


def execute_ahead(app, env, docnames) -> None:
    config = env.mystnb_config  # myst-nb's resolved settings, cache path included
    if config.execution_mode != "cache":
        return
    cache = get_cache(config.execution_cache_path)
    stale = stale_notebooks(cache, env, docnames)
    if len(stale) < 2:
        return  # nothing to overlap; myst-nb runs a single notebook just as fast

    def run(item):
        path, nb = item
        try:
            result = single_nb_execution(
                nb, cwd=str(path.parent), timeout=config.execution_timeout,
                allow_errors=config.execution_allow_errors, meta_override=True)
            return path, nb, result.time if result.err is None else None
        except Exception:  # e.g. a dead kernel: myst-nb meets it again and reports it
            return path, nb, None

    workers = min(len(stale), max(2, os.cpu_count() or 2))
    logger.info(f"executing {len(stale)} notebooks, {workers} at a time")
    with ThreadPoolExecutor(workers) as pool:
        for path, nb, seconds in pool.map(run, stale):
            if seconds is not None:  # the cache is written from this thread only
                cache.cache_notebook_bundle(CacheBundleIn(nb, str(path), data={"execution_seconds": seconds}),
                                            check_validity=False, overwrite=True)


def setup(app):
    pybtex.plugin.register_plugin("pybtex.backends", "plaintext", PlainText, force=True)
    app.connect("env-before-read-docs", execute_ahead)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

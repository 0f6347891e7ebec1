# The book's commands. `make book` builds it; `make test` proves it.
# Both create .venv from the pinned requirements.txt when it is missing or stale.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PY := .venv/bin/python
# jupyter-book's command line, without an import no build uses (_ext/book_build.py: 1-2 s a build)
JB := $(PY) _ext/book_build.py
STRICT := -n -W --keep-going
# Batch runs of the notebooks draw no chart in the figure cells (fourpillars.figure): the
# committed notebooks stay small and nbval compares like with like. JupyterLab draws them.
BATCH := FOURPILLARS_CELL_DRAWINGS=off

.PHONY: book pdf test notebooks lab system-deps bench own-words own-words-index clean

.venv/.installed: requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# references.bib is generated from data/sources.csv, then the whole book is built
# strictly: any warning or notebook error fails the build.
book: .venv/.installed _build/.inputs
	$(PY) -m fourpillars
	$(JB) build . $(STRICT)
	@echo "Open the book: $(CURDIR)/_build/html/index.html"

# Sphinx re-reads a notebook only when its file changes, and myst-nb's cache knows it by its
# code alone, so a change to the data, the package, the extensions, CITATION.cff or the
# installed packages would leave stale pages in a local rebuild: forget the caches and both
# builds' pages when any changes (the next build runs every notebook; `make pdf` and
# `make book` share this rule, so neither is left stale by the other).
_build/.inputs: .venv/.installed CITATION.cff $(wildcard data/* data/geo/* fourpillars/*.py _ext/*.py _ext/static/* _ext/templates/* _ext/templates/*/*)
	rm -rf _build/.jupyter_cache _build/.doctrees _build/html _build/singlehtml
	mkdir -p _build && touch $@

# Debian's chromium for the browser tests and the PDF (never a browser download),
# poppler-utils for reading the PDF back in the tests, and npm for the accessibility audit.
system-deps:
	@command -v chromium >/dev/null && command -v pdftotext >/dev/null && command -v npm >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils npm >/dev/null; }

# The current axe-core for the accessibility audit, at the version pinned in tests/package-lock.json.
tests/node_modules/.package-lock.json: tests/package.json tests/package-lock.json | system-deps
	npm ci --prefix tests --no-audit --no-fund --ignore-scripts

# The PDF edition: the single-page HTML build printed by headless Chromium, offline,
# with vector charts. Written to _build/html/downloads/four-pillars.pdf.
pdf: .venv/.installed _build/.inputs system-deps
	$(PY) -m fourpillars
	$(JB) build . --builder singlehtml $(STRICT)
	$(PY) _ext/print_pdf.py

# The whole test suite: strict build, data package, bad input, strict nbval,
# built HTML, citations and the PDF read back, and a real offline browser with axe-core.
test: .venv/.installed system-deps tests/node_modules/.package-lock.json book pdf
	$(PY) -m pytest tests -q
	$(BATCH) $(PY) -m pytest --nbval notebooks book -q -p no:cacheprovider

# Re-execute every notebook (chapters and generated reference pages) and commit the outputs;
# nbval compares against them.
notebooks: .venv/.installed
	$(PY) -m fourpillars
	$(BATCH) $(PY) -m jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.record_timing=False --ExecutePreprocessor.timeout=300 notebooks/*.ipynb book/*.ipynb

# The sentences that copy or closely paraphrase a core source (tests/test_own_words.py),
# and the fingerprint index of ../shared that the test reads: rebuild and commit it when a
# source or a rule in fourpillars/ownwords.py changes.
own-words: .venv/.installed
	$(PY) -m fourpillars.ownwords

own-words-index: .venv/.installed
	$(PY) tests/fixtures/build_own_words_index.py

# Re-run the chapters in JupyterLab, offline: writes the reader's copy of every notebook
# (MyST citations, figure numbers and captions as plain Markdown) to _build/lab/ and opens
# JupyterLab there. A copy you have edited is kept, never overwritten.
lab: .venv/.installed
	$(PY) -m fourpillars.reader

bench: .venv/.installed system-deps
	$(PY) bench/bench.py

clean:
	rm -rf _build

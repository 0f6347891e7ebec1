"""The book's build command: jupyter-book's own command line, started without one import that
nothing in a build uses. `python _ext/book_build.py build . -n -W` is `jupyter-book build . -n -W`.

jupyter-book imports jsonschema as it starts, and jsonschema, when the package rfc3987-syntax is
installed (JupyterLab's jupyter-events asks for it), loads it to check the "iri" string formats;
that package compiles some 40 grammars as it loads: 1.2-1.9 s of every build, clean or not,
before Sphinx starts. No format is checked in a build: jupyter-book validates _config.yml without
a format checker, and so does altair, in the notebooks' kernels, which leave the package out in
the same way (_ext/forkkernel.py). jsonschema, finding it absent, leaves those two formats
unchecked. The pages are the same either way: tests/test_reproducible.py compares the build
`make book` made with this command against builds by the plain `jupyter-book`.
"""
import sys

if __name__ == "__main__":  # not when a worker process re-imports this file (multiprocessing's spawn)
    sys.modules.setdefault("rfc3987_syntax", None)
    from jupyter_book.cli.main import main
    sys.exit(main())

"""The reader's copy of each notebook, opened in JupyterLab by `make lab`.

JupyterLab shows the book's MyST markup as raw text ({cite:p}`key`, {numref}`fig-x`, whole
{glue:figure} blocks). The jupyterlab-myst extension (2.7) renders the Markdown around it but
marks every citation, figure reference and glued figure as unknown: resolving them takes the
whole book (the bibliography, figure numbers across chapters, the glued outputs), which only
the Sphinx build has. So `make lab` opens copies of the notebooks, in `_build/lab/`, whose
markdown cells say in plain Markdown what the book prints:

- {cite:t}`key` -> "Lo and Lucas (2021)", {cite:p}`a,b` -> "(Lo and Lucas, 2021; Xinhua, 2018)",
  {cite:year}`key` -> "2022", each name linked to its source when the source has a URL; a
  References cell at the end lists every work the notebook cites, as the bibliography does;
- {numref}`fig-x` -> "Fig. 3.2", numbered as the book numbers it;
- a {glue:figure} block -> its caption, "**Fig. 3.2.** ...", directly under the cell that
  draws the chart; {glue:md} and {glue:text} -> the values the notebook glued;
- {doc}`../book/contested` -> a link to that page's notebook (or its title);
- {claim}`id` -> the book's check mark (the check itself is a cell of the notebook);
- a {note} (or other admonition) -> a quoted paragraph; a link to a page of the book that is
  not a notebook -> its text (JupyterLab cannot open the page); the claims ledger, which only
  the build can assemble -> where to find it in the built book.

Code cells are copied unchanged, outputs included (a figure cell draws its chart when it runs;
the committed notebooks hold no drawing); a cell the book folds (`hide-input`) is folded in
JupyterLab too. Markup this module does not know is an error, never passed through raw.

A copy the reader has edited is never overwritten: when its chapter changes it is kept
beside the new copy as `<name>.yours-<n>.ipynb`.

    python -m fourpillars.reader          # write the copies and open JupyterLab
    python -m fourpillars.reader --copies-only
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import string
import sys
from pathlib import Path

import nbformat
import yaml

from .data import ROOT, load

OUT = ROOT / "_build" / "lab"
# JupyterLab's application settings for `make lab`: no news feed or update check (each would
# ask a website), so nothing is requested from the network and nothing asks the reader.
SETTINGS = ROOT / "_build" / "lab-settings"
OVERRIDES = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}
MANIFEST = ".generated.json"  # copy path -> sha256 of the bytes written, to spot a reader's edits

ROLE_RE = re.compile(r"\{([a-z][a-z:-]*)\}`([^`]*)`")
# A fenced directive: ```{name} argument, then :option: lines, then the body, then the fence.
DIRECTIVE_RE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[a-z][a-z:-]*)\}[ \t]*(?P<arg>[^\n]*)\n"
                          r"(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)
TARGET_RE = re.compile(r"^\([A-Za-z0-9_-]+\)=[ \t]*\n", re.M)  # (label)= lines: targets only
PAGE_LINK_RE = re.compile(r"\[([^\]]+)\]\((?!https?:|#)[^)\s]+\.md(?:#[^)\s]*)?\)")  # [text](page.md)
# Directives whose content only the build can make: the reader's copy says where to find it.
BUILT_ONLY = {"fourpillars-claims-ledger": "The ledger itself, every checked claim of the book with its sentences, "
              "rows and test, is assembled by the build: after `make book`, open `_build/html/book/claims.html`."}
ADMONITIONS = {"note": "Note", "warning": "Warning", "important": "Important", "tip": "Tip", "caution": "Caution",
               "attention": "Attention", "seealso": "See also", "admonition": "Note"}
CAPTION_RE = re.compile(r"^(`{3,}|:{3,})\{(?:glue:)?figure\}[ \t]*\S+[^\n]*\n(?::[a-z-]+:[^\n]*\n)*", re.M)


class MarkupError(ValueError):
    """A role or directive the reader's copy cannot render: extend this module, do not leak it."""


# --- What the book knows: documents, figure numbers, sources -------------------------------

def toc_documents(root: Path = ROOT) -> list[tuple[str, bool]]:
    """(docname, numbered) for every document in _toc.yml, in reading order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    docs = [(toc["root"], False)]
    for part in toc.get("parts", []):
        docs += [(c["file"], bool(part.get("numbered"))) for c in part.get("chapters", [])]
    return docs


def doc_path(docname: str, root: Path = ROOT) -> Path | None:
    for suffix in (".ipynb", ".md"):
        if (root / f"{docname}{suffix}").exists():
            return root / f"{docname}{suffix}"
    return None


def doc_markdown(path: Path) -> str:
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        return "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return path.read_text(encoding="utf-8")


def figure_numbers(root: Path = ROOT) -> dict[str, str]:
    """Figure name -> its number as the book prints it: "3.2" in the third numbered chapter;
    on pages outside the numbered chapters, like an appendix, one letter per page with figures
    in the order of the contents ("A.1", "B.1"; _ext/fourpillars_cite.py numbers them so)."""
    numbers: dict[str, str] = {}
    chapter, letters = 0, iter(string.ascii_uppercase)
    for docname, numbered in toc_documents(root):
        path = doc_path(docname, root)
        if path is None:
            continue
        chapter += numbered
        names = re.findall(r"^:name:[ \t]*(\S+)", "\n".join(m.group(0) + "\n" for m in CAPTION_RE.finditer(
            doc_markdown(path))), re.M)
        prefix = str(chapter) if numbered else (next(letters) if names else "")
        for i, name in enumerate(names, 1):
            numbers[name] = f"{prefix}.{i}"
    return numbers


def doc_title(path: Path) -> str:
    match = re.search(r"^#[ \t]+(.+)$", doc_markdown(path), re.M)
    return match.group(1).strip() if match else path.stem


def cite_label(src) -> str:
    """The name part of an author-year citation, as sphinxcontrib-bibtex prints it from the
    generated references.bib: family names ('Lo and Lucas'), or the organisation."""
    names = [a.strip() for a in (src["author"] or "").split(";") if a.strip()] or [src["publisher"]]
    family = [n.split(",")[0].strip() if "," in n else n for n in names]
    if len(family) > 2:
        return f"{family[0]} et al."
    return " and ".join(family)


def md_escape(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>])", r"\\\1", text)


class Book:
    """Everything the rewriting needs from the book, read once."""

    def __init__(self, root: Path = ROOT):
        from pybtex.database import parse_string
        from pybtex.plugin import find_plugin

        from .sources import render_bib

        self.root = root
        self.sources = load("sources").fillna("").set_index("id")
        self.numbers = figure_numbers(root)
        self.bib = parse_string(render_bib(), "bibtex")
        self.style = find_plugin("pybtex.style.formatting", "plain")()
        self.backend = find_plugin("pybtex.backends", "markdown")()

    def source(self, key: str):
        if key not in self.sources.index:
            raise MarkupError(f"unknown citation key '{key}' (not in data/sources.csv)")
        return self.sources.loc[key]

    def year(self, key: str) -> str:
        return self.source(key)["date"][:4] or "n.d."

    def name(self, key: str) -> str:
        src = self.source(key)
        label = md_escape(cite_label(src))
        return f"[{label}]({src['url']})" if src["url"] else label

    def reference(self, key: str) -> str:
        entry = next(iter(self.style.format_entries([self.bib.entries[key]])))
        return " ".join(entry.text.render(self.backend).split("\n"))


# --- Rewriting one notebook's markdown -------------------------------------------------------

def glue_values(nb) -> dict[str, dict]:
    """Glued name -> its mime bundle (prefix removed), from the notebook's own outputs."""
    values = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            meta = out.get("metadata", {}).get("scrapbook")
            if meta:
                prefix = len(meta.get("mime_prefix", ""))
                values[meta["name"]] = {k[prefix:]: v for k, v in out.get("data", {}).items()}
    return values


def split_explicit(content: str) -> tuple[str | None, str]:
    """`Fig. %s <fig-x>` -> ("Fig. %s", "fig-x"); `fig-x` -> (None, "fig-x")."""
    match = re.fullmatch(r"(.*?)\s*<([^<>]+)>", content)
    return (match.group(1), match.group(2).strip()) if match else (None, content.strip())


class Rewriter:
    def __init__(self, book: Book, nb, nb_path: Path):
        self.book, self.nb_path = book, nb_path
        self.glue = glue_values(nb)
        self.cited: dict[str, None] = {}

    def glued(self, name: str, mime: str) -> str:
        if name not in self.glue:
            raise MarkupError(f"{self.nb_path.name}: nothing is glued under '{name}' in the committed outputs; "
                              "re-execute the notebooks (`make notebooks`)")
        bundle = self.glue[name]
        if mime == "text/markdown" and mime in bundle:
            return bundle[mime].strip()
        text = bundle.get("text/plain", "")
        # A glued string's text/plain is its repr: show the string itself.
        return text[1:-1] if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"" else text

    def role(self, match: re.Match) -> str:
        role, content = match.group(1), match.group(2).strip()
        if role in ("cite:p", "cite:t", "cite:year", "cite"):
            keys = [k.strip() for k in content.split(",") if k.strip()]
            self.cited.update(dict.fromkeys(keys))
            book = self.book
            if role == "cite:t":
                return "; ".join(f"{book.name(k)} ({book.year(k)})" for k in keys)
            if role == "cite:year":
                return "; ".join(book.year(k) for k in keys)
            return "(" + "; ".join(f"{book.name(k)}, {book.year(k)}" for k in keys) + ")"
        if role == "numref":
            text, target = split_explicit(content)
            if target not in self.book.numbers:
                raise MarkupError(f"{self.nb_path.name}: {{numref}} to unknown figure '{target}'")
            number = self.book.numbers[target]
            return (text.replace("%s", number).replace("{number}", number) if text else f"Fig. {number}")
        if role in ("glue", "glue:", "glue:any", "glue:md", "glue:text"):
            name, _, spec = content.partition(":")
            value = self.glued(name.strip(), "text/markdown" if role != "glue:text" else "text/plain")
            if spec:
                value = format(float(value), spec)
            return value
        if role == "claim":  # the book links a checked claim to its ledger; here the check runs in the notebook
            return "\u2713"
        if role == "doc":
            text, target = split_explicit(content)
            path = doc_path(str((self.nb_path.parent / target).resolve().relative_to(self.book.root)), self.book.root)
            if path is None:
                raise MarkupError(f"{self.nb_path.name}: {{doc}} to a missing page '{target}'")
            text = text or doc_title(path)
            if path.suffix == ".ipynb":  # reader's copies sit in the same layout
                return f"[{text}]({os.path.relpath(path, self.nb_path.parent)})"
            return text
        raise MarkupError(f"{self.nb_path.name}: the reader's copy does not know the role {{{role}}}")

    def directive(self, match: re.Match) -> str:
        name, arg, body = match.group("name"), match.group("arg").strip(), match.group("body")
        if name in ADMONITIONS:  # a boxed note in the book: a quoted paragraph here
            text = DIRECTIVE_RE.sub(self.directive, body.strip())
            title = arg or ADMONITIONS[name]
            return "\n".join("> " + line if line else ">" for line in f"**{title}.** {text}".split("\n"))
        if name in BUILT_ONLY:
            return f"> {BUILT_ONLY[name]}"
        if name != "glue:figure":
            raise MarkupError(f"{self.nb_path.name}: the reader's copy does not know the directive {{{name}}}")
        lines = body.split("\n")
        options = {}
        while lines and (opt := re.fullmatch(r":([a-z-]+):[ \t]*(.*)", lines[0])):
            options[opt.group(1)] = opt.group(2).strip()
            lines.pop(0)
        label = options.get("name", arg)
        if label not in self.book.numbers:
            raise MarkupError(f"{self.nb_path.name}: figure '{label}' has no number")
        caption = "\n".join(lines).strip()
        return f"**Fig. {self.book.numbers[label]}.** {caption}"

    def page_link(self, match: re.Match) -> str:
        """A link to a page of the book that is not a notebook cannot open in JupyterLab: keep its text."""
        return match.group(1)

    def markdown(self, text: str) -> str:
        text = TARGET_RE.sub("", text)
        text = DIRECTIVE_RE.sub(self.directive, text)
        text = PAGE_LINK_RE.sub(self.page_link, text)
        return ROLE_RE.sub(self.role, text)

    def references(self) -> str:
        items = "\n".join(f"- {self.book.reference(k)}" for k in sorted(
            self.cited, key=lambda k: (cite_label(self.book.source(k)).lower(), self.book.year(k))))
        return "## References\n\n" + items + "\n"


def reader_copy(book: Book, path: Path):
    """The reader's copy of one notebook, as a notebook node."""
    nb = nbformat.read(path, as_version=4)
    rewriter = Rewriter(book, nb, path)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = rewriter.markdown(cell.source)
        elif "hide-input" in cell.metadata.get("tags", []):
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True  # JupyterLab folds it
    if rewriter.cited:
        nb.cells.append(nbformat.v4.new_markdown_cell(rewriter.references(), id="fourpillars-references"))
    nb.metadata["fourpillars"] = {
        "reader_copy_of": path.relative_to(book.root).as_posix(),
        "note": "Generated by `make lab` from the book's notebook: edit freely, your copy is kept."}
    return nb


# --- Writing the copies ----------------------------------------------------------------------

def notebooks(root: Path = ROOT) -> list[Path]:
    return [p for d, _ in toc_documents(root) if (p := doc_path(d, root)) and p.suffix == ".ipynb"]


def write_copies(out: Path = OUT, root: Path = ROOT) -> list[Path]:
    """Write (or refresh) the reader's copy of every notebook in the book; keep a copy the
    reader has edited beside the new one. Returns the copies' paths."""
    book = Book(root)
    manifest_path = out / MANIFEST
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    written = []
    for path in notebooks(root):
        rel = path.relative_to(root).as_posix()
        target = out / rel
        text = nbformat.writes(reader_copy(book, path)) + "\n"
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        written.append(target)
        if target.exists():
            if digest == manifest.get(rel):  # the book's notebook has not changed: leave the copy be
                continue
            if hashlib.sha256(target.read_bytes()).hexdigest() != manifest.get(rel):
                # The reader changed the copy and the book changed the notebook: keep their work.
                n = 1
                while (kept := target.with_name(f"{target.stem}.yours-{n}.ipynb")).exists():
                    n += 1
                target.rename(kept)
                print(f"kept your edited copy as {kept.relative_to(out)}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        manifest[rel] = digest
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return written


def lab_command(out: Path = OUT, port: int | None = None, browser: bool = True) -> list[str]:
    """JupyterLab on this machine only, from the project's environment, asking nothing of the
    network: no news feed, no update check, no extension catalogue."""
    SETTINGS.mkdir(parents=True, exist_ok=True)
    (SETTINGS / "overrides.json").write_text(json.dumps(OVERRIDES, indent=1), encoding="utf-8")
    cmd = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={out}", "--ServerApp.ip=127.0.0.1",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.extension_manager=readonly", f"--LabApp.app_settings_dir={SETTINGS}",
           "--LabApp.default_url=/lab/tree/notebooks"]
    if port is not None:
        cmd.append(f"--ServerApp.port={port}")
    if not browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI run as root; Jupyter refuses it otherwise
    return cmd


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies-only", action="store_true", help="write the copies, do not start JupyterLab")
    parser.add_argument("--no-browser", action="store_true", help="print the address instead of opening it")
    parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    copies = write_copies()
    print(f"reader's copies of {len(copies)} notebooks in {OUT.relative_to(ROOT)}/")
    if not args.copies_only:
        os.environ.pop("FOURPILLARS_CELL_DRAWINGS", None)  # the reader's kernels draw the charts
        cmd = lab_command(port=args.port, browser=not args.no_browser)
        sys.stdout.flush()
        os.execv(cmd[0], cmd)


if __name__ == "__main__":
    main()

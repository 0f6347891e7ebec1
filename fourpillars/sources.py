"""Sources: one registry (data/sources.csv) from which references.bib and every
figure's "Source:" line are generated, so no citation is typed twice."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .data import ROOT, DataError, load

BIB_PATH = ROOT / "references.bib"


def _bib_text(text: str, where: str, latex: bool = True) -> str:
    """A value as BibTeX field text. Braces and backslashes are markup in BibTeX: a stray '}'
    closes the field early and lets the rest of the cell become fields of its own. The schema
    refuses them in the columns that reach references.bib; this refuses them again, naming the
    row, should a value arrive some other way. & and % are escaped for LaTeX-aware tools
    (not in a URL, which BibTeX keeps verbatim)."""
    if any(c in text for c in "{}\\"):
        raise DataError(f"{where}: {text!r} holds {{, }} or \\; expected text without them (BibTeX reads them as markup)")
    return text.replace("&", r"\&").replace("%", r"\%") if latex else text


def _bib_authors(author: str, where: str) -> str:
    """'Family, Given' names stay as they are; a name without a comma is an organisation,
    braced so BibTeX does not read 'Geopolitical Intelligence Services' as Mr Services."""
    names = [a.strip() for a in author.split(";") if a.strip()]
    return " and ".join(_bib_text(n, where) if "," in n else "{" + _bib_text(n, where) + "}" for n in names)


def bib_entry(src: pd.Series, row: int | None = None) -> str:
    """One BibTeX entry. Web pages are @misc (pybtex's styles have no @online). `row` is the
    source's row in data/sources.csv, named in any error."""
    at = lambda column: f"data/sources.csv, {f'row {row} (line {row + 1}), ' if row else ''}column '{column}'"
    year = src["date"][:4]
    fields = {
        # A corporate author is wrapped in braces so BibTeX does not split it into names.
        "author": _bib_authors(src["author"], at("author")) if src["author"] else "{" + _bib_text(src["publisher"], at("publisher")) + "}",
        "title": "{" + _bib_text(src["title"], at("title")) + "}",
        "howpublished": _bib_text(src["publisher"], at("publisher")),
        "year": year or "n.d.",
        "url": _bib_text(src["url"], at("url"), latex=False) if src["url"] else "",
        "note": "; ".join(x for x in [
            f"Reporting {_bib_text(src['reports'], at('reports'))}" if src["reports"] else "",
            f"Dated {_bib_text(src['date'], at('date'))}" if src["date"] and len(src["date"]) > 4 else "",
            _bib_text(src["date_note"], at("date_note")) if src["date_note"] else "",
        ] if x),
    }
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items() if v)
    return f"@misc{{{src['id']},\n{body}\n}}\n"


def render_bib() -> str:
    sources = load("sources").fillna("")  # empty optional fields read as missing
    header = "% Generated from data/sources.csv by `python -m fourpillars.sources`; do not edit by hand.\n\n"
    return header + "\n".join(bib_entry(s, row) for row, (_, s) in enumerate(sources.iterrows(), start=1))


def write_bib(path: Path = BIB_PATH) -> Path:
    path.write_text(render_bib(), encoding="utf-8")
    return path


def short_cite(src: pd.Series) -> str:
    """A short in-caption citation: 'Publisher (date)', with whom it reports."""
    who = src["author"].split(",")[0] if src["author"] and src["kind"] == "core" else src["publisher"]
    if src["kind"] == "core" and ";" in src["author"]:
        who = " & ".join(a.split(",")[0].strip() for a in src["author"].split(";"))
    when = src["date"] or "n.d."
    out = f"{who} ({when})"
    if src["reports"]:
        out += f", reporting {src['reports']}"
    return out


def source_line(rows: pd.DataFrame) -> str:
    """The 'Source:' line for exactly the rows a figure draws, in first-use order.

    Every column named `source_id` or ending in `_source_id` counts (a map's points, for
    example, carry the source of the site and the source of its coordinates)."""
    columns = [c for c in rows.columns if c == "source_id" or c.endswith("_source_id")]
    if "source_id" not in columns or rows["source_id"].isna().any():
        raise ValueError("every row a figure draws needs a source_id")
    sources = load("sources").fillna("").set_index("id")
    ids = list(dict.fromkeys(i for _, row in rows[columns].iterrows() for i in row if isinstance(i, str) and i))
    return "Source: " + "; ".join(short_cite(sources.loc[i]) for i in ids) + \
        ". Processed by the authors of this book."


def cited_keys(paths: list[Path]) -> set[str]:
    """Keys cited with {cite} roles in prose files (markdown and notebooks)."""
    keys: set[str] = set()
    for path in paths:
        for group in re.findall(r"\{cite(?::[a-z]+)?\}`([^`]+)`", path.read_text(encoding="utf-8")):
            keys.update(k.strip() for k in group.split(","))
    return keys



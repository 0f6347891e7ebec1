"""The prose is the book's own: no run of nine words is copied from the core texts or the
reference sheet's excerpts of them, outside quotation marks. (Runs where ../shared is present, as in CI.)"""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from fourpillars.data import ROOT

SHARED = ROOT.parent / "shared"
RUN = 9


def words(text: str) -> list[str]:
    text = re.sub(r"[\u201c\"][^\u201d\"]{0,200}[\u201d\"]", " ", text)  # quoted words are allowed
    text = re.sub(r"\{[a-z:]+\}`[^`]*`", " ", text)                    # roles such as {cite:p}`key`
    return re.findall(r"[a-z0-9]+", text.lower().replace("\u2019", "'"))


def runs(tokens: list[str]) -> set[tuple[str, ...]]:
    return {tuple(tokens[i:i + RUN]) for i in range(len(tokens) - RUN + 1)}


def prose() -> dict[str, str]:
    out = {}
    for nb in sorted(ROOT.glob("notebooks/*.ipynb")) + sorted(ROOT.glob("book/*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        out[nb.name] = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    for md in sorted(ROOT.glob("book/*.md")):
        out[md.name] = md.read_text(encoding="utf-8")
    out["claims.csv"] = (ROOT / "data" / "claims.csv").read_text(encoding="utf-8")
    return out


@pytest.mark.skipif(not (SHARED / "sources").is_dir(), reason="the core texts are not beside this clone")
def test_no_nine_word_run_is_copied_from_the_sources():
    originals: set[tuple[str, ...]] = set()
    for text in (SHARED / "sources").glob("*.txt"):
        originals |= runs(words(text.read_text(encoding="utf-8")))
    with (SHARED / "reference" / "facts.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            originals |= runs(words(row["excerpt"]))
    # The names of the five hedging components are the framework's terms, not copied prose.
    originals -= runs(words("economic pragmatism binding engagement limited bandwagoning sovereignty denial "
                            "and indirect balancing economic pragmatism binding engagement limited bandwagoning "
                            "sovereignty denial indirect balancing"))
    copied = {}
    for name, text in prose().items():
        hits = runs(words(text)) & originals
        if hits:
            copied[name] = [" ".join(h) for h in sorted(hits)[:3]]
    assert not copied, f"runs of {RUN} words copied from the sources (rewrite them or quote and cite): {copied}"

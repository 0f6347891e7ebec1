"""The book's prose as sentences, for the checks that read it as a reader would: which
sentences make a comparative or universal claim, and whether each is checked against the
data ({claim}`id`), attributed to the source that makes it, or quoted."""
from __future__ import annotations

import json
import re
from pathlib import Path

from .data import ROOT

# Words that make a sentence a claim about the data: ranks, universals, firsts and onlys,
# trends, ratios and comparisons. Numbers after "more than" are a source's own qualifier.
NOT_A_NUMBER = r"(?!\s+(?:about\s+|some\s+|nearly\s+|almost\s+|around\s+|half\s+)?(?:[\d€$]|EUR|USD|one|two|three|four|five|six|seven|eight|nine|ten|a\s+(?:third|quarter|half|dozen|hundred|thousand|million|billion)|a\s+year|a\s+decade))"
TRIGGERS = re.compile("|".join([
    r"\b(?:largest|biggest|smallest|weakest|strongest|highest|lowest|greatest|fewest|most|least|main|leading|dominant|dominates?|dwarfs?)\b",
    r"\b(?:led|leads?)\b(?!\s+by\b|\s+to\b)",
    r"\b(?:every|all|none|never|always|no other|entirely)\b",
    r"\b(?:only|first|sole)\b",
    r"\bsince\b",
    r"\b(?:rose|risen|rising|rises|fell|fallen|falling|falls|grew|grown|growing|grows|increas(?:e|ed|es|ing|ingly)|decreas(?:e|ed|es|ing)|declin(?:e|ed|es|ing)|doubled|tripled|quadrupled|halved|shr(?:ank|unk|inks|inking)|dropped|climbed|surged|overt(?:ook|aken|akes)|caught up|narrow(?:ed|ing)|widen(?:ed|ing))\b",
    r"\b(?:\d+(?:\.\d+)?\s+times|twice|thrice|half|a third of|two-thirds|three-quarters|\w+fold|several times)\b",
    r"\b\d+\s+of\s+(?:the\s+)?\d+\b",
    r"\bor (?:more|fewer)\b",
    r"\b(?:more|less|fewer|larger|smaller|higher|lower|bigger|greater|cheaper|stronger|weaker)\s+than\b" + NOT_A_NUMBER,
    r"\b(?:ahead of|exceed(?:s|ed|ing)?|outnumber(?:s|ed)?|surpass(?:es|ed)?)\b",
]), re.I)
# Phrases that contain a trigger word but make no claim: dates, idioms, layout.
NOT_CLAIMS = re.compile(
    r"\b(?:first|second) (?:half|quarter)\b|\bhalf[- ]year\b|\babove all\b|\bat all\b|\bat least\b|"
    r"\bfirst of the (?:month|period)\b|\bthe first point\b|\bin the first place\b|"
    r"^\W*(?:First|Second|Third|Fourth|Finally),|"   # an enumeration, not a ranking
    r"\bfirst screen\b|\b\w+ed twice\b", re.I)          # the screen a page opens on; an act done twice
# A sentence is attributed when a source is its grammatical subject (a narrative citation),
# or when it says whose judgement it reports.
NARRATIVE = re.compile(r"\{cite:(?:t|ts|year|author)\}`")
ATTRIBUTION = re.compile(r"\b(?:according to|as reported by|reported by|as relayed by|in the words of|in the view of|"
                         r"in (?:his|her|their) (?:view|judgement|words)|argues?|argued|writes?|wrote|says?|said|"
                         r"claims?|claimed|judges?|judged|sees?|saw|calls?|called|describes?|described|reports?|"
                         r"reported|finds?|found|estimates?|estimated|ranks?|ranked|puts?|counts?|counted|"
                         r"names?|named|insists?|concludes?|concluded|notes?|noted|states?|stated|tells?|told|"
                         r"attributes?|attributed|promised|pledged|announced)\b", re.I)
CHECKED = re.compile(r"\{claim\}`[^`]+`")
QUOTED = re.compile(r"\u201c[^\u201d]*\u201d|\"[^\"\n]*\"")
ABBREVIATIONS = re.compile(r"\b(?:Fig|Figs|e\.g|i\.e|cf|No|Nos|vs|Mr|Ms|Dr|St|Jan|Feb|Aug|Sept?|Oct|Nov|Dec|ed|eds|ch|al|approx|U\.S|U\.N)\.", re.I)
SENTENCE_END = re.compile(r"(?<=[.!?])[\u201d\"')\]]*\s+(?=[A-Z\u201c\"(*{\[])")


def _markdown(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return path.read_text(encoding="utf-8")


def _blocks(text: str) -> list[str]:
    """Paragraphs, headings and list items of a MyST page. Figure captions are prose; code,
    directives, comments and HTML are not."""
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    kept, fence = [], None
    for line in text.split("\n"):
        opening = re.match(r"^\s*(`{3,}|:{3,})\s*(\{[^}]+\})?", line)
        if fence is None and opening:
            fence = (opening.group(1), opening.group(2) in ("{glue:figure}", "{figure}", "{note}", "{admonition}"))
            kept.append("")
            continue
        if fence is not None:
            if line.strip().startswith(fence[0]) and line.strip() == fence[0]:
                fence = None
                kept.append("")
            elif fence[1] and not line.strip().startswith(":"):
                kept.append(line)
            continue
        if line.lstrip().startswith("<"):
            kept.append("")
            continue
        if line.lstrip().startswith("|"):  # a table row: each cell reads on its own
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            kept += [f"\n\n{c}\n\n" for c in cells if c and not re.fullmatch(r":?-{3,}:?", c)]
            continue
        heading = re.match(r"^\s*(#{1,6}\s.*|[-*]\s+.*|\d+\.\s+.*)$", line)
        kept.append("\n\n" + line if heading else line)
    blocks = re.split(r"\n\s*\n", "\n".join(kept))
    return [" ".join(b.split()) for b in blocks if b.strip()]


def sentences(text: str) -> list[str]:
    out = []
    for block in _blocks(text):
        if block.startswith("#"):
            out.append(block)
            continue
        protected = ABBREVIATIONS.sub(lambda m: m.group(0).replace(".", "\u2024"), block)
        out += [s.replace("\u2024", ".") for s in SENTENCE_END.split(protected) if s.strip()]
    return out


def is_claim(sentence: str) -> bool:
    """Does the sentence rank, generalise, compare or describe a trend (outside quotations)?"""
    bare = QUOTED.sub(" ", sentence)
    bare = re.sub(r"\{[a-z:]+\}`[^`]*`", " ", bare)   # roles: citation keys, figure names
    bare = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", bare)  # links: keep the text
    bare = NOT_CLAIMS.sub(" ", bare)
    return bool(TRIGGERS.search(bare))


def is_covered(sentence: str) -> bool:
    """Checked against the data, or attributed to the source that makes it. (A ratio glued
    from a computation, "{glue:text}`x` times", is no longer a typed number and needs no mark.)"""
    if CHECKED.search(sentence) or NARRATIVE.search(sentence):
        return True
    return "{cite:p}`" in sentence and bool(ATTRIBUTION.search(QUOTED.sub(" ", sentence)))


def unchecked(path: Path) -> list[str]:
    """The sentences of a page that make a claim with nothing to back it."""
    return [s for s in sentences(_markdown(path)) if is_claim(s) and not is_covered(s)]


def pages() -> list[Path]:
    """Every chapter and reference page of the book (the table of contents' files)."""
    return sorted(ROOT.glob("notebooks/*.ipynb")) + sorted(ROOT.glob("book/*.ipynb")) + sorted(ROOT.glob("book/*.md"))

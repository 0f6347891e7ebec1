"""The one loader: read a table of the data package only through its schema.

What is valid is decided in one place, fourpillars/validate.py: frictionless applies the
Table Schemas of data/datapackage.json, and the book's own checks the rules a schema cannot
state. The loader asks it, then turns the cells into columns. Every problem stops the load with
a DataError naming the file, the row, the column, the bad value and what was expected; nothing
is coerced or dropped. Rows are counted from 1 for the first data row; the line in the file
(header = line 1) is given too, so an editor can jump straight to it.

Validation takes frictionless a few seconds per process, so a table that passed is remembered
by the digest of everything its validity depends on (its CSV, the CSVs its foreign keys point
into, the descriptor and the rules themselves): a build validates the package once
(`python -m fourpillars`), and each notebook's kernel then only reads.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import sys
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "data"
VALIDATED = ROOT / "_build" / ".validated"  # one empty file per digest of a table that passed
# Dates are ISO 8601 at the precision the source gives: a year, a month or a day.
PARTIAL_DATE = r"^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$"
TYPES = {"string", "integer", "number", "boolean", "date"}  # what the loader turns into columns
# A cell a spreadsheet would run as a formula when a reader opens the CSV: one starting with
# = + @, a space or control character, or - not followed by a digit (OWASP's list).
FORMULA_START = r"[=+@\s]|-(?![0-9])"
# Free text: one line, no surrounding space, not formula-like (the schema's pattern for text).
TEXT = rf"^(?!{FORMULA_START})(?!.*\s$)[^\x00-\x1f\x7f]*$"


class DataError(ValueError):
    """Bad input in the data package; the message says where and what was expected."""


def _where(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def read_package(data_dir: Path = DATA_DIR) -> dict:
    """The descriptor, parsed (read it, do not change it: it is shared until the file changes)."""
    path = Path(data_dir) / "datapackage.json"
    if not path.is_file():
        raise DataError(f"{_where(path)}: file not found; expected the data package descriptor")
    return _parse_package(path, path.stat().st_mtime_ns, path.stat().st_size)


@lru_cache(maxsize=8)
def _parse_package(path: Path, mtime: int, size: int) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(f"{_where(path)}: not valid JSON ({err}); expected a Frictionless data package") from None


def resource(name: str, data_dir: Path = DATA_DIR) -> dict:
    names = [r["name"] for r in read_package(data_dir)["resources"]]
    if name not in names:
        raise DataError(f"{_where(data_dir / 'datapackage.json')}: no resource named '{name}'; expected one of {names}")
    return next(r for r in read_package(data_dir)["resources"] if r["name"] == name)


def _path(res: dict, data_dir: Path) -> Path:
    """The resource's CSV, which must lie inside the data folder (the zip and the data page
    describe that folder only)."""
    where = f"{_where(data_dir / 'datapackage.json')}, resource '{res['name']}'"
    raw = res.get("path")
    path = (data_dir / raw).resolve() if isinstance(raw, str) else None
    if path is None or Path(raw).is_absolute() or ".." in Path(raw).parts or data_dir.resolve() not in path.parents:
        raise DataError(f"{where}: path {raw!r} lies outside the data folder; expected a CSV file name inside {_where(data_dir)}/")
    return data_dir / raw


@contextmanager
def csv_limit():
    """frictionless lifts the csv module's field size limit for the whole process; reading
    with a limit of our own keeps the outcome the same whether or not it ran first (a huge
    cell is read whole, then refused by the schema's maxLength or type)."""
    old = csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _check_types(res: dict, data_dir: Path) -> None:
    for field in res["schema"]["fields"]:
        if field.get("type", "string") not in TYPES:
            raise DataError(f"{_where(data_dir / 'datapackage.json')}, resource '{res['name']}', column '{field['name']}': "
                            f"the schema gives unknown type {field.get('type')!r}; expected one of {sorted(TYPES)}")


def _check_foreign_keys(res: dict, data_dir: Path) -> None:
    """Each foreign key joins columns that exist. frictionless refuses the others too, but says
    only that the descriptor is not valid."""
    package = {r["name"]: r for r in read_package(data_dir)["resources"]}
    where = f"{_where(data_dir / 'datapackage.json')}, resource '{res['name']}'"
    as_list = lambda x: [x] if isinstance(x, str) else list(x or [])
    for fk in res["schema"].get("foreignKeys", []):
        local, target = as_list(fk.get("fields")), fk.get("reference", {}).get("resource")
        columns = [f["name"] for f in res["schema"]["fields"]]
        if missing := [c for c in local if c not in columns]:
            raise DataError(f"{where}: a foreign key starts from column '{missing[0]}', which the table does not have; "
                            f"expected one of its columns {columns}")
        if target not in package:
            raise DataError(f"{where}, column '{local[0]}': the foreign key points to table '{target}', which the "
                            f"package does not have; expected one of {list(package)}")
        target_columns = [f["name"] for f in package[target]["schema"]["fields"]]
        if missing := [c for c in as_list(fk["reference"].get("fields")) if c not in target_columns]:
            raise DataError(f"{where}, column '{local[0]}': the foreign key points to column '{missing[0]}' of "
                            f"'{target}', which it does not have; expected one of {target_columns}")


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise DataError(f"{_where(path)}: file not found; expected a CSV file listed in datapackage.json")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        row = f", row {line - 1}" if line > 1 else ""
        raise DataError(f"{_where(path)}{row} (line {line}): byte 0x{raw[err.start]:02x} is not valid UTF-8; "
                        "expected UTF-8 text") from None
    if not text.strip():
        raise DataError(f"{_where(path)}: file is empty; expected a header row and data rows")
    return text


def _records(text: str, path: Path) -> tuple[list[list[str]], list[int]]:
    """The file's records, read as strict RFC 4180 CSV (header first), and the line where
    each starts (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records, starts, start = [], [], 1
    with csv_limit():
        try:
            for cells in reader:
                _check_controls(cells, records[0] if records else [], f"{_where(path)}, row {len(records)} (line {start})")
                records.append(cells)
                starts.append(start)
                start = reader.line_num + 1
        except csv.Error as err:
            raise DataError(f"{_where(path)}, row {len(records)} (line {start}): malformed CSV ({err}); "
                            "expected comma-separated cells with balanced double quotes (RFC 4180)") from None
    return records, starts


CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _check_controls(cells: list[str], header: list[str], where: str) -> None:
    """No cell holds a control character (NUL, tab, line break, ...). The schema says so too,
    but frictionless reads a carriage return inside a quoted cell as the end of the line and
    would blame the wrong cell; the loader, which reads the file as written, names the right one."""
    if not header and len(cells) == 1 and "\t" in cells[0]:
        raise DataError(f"{where.replace(', row 0 (line 1)', ', line 1')}: the header is separated by tabs; "
                        "expected comma-separated columns")
    for i, value in enumerate(cells):
        if CONTROL.search(value):
            column = f", column '{header[i]}'" if i < len(header) else ""
            shown = value.encode("unicode_escape").decode("ascii")
            shown = f"'{shown[:80]}…' ({len(value):,} characters)" if len(shown) > 80 else f"'{shown}'"
            raise DataError(f"{where.replace(', row 0 (line 1)', ', line 1')}{column}: {shown} holds a control character; "
                            "expected one line of printable text (no tab, line break or NUL)")


def _depends_on(res: dict, data_dir: Path) -> list[Path]:
    """The files a table's validity depends on: the descriptor, its CSV, and the CSVs its
    foreign keys point into."""
    package = {r["name"]: r for r in read_package(data_dir)["resources"]}
    targets = [fk.get("reference", {}).get("resource") for fk in res["schema"].get("foreignKeys", [])]
    return [data_dir / "datapackage.json", data_dir / res["path"]] + \
        [data_dir / package[t]["path"] for t in targets if t in package and isinstance(package[t].get("path"), str)]


@lru_cache(maxsize=None)
def _rules() -> bytes:
    from importlib.metadata import version
    return version("frictionless").encode() + Path(__file__).with_name("validate.py").read_bytes()


def _digest(files: list[Path]) -> str:
    digest = hashlib.sha256(_rules())
    for f in files:
        digest.update(f.name.encode() + b"\0" + (f.read_bytes() if f.is_file() else b"(missing)") + b"\0")
    return digest.hexdigest()


def _validate(name: str, data_dir: Path, records: list[list[str]], lines: list[int], stamp: Path) -> None:
    """Ask frictionless and the book's checks; remember a pass in `stamp`."""
    from .validate import resource_problems
    problems = resource_problems(name, data_dir, ROOT, records[0] if records else [], lines)
    if problems:
        more = f" (and {len(problems) - 1} more in this table)" if len(problems) > 1 else ""
        raise DataError(problems[0] + more)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.touch()


def _frame(rows: list[list[str]], fields: list[dict]) -> pd.DataFrame:
    """The validated cells as typed columns: '' is missing, numbers and booleans as written."""
    convert = {"integer": int, "number": float, "boolean": lambda c: c == "true", "date": dt.date.fromisoformat}
    records = [[None if c == "" else convert.get(f.get("type"), str)(c) for c, f in zip(cells, fields)] for cells in rows]
    frame = pd.DataFrame.from_records(records, columns=[f["name"] for f in fields])
    for f in fields:
        if f.get("type") == "integer":
            frame[f["name"]] = frame[f["name"]].astype("Int64")
        elif f.get("type") == "number":
            frame[f["name"]] = frame[f["name"]].astype("float64")
    return frame


@lru_cache(maxsize=None)
def _load_cached(name: str, data_dir: Path, files: tuple, stamp: tuple) -> pd.DataFrame:
    res = resource(name, data_dir)
    _check_types(res, data_dir)
    _check_foreign_keys(res, data_dir)
    path = _path(res, data_dir)
    records, lines = _records(_read_text(path), path)
    stamp = VALIDATED / _digest(list(files))
    if not stamp.exists():
        _validate(name, data_dir, records, lines, stamp)
    return _frame(records[1:], res["schema"]["fields"])


def load(name: str, data_dir: Path = DATA_DIR) -> pd.DataFrame:
    """Return the table `name` of the data package, validated against its schema."""
    data_dir = Path(data_dir)
    res = resource(name, data_dir)
    _path(res, data_dir)
    # The in-process cache is keyed by the time and size of every file the table's validity
    # depends on (foreign-key targets too), so an edit to any of them is always seen.
    files = tuple(_depends_on(res, data_dir))
    stamp = tuple((f.stat().st_mtime_ns, f.stat().st_size) if f.exists() else None for f in files)
    frame = _load_cached(name, data_dir, files, stamp).copy()
    frame.attrs["table"] = name  # lets a failed claim say which table its rows come from
    return frame


def load_all(data_dir: Path = DATA_DIR) -> dict[str, pd.DataFrame]:
    return {res["name"]: load(res["name"], data_dir) for res in read_package(data_dir)["resources"]}


# Where each table keeps its value, and the unit it implies when the table has no unit column.
VALUE_COLUMNS = {"value": "", "percent": "percent", "share_percent": "percent", "count": "", "troops": "troops"}


def contested(data_dir: Path = DATA_DIR) -> pd.DataFrame:
    """Every row flagged contested, from every table, in one long frame.

    Columns: table, id, claim, value, unit, when, source_id, note. Tables name their
    value, unit and date columns differently; the first that exists is used.
    """
    pick = lambda row, names: next((row[n] for n in names if n in row and pd.notna(row[n]) and row[n] != ""), "")
    out = []
    for name, table in load_all(data_dir).items():
        if "contested" not in table.columns:
            continue
        for _, row in table[table["contested"]].iterrows():
            column = next((c for c in VALUE_COLUMNS if c in row and pd.notna(row[c])), None)
            value = row[column] if column else ""
            unit = pick(row, ["unit", "currency", "measure", "counting_rule"]) or VALUE_COLUMNS.get(column, "")
            if value == "" and unit == "date":  # a disputed date is itself the figure
                value = pick(row, ["date", "as_of"])
            if "votes_for" in row:  # a vote: its tally is the contested value
                value = "\u2013".join("" if pd.isna(row[c]) else str(row[c]) for c in ("votes_for", "votes_against", "votes_abstain"))
                unit = "votes for\u2013against\u2013abstaining"
            if value == "" or unit == "":
                raise DataError(f"data/{name}.csv, row id '{row['id']}': contested row has no value or unit the "
                                "contested-figures page can show; expected a value column the page knows")
            out.append({"table": name, "id": row["id"], "claim": row["claim"], "value": value, "unit": unit,
                        "when": pick(row, ["period", "as_of", "date", "fieldwork", "year"]),
                        "source_id": row["source_id"], "note": pick(row, ["basis", "note"])})
    return pd.DataFrame(out, columns=["table", "id", "claim", "value", "unit", "when", "source_id", "note"])

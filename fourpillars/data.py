"""The one loader: read a table of the data package only through its schema.

Every check fails loudly with a DataError that names the file, the row, the
column, the bad value and what was expected. Nothing is coerced or dropped.
Rows are counted from 1 for the first data row; the line number in the file
(header = line 1) is given too, so an editor can jump straight to it.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from functools import lru_cache
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "data"

# Dates are ISO 8601 at the precision the source gives: a year, a month or a day.
PARTIAL_DATE = r"^\d{4}(-\d{2}(-\d{2})?)?$"


class DataError(ValueError):
    """Bad input in the data package; the message says where and what was expected."""


def _where(path: Path, row: int | None = None, column: str | None = None) -> str:
    try:
        shown = path.resolve().relative_to(ROOT)
    except ValueError:
        shown = path
    out = str(shown)
    if row is not None:
        out += f", row {row} (line {row + 1})"
    if column is not None:
        out += f", column '{column}'"
    return out


def read_package(data_dir: Path = DATA_DIR) -> dict:
    path = data_dir / "datapackage.json"
    if not path.is_file():
        raise DataError(f"{_where(path)}: file not found; expected the data package descriptor")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(f"{_where(path)}: not valid JSON ({err}); expected a Frictionless data package") from None


def resource(name: str, data_dir: Path = DATA_DIR) -> dict:
    for res in read_package(data_dir)["resources"]:
        if res["name"] == name:
            return res
    raise DataError(f"{_where(data_dir / 'datapackage.json')}: no resource named '{name}'; "
                    f"expected one of {[r['name'] for r in read_package(data_dir)['resources']]}")


def _parse(value: str, field: dict, where: str):
    """Turn one CSV cell into a Python value, or raise naming what was expected."""
    kind = field.get("type", "string")
    cons = field.get("constraints", {})
    if value == "":
        if cons.get("required"):
            raise DataError(f"{where}: empty value; expected a {kind} (the field is required)")
        return None
    if kind == "string":
        out = value
    elif kind == "integer":
        if not re.fullmatch(r"-?\d+", value):
            raise DataError(f"{where}: '{value}' is not an integer; expected a whole number such as 2024")
        out = int(value)
    elif kind == "number":
        try:
            out = float(value)
        except ValueError:
            raise DataError(f"{where}: '{value}' is not a number; expected a decimal number such as 12.5") from None
        if out != out or out in (float("inf"), float("-inf")):
            raise DataError(f"{where}: '{value}' is not a finite number; expected a decimal number")
    elif kind == "boolean":
        if value not in ("true", "false"):
            raise DataError(f"{where}: '{value}' is not a boolean; expected 'true' or 'false'")
        out = value == "true"
    elif kind == "date":
        try:
            out = dt.date.fromisoformat(value)
        except ValueError:
            raise DataError(f"{where}: '{value}' is not a valid date; expected YYYY-MM-DD") from None
    else:
        raise DataError(f"{where}: the schema gives unknown type '{kind}'; expected string, integer, number, boolean or date")
    _check_constraints(value, out, field, where)
    return out


def _check_constraints(raw: str, value, field: dict, where: str) -> None:
    cons = field.get("constraints", {})
    if "enum" in cons and value not in cons["enum"]:
        raise DataError(f"{where}: '{raw}' is not allowed; expected one of {cons['enum']}")
    if "pattern" in cons:
        if not re.fullmatch(cons["pattern"], raw):
            raise DataError(f"{where}: '{raw}' does not match the pattern {cons['pattern']}"
                            + ("; expected an ISO 8601 date YYYY, YYYY-MM or YYYY-MM-DD"
                               if cons["pattern"] == PARTIAL_DATE else ""))
        if cons["pattern"] == PARTIAL_DATE:
            _check_calendar(raw, where)
    if "minimum" in cons and value < cons["minimum"]:
        raise DataError(f"{where}: {raw} is below the minimum {cons['minimum']}; expected a value >= {cons['minimum']}")
    if "maximum" in cons and value > cons["maximum"]:
        raise DataError(f"{where}: {raw} is above the maximum {cons['maximum']}; expected a value <= {cons['maximum']}")


def _check_calendar(raw: str, where: str) -> None:
    parts = [int(p) for p in raw.split("-")]
    try:
        dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
    except ValueError:
        raise DataError(f"{where}: '{raw}' is not a real calendar date; expected an ISO 8601 date YYYY, YYYY-MM or YYYY-MM-DD") from None


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise DataError(f"{_where(path)}: file not found; expected a CSV file listed in datapackage.json")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise DataError(f"{_where(path, line - 1 if line > 1 else None)}: byte 0x{raw[err.start]:02x} is not valid UTF-8 "
                        f"(line {line}); expected UTF-8 text") from None
    if not text.strip():
        raise DataError(f"{_where(path)}: file is empty; expected a header row and data rows")
    return text


def _check_header(header: list[str], names: list[str], path: Path) -> None:
    missing = [n for n in names if n not in header]
    extra = [h for h in header if h not in names]
    if missing:
        raise DataError(f"{_where(path)}, line 1: missing column '{missing[0]}'; expected columns {names}")
    if extra:
        raise DataError(f"{_where(path)}, line 1, column '{extra[0]}': unknown column not in the schema; expected only {names}")
    if header != names:
        raise DataError(f"{_where(path)}, line 1: columns are in the order {header}; expected the schema order {names}")


def _rows(text: str, path: Path, fields: list[dict]) -> list[dict]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    names = [f["name"] for f in fields]
    records: list[dict] = []
    row = 0
    try:
        _check_header(next(reader), names, path)
        while True:
            row += 1
            start_line = reader.line_num + 1  # a quoted field may span lines: report where the record starts
            try:
                cells = next(reader)
            except StopIteration:
                break
            if len(cells) != len(names):
                raise DataError(f"{_where(path, row)}: {len(cells)} cells; expected {len(names)} ({', '.join(names)})")
            records.append({f["name"]: _parse(c, f, _where(path, row, f["name"])) for c, f in zip(cells, fields)})
    except csv.Error as err:
        raise DataError(f"{_where(path)}, row {row} (line {start_line}): malformed CSV ({err}); "
                        "expected comma-separated cells with balanced double quotes (RFC 4180)") from None
    if not records:
        raise DataError(f"{_where(path)}: no data rows; expected at least one row after the header")
    return records


def _check_primary_key(records: list[dict], key: list[str], path: Path) -> None:
    seen: dict[tuple, int] = {}
    for i, rec in enumerate(records, start=1):
        k = tuple(rec[c] for c in key)
        if k in seen:
            raise DataError(f"{_where(path, i, key[0] if len(key) == 1 else None)}: duplicate primary key "
                            f"{dict(zip(key, k))}, first used in row {seen[k]}; expected each key to be unique")
        seen[k] = i


def _check_foreign_keys(records: list[dict], schema: dict, path: Path, data_dir: Path) -> None:
    for fk in schema.get("foreignKeys", []):
        field = fk["fields"] if isinstance(fk["fields"], str) else fk["fields"][0]
        target = fk["reference"]["resource"]
        target_field = fk["reference"]["fields"]
        target_field = target_field if isinstance(target_field, str) else target_field[0]
        allowed = set(load(target, data_dir)[target_field])
        for i, rec in enumerate(records, start=1):
            if rec[field] is not None and rec[field] not in allowed:
                label = "source key" if target == "sources" else "key"
                raise DataError(f"{_where(path, i, field)}: unknown {label} '{rec[field]}'; "
                                f"expected a value of column '{target_field}' in data/{target}.csv")


def _check_contested(records: list[dict], path: Path) -> None:
    """A row flagged contested must share its claim with a row from another source."""
    if not records or "contested" not in records[0] or "claim" not in records[0]:
        return
    by_claim: dict[str, set] = {}
    for rec in records:
        if rec["claim"]:
            by_claim.setdefault(rec["claim"], set()).add(rec["source_id"])
    for i, rec in enumerate(records, start=1):
        if not rec["contested"]:
            continue
        if not rec["claim"]:
            raise DataError(f"{_where(path, i, 'claim')}: row is contested but names no claim; "
                            "expected the id of the claim its sources disagree on")
        if len(by_claim[rec["claim"]]) < 2:
            raise DataError(f"{_where(path, i, 'contested')}: claim '{rec['claim']}' is flagged contested but has a "
                            "single source; expected rows from at least two sources for a contested claim")


@lru_cache(maxsize=None)
def _load_cached(name: str, data_dir: Path, stamp: tuple) -> pd.DataFrame:
    res = resource(name, data_dir)
    path = data_dir / res["path"]
    schema = res["schema"]
    records = _rows(_read_text(path), path, schema["fields"])
    key = schema.get("primaryKey")
    if key:
        _check_primary_key(records, [key] if isinstance(key, str) else key, path)
    _check_foreign_keys(records, schema, path, data_dir)
    _check_contested(records, path)
    frame = pd.DataFrame.from_records(records, columns=[f["name"] for f in schema["fields"]])
    for f in schema["fields"]:
        if f.get("type") == "integer":
            frame[f["name"]] = frame[f["name"]].astype("Int64")
        elif f.get("type") == "number":
            frame[f["name"]] = frame[f["name"]].astype("float64")
    return frame


def load(name: str, data_dir: Path = DATA_DIR) -> pd.DataFrame:
    """Return the table `name` of the data package, validated against its schema."""
    data_dir = Path(data_dir)
    res = resource(name, data_dir)
    path = data_dir / res["path"]
    # The cache key includes the file's mtime and size, so an edit is always re-read.
    stamp = (path.stat().st_mtime_ns, path.stat().st_size) if path.exists() else None
    frame = _load_cached(name, data_dir, (stamp, (data_dir / "datapackage.json").stat().st_mtime_ns)).copy()
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

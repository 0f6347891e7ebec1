"""What makes the data valid: the Table Schemas in data/datapackage.json, checked by
frictionless, plus the book's own checks for the rules a Table Schema cannot state.

The loader (`fourpillars.load`, table by table) and a whole-package frictionless run
(`validate_package()`, which the test suite runs) both validate through this module, so there
is one definition of valid. Each problem is reported as one sentence naming the file, row, line,
column, value and what was expected.

The book's checks, registered with frictionless:
- number-form: integers and numbers are written plainly, with ASCII digits: no spaces,
  exponent, underscores, leading zeros, '+', NaN or infinity (Python and frictionless read
  '１２', ' 12', '1e3' and '1_000' as numbers);
- calendar-date: a partial date (YYYY, YYYY-MM, YYYY-MM-DD) is a real calendar date;
- contested-claim: a row flagged contested names a claim that rows from two sources make;
- byte-order-mark: a CSV does not start with a UTF-8 byte order mark (frictionless skips it).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import attrs
from frictionless import Check, Checklist, FrictionlessException, Package, errors

from .data import PARTIAL_DATE, TEXT, csv_limit

# The patterns of the data package, and what each asks for in words (every pattern the
# package uses must be here: tests/test_bad_input.py checks).
# TEXT, and no { } or backslash: the columns that references.bib is made from.
BIB_TEXT = TEXT.replace("\\x7f]", "\\x7f{}\\\\]")
MEANING = {
    PARTIAL_DATE: "an ISO 8601 date YYYY, YYYY-MM or YYYY-MM-DD in ASCII digits",
    TEXT: ("one line of text with no leading or trailing space that does not start with = + @ or "
           "- followed by a non-digit (a spreadsheet would run such a cell as a formula)"),
    BIB_TEXT: ("one line of text with no leading or trailing space that does not start with = + @ or "
               "- followed by a non-digit, and without { } or \\ (references.bib is made from this table and "
               "BibTeX reads them as markup)"),
    r"^[0-9]{4}(-[0-9]{4})?$": "a year YYYY or a span of years YYYY-YYYY in ASCII digits",
    r"^https?://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+$":
        "an http(s) address written with the characters a URL allows (others percent-encoded, e.g. %7D for })",
    r"^[a-z0-9-]+$": "an id of lower-case ASCII letters, digits and hyphens",
    r"^[a-z0-9-]*$": "an id of lower-case ASCII letters, digits and hyphens, or nothing",
    r"^[a-z0-9][a-z0-9-]*$": "an id of lower-case ASCII letters, digits and hyphens, starting with a letter or digit",
    r"^rs-ev-[a-z0-9-]+$": "an evidence id 'rs-ev-…' (lower-case ASCII letters, digits, hyphens)",
    r"^rc-ev-[a-z0-9-]+$": "an evidence id 'rc-ev-…' (lower-case ASCII letters, digits, hyphens)",
    r"^rs-ga-[a-z0-9-]+$": "an id 'rs-ga-…' (lower-case ASCII letters, digits, hyphens)",
    r"^rs-cfsp-[a-z0-9-]+$": "an id 'rs-cfsp-…' (lower-case ASCII letters, digits, hyphens)",
    r"^(rs|rc)-fork-[a-z0-9-]+$": "an id 'rs-fork-…' or 'rc-fork-…' (lower-case ASCII letters, digits, hyphens)",
    r"^rs-ev-[a-z0-9-]+(;rs-ev-[a-z0-9-]+)*$": "one or more evidence ids 'rs-ev-…', separated by ';' without spaces",
    r"^(rc-ev-[a-z0-9-]+(;rc-ev-[a-z0-9-]+)*)?$": "evidence ids 'rc-ev-…' separated by ';' without spaces, or nothing",
    r"^(rs|rc)-ev-[a-z0-9-]+(;(rs|rc)-ev-[a-z0-9-]+)*$":
        "one or more evidence ids 'rs-ev-…' or 'rc-ev-…', separated by ';' without spaces",
    r"^([a-z_]+/[a-z0-9-]+(;[a-z_]+/[a-z0-9-]+)*)?$": "rows as table/id, separated by ';' without spaces, or nothing",
    r"^([a-z0-9_]+:[a-z0-9-]+(;[a-z0-9_]+:[a-z0-9-]+)*)?$": "pairs as name:id, separated by ';' without spaces, or nothing",
    r"^A/RES/[A-Z0-9/-]+$": "a UN resolution symbol such as A/RES/ES-11/1",
}
# Digit limits keep every value exact in a 64-bit integer or a double.
NUMBER_FORM = {"integer": re.compile(r"-?(0|[1-9][0-9]{0,17})"), "number": re.compile(r"-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,15})?")}
EXPECTED_TYPE = {
    "integer": "a whole number in ASCII digits such as 2024 (no spaces, leading zeros, '+' or '_'; at most 18 digits)",
    "number": ("a decimal number in ASCII digits such as 12.5 (no spaces, exponent, '+' or '_'; "
               "at most 15 digits before and after the point)"),
    "boolean": "'true' or 'false'",
    "date": "YYYY-MM-DD",
    "string": "text",
}


# --- The book's checks -----------------------------------------------------------------

class NumberFormError(errors.CellError):
    type = "number-form"
    title = description = template = "Number form"


class CalendarDateError(errors.CellError):
    type = "calendar-date"
    title = description = template = "Calendar date"


class ContestedClaimError(errors.CellError):
    type = "contested-claim"
    title = description = template = "Contested claim"


class ByteOrderMarkError(errors.TableError):
    type = "byte-order-mark"
    title = description = template = "Byte order mark"


@attrs.define(kw_only=True, repr=False)
class number_form(Check):
    type = "number-form"
    Errors = [NumberFormError]

    def validate_row(self, row):
        for number, field in enumerate(row.fields):
            raw = row.cells[number] if number < len(row.cells) else None
            if (field.type in NUMBER_FORM and isinstance(raw, str) and raw and field.name not in row.error_cells
                    and not NUMBER_FORM[field.type].fullmatch(raw)):
                yield NumberFormError(note=EXPECTED_TYPE[field.type], cells=[str(c) for c in row.cells],
                                      row_number=row.row_number, cell=raw, field_name=field.name, field_number=number + 1)


@attrs.define(kw_only=True, repr=False)
class calendar_date(Check):
    type = "calendar-date"
    Errors = [CalendarDateError]

    def validate_row(self, row):
        for number, field in enumerate(row.fields):
            raw = row.cells[number] if number < len(row.cells) else None
            if field.constraints.get("pattern") == PARTIAL_DATE and isinstance(raw, str) and re.fullmatch(PARTIAL_DATE, raw):
                parts = [int(p) for p in raw.split("-")] + [1, 1]
                try:
                    dt.date(*parts[:3])
                except ValueError:
                    yield CalendarDateError(note="not a real calendar date", cells=[str(c) for c in row.cells],
                                            row_number=row.row_number, cell=raw, field_name=field.name,
                                            field_number=number + 1)


@attrs.define(kw_only=True, repr=False)
class contested_claim(Check):
    """A row flagged contested must share its claim with a row from another source."""
    type = "contested-claim"
    Errors = [ContestedClaimError]

    def validate_start(self):
        self.sources, self.flagged = {}, []
        return []

    def validate_row(self, row):
        if {"claim", "contested", "source_id"} <= set(row.field_names):
            if row["claim"]:
                self.sources.setdefault(row["claim"], set()).add(row["source_id"])
            if row["contested"] is True:
                self.flagged.append((row.row_number, row["claim"], [str(c) for c in row.cells],
                                     row.field_names.index("contested") + 1))
        return []

    def validate_end(self):
        for row_number, claim, cells, field_number in self.flagged:
            if not claim:
                note = "row is contested but names no claim; expected the id of the claim its sources disagree on"
            elif len(self.sources[claim]) < 2:
                note = (f"claim '{claim}' is flagged contested but has a single source; "
                        "expected rows from at least two sources for a contested claim")
            else:
                continue
            yield ContestedClaimError(note=note, cells=cells, row_number=row_number, cell="true",
                                      field_name="contested", field_number=field_number)


@attrs.define(kw_only=True, repr=False)
class byte_order_mark(Check):
    type = "byte-order-mark"
    Errors = [ByteOrderMarkError]

    def validate_start(self):
        with open(self.resource.normpath, "rb") as handle:
            if handle.read(3) == b"\xef\xbb\xbf":
                yield ByteOrderMarkError(note="the file starts with a UTF-8 byte order mark")


def checklist() -> Checklist:
    from frictionless import checks
    return Checklist(checks=[checks.table_dimensions(min_rows=1), number_form(), calendar_date(),
                             contested_claim(), byte_order_mark()])


# --- Running them ----------------------------------------------------------------------

def _shown(value: str) -> str:
    """A cell as quoted in a message: invisible characters made visible, long ones cut."""
    text = value.encode("unicode_escape").decode("ascii") if not value.isprintable() else value
    return f"'{text[:80]}…' ({len(value):,} characters)" if len(text) > 80 else f"'{text}'"


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _expected(field: dict, constraint: str) -> str:
    cons = field.get("constraints", {})
    return {
        "required": f"a {field.get('type', 'string')} (the field is required)",
        "enum": f"one of {cons.get('enum')}",
        "pattern": MEANING.get(cons.get("pattern"), f"text matching {cons.get('pattern')}"),
        "maxLength": f"at most {cons.get('maxLength')} characters",
        "minimum": f"a value >= {cons.get('minimum')}",
        "maximum": f"a value <= {cons.get('maximum')}",
        "unique": "each value once in the column",
    }.get(constraint, f"a value meeting the constraint '{constraint}'")


def _header_problem(header: list[str], names: list[str]) -> str:
    dupes = [h for i, h in enumerate(header) if h in header[:i]]
    if len(header) == 1 and any(d in header[0] for d in ";\t|"):
        sep = next(d for d in ";\t|" if d in header[0])
        return f"the header is one column '{header[0][:60]}…', separated by {sep!r}; expected comma-separated columns {names}"
    if dupes:
        return f"column '{dupes[0]}' appears twice in the header; expected each of the columns {names} once"
    missing = [n for n in names if n not in header]
    if missing:
        return f"missing column '{missing[0]}'; expected columns {names}"
    extra = [h for h in header if h not in names]
    if extra:
        return f"column '{extra[0]}': unknown column not in the schema; expected only {names}"
    return f"columns are in the order {header}; expected the schema order {names}"


def describe(error, res: dict, path: Path, root: Path, lines: list[int], header: list[str]) -> str:
    """One frictionless error (or one of the book's checks') as a sentence that names the file,
    row, line, column, value and what was expected."""
    where = _rel(path, root)
    fields = {f["name"]: f for f in res["schema"]["fields"]}
    row = getattr(error, "row_number", None)
    if row is not None:
        line = lines[row - 1] if row - 1 < len(lines) else row
        where += f", row {row - 1} (line {line})"
    name = getattr(error, "field_name", None)
    field = fields.get(name, {})
    if name:
        where += f", column '{name}'"
    cell = getattr(error, "cell", None)
    kind = error.type
    note = error.note
    if isinstance(error, errors.LabelError) or kind in ("blank-header",):
        return f"{_rel(path, root)}, line 1: {_header_problem(header, list(fields))}"
    if kind == "byte-order-mark":
        return (f"{where}, line 1: the file starts with an invisible UTF-8 byte order mark (BOM); "
                "expected UTF-8 without a BOM (save as 'UTF-8', not 'UTF-8 with BOM')")
    if kind == "table-dimensions":
        return f"{where}: no data rows; expected at least one row after the header"
    if kind == "blank-row":
        return f"{where}: blank row; expected {len(fields)} cells ({', '.join(fields)}) and no empty lines"
    if kind in ("extra-cell", "missing-cell"):
        count = len(error.cells)
        return f"{_rel(path, root)}, row {row - 1} (line {line}): {count} cells; expected {len(fields)} ({', '.join(fields)})"
    if kind == "primary-key":
        first = re.search(r"position \"?(\d+)", note)
        key = res["schema"]["primaryKey"]
        key = [key] if isinstance(key, str) else key
        values = {k: error.cells[i] for i, k in enumerate(fields) if k in key and i < len(error.cells)}
        return (f"{where}{f', column {key[0]!r}' if len(key) == 1 else ''}: duplicate primary key {values}"
                f"{f', first used in row {int(first.group(1)) - 1}' if first else ''}; expected each key to be unique")
    if kind == "foreign-key":
        names = error.field_names
        target = error.reference_name
        target_fields = error.reference_field_names
        label = "source key" if target == "sources" else "key"
        values = ", ".join(f"'{v}'" for v in error.field_cells)
        return (f"{where}, column '{names[0]}': unknown {label} {values}; expected a value of column "
                f"'{target_fields[0]}' in data/{target}.csv")
    if kind == "number-form":
        return f"{where}: {_shown(cell)} is not written as the book writes numbers; expected {note}"
    if kind == "calendar-date":
        return f"{where}: {_shown(cell)} is not a real calendar date; expected {MEANING[PARTIAL_DATE]}"
    if kind == "contested-claim":
        return f"{where}: {note}"
    if kind == "type-error":
        ftype = field.get("type", "string")
        return f"{where}: {_shown(cell)} is not a {ftype if ftype != 'integer' else 'whole number'}; expected {EXPECTED_TYPE.get(ftype, ftype)}"
    if kind == "constraint-error":
        constraint = re.search(r'constraint "(\w+)"', note).group(1)
        if constraint == "required":
            return f"{where}: empty value; expected {_expected(field, constraint)}"
        problem = {"enum": "is not allowed", "pattern": "does not fit the column's pattern",
                   "maxLength": "is too long"}.get(constraint, f"breaks the constraint '{constraint}'")
        return f"{where}: {_shown(cell)} {problem}; expected {_expected(field, constraint)}"
    if kind == "unique-error":
        return f"{where}: {_shown(cell)} appears twice; expected each value once in the column"
    return f"{where}: {note or error.message}; expected data that frictionless accepts under the schema"


def resource_problems(name: str, data_dir: Path, root: Path, header: list[str], lines: list[int]) -> list[str]:
    """Every problem frictionless and the book's checks find in one table, as sentences.
    `header` and `lines` (where each record starts) come from the loader's own reading."""
    descriptor = data_dir / "datapackage.json"
    res = next(r for r in json.loads(descriptor.read_text(encoding="utf-8"))["resources"] if r["name"] == name)
    path = data_dir / res["path"]
    header = [h.removeprefix("\ufeff") for h in header]  # a BOM has a message of its own
    try:
        with csv_limit():
            report = _package(descriptor).get_resource(name).validate(checklist=checklist())
    except FrictionlessException as err:
        reason = next((r.note for r in getattr(err, "reasons", []) if r.note), None) or err.error.note or err.error.message
        return [f"{_rel(descriptor, root)}, resource '{name}': {reason}; expected a valid Table Schema"]
    found = list(report.errors) + [e for task in report.tasks for e in task.errors]
    found.sort(key=lambda e: (getattr(e, "row_number", 0) or 0, getattr(e, "field_number", 0) or 0))
    return [describe(e, res, path, root, lines, header) for e in found]


_PACKAGES: dict = {}


def _package(descriptor: Path) -> Package:
    """One frictionless Package per descriptor content (building one takes ~0.5 s)."""
    key = (str(descriptor), descriptor.read_bytes())
    if key not in _PACKAGES:
        _PACKAGES.clear()
        _PACKAGES[key] = Package(str(descriptor))
    return _PACKAGES[key]


def validate_package(data_dir: Path):
    """frictionless, with the book's checks, on the whole package: its report."""
    from frictionless import validate
    with csv_limit():
        return validate(str(data_dir / "datapackage.json"), checklist=checklist())

"""The data package: valid, sourced, consistent, and honest about disagreements."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from fourpillars import load, load_all
from fourpillars.data import DATA_DIR, ROOT, read_package
from fourpillars.sources import BIB_PATH, cited_keys, render_bib

TABLES = load_all()
PROSE = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "book").glob("*.ipynb")) + sorted((ROOT / "book").glob("*.md"))


def test_frictionless_validates_the_package():
    """frictionless on the whole package, with the book's own checks (fourpillars/validate.py)."""
    from fourpillars.validate import validate_package
    report = validate_package(DATA_DIR)
    errors = [f"{t.name}: {e.message}" for t in report.tasks for e in t.errors] + [e.message for e in report.errors]
    assert report.valid, "frictionless found errors:\n" + "\n".join(errors[:20])


def test_every_csv_is_described_and_every_resource_exists():
    described = {r["path"] for r in read_package()["resources"]}
    on_disk = {p.name for p in DATA_DIR.glob("*.csv")}
    assert on_disk == described, f"undescribed: {on_disk - described}; missing: {described - on_disk}"


def test_every_table_but_sources_points_each_row_at_a_source():
    for res in read_package()["resources"]:
        if res["name"] in ("sources", "claims"):  # the registry itself, and the book's own readings
            continue
        fields = {f["name"]: f for f in res["schema"]["fields"]}
        assert fields.get("source_id", {}).get("constraints", {}).get("required"), f"{res['name']}: source_id must be required"
        fks = [fk for fk in res["schema"].get("foreignKeys", []) if fk["reference"]["resource"] == "sources"]
        assert fks, f"{res['name']}: no foreign key to sources"


def test_references_bib_is_generated_from_sources():
    assert BIB_PATH.read_text(encoding="utf-8") == render_bib(), \
        "references.bib is stale: run `python -m fourpillars` and commit it"


def test_every_citation_in_the_prose_resolves():
    known = set(TABLES["sources"]["id"])
    unknown = cited_keys(PROSE) - known
    assert not unknown, f"prose cites keys missing from data/sources.csv: {sorted(unknown)}"


def test_every_registered_source_is_used():
    """The bibliography lists the whole registry, so a source nothing cites or draws on is noise."""
    used = cited_keys(PROSE)
    for name, table in TABLES.items():
        for column in table.columns:
            if name != "sources" and column.endswith("source_id"):
                used |= set(table[column].dropna())
    unused = sorted(set(TABLES["sources"]["id"]) - used)
    assert not unused, f"data/sources.csv registers sources no row or page uses: {unused}"


def test_the_five_core_sources_are_registered():
    core = set(TABLES["sources"].query("kind == 'core'")["id"])
    assert core == {"kusmenoglu2026", "lolucas2021", "tzimas2024", "bugajski2024", "gisreports2022"}


def test_contested_claims_really_disagree():
    """A claim flagged contested must show different values (or dates) across sources."""
    for name, table in TABLES.items():
        if "contested" not in table or "value" not in table:
            continue
        for claim, rows in table[table["contested"]].groupby("claim"):
            all_rows = table[table["claim"] == claim]
            varying = [c for c in ("value", "date", "as_of", "unit", "currency", "period") if c in all_rows and all_rows[c].nunique(dropna=False) > 1]
            assert varying, f"{name}: claim '{claim}' is flagged contested but all its sources agree"


def test_agreeing_claims_are_not_hidden_disagreements():
    """Rows sharing a claim but not flagged contested must report the same value."""
    for name, table in TABLES.items():
        if "contested" not in table or "value" not in table:
            continue
        shared = table[(~table["contested"]) & table["claim"].notna() & (table["claim"] != "")]
        for claim, rows in shared.groupby("claim"):
            assert rows["value"].nunique() == 1, f"{name}: claim '{claim}' has different values but is not flagged contested"


def test_no_large_files_are_tracked():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    big = [f for f in files if (ROOT / f).is_file() and (ROOT / f).stat().st_size > 1_000_000]
    assert not big, f"tracked files over 1 MB: {big}"


def test_every_contested_claim_has_the_books_reading():
    from fourpillars.data import contested
    readings = set(TABLES["claims"]["id"])
    missing = sorted(set(contested()["claim"]) - readings)
    assert not missing, f"contested claims without a reading in data/claims.csv: {missing}"


def test_events_span_1999_to_2026_with_every_pillar():
    """The timeline promises 1999–2026 and a lane for each pillar; the events table must hold them."""
    events = load("events")
    years = events["date"].str[:4]
    assert years.min() == "1999" and years.max() == "2026", f"events run {years.min()}–{years.max()}"
    assert set(events["pillar"]) == {"EU", "US", "Russia", "China", "several"}, set(events["pillar"])


def test_the_contested_page_shows_a_value_and_unit_for_every_contested_row():
    """Edition 1.0 showed blanks for the NIS stake and the Srebrenica vote: the page's value
    picker did not know their columns. Every contested row must show what is contested."""
    from fourpillars.data import contested
    rows = contested()
    blank = rows[(rows["value"].astype(str).str.strip() == "") | (rows["unit"].astype(str).str.strip() == "")]
    assert blank.empty, f"contested rows with no value or unit: {blank[['table', 'claim']].values.tolist()}"
    assert {"ru-nis-gpn-2025", "rc-srebrenica-2024-against"} <= set(rows["claim"])


def test_every_table_states_the_books_rules():
    """The schema is the one definition of valid (fourpillars/validate.py), so every table, a new
    one too, states the rules: the comma dialect, booleans true/false only, and on every text
    column a length limit and a pattern the loader can explain (free text: TEXT, or BIB_TEXT in
    the columns references.bib is made from). Copy them from an existing table."""
    from fourpillars.data import TEXT
    from fourpillars.validate import BIB_TEXT, MEANING
    missing = []
    for res in read_package()["resources"]:
        if res.get("dialect", {}).get("delimiter") != ",":
            missing.append(f"{res['name']}: dialect {{'delimiter': ','}}")
        for f in res["schema"]["fields"]:
            where, cons = f"{res['name']}.{f['name']}", f.get("constraints", {})
            if f["type"] == "boolean" and (f.get("trueValues"), f.get("falseValues")) != (["true"], ["false"]):
                missing.append(f"{where}: trueValues ['true'], falseValues ['false']")
            if f["type"] == "string" and "enum" not in cons:
                if cons.get("pattern") not in MEANING:
                    missing.append(f"{where}: a pattern from fourpillars/validate.py (free text: {TEXT})")
                if not cons.get("maxLength"):
                    missing.append(f"{where}: maxLength")
    bib_columns = {f["name"] for r in read_package()["resources"] if r["name"] == "sources"
                   for f in r["schema"]["fields"] if f.get("constraints", {}).get("pattern") == BIB_TEXT}
    assert {"author", "title", "publisher", "date_note", "reports"} <= bib_columns, bib_columns
    assert not missing, "tables that do not state the book's rules:\n" + "\n".join(missing[:30])

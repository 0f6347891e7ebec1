"""Executable claims: a sentence that says "largest", "every", "only", "first", "since" or
"rose" is a claim about the data, so it is checked against the rows it rests on.

In a chapter, a hidden code cell states the claim and how the rows could contradict it:

    claim("rs-eu-top-trade", "The EU had the largest share of Serbia's goods trade in H1 2025",
          rows=trade, contradicts=leader("partner", "EU"))

and the sentence in the prose carries the role {claim}`rs-eu-top-trade`. When the data stop
supporting the claim, `claim` raises a ClaimError naming the claim, its chapter and the rows
that contradict it, and the build fails. Each check also leaves a record in the cell's output,
from which the build makes the claims ledger (book/claims): sentence, chapter, rows, status.

`contradicts` receives the rows and returns the subset that contradicts the claim (empty when
it holds). The helpers below build the common ones and say in words what they test.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Callable

import pandas as pd

# Claim ids start with their chapter's prefix, as figure names do.
CHAPTERS = {"us": "01-united-states", "ru": "02-russia", "cn": "03-china", "rc": "04-russia-china",
            "rs": "05-serbia-hedging", "book": "reference pages"}


class ClaimError(AssertionError):
    """A claim in the prose that the data no longer support."""


@dataclass(frozen=True)
class Test:
    """How rows could contradict a claim: a function and the same thing in words."""
    find: Callable[[pd.DataFrame], pd.DataFrame]
    words: str

    def __call__(self, rows: pd.DataFrame) -> pd.DataFrame:
        return self.find(rows)


def _groups(rows: pd.DataFrame, within: str | list[str] | None):
    if within is None:
        return [rows]
    return [g for _, g in rows.groupby(within, sort=True, dropna=False)]


def leader(by: str, expected: str, value: str = "value", within: str | list[str] | None = None,
           strictly: bool = True) -> Test:
    """`expected` (a value of column `by`) has the largest `value` (in each group of `within`).
    Contradicting rows: any other row at least as large (or larger, if not strictly), and the
    whole group where `expected` has no row at all."""
    def find(rows):
        bad = []
        for g in _groups(rows, within):
            top = g.loc[g[by] == expected, value]
            if top.empty:
                bad.append(g)
                continue
            others = g[g[by] != expected]
            bad.append(others[others[value] >= top.max()] if strictly else others[others[value] > top.max()])
        return pd.concat(bad) if bad else rows.iloc[:0]
    where = f" in each {within if isinstance(within, str) else ', '.join(within)}" if within else ""
    return Test(find, f"{expected} has the largest {value} among the rows{where}")


def trailer(by: str, expected: str, value: str = "value", within: str | list[str] | None = None) -> Test:
    """`expected` has the smallest `value` (in each group of `within`)."""
    def find(rows):
        flipped = rows.assign(**{value: -rows[value]})
        return rows.loc[leader(by, expected, value, within).find(flipped).index]
    where = f" in each {within}" if within else ""
    return Test(find, f"{expected} has the smallest {value} among the rows{where}")


def every(condition: Callable[[pd.DataFrame], pd.Series], words: str) -> Test:
    """Every row meets `condition` (a function of the rows returning a boolean Series)."""
    return Test(lambda rows: rows[~condition(rows).astype(bool)], f"every row: {words}")


def rising(order: str, value: str = "value", strictly: bool = True) -> Test:
    """`value` rises from one row to the next in the order of `order`."""
    def find(rows):
        r = rows.sort_values(order)
        step = r[value].diff()
        return r[(step <= 0) if strictly else (step < 0)]
    return Test(find, f"{value} {'rises' if strictly else 'never falls'} at each step of {order}")


def falling(order: str, value: str = "value", strictly: bool = True) -> Test:
    """`value` falls from one row to the next in the order of `order`."""
    def find(rows):
        r = rows.sort_values(order)
        step = r[value].diff()
        return r[(step >= 0) if strictly else (step > 0)]
    return Test(find, f"{value} {'falls' if strictly else 'never rises'} at each step of {order}")


def ratio_between(numerator: str, denominator: str, low: float, high: float, value: str = "value",
                  key: str = "id") -> Test:
    """The row `numerator` (by `key`) is between `low` and `high` times the row `denominator`."""
    def find(rows):
        r = rows.set_index(key)[value]
        if numerator not in r or denominator not in r:
            return rows
        ratio = r[numerator] / r[denominator]
        return rows.iloc[:0] if low <= ratio <= high else rows[rows[key].isin([numerator, denominator])]
    return Test(find, f"{numerator} is between {low:g} and {high:g} times {denominator}")


def holds(condition: Callable[[pd.DataFrame], bool], words: str) -> Test:
    """A condition on the rows taken together; when it fails, all the rows are named."""
    return Test(lambda rows: rows.iloc[:0] if condition(rows) else rows, words)


def _table(rows: pd.DataFrame) -> str:
    return rows.attrs.get("table", "")


def _describe(rows: pd.DataFrame, limit: int = 12) -> str:
    shown = []
    for _, row in rows.head(limit).iterrows():
        bits = [str(row.get("id", "?"))]
        for col in ("partner", "actor", "pillar", "supplier", "power", "year", "period", "date", "value", "percent",
                    "count", "share_percent", "code"):
            if col in row and pd.notna(row[col]) and row[col] != "":
                bits.append(f"{col}={row[col]}")
        shown.append(" ".join(bits))
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return "; ".join(shown) + more


@dataclass(frozen=True)
class Record:
    """What the ledger shows for a checked claim."""
    id: str
    text: str
    test: str
    table: str
    rows: tuple[str, ...]
    sources: tuple[str, ...]

    def _repr_mimebundle_(self, include=None, exclude=None):
        data = json.dumps(self.__dict__, sort_keys=True, ensure_ascii=False)
        return {"text/html": f'<span class="fp-claim-record" hidden data-claim="{html.escape(data, quote=True)}"></span>',
                "text/plain": f"checked claim {self.id}: holds ({len(self.rows)} rows)"}


def check(id: str, text: str, rows: pd.DataFrame, contradicts: Test) -> Record:
    """Check one claim against the rows it rests on; raise ClaimError naming the contradicting
    rows if the data do not support it. Returns the record the claims ledger is built from."""
    prefix = id.split("-")[0]
    if prefix not in CHAPTERS:
        raise ValueError(f"claim id '{id}' must start with a chapter prefix: {sorted(CHAPTERS)}")
    where = f"claim '{id}' ({CHAPTERS[prefix]}: \u201c{text}\u201d)"
    if not isinstance(rows, pd.DataFrame) or rows.empty:
        raise ClaimError(f"{where} rests on no rows; expected the data rows that support it")
    if "id" not in rows or "source_id" not in rows:
        raise ClaimError(f"{where}: its rows need 'id' and 'source_id' columns, so a reader can trace them")
    bad = contradicts(rows)
    if len(bad):
        raise ClaimError(f"{where} is contradicted by the data. Test: {contradicts.words}. "
                         f"Rows{' of ' + _table(rows) if _table(rows) else ''} that contradict it: {_describe(bad)}")
    return Record(id=id, text=text, test=contradicts.words, table=_table(rows),
                  rows=tuple(str(i) for i in rows["id"]),
                  sources=tuple(dict.fromkeys(str(s) for s in rows["source_id"])))


def claim(id: str, text: str, rows: pd.DataFrame, contradicts: Test) -> None:
    """Check a claim (see `check`) and leave its record in the cell's output for the ledger.
    Returns nothing, so a cell can hold several claims and each record is shown once."""
    from IPython.display import display
    display(check(id, text, rows, contradicts))

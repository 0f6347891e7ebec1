"""The two codings (book/codebook): the counting rule of the hedging matrix, agreement between
coders, and the alternative readings of the codebook recorded in data/coding_sensitivity.csv.

Chapter 5 recomputes each coder's hedging levels from that coder's row assignments with `levels`,
and the levels under each alternative reading with `reassign`; chapters 4 and 5 compute agreement
with `ordinal_alpha` (Krippendorff's alpha from the pinned `krippendorff` package)."""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

LEVELS = ["none", "weak", "moderate", "strong"]


def rule6(f: int, a: int, k: int) -> str:
    """The hedging codebook's rule 6: a level from the rows for (f), against (a) and the anchors (k)."""
    if k >= 1 and f >= 3 and 3 * a <= f:
        return "strong"
    if (f >= 2 or k >= 1) and f > a:
        return "moderate"
    return "weak" if f >= 1 else "none"


def levels(rows: pd.DataFrame, cells: list[tuple[str, str, str]]) -> dict[tuple[str, str, str], str]:
    """Each (period, component, pillar) cell's level from one coder's row assignments
    (columns period, component, pillar, sign, anchor; a row with no component counts for none)."""
    counted = rows[rows.component.notna()]
    groups = {key: g for key, g in counted.groupby(["period", "component", "pillar"])}
    out = {}
    for cell in cells:
        g = groups.get(cell, counted.iloc[:0])
        f, a = int((g.sign == "for").sum()), int((g.sign == "against").sum())
        out[cell] = rule6(f, a, int(((g.sign == "for") & g.anchor.astype(bool)).sum()))
    return out


def ordinal_alpha(codings: pd.DataFrame, cell: list[str], value: str) -> float | None:
    """Krippendorff's alpha (ordinal) between coders A and B over the cells of `codings`, or None
    when it is undefined: both coders' codes take one value, so there is no variation to agree on."""
    import krippendorff
    wide = codings[codings.coder.isin(["A", "B"])].pivot(index="coder", columns=cell, values=value).loc[["A", "B"]]
    data = wide.to_numpy(dtype=float)
    if len(np.unique(data[~np.isnan(data)])) < 2:
        return None
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="ordinal"))


def nominal_alpha(wide: pd.DataFrame) -> float | None:
    """Krippendorff's alpha (nominal) for a coders-by-units table of category labels."""
    import krippendorff
    codes = {v: i for i, v in enumerate(sorted(set(wide.to_numpy().ravel())))}
    if len(codes) < 2:
        return None
    data = wide.apply(lambda s: s.map(codes)).to_numpy(dtype=float)
    return float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))


def per_question(rows: pd.DataFrame, question: Callable[[str], str | None], kind: Callable[[str], str]) -> pd.DataFrame:
    """The General Assembly votes on one question in a period as one limited-bandwagoning row, signed by
    the majority of the votes (a tie counts neither way) and an anchor when it counts for.
    `question` names the question an evidence row's vote concerns (None: not a vote); `kind` gives its kind."""
    q = rows.evidence_id.map(question)
    votes = (rows.component == "limited bandwagoning") & q.notna() & (rows.evidence_id.map(kind) == "vote or alignment")
    merged = []
    for (period, pillar, topic), g in rows[votes].assign(q=q).groupby(["period", "pillar", "q"]):
        f, a = int((g.sign == "for").sum()), int((g.sign == "against").sum())
        sign = "for" if f > a else ("against" if a > f else "no sign")
        merged.append({"evidence_id": f"{pillar}: {topic}", "period": period, "pillar": pillar,
                       "component": "limited bandwagoning", "sign": sign, "anchor": sign == "for"})
    return pd.concat([rows[~votes], pd.DataFrame(merged)], ignore_index=True)


def reassign(rows: pd.DataFrame, change: str, question=None, kind=None) -> pd.DataFrame:
    """Row assignments under an alternative reading, as coding_sensitivity's `change` gives it:
    `evidence_id>component|sign|anchor` separated by ';' ('none' for no component), or
    'per-question' for one row per General Assembly question (needs `question` and `kind`)."""
    if change == "per-question":
        return per_question(rows, question, kind)
    rows = rows.copy()
    for part in change.split(";"):
        evidence_id, new = part.split(">")
        component, sign, anchor = new.split("|")
        at = rows.evidence_id == evidence_id
        if not at.any():
            raise ValueError(f"coding_sensitivity names evidence row {evidence_id}, which has no assignment")
        rows.loc[at, "component"] = None if component == "none" else component
        rows.loc[at, "sign"] = None if component == "none" else sign
        rows.loc[at, "anchor"] = anchor == "anchor"
    return rows

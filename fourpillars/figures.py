"""Charts: the one palette, the one altair theme, and the one figure builder.

A figure is emitted as deterministic HTML holding its Vega-Lite spec as JSON.
The page-level script from `_ext/fourpillars_charts` draws it with the book's
own copy of vega-embed, so nothing is fetched from a CDN and no random element
ids appear in the notebook (strict nbval stays green run after run). In a notebook
the chart is also drawn in its own cell, as an image, for a reader re-running it.
"""
from __future__ import annotations

import functools
import html
import json
import os
import re

import altair as alt
import pandas as pd
from IPython.display import Markdown, display

from .escape import markdown_text
from .fonts import FONT_STACK
from .fonts import register as register_fonts
from . import layout
from .sources import short_cite, source_line

# One actor palette for the whole book: Okabe–Ito hues, colour-blind safe, each
# with at least 3:1 contrast against the white card that charts are drawn on.
PALETTE = {
    "EU": "#0072B2",
    "US": "#009E73",
    "Russia": "#D55E00",
    "China": "#CC79A7",
    "Serbia": "#332288",
    "other": "#767676",
}
ACTORS = list(PALETTE)


def actor_scale(domain: list[str] | None = None) -> alt.Scale:
    """Colour scale for actors; an actor outside the palette is an error, not a new colour."""
    domain = domain or ACTORS
    unknown = [d for d in domain if d not in PALETTE]
    if unknown:
        raise ValueError(f"actors {unknown} are not in the book's palette {ACTORS}")
    return alt.Scale(domain=domain, range=[PALETTE[d] for d in domain])


def plot_date(iso: str) -> str:
    """A partial ISO date (YYYY, YYYY-MM or YYYY-MM-DD) placed at the first day of its period,
    for plotting only: tooltips and tables keep the date at the precision the source gives."""
    parts = str(iso).split("-")
    return "-".join(parts + ["01"] * (3 - len(parts)))


@functools.lru_cache(maxsize=1)
def _sources() -> pd.DataFrame:
    from .data import load
    return load("sources").fillna("").set_index("id")


def cite_label(source_id: str) -> str:
    """A source as the caption names it: 'Publisher (date)', with whom it reports."""
    return short_cite(_sources().loc[source_id])


# Tooltips read like the caption: human headings, never a raw column name. A column without
# an entry here gets its name with spaces and a capital ("counting_rule" -> "Counting rule").
LABELS = {
    "date": "Date", "period": "Period", "year": "Year", "value": "Value", "unit": "Unit",
    "basis": "Basis", "note": "Note", "qualifier": "As the source puts it", "contested": "Sources disagree",
    "measure": "Measure", "currency": "Currency", "as_of": "As of", "partner": "Partner", "actor": "Actor",
    "pillar": "Pillar", "supplier": "Supplier", "country": "Country", "event": "Event", "type": "Instrument",
    "title": "Event", "percent": "Percent", "question": "Question", "pollster": "Pollster",
    "fieldwork": "Fieldwork", "evidence": "Evidence", "component": "Component", "code": "Code",
    "system": "System", "quantity": "Quantity", "topic": "Topic", "panel": "Panel", "series": "Series",
    "detail": "Detail", "subject": "Of what", "share_percent": "Share (%)", "owner": "Owner",
    "project": "Project", "power": "Power", "position": "Position", "outcome": "Outcome", "tally": "Tally",
}
# Column names that are keys for the book's own bookkeeping, not something a reader can use.
RAW = re.compile(r"(^|_)id$|^claim$|^contested_claim$|_source_id$")


def tooltip(rows: pd.DataFrame, *fields) -> list[alt.Tooltip]:
    """The book's one tooltip builder. Each field is a column name ("value", "date:N"), a pair
    (column, heading) or a triple (column, heading, d3-format). The source comes last, as the
    caption gives it: `rows` gains a `source` column (the short citation of `source_id`) if it
    has none. Empty values (a missing note) are left out of the tooltip when it is shown."""
    if "source_id" in rows and "source" not in rows:
        rows["source"] = rows["source_id"].map(cite_label)
    out = []
    for f in fields:
        field, title, fmt = (f, None, None) if isinstance(f, str) else (tuple(f) + (None, None))[:3]
        name, _, kind = field.partition(":")
        if RAW.search(name):
            raise ValueError(f"tooltip field '{name}' is a bookkeeping key; show what it stands for "
                             "(the source is added as a short citation)")
        if name not in rows:
            raise ValueError(f"tooltip field '{name}' is not a column of the rows: {list(rows.columns)}")
        if not kind:
            kind = "Q" if pd.api.types.is_numeric_dtype(rows[name]) and not pd.api.types.is_bool_dtype(rows[name]) else "N"
        title = title or LABELS.get(name, name.replace("_", " ").capitalize())
        out.append(alt.Tooltip(f"{name}:{kind}", title=title, **({"format": fmt} if fmt else {})))
    if "source" in rows and not any(t.to_dict()["field"] == "source" for t in out):
        out.append(alt.Tooltip("source:N", title="Source"))
    return out


def tooltip_problems(spec) -> list[str]:
    """Tooltip fields of a spec that lack a reader's heading or show a bookkeeping key (the book's
    figures build theirs with `tooltip`, so a test over the built book expects none)."""
    found = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "tooltip" and isinstance(value, (list, dict)):
                for t in value if isinstance(value, list) else [value]:
                    if isinstance(t, dict) and "field" in t and ("title" not in t or RAW.search(t["field"])):
                        found.append(t["field"])
            else:
                found += tooltip_problems(value)
    elif isinstance(spec, list):
        for item in spec:
            found += tooltip_problems(item)
    return found


@alt.theme.register("fourpillars", enable=True)
def theme() -> alt.theme.ThemeConfig:
    # The book's own typeface (fourpillars/fonts.py), so exports match on every machine.
    font = FONT_STACK
    return alt.theme.ThemeConfig({
        "config": {
            # The chart's container carries its text alternative (role img + aria-label); marks
            # and axes must not add unlabelled ARIA nodes of their own inside it.
            "aria": False,
            "font": font,
            "background": "white",
            "view": {"stroke": None, "continuousWidth": 640},
            "title": {"anchor": "start", "fontSize": 15, "fontWeight": 600, "subtitleFontSize": 12,
                      "subtitleColor": "#444444", "offset": 10},
            # Titles at 600, the weight the book's font ships (not Vega's default bold, 700).
            "axis": {"labelFontSize": 12, "titleFontSize": 12, "labelColor": "#333333", "titleFontWeight": 600,
                     "titleColor": "#333333", "gridColor": "#e6e6e6", "domainColor": "#888888"},
            "legend": {"labelFontSize": 12, "titleFontSize": 12, "orient": "top", "titleFontWeight": 600},
            "header": {"titleFontWeight": 600},
            "range": {"category": list(PALETTE.values())},
        }
    })


# Any chart displayed in a notebook (a figure cell's, or one a reader edits) is drawn by
# vl-convert, which is pinned and works offline: altair's default "html" renderer loads Vega
# from a CDN, and JupyterLab 4 does not draw "mimetype" output for Vega-Lite 6. As PNG rather
# than SVG: vl-convert lays text out with its own fonts, which a PNG keeps, while an SVG is
# drawn with the viewer's fonts (JupyterLab cut the axis labels of Fig. 3.8 where those were
# wider); JupyterLab fits an image to the notebook's width, not an SVG; and an image shows in
# a notebook that is not trusted. At one pixel per point, as a notebook shows it (ppi=144 is
# sharper on dense screens, and 2.5 times the bytes).
alt.renderers.enable("png")
# altair's PNG renderer calls vl-convert itself: register the book's typeface for it too, so a
# chart a reader draws in JupyterLab looks as it does in the book (fourpillars/fonts.py).
register_fonts()


def _spec(chart: alt.TopLevelMixin) -> dict:
    # Charts fill the text width; exports override this with a fixed width.
    if isinstance(chart, (alt.Chart, alt.LayerChart)):
        chart = chart.properties(width="container")
    return chart.to_dict()


class Figure:
    """A chart plus what a reader needs around it: alt text and its source line."""

    def __init__(self, chart: alt.TopLevelMixin, rows: pd.DataFrame, name: str, alt_text: str,
                 interactive: bool = False):
        if not name.startswith("fig-"):
            raise ValueError(f"figure name '{name}' must start with 'fig-'")
        if not alt_text.strip():
            raise ValueError(f"figure '{name}' needs alt text")
        self.chart, self.rows, self.name, self.alt_text = chart, rows, name, alt_text
        # A chart with its own controls (dropdowns) is a labelled group, not an image:
        # an image role would hide the controls from assistive technology.
        self.role = "group" if interactive else "img"
        self.spec = _spec(chart)
        # altair names each inline dataset by a hash of its content, so this finds the
        # dataset that is exactly `rows`; other datasets (e.g. map shapes) are context.
        self.rows_key = next(iter(alt.Chart(rows).mark_point().to_dict()["datasets"]))
        datasets = self.spec.get("datasets", {})
        if self.rows_key not in datasets:
            raise ValueError(f"figure '{name}': the chart does not draw `rows` as given; pass the exact "
                             "DataFrame the chart is built on (one table, source_id included)")
        self.source = source_line(rows)

    def drawing(self) -> str:
        """The wide layout's static drawing (see fourpillars.layout)."""
        return layout.variant(self.spec, "L")[1]

    def html(self) -> str:
        """The figure as a notebook output: its wide drawing, so JupyterLab and any offline viewer
        show the chart, and its spec as written. Nothing more is stored in the notebook: the book's
        Sphinx extension draws the phone and tablet layouts from the spec at build time, writes
        drawings and spec to files under figures/, and adds the data table under the chart."""
        spec = json.dumps(self.spec, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        # Keep the JSON from closing its <script> element, whatever the data holds.
        spec = spec.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        alt_text = html.escape(self.alt_text, quote=True)
        return (f'<div class="fp-figure" data-figure="{self.name}" data-rows="{self.rows_key}">'
                f'<div class="fp-chart" role="{self.role}" aria-label="{alt_text}">'
                f'<div class="fp-static" data-variant="L">{self.drawing()}</div></div>'
                f'<script type="application/json" class="fp-spec">{spec}</script></div>')

    def table_html(self) -> str:
        return data_table(self.name, self.spec, self.rows_key)

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/html": self.html(), "text/plain": f"<Figure {self.name}: {self.alt_text}>"}

    def glue(self) -> None:
        """Store the chart and its source line for a {glue:figure} in the notebook's prose."""
        from myst_nb import glue
        glue(self.name, self, display=False)
        glue(f"{self.name}-source", Markdown(markdown_text(self.source)), display=False)


def table_columns(spec: dict, rows: list[dict]) -> list[tuple[str, str]]:
    """A figure's data table shows what its tooltips show, under the same headings, source last."""
    present = set().union(*(r.keys() for r in rows)) if rows else set()
    found: dict[str, str] = {}

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "tooltip" and isinstance(value, list):
                    for t in value:
                        if isinstance(t, dict) and t.get("field") in present:
                            found.setdefault(t["field"], t.get("title") or t["field"])
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
    walk(spec)
    if not found:
        found = {c: LABELS.get(c, c.replace("_", " ").capitalize()) for c in dict.fromkeys(
            k for r in rows for k in r) if not RAW.search(c)}
    if "source" in present:
        found.pop("source", None)
        found["source"] = "Source"
    return list(found.items())


def data_table(name: str, spec: dict, rows_key: str) -> str:
    """The rows a figure draws (its `rows`, a dataset of the spec) as a table in a disclosure under
    the chart: keyboard users Tab to its summary and open it with Enter."""
    rows = spec["datasets"][rows_key]
    columns = table_columns(spec, rows)

    def cell(value) -> str:
        if value is None or (isinstance(value, float) and value != value):
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float):
            return f"{value:,.10g}"
        return html.escape(str(value), quote=False)
    # HTML's optional end tags (</th>, </td>, </tr>) left out: a long table is a tenth lighter, and a
    # <th> in <thead> heads its column without a scope.
    # A column with one value in every row (one source, say) is stated once above the table rather
    # than repeated down it: easier to read, and a phone pays for each repetition.
    same = [(c, t) for c, t in columns if len(rows) > 1 and cell(rows[0].get(c))
            and all(cell(r.get(c)) == cell(rows[0].get(c)) for r in rows)]
    columns = [ct for ct in columns if ct not in same] or columns
    every = "; ".join(f"{html.escape(t)}: {cell(rows[0].get(c))}" for c, t in same if (c, t) not in columns)
    every = f'<p class="fp-data-every">In every row: {every}.</p>' if every else ""
    head = "".join(f"<th>{html.escape(title)}" for _, title in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(row.get(c))}" for c, _ in columns) for row in rows)
    return (f'<details class="fp-data"><summary id="{name}-data">Data table: the {len(rows)} rows this chart draws'
            f'</summary><div class="fp-data-scroll" tabindex="0" role="region" aria-labelledby="{name}-data">{every}'
            f'<table class="fp-table"><thead><tr>{head}</thead>'
            f'<tbody>{body}</tbody></table></div></details>')


def figure(chart: alt.TopLevelMixin, rows: pd.DataFrame, name: str, alt_text: str,
           interactive: bool = False) -> None:
    """Build and glue a figure, and draw `chart` in the cell for a reader running the notebook.

    The book shows the figure once, where the prose places its {glue:figure}: the cell's own
    drawing is for a person running the notebook (in JupyterLab, say). Batch runs set
    FOURPILLARS_CELL_DRAWINGS=off and get none: the book's build (_ext/fourpillars_notebook.py,
    which also leaves any drawing off the page), `make notebooks`, so that the committed
    notebooks stay small, and nbval, which compares with them. Returns nothing on purpose: a
    returned object would be displayed once more when the call ends a cell."""
    Figure(chart, rows, name, alt_text, interactive).glue()
    if os.environ.get("FOURPILLARS_CELL_DRAWINGS", "on") != "off":
        display(NotebookDrawing(chart, name))


class NotebookDrawing:
    """A figure's chart as its cell shows it: drawn by the active renderer (see above), with the
    text form `[notebook drawing of fig-...]` by which the book's build recognises it."""

    def __init__(self, chart: alt.TopLevelMixin, name: str):
        self.chart, self.name = chart, name

    def _repr_mimebundle_(self, include=None, exclude=None):
        from IPython.core.formatters import format_display_data
        data, metadata = format_display_data(self.chart)
        data["text/plain"] = f"[notebook drawing of {self.name}]"
        return data, metadata


def table(rows: pd.DataFrame, columns: dict[str, str]) -> "HTML":
    """A plain, deterministic HTML table of `rows`, with readable column headings.

    `columns` maps data column -> heading, in display order. (pandas' Styler is not
    used: it writes random element ids that would break strict nbval.)
    """
    from IPython.display import HTML
    missing = [c for c in columns if c not in rows.columns]
    if missing:
        raise ValueError(f"table columns {missing} are not in the rows")
    shown = rows[list(columns)].rename(columns=columns)
    return HTML(shown.to_html(index=False, escape=True, na_rep="–", border=0, classes="fp-table"))

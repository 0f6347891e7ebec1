"""Sphinx extension: the claims ledger.

A sentence in the prose marks a checked claim with the role {claim}`id`; the check itself runs
in a notebook cell (`fourpillars.claim`), which leaves a hidden record of the claim in its
output. This extension

- turns each role into a small link to the claim's entry in the ledger;
- collects, per document, the records and the sentences that mark them, and leaves the records
  off the page (the ledger shows them);
- fails the build (a warning, and the build is strict) when a sentence names a claim that no
  notebook checks, or a checked claim is marked by no sentence;
- fills the ``{fourpillars-claims-ledger}`` directive with every claim: its id (a stable
  anchor, ``#claim-<id>``), the sentence, the chapter, the rows it rests on, the test and status.
"""
from __future__ import annotations

import html
import json
import re

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)
RECORD_RE = re.compile(r'<span class="fp-claim-record" hidden data-claim="([^"]*)"></span>')
SENTENCE_END = re.compile(r"(?<=[.!?])[\u201d\"')\]]*\s+(?=[A-Z\u201c\"(*])")


class claim_ref(nodes.Inline, nodes.Element):
    """Where a sentence marks a checked claim; resolved to a link once all documents are read."""


class claims_ledger(nodes.General, nodes.Element):
    """Placeholder for the ledger's table, filled when every document has been read."""


def claim_role(name, rawtext, text, lineno, inliner, options=None, content=None):
    node = claim_ref(rawtext, claim_id=text.strip())
    node.line = lineno
    return [node], []


class ClaimsLedger(SphinxDirective):
    def run(self):
        self.env.fp_ledger_doc = self.env.docname
        return [claims_ledger()]


def _sentence(ref: claim_ref) -> str:
    """The sentence of the prose that holds `ref` (its paragraph's text, cut at sentence ends)."""
    block = ref.parent
    while block is not None and not isinstance(block, (nodes.paragraph, nodes.list_item, nodes.caption)):
        block = block.parent
    if block is None:
        return ""
    before, found = [], False
    after = []
    for node in block.findall(lambda n: isinstance(n, (nodes.Text, claim_ref))):
        if node is ref:
            found = True
        elif isinstance(node, nodes.Text):
            (after if found else before).append(node.astext())
    text_before, text_after = "".join(before), "".join(after)
    start = max((m.end() for m in SENTENCE_END.finditer(text_before)), default=0)
    end = next((m.start() for m in SENTENCE_END.finditer(text_after)), len(text_after))
    sentence = " ".join((text_before[start:] + text_after[:end]).split())
    return re.sub(r"\s+([,.;:)])", r"\1", sentence)  # no gap where the tick stood


def _drop(node) -> None:
    """A record, once read, leaves the page (each was a hidden span of about 300 bytes, some 25 KB
    of a chapter page), and so does the cell output it leaves empty. The record's mime bundle goes
    whole: its other members (the text/plain form) are the same record for other formats."""
    bundle = node.parent
    while isinstance(bundle, nodes.container) and bundle.get("nb_element") != "mime_bundle":
        bundle = bundle.parent  # mime_bundle > container (one per mime type) > raw
    if isinstance(bundle, nodes.container):
        node = bundle
    parent = node.parent
    parent.remove(node)
    while isinstance(parent, nodes.container) and not parent.children and parent.get("nb_element") in (
            "mime_bundle", "cell_code_output") and parent.parent is not None:
        node, parent = parent, parent.parent
        parent.remove(node)


def collect(app, doctree) -> None:
    env, docname = app.env, app.env.docname
    records = []
    for raw in list(doctree.findall(nodes.raw)):
        found = RECORD_RE.findall(raw.astext())
        records += [json.loads(html.unescape(data)) for data in found]
        if found and not RECORD_RE.sub("", raw.astext()).strip():
            _drop(raw)
    if records:
        env.fp_claim_records = {**getattr(env, "fp_claim_records", {}), docname: records}
    # (claim id, sentence, line, n): the n-th tick of the page gets the anchor claimref-<id>-<n>
    refs = [(ref["claim_id"], _sentence(ref), ref.line, n) for n, ref in enumerate(doctree.findall(claim_ref), start=1)]
    if refs:
        env.fp_claim_refs = {**getattr(env, "fp_claim_refs", {}), docname: refs}


def purge(app, env, docname) -> None:
    for attr in ("fp_claim_records", "fp_claim_refs"):
        getattr(env, attr, {}).pop(docname, None)
    if getattr(env, "fp_ledger_doc", None) == docname:
        env.fp_ledger_doc = None


def merge(app, env, docnames, other) -> None:
    for attr in ("fp_claim_records", "fp_claim_refs"):
        mine = getattr(env, attr, {})
        mine.update({d: v for d, v in getattr(other, attr, {}).items() if d in docnames})
        setattr(env, attr, mine)
    if getattr(other, "fp_ledger_doc", None):
        env.fp_ledger_doc = other.fp_ledger_doc


def ledger_first(app, env, added, changed, removed) -> list[str]:
    """The ledger shows every document's claims, so it is rewritten whenever any is re-read."""
    ledger = getattr(env, "fp_ledger_doc", None)
    return [ledger] if ledger and (added or changed or removed) else []


def records_by_id(env) -> dict[str, tuple[str, dict]]:
    out = {}
    for docname, records in sorted(getattr(env, "fp_claim_records", {}).items()):
        for rec in records:
            if rec["id"] in out:
                logger.warning(f"claim '{rec['id']}' is checked twice: in {out[rec['id']][0]} and {docname}",
                               location=docname)
            out[rec["id"]] = (docname, rec)
    return out


def check_consistency(app, env) -> None:
    checked = records_by_id(env)
    marked = set()
    for docname, refs in sorted(getattr(env, "fp_claim_refs", {}).items()):
        for claim_id, sentence, line, _ in refs:
            marked.add(claim_id)
            if claim_id not in checked:
                logger.warning(f"the sentence \u201c{sentence}\u201d marks claim '{claim_id}', which no notebook "
                               "checks; expected a fourpillars.claim(...) call with that id", location=(docname, line))
    for claim_id, (docname, _) in sorted(checked.items()):
        if claim_id not in marked:
            logger.warning(f"claim '{claim_id}' is checked but no sentence marks it with {{claim}}`{claim_id}`",
                           location=docname)


def _link(app, fromdoc: str, claim_id: str) -> str:
    ledger = getattr(app.env, "fp_ledger_doc", None)
    if not ledger:
        return ""
    return app.builder.get_relative_uri(fromdoc, ledger) + f"#claim-{claim_id}"


def _ledger_html(app, fromdoc: str) -> str:
    from fourpillars import load
    from fourpillars.sources import short_cite
    sources = load("sources").fillna("").set_index("id")
    env = app.env
    sentences: dict[str, list[tuple[str, str, str]]] = {}
    for docname, refs in sorted(getattr(env, "fp_claim_refs", {}).items()):
        for claim_id, sentence, _, n in refs:
            sentences.setdefault(claim_id, []).append((docname, sentence, f"#claimref-{claim_id}-{n}"))
    rows = []
    for claim_id, (docname, rec) in sorted(records_by_id(env).items(), key=lambda kv: (kv[1][0], kv[0])):
        title = env.titles[docname].astext() if docname in env.titles else docname
        where = "".join(
            f'<li><a href="{app.builder.get_relative_uri(fromdoc, doc)}{anchor}">{html.escape(env.titles[doc].astext())}</a>: '
            f"{html.escape(text)}</li>" for doc, text, anchor in sentences.get(claim_id, []))
        table = f"<code>{html.escape(rec['table'])}</code>: " if rec["table"] else ""
        cited = "; ".join(html.escape(short_cite(sources.loc[s])) for s in rec["sources"] if s in sources.index)
        rows.append(
            f'<tr id="claim-{html.escape(claim_id)}"><td><code>{html.escape(claim_id)}</code><br>'
            f'<a href="{app.builder.get_relative_uri(fromdoc, docname)}">{html.escape(title)}</a></td>'
            f"<td>{html.escape(rec['text'])}<ul>{where}</ul></td>"
            f"<td>{table}{html.escape(', '.join(rec['rows']))}<br>Sources: {cited}</td>"
            f"<td>{html.escape(rec['test'])}</td><td>holds</td></tr>")
    return ('<table class="fp-table fp-ledger"><thead><tr><th>Claim</th><th>Statement and where the prose makes it'
            "</th><th>Rows it rests on</th><th>Test</th><th>Status</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def resolve(app, doctree, fromdoc: str) -> None:
    for n, ref in enumerate(list(doctree.findall(claim_ref)), start=1):
        uri = _link(app, fromdoc, ref["claim_id"])
        link = (f'<a class="fp-claim" id="claimref-{html.escape(ref["claim_id"])}-{n}" href="{html.escape(uri)}" '
                'title="Checked against the data (claims ledger)">'
                # A screen reader says "checked claim"; the id is in the link's address.
                '<span aria-hidden="true">\u2713</span><span class="visually-hidden">(checked claim)</span></a>')
        ref.replace_self(nodes.raw("", link, format="html"))
    for placeholder in list(doctree.findall(claims_ledger)):
        placeholder.replace_self(nodes.raw("", _ledger_html(app, fromdoc), format="html"))


def setup(app):
    app.add_node(claim_ref)
    app.add_node(claims_ledger)
    app.add_role("claim", claim_role)
    app.add_directive("fourpillars-claims-ledger", ClaimsLedger)
    app.connect("doctree-read", collect)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    app.connect("env-get-outdated", ledger_first)
    app.connect("env-check-consistency", check_consistency)
    app.connect("doctree-resolved", resolve)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}

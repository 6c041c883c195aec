"""The documentation site as a reader meets it, driven by headless Chromium: `make browser-test` (not `make test`).

Serves a site built by `make docs` (build/site/) on 127.0.0.1, opens its front page, follows the navigation to the
results page and to an experiment page as a click would, and checks on each that every image has loaded (a figure
that does not load has no natural width) and that the page's relative links all resolve (`minsnr.site.broken_links`,
run over the whole site first). Screenshots land in build/browser-test/.

    python tests/browser_site.py [--site build/site]
"""
import argparse
import functools
import http.server
import shutil
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_jupyterlab import ROOT, free_port, start_chromium, wait_until  # noqa: E402

from minsnr.site import broken_links  # noqa: E402

# The page as a reader sees it: its title, whether it finished loading, its images and how many did not load, and
# the navigation's links by text.
STATE_JS = """(() => {
  const imgs = Array.from(document.images);
  return {title: document.title, ready: document.readyState, url: location.href,
          images: imgs.length, unloaded: imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
          nav: Object.fromEntries(Array.from(document.querySelectorAll('nav.mn-nav a')).map(a => [a.innerText, a.href]))};
})()"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", default="build/site", help="the built site (make docs), relative to the repository")
    ap.add_argument("--experiment", default="Figure 1 / Figure 5", help="the start of the experiment page's title to follow")
    args = ap.parse_args()
    site = (ROOT / args.site).resolve()
    if not (site / "index.html").is_file():
        sys.exit(f"no site at {site}: run `make docs` first")
    bad = broken_links(site)
    assert not bad, f"{len(bad)} broken links, first: {bad[:5]}"
    print(f"{site}: no broken links in {sum(1 for _ in site.rglob('*.html'))} pages", flush=True)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    tmp = Path(tempfile.mkdtemp(prefix="minsnr-site-browser-"))
    shots = ROOT / "build" / "browser-test"
    chrome, ok = None, False
    try:
        chrome, page = start_chromium(tmp)

        def visit(url: str, what: str) -> dict:
            page.call("Page.navigate", url=url)
            s = wait_until(lambda: (lambda s: s if s and s["ready"] == "complete" and s["url"] == url else None)(
                page.js(STATE_JS)), 60, f"{what} to load")
            name = what.replace(" ", "-")
            page.screenshot(shots / f"site-{name}.png")
            assert s["nav"], f"{what} ({url}) has no navigation"
            assert not s["unloaded"], f"{what}: images that did not load: {s['unloaded'][:5]}"
            print(f"{what}: {s['title']!r}, {s['images']} images loaded, {len(s['nav'])} navigation links; "
                  f"screenshot build/browser-test/site-{name}.png", flush=True)
            return s

        front = visit(f"{base}/index.html", "front page")
        assert front["images"] >= 1, "the front page shows no figure"
        results = visit(front["nav"]["Results"], "results page")
        assert results["images"] >= 10, f"the results page shows {results['images']} figures"
        exp = [href for text, href in front["nav"].items() if text.startswith(args.experiment)]
        assert exp, f"no experiment page titled {args.experiment!r}… in the navigation: {list(front['nav'])}"
        s = visit(exp[0], "experiment page")
        assert s["images"] >= 1, f"the experiment page {exp[0]} shows no figure"
        ok = True
    finally:
        if chrome is not None:
            chrome.terminate()
            chrome.wait(30)
            chrome.log.close()
        server.shutdown()
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"logs: {tmp}", file=sys.stderr)
    print("the site reads in a browser: OK")


if __name__ == "__main__":
    main()

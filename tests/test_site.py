"""The repository's own documentation site (`make docs`): built whole from what is committed, with no broken link,
every notebook a page with its outputs, and the results page showing each table's numbers as the table has
them (the table's cells split here by hand, independently of the page's markdown renderer)."""
import html
import re
from pathlib import Path

import pytest

from minsnr.site import broken_links, build_site, site_pages

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("site") / "site", root=ROOT, progress=False)


def test_no_broken_links(site):
    assert broken_links(site) == []


def test_every_notebook_is_a_page(site):
    pages = site_pages(ROOT)
    nbs = sorted((ROOT / "nbs").glob("[0-9]*.ipynb")) + sorted((ROOT / "nbs" / "experiments").glob("*.ipynb"))
    assert len([p for p in pages if p.group in ("Library", "Experiments")]) == len(nbs)
    for p in pages:
        text = (site / p.slug).read_text()
        assert '<nav class="mn-nav">' in text and html.escape(p.title) in text, p.slug
    # an executed copy's outputs are on its page: the trainer's EMA plot is an embedded image
    assert "data:image/png;base64" in (site / "library/05_trainer.html").read_text()


def test_results_page_shows_every_tables_numbers(site):
    page = html.unescape(re.sub(r"<[^>]+>", " ", (site / "results.html").read_text()))
    words = set(page.split())
    claims = sorted((ROOT / "results" / "tables").glob("*_gpu.md"))
    checked = 0
    for path in claims:
        cells = [c.strip() for line in path.read_text().splitlines() if line.startswith("|") for c in line.split("|")]
        numbers = {w for c in cells for w in c.split() if re.fullmatch(r"\d+(\.\d+)?", w)}
        checked += len(numbers)
        missing = sorted(n for n in numbers if n not in words)
        assert not missing, f"{path.name}: numbers not on the results page: {missing[:10]}"
    assert checked > 500, f"only {checked} numbers in {len(claims)} tables"

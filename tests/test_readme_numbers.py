"""README.md, results/README.md and the experiment notebooks' reading cells against results/tables/: a number is typed
once.

The README's claims table and the tables results/README.md shows are generated blocks (`make readme`,
`minsnr.report.refresh_readmes`); every measured number of the prose either stands beside a link to a table that shows
it or is named in an `<!-- elsewhere: ... -->` note; every relative link reaches a file. A notebook's reading cell (a
Markdown cell opening with **Reading) is held to the same rule against the tables it names or links
(`minsnr.report.reading_problems`). Fast: no GPU, no training."""
import re
from pathlib import Path

from minsnr.report import (BLOCK, CLAIMS, _chunks, _prose, _tables_in, broken_links, measured, numbers, readme_problems,
                           reading_cells, reading_problems, refresh_markdown, stale_numbers, unchecked_numbers)

ROOT = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "results/README.md")


def _text(doc: str) -> str:
    return (ROOT / doc).read_text()


def test_readmes_agree_with_their_tables():
    assert readme_problems(ROOT, DOCS) == []


def test_reading_cells_agree_with_their_tables():
    assert reading_problems(ROOT) == []


def test_reading_cells_are_checked():
    """Not vacuous: the experiment notebooks have reading cells, and they quote many measured numbers."""
    cells = [text for nb in sorted((ROOT / "nbs" / "experiments").glob("*.ipynb")) for _, text in reading_cells(nb)]
    quoted = sum(measured(x) for t in cells for x in numbers(_prose(t)))
    assert len(cells) >= 12 and quoted > 300, (len(cells), quoted)


def test_readme_is_a_front_door():
    text = _text("README.md")
    assert len(text.splitlines()) <= 200
    names = [m.group("name") for m in BLOCK.finditer(text)]
    assert names == ["claims"], names
    block = next(BLOCK.finditer(text)).group("body")
    assert len(block.splitlines()) == len(CLAIMS) + 2
    for c in CLAIMS:  # every claim's table is linked from its row
        assert f"(results/tables/{c.table}.md)" in block, c.table
    assert "(results/README.md)" in text and "make docs" in text


def test_results_readme_embeds_tables_that_exist():
    names = [m.group("name") for m in BLOCK.finditer(_text("results/README.md"))]
    assert len(names) >= 15 and all(n.startswith("table ") for n in names), names
    for n in names:
        assert (ROOT / "results" / "tables" / f"{n.split()[1]}.md").exists(), n


def test_many_numbers_are_checked():
    """The check is not vacuous: the generated blocks and the prose beside table links hold many measured numbers."""
    in_blocks = sum(len(numbers(m.group("body"))) for d in DOCS for m in BLOCK.finditer(_text(d)))
    prose = 0
    for d in DOCS:
        for chunk in _chunks(_text(d)):
            if _tables_in(chunk, (ROOT / d).parent, ROOT):
                body = _prose(chunk)
                prose += sum(measured(x) for x in numbers(body))
    assert in_blocks > 1000 and prose > 300, (in_blocks, prose)


def test_a_changed_number_in_the_claims_table_fails():
    """A copy of the README with one number of the claims table changed fails, naming the number and its table."""
    text = _text("README.md")
    block = next(BLOCK.finditer(text)).group("body")
    row = block.splitlines()[2]
    table = re.search(r"\((results/tables/[^)]+\.md)\)", row).group(1)
    number = next(x for x in numbers(row.split(" | ")[3]) if "." in x)
    digits = len(number.split(".")[1])
    wrong = f"{float(number) + 10 ** -digits:.{digits}f}"  # one unit of its last digit more
    copy = text.replace(row, row.replace(number, wrong, 1), 1)
    problems = stale_numbers(copy, ROOT, ROOT, "README.md")
    assert problems and problems[0].startswith(f"README.md: {wrong} in block 'claims' differs from {table}"), problems


def test_a_changed_number_in_an_embedded_table_fails():
    text = _text("results/README.md")
    m = next(m for m in BLOCK.finditer(text) if m.group("name") == "table fig9_short_gpu")
    copy = text[:m.start("body")] + m.group("body").replace("| 44.7 |", "| 44.8 |", 1) + text[m.end("body"):]
    assert copy != text
    problems = stale_numbers(copy, ROOT, ROOT / "results", "results/README.md")
    assert problems and problems[0].startswith(
        "results/README.md: 44.8 in block 'table fig9_short_gpu' differs from results/tables/fig9_short_gpu.md"), problems


def test_a_changed_number_in_the_prose_fails():
    """The prose beside a table link: one measured number changed (to one no table linked there shows) fails."""
    text = _text("results/README.md")
    m = re.search(r"the common σ\(log FID\) is (\d\.\d+) on \d+ df", text)
    assert m, "the README states the common regime's pooled σ"
    wrong = "0.0999"  # no table beside it shows this σ
    assert wrong != m.group(1)
    changed = text[:m.start(1)] + wrong + text[m.end(1):]
    problems = unchecked_numbers(changed, ROOT, ROOT / "results", "results/README.md")
    assert len(problems) == 1 and problems[0].startswith(
        f"results/README.md: {wrong} beside results/tables/fig5_verdict_gpu.md"), problems
    assert unchecked_numbers(text, ROOT, ROOT / "results", "results/README.md") == []


def test_a_number_with_no_table_and_no_note_fails():
    text = _text("results/README.md") + "\n\nA new finding: FID 12.34 at the end.\n"
    problems = unchecked_numbers(text, ROOT, ROOT / "results", "results/README.md")
    assert problems == ["results/README.md: 12.34 stands beside no table of results/tables/: "
                        "«A new finding: FID 12.34 at the end.\n…»"], problems


def test_regenerating_changes_nothing():
    for d in DOCS:
        assert refresh_markdown(_text(d), ROOT, (ROOT / d).parent) == _text(d), d


def test_links_resolve_and_a_broken_one_is_named():
    for d in DOCS:
        assert broken_links(_text(d), (ROOT / d).parent) == [], d
    assert broken_links(_text("README.md") + "\n[gone](results/tables/gone.md)\n", ROOT) == ["results/tables/gone.md"]

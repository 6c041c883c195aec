"""The executed copies of the library notebooks (results/executed/library/, written by `make notebooks`) are what a
reader on GitHub sees with its plots: each must exist and hold exactly the code of its source notebook."""
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "nbs").glob("[0-9]*.ipynb"))


def code_cells(path: Path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]).rstrip() for c in cells if c["cell_type"] == "code"]


@pytest.mark.parametrize("src", SOURCES, ids=[p.stem for p in SOURCES])
def test_executed_copy_is_current(src):
    copy = ROOT / "results" / "executed" / "library" / src.name
    assert copy.exists(), f"{copy} is missing: run `make notebooks` and commit results/executed/library/"
    assert code_cells(copy) == code_cells(src), (f"{copy} was executed from an older {src.name}: run `make notebooks` "
                                                 "and commit results/executed/library/")
    outputs = [o for c in json.loads(copy.read_text())["cells"] for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"], f"{copy} holds an error output"

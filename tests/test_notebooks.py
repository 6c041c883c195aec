"""Run every notebook's tests through nbdev_test, one pytest test per notebook.

nbdev_test honours the notebooks' skip flags: cells marked `#| gpu` or `#| slow` run only when
MINSNR_TEST_FLAGS names them (e.g. MINSNR_TEST_FLAGS="gpu slow" on a CUDA machine)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
# The experiment notebooks (nbs/experiments/) are executed by `minsnr reproduce` (`make run`), not here.
NOTEBOOKS = sorted(p for p in NBS.rglob("*.ipynb")
                   if not any(part.startswith((".", "_")) for part in p.relative_to(NBS).parts)
                   and p.parent.name != "experiments")


def test_notebooks_found():
    assert len(NOTEBOOKS) >= 2, f"expected the library notebooks under {NBS}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: str(p.relative_to(NBS)))
def test_notebook(nb):
    cmd = [str(Path(sys.executable).parent / "nbdev_test"), "--path", str(nb), "--do_print"]
    flags = os.environ.get("MINSNR_TEST_FLAGS", "").split()
    if flags:
        cmd += ["--flags", *flags]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, f"{nb.name} failed its tests:\n{r.stdout[-6000:]}\n{r.stderr[-6000:]}"

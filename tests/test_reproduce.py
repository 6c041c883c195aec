"""`minsnr reproduce` as a user runs it: every experiment notebook has a papermill parameters cell, and a notebook
that raises makes the command exit non-zero, naming the notebook, the cell and the error."""
import json
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_experiment_notebooks_have_parameters():
    nbs = sorted((ROOT / "nbs" / "experiments").glob("*.ipynb"))
    assert len(nbs) >= 3
    for p in nbs:
        nb = nbformat.read(p, as_version=4)
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1, f"{p.name}: one cell tagged 'parameters' expected"
        src = params[0].source
        assert 'profile = "quick"' in src and "out_dir = " in src, f"{p.name}: parameters cell needs profile and out_dir"


def _notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "python3", "language": "python"}
    nbformat.write(nb, path)


def test_failing_notebook_fails_reproduce(tmp_path):
    d = tmp_path / "exp"
    d.mkdir()
    _notebook(d / "a_ok.ipynb", 'profile = "quick"\nout_dir = ""',
              "from pathlib import Path\nPath(out_dir, 'a.json').write_text('{\"profile\": \"%s\"}' % profile)")
    _notebook(d / "b_broken.ipynb", 'profile = "quick"\nout_dir = ""', "1 / 0")
    _notebook(d / "c_never.ipynb", 'profile = "quick"\nout_dir = ""', "raise SystemExit('must not run')")
    r = subprocess.run([str(BIN / "minsnr"), "reproduce", "--profile", "gpu", "--notebooks", str(d), "--out",
                        str(tmp_path / "out"), "--quiet"], capture_output=True, text=True, timeout=600)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "b_broken.ipynb failed in cell [3] ('1 / 0') with ZeroDivisionError" in out, out
    assert "without encryption" not in out, out                                          # kernels over CurveZMQ
    assert json.loads((tmp_path / "out/a.json").read_text()) == {"profile": "gpu"}      # the parameters arrived
    assert (tmp_path / "out/results/executed/gpu/b_broken.ipynb").exists()              # kept, with the traceback
    assert not (tmp_path / "out/results/executed/gpu/c_never.ipynb").exists()           # stopped at the failure

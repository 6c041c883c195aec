"""Run every notebook's tests through nbdev_test, one pytest test per notebook.

nbdev_test honours the notebooks' skip flags: cells marked `#| gpu` or `#| slow` run only when
MINSNR_TEST_FLAGS names them (e.g. MINSNR_TEST_FLAGS="gpu slow" on a CUDA machine).

Each notebook runs with a temporary folder of its own as TMPDIR, removed when it ends: whatever its tests create
with `tempfile` (run folders, checkpoints, compiled kernels) is gone afterwards, not left in the system's /tmp."""
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
# The experiment notebooks (nbs/experiments/) are executed by `minsnr reproduce` (`make run`), not here.
NOTEBOOKS = sorted(p for p in NBS.rglob("*.ipynb")
                   if not any(part.startswith((".", "_")) for part in p.relative_to(NBS).parts)
                   and p.parent.name != "experiments")


def run_in_own_tmpdir(cmd, **kwargs):
    """`subprocess.run(cmd)` with TMPDIR set to a new temporary folder that is removed when the command ends;
    returns (the completed process, that folder's path, which no longer exists)."""
    with tempfile.TemporaryDirectory(prefix="minsnr-test-") as tmp:
        r = subprocess.run(cmd, env={**os.environ, "TMPDIR": tmp}, **kwargs)
    assert not Path(tmp).exists(), f"the test's temporary folder {tmp} was not removed"
    return r, Path(tmp)


def test_every_notebook_is_run_and_listed():
    """Every notebook under nbs/ is run by something: a library notebook by `test_notebook` below, an experiment
    notebook by `minsnr reproduce` (`experiment_notebooks`); a notebook elsewhere would be run by neither. And each is
    linked where a reader finds it: a library notebook from the README's table of notebooks, an experiment notebook
    from results/README.md (its section of the results), which the README's table points to."""
    from minsnr.reproduce import experiment_notebooks
    everything = sorted(p.relative_to(ROOT) for p in NBS.rglob("*.ipynb")
                        if not any(part.startswith((".", "_")) for part in p.relative_to(NBS).parts))
    experiments = experiment_notebooks(nb_dir=NBS / "experiments")
    run = {p.relative_to(ROOT) for p in NOTEBOOKS + experiments}
    assert len(NOTEBOOKS) >= 20 and len(run) > len(NOTEBOOKS), (NOTEBOOKS, run)
    assert [p for p in everything if p not in run] == [], "notebooks that neither the tests nor `minsnr reproduce` run"
    readme, results = (ROOT / "README.md").read_text(), (ROOT / "results" / "README.md").read_text()
    unlisted = [str(p) for p in everything if p.parent.name != "experiments" and f"({p.as_posix()})" not in readme]
    assert unlisted == [], f"notebooks without a link in README.md's table of notebooks: {unlisted}"
    unlisted = [str(p) for p in everything if p.parent.name == "experiments" and f"(../{p.as_posix()})" not in results]
    assert unlisted == [], f"experiment notebooks without a link in results/README.md: {unlisted}"
    assert "(results/README.md)" in readme and "(nbs/experiments)" in readme


def test_a_command_temporary_files_go_and_are_removed():
    "What a command makes with tempfile lands in the folder it is given, and goes with it."
    probe = "import tempfile; d = tempfile.mkdtemp(); open(d + '/f', 'w').write('x'); print(d)"
    r, tmp = run_in_own_tmpdir([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    made = Path(r.stdout.strip())
    assert r.returncode == 0 and made.parent == tmp, (r.stdout, r.stderr, tmp)
    assert not made.exists()


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: str(p.relative_to(NBS)))
def test_notebook(nb):
    cmd = [str(Path(sys.executable).parent / "nbdev_test"), "--path", str(nb), "--do_print"]
    flags = os.environ.get("MINSNR_TEST_FLAGS", "").split()
    if flags:
        cmd += ["--flags", *flags]
    r, _ = run_in_own_tmpdir(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, f"{nb.name} failed its tests:\n{r.stdout[-6000:]}\n{r.stderr[-6000:]}"

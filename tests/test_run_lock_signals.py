"""A run folder belongs to one process, and a stopped command leaves nothing running: two `minsnr train --resume` of
one folder started at once (one trains, the other stops with one line naming the folder and the holder's pid; a
killed holder leaves no stale lock), SIGTERM and SIGINT to `minsnr sweep` (its worker ends with it), Ctrl-C to
`minsnr train` (one line, no traceback), and a bad plan refused before anything trains."""
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from minsnr.cli import main

BIN = Path(sys.executable).parent
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
# long enough that no run ends by itself while a test looks at it; every test stops its runs
TINY = {"data": "fashion_mnist", "subset": 256, "image_size": None, "model": "vit_s_4",
        "model_kwargs": {"width": 32, "depth": 1, "heads": 2}, "batch_size": 8, "steps": 100_000, "precision": "fp32",
        "log_every": 2, "ckpt_every": 2, "deterministic": True}


def _minsnr(*argv) -> subprocess.Popen:
    "`minsnr argv` in a session of its own, so that the test can end it with everything it started (`procs`)."
    return subprocess.Popen([str(BIN / "minsnr"), *map(str, argv)], env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for(cond, procs, timeout=300):
    deadline = time.time() + timeout
    while not cond():
        for p in procs:
            assert p.poll() is None, p.communicate()[1][-3000:]
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def _steps(out: Path) -> list[int]:
    p = out / "metrics.jsonl"
    return [json.loads(l)["step"] for l in p.read_text().splitlines() if l.endswith("}")] if p.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _lock_is_free(out: Path) -> bool:
    with open(out / "run.lock") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
    return True


@pytest.fixture
def procs():
    "The processes a test starts, each with its process group killed at the end (none is left after a failure)."
    started = []
    yield started
    for p in started:
        try:
            os.killpg(p.pid, signal.SIGKILL)  # the process and whatever it started (a sweep's workers)
        except ProcessLookupError:
            pass
        p.wait()


def _errors(stderr: str) -> list[str]:
    return [l for l in stderr.splitlines() if l.strip()]


def test_two_resumes_of_one_folder_at_once(tmp_path, procs):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"name": "race", **TINY}))
    out = tmp_path / "race"
    a, b = (_minsnr("train", "--config", cfg, "--out", out, "--resume", "--quiet") for _ in range(2))
    procs += [a, b]
    # one of them takes the folder; the other stops at once, whichever started first
    deadline = time.time() + 120
    while a.poll() is None and b.poll() is None:
        assert time.time() < deadline, "neither stopped"
        time.sleep(0.05)
    loser, winner = (a, b) if a.poll() is not None else (b, a)
    err = loser.communicate()[1]
    assert loser.returncode == 2, err
    assert _errors(err) == [f"minsnr train: error: run folder {out} is in use by another process (pid {winner.pid}, "
                            f"holding {out / 'run.lock'}); wait for it to end or stop it, then resume"], err
    _wait_for(lambda: len(_steps(out)) >= 3, [winner])
    winner.send_signal(signal.SIGKILL); winner.communicate()
    assert (out / "run.lock").read_text().strip() == str(winner.pid) and _lock_is_free(out)  # no stale lock
    done = max(int(p.stem.split("_")[1]) for p in (out / "checkpoints").glob("step_*.pt"))
    r = subprocess.run([str(BIN / "minsnr"), "train", "--config", str(cfg), "--out", str(out), "--resume", "--quiet",
                        "--set", f"steps={done + 4}"], env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert _steps(out) == list(range(2, done + 5, 2))  # one process's log: each step once, in order


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_sweep_stops_its_runs(tmp_path, sig, procs):
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([{"name": "long", **TINY}]))
    out = tmp_path / "runs" / "long"
    sw = _minsnr("sweep", "--plan-file", plan, "--runs-dir", tmp_path / "runs", "--workers", "1", "--quiet")
    procs.append(sw)
    _wait_for(lambda: len(_steps(out)) >= 2, [sw])
    worker = int((out / "run.lock").read_text())
    assert worker != sw.pid and _alive(worker)
    sw.send_signal(sig)
    err = sw.communicate(timeout=120)[1]
    assert sw.returncode == 128 + sig, err
    assert _errors(err) == [f"minsnr sweep: stopped by {signal.Signals(sig).name}; its runs were stopped: the same "
                            f"command resumes them from their last checkpoints"], err
    assert not _alive(worker) and _lock_is_free(out)
    size = (out / "metrics.jsonl").stat().st_size
    time.sleep(1.5)
    assert (out / "metrics.jsonl").stat().st_size == size, "a run kept training after its sweep stopped"


@pytest.mark.parametrize("ckpt_every", [2, 1], ids=["ckpt_every=2", "ckpt_every=1"])
def test_ctrl_c_stops_train_with_one_line(tmp_path, procs, ckpt_every):
    # with a checkpoint every step most Ctrl-Cs land inside a checkpoint write: it must finish (or vanish) first
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"name": "int", **TINY, "ckpt_every": ckpt_every, "log_every": 1,
                               "model_kwargs": {"width": 64, "depth": 4, "heads": 2}}))
    out = tmp_path / "int"
    p = _minsnr("train", "--config", cfg, "--out", out, "--quiet")
    procs.append(p)
    _wait_for(lambda: len(_steps(out)) >= 3, [p])
    p.send_signal(signal.SIGINT)
    err = p.communicate(timeout=120)[1]
    assert p.returncode == 130, err
    assert _errors(err) == ["minsnr train: stopped by SIGINT; resume it with --resume (from its last checkpoint)"], err
    assert _lock_is_free(out)
    assert not list((out / "checkpoints").glob("*.tmp"))
    from minsnr.trainer import read_checkpoint
    for ck in (out / "checkpoints").glob("*.pt"):
        read_checkpoint(ck)  # raises CheckpointError on a torn file


def test_a_bad_plan_is_refused_before_anything_trains(tmp_path, capsys):
    ok = {"name": "ok", **TINY, "steps": 2}
    plan = [ok, {**ok, "gamma": 1.0}, {**ok, "name": "a/b"}, {**ok, "name": "t", "target": "noise"}]
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    rc = main(["sweep", "--plan-file", str(tmp_path / "plan.json"), "--runs-dir", str(tmp_path / "runs"), "--quiet"])
    err = _errors(capsys.readouterr().err)
    assert rc == 2 and len(err) == 1, err
    assert err[0].startswith("minsnr sweep: error: the plan has 3 bad run(s), so none was started: run 1 'ok': the "
                             "name of run 0 too"), err
    assert "run 2 'a/b': name='a/b'" in err[0] and "run 3 't': target='noise'" in err[0], err
    assert not (tmp_path / "runs").exists()

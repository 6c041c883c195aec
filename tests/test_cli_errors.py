"""Every user error of every `minsnr` command is one line on stderr that names the bad value or file, with a
non-zero exit status (2); `--debug` shows the traceback; a bug (anything but a user error) is not hidden.

The commands run in this process (`minsnr.cli.main`), on one tiny run trained once, so the table stays fast."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from minsnr.cli import main

TINY = {"name": "tiny", "data": "fashion_mnist", "subset": 256, "image_size": None, "model": "vit_s_4",
        "model_kwargs": {"width": 32, "depth": 2, "heads": 2}, "batch_size": 16, "steps": 2, "precision": "fp32",
        "log_every": 2, "ckpt_every": 2}


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli_errors")
    cfg = dict(TINY)
    (d / "tiny.json").write_text(json.dumps(cfg))
    assert main(["train", "--config", str(d / "tiny.json"), "--out", str(d / "run"), "--quiet"]) == 0
    shutil.copytree(d / "run", d / "torn")
    ck = d / "torn/checkpoints/step_00000002.pt"
    ck.write_bytes(ck.read_bytes()[:1000])
    shutil.copytree(d / "run", d / "ended", ignore=shutil.ignore_patterns("checkpoints"))  # a run kept without checkpoints
    for name, cfg in {"array": [TINY], "npz_no_path": {**TINY, "data": "npz"},
                      "npz_missing": {**TINY, "data": "npz", "data_path": str(d / "nope.npz")},
                      "model": {**TINY, "model": "vit_q_9"}, "batch": {**TINY, "batch_size": 512},
                      "kwargs": {**TINY, "model_kwargs": {"widht": 32, "depth": 2, "heads": 2}},
                      "root": {"name": "x", "data_root": str(d / "nope")}, "strategy": {**TINY, "strategy": "minsnr"}}.items():
        (d / f"{name}.json").write_text(json.dumps(cfg))
    (d / "broken.json").write_text('{"name": ')
    np.savez(d / "ok.npz", images=np.zeros((4, 1, 32, 32), np.uint8))
    (d / "empty.npz").write_bytes(b"")
    (d / "cut.npz").write_bytes((d / "ok.npz").read_bytes()[:100])
    (d / "noise.npz").write_bytes(np.random.default_rng(0).bytes(500))
    np.savez(d / "nokey.npz", pictures=np.zeros((4, 1, 32, 32), np.uint8))
    (d / "plan_obj.json").write_text(json.dumps({"name": "x"}))
    return d


def _err(argv, capsys):
    "(exit status, non-empty stderr lines) of main(argv)."
    capsys.readouterr()
    try:
        rc = main(argv)
    except SystemExit as e:  # argparse's own checks exit
        rc = e.code
    return rc, [line for line in capsys.readouterr().err.splitlines() if line.strip()]


# (argv, what the one line must contain); {d} is the temporary folder
CASES = [
    # train: the config file itself
    (["train", "--config", "{d}/missing.json"], "{d}/missing.json"),
    (["train", "--config", "{d}/broken.json"], "{d}/broken.json"),
    (["train", "--config", "{d}/array.json"], "{d}/array.json must hold a JSON object"),
    (["train", "--config", "{d}/strategy.json"], "strategy='minsnr'"),
    (["train", "--config", "{d}/tiny.json", "--set", "steps"], "--set takes key=value, got 'steps'"),
    (["train", "--config", "{d}/tiny.json", "--set", "steps=-1"], "steps=-1"),
    # train: errors once training has started
    (["train", "--config", "{d}/npz_no_path.json", "--out", "{d}/o1"], "data_path=None"),
    (["train", "--config", "{d}/npz_missing.json", "--out", "{d}/o2"], "{d}/nope.npz"),
    (["train", "--config", "{d}/model.json", "--out", "{d}/o3"], "unknown model 'vit_q_9'"),
    (["train", "--config", "{d}/batch.json", "--out", "{d}/o4"], "fewer than one batch of 512"),
    (["train", "--config", "{d}/kwargs.json", "--out", "{d}/o5"], "no option 'widht'"),
    (["train", "--config", "{d}/root.json", "--out", "{d}/o6"], "{d}/nope"),
    (["train", "--config", "{d}/tiny.json", "--out", "{d}/run"], "{d}/run already holds a run"),
    (["train", "--config", "{d}/tiny.json", "--out", "{d}/run", "--resume", "--set", "lr=0.5"], "lr=0.5"),
    (["train", "--config", "{d}/tiny.json", "--out", "{d}/ended", "--resume"],
     "{d}/ended holds a run that ended (finished at step 2) and has no checkpoint to resume from"),
    (["train", "--config", "{d}/tiny.json", "--bogus"], "unrecognized arguments: --bogus"),
    # sample
    (["sample", "--run", "{d}/nowhere"], "--run {d}/nowhere does not exist"),
    (["sample", "--run", "{d}/torn/checkpoints/step_00000002.pt", "--device", "cpu"],
     "{d}/torn/checkpoints/step_00000002.pt is unreadable"),
    (["sample", "--run", "{d}/run", "--n", "0"], "argument --n: must be a positive integer, got '0'"),
    (["sample", "--run", "{d}/run", "--steps", "-3"], "argument --steps: must be a positive integer, got '-3'"),
    (["sample", "--run", "{d}/run", "--label", "10", "--device", "cpu"], "--label 10 is out of range"),
    (["sample", "--run", "{d}/run", "--device", "tpu9"], "--device 'tpu9'"),
    (["sample", "--run", "{d}/run", "--sampler", "euler"], "invalid choice: 'euler'"),
    # fid: the images are read before the network is loaded
    (["fid", "--samples", "{d}/missing.npz", "--ref", "fashion_mnist"], "{d}/missing.npz"),
    (["fid", "--samples", "{d}/empty.npz", "--ref", "fashion_mnist"], "{d}/empty.npz"),
    (["fid", "--samples", "{d}/cut.npz", "--ref", "fashion_mnist"], "{d}/cut.npz"),
    (["fid", "--samples", "{d}/noise.npz", "--ref", "fashion_mnist"], "{d}/noise.npz"),
    (["fid", "--samples", "{d}/nokey.npz", "--ref", "fashion_mnist"], "{d}/nokey.npz has no array 'images'"),
    (["fid", "--samples", "{d}/ok.npz", "--ref", "imagenet"], "'imagenet' is neither"),
    (["fid", "--samples", "{d}/ok.npz", "--ref", "fashion_mnist:val"], "unknown split 'val'"),
    (["fid", "--samples", "{d}/ok.npz", "--ref", "fashion_mnist", "--n-ref", "0"], "argument --n-ref"),
    # sweep
    (["sweep", "--plan", "fig9"], "plan 'fig9' is unknown"),
    (["sweep", "--plan-file", "{d}/missing.json"], "{d}/missing.json"),
    (["sweep", "--plan-file", "{d}/plan_obj.json"], "{d}/plan_obj.json must hold a JSON list"),
    (["sweep", "--profile", "quick", "--only", "nope"], "--only ['nope']: not in the plan"),
    (["sweep", "--profile", "quick", "--gpus", "a,b"], "--gpus 'a,b'"),
    (["sweep", "--workers", "0"], "argument --workers"),
    # reproduce
    (["reproduce", "--only", "fig99"], "fig99"),
    (["reproduce", "--profile", "huge"], "invalid choice: 'huge'"),
    # no command
    ([], "the following arguments are required: COMMAND"),
]


@pytest.mark.parametrize("argv, expect", CASES, ids=lambda v: " ".join(v)[:60] if isinstance(v, list) else None)
def test_user_error_is_one_line(argv, expect, tmp, capsys):
    argv = [a.format(d=tmp) for a in argv]
    rc, lines = _err(argv, capsys)
    assert rc == 2, (rc, lines)
    assert len(lines) == 1, lines
    # the command's name, or the bare program's where argparse sees the whole line (unrecognised arguments)
    assert lines[0].startswith((f"minsnr {argv[0]}: error: " if argv else "-", "minsnr: error: ")), lines[0]
    assert expect.format(d=tmp) in lines[0], lines[0]


def test_unreadable_checkpoints_fall_back_with_one_line_warnings(tmp, capsys):
    "A run folder whose only checkpoint is unreadable: one warning line, then one error line naming the folder."
    rc, lines = _err(["sample", "--run", str(tmp / "torn"), "--device", "cpu"], capsys)
    assert rc == 2 and len(lines) == 2, lines
    assert lines[0].startswith("minsnr sample: warning: checkpoint ") and "trying an older one" in lines[0]
    assert lines[1] == f"minsnr sample: error: no readable checkpoint in {tmp / 'torn/checkpoints'}: step_00000002.pt cannot be read"


def test_debug_shows_the_traceback(tmp):
    with pytest.raises(ValueError, match="must hold a JSON object"):
        main(["train", "--config", str(tmp / "array.json"), "--debug"])


def test_a_bug_is_not_a_user_error(tmp, monkeypatch):
    "An internal error keeps its traceback: only the deliberate user errors become one line."
    import minsnr.trainer
    def broken(*args, **kwargs):
        raise KeyError("an internal bug")
    monkeypatch.setattr(minsnr.trainer, "train", broken)
    with pytest.raises(KeyError, match="an internal bug"):
        main(["train", "--config", str(tmp / "tiny.json"), "--out", str(tmp / "o9")])


def test_the_installed_command_exits_2_with_one_line(tmp):
    r = subprocess.run([sys.executable, "-m", "minsnr", "sample", "--run", str(tmp / "nowhere"), "--n", "1"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and r.stdout == ""
    assert [line for line in r.stderr.splitlines() if line.strip()] == [
        f"minsnr sample: error: --run {tmp / 'nowhere'} does not exist"]

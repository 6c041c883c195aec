"""The trainer as a user runs it: `minsnr train` in its own process, killed with SIGKILL and resumed, and under
torchrun with two CPU processes (gloo)."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch

BIN = Path(sys.executable).parent
TINY = dict(data="fashion_mnist", subset=1024, image_size=None, model="vit_s_4",
            model_kwargs=dict(width=64, depth=2, heads=4), batch_size=32, lr=1e-3, ema_decay=0.99,
            precision="fp32", deterministic=True, seed=3)
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _write(tmp, name, cfg):
    p = tmp / f"{name}.json"
    p.write_text(json.dumps({"name": name, **cfg}))
    return p


def _train(cfg_path, out, *extra):
    return subprocess.run([str(BIN / "minsnr"), "train", "--config", str(cfg_path), "--out", str(out), "--quiet", *extra],
                          env=ENV, capture_output=True, text=True, timeout=600)


def _ckpt(out, step):
    return torch.load(out / "checkpoints" / f"step_{step:08d}.pt", weights_only=True)


def _assert_same_state(a, b, exact=True, atol=0.0):
    for key in ("model", "ema"):
        for k in a[key]:
            ok = torch.equal(a[key][k], b[key][k]) if exact else torch.allclose(a[key][k], b[key][k], rtol=0, atol=atol)
            assert ok, (key, k, (a[key][k] - b[key][k]).abs().max())
    for i, st in a["opt"]["state"].items():
        for k, v in st.items():
            w = b["opt"]["state"][i][k]
            assert (torch.equal(v, w) if exact else torch.allclose(v, w, rtol=0, atol=atol * 10)), ("opt", i, k)


def _metrics(out):
    return [{k: v for k, v in json.loads(l).items() if k != "images_per_s"} for l in (out / "metrics.jsonl").read_text().splitlines()]


def test_sigkill_then_resume_is_exact(tmp_path):
    steps = 120
    cfg = _write(tmp_path, "kill", {**TINY, "steps": steps, "log_every": 4, "ckpt_every": 4, "keep_checkpoints": 3})
    straight = tmp_path / "straight"
    r = _train(cfg, straight)
    assert r.returncode == 0, r.stderr[-3000:]

    killed = tmp_path / "killed"
    proc = subprocess.Popen([str(BIN / "minsnr"), "train", "--config", str(cfg), "--out", str(killed), "--quiet"],
                            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while time.time() < deadline and not list((killed / "checkpoints").glob("step_0000001[2-9].pt")):
        assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (killed / "checkpoints" / f"step_{steps:08d}.pt").exists(), "the run finished before it was killed"
    done_before = max(int(p.stem.split("_")[1]) for p in (killed / "checkpoints").glob("step_*.pt"))

    r = _train(cfg, killed, "--resume")
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads(r.stdout.strip().splitlines()[-1])["status"] == "finished"
    _assert_same_state(_ckpt(straight, steps), _ckpt(killed, steps), exact=True)
    assert _metrics(straight) == _metrics(killed), f"logs differ after resuming from step {done_before}"
    prov = json.loads((killed / "provenance.json").read_text())
    assert prov["status"] == "finished" and prov["steps_done"] == steps


def test_two_process_gloo_matches_one_process(tmp_path):
    cfg = _write(tmp_path, "ddp", {**TINY, "steps": 12, "log_every": 4, "ckpt_every": 12})
    one = tmp_path / "one"
    r = _train(cfg, one)
    assert r.returncode == 0, r.stderr[-3000:]
    two = tmp_path / "two"
    r = subprocess.run([str(BIN / "torchrun"), "--standalone", "--nproc_per_node", "2", "--no-python",
                        str(BIN / "minsnr"), "train", "--config", str(cfg), "--out", str(two), "--quiet"],
                       env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    a, b = _ckpt(one, 12), _ckpt(two, 12)
    _assert_same_state(a, b, exact=False, atol=1e-5)
    # the two runs really trained (not both stuck at initialisation) and logged the same losses
    first = torch.load(one / "checkpoints" / "step_00000012.pt", weights_only=True)["model"]
    assert any(not torch.equal(first[k], v) for k, v in _init_state(cfg).items())
    la, lb = _metrics(one), _metrics(two)
    assert [r["step"] for r in la] == [r["step"] for r in lb] == [4, 8, 12]
    for ra, rb in zip(la, lb):
        assert abs(ra["loss"] - rb["loss"]) < 1e-4 * max(1.0, abs(ra["loss"])), (ra, rb)
    prov = json.loads((two / "provenance.json").read_text())
    assert prov["processes"] == 2

    # a deadline under torchrun: rank 0 decides for both, so they stop at one step (no process waits on the other at
    # a collective), rank 0 writes the stop's checkpoint, and a resume ends on the straight two-process run
    cut = tmp_path / "cut"
    torchrun = [str(BIN / "torchrun"), "--standalone", "--nproc_per_node", "2", "--no-python", str(BIN / "minsnr"),
                "train", "--config", str(cfg), "--out", str(cut), "--quiet"]
    r = subprocess.run(torchrun + ["--time-limit", "0.001s"], env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode != 0, r.stdout  # each process exits with status 4; torchrun reports that as a failure
    prov = json.loads((cut / "provenance.json").read_text())
    assert (prov["status"], prov["steps_done"], prov["processes"]) == ("stopped", 4, 2), prov
    assert sorted(p.name for p in (cut / "checkpoints").glob("step_*.pt")) == ["step_00000004.pt"]
    r = subprocess.run(torchrun + ["--resume"], env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-4000:]
    _assert_same_state(_ckpt(two, 12), _ckpt(cut, 12), exact=False, atol=1e-5)
    assert [m["step"] for m in _metrics(cut)] == [4, 8, 12]


def _init_state(cfg_path):
    from minsnr.trainer import Trainer, TrainConfig
    t = Trainer(TrainConfig.load(cfg_path), cfg_path.parent / "init", progress=False)
    return t.model.state_dict()


def test_cli_help_and_exit_codes(tmp_path):
    r = subprocess.run([str(BIN / "minsnr"), "train", "--help"], capture_output=True, text=True, env=ENV)
    assert r.returncode == 0 and "--resume" in r.stdout and "torchrun" in r.stdout
    bad = _write(tmp_path, "bad", {**TINY, "target": "noise"})
    r = _train(bad, tmp_path / "bad")
    assert r.returncode != 0 and "valid values: eps, x0, v" in r.stderr


def test_edm_run_from_the_command_line(tmp_path):
    "EDM's formulation through the commands a user types: train, then sample the run into an npz and a grid."
    cfg = _write(tmp_path, "edm", {**TINY, "subset": 256, "steps": 8, "log_every": 4, "ckpt_every": 8,
                                   "formulation": "edm", "strategy": "min_snr", "gamma": 5.0})
    out = tmp_path / "edm"
    r = _train(cfg, out)
    assert r.returncode == 0, r.stderr[-3000:]
    assert set(_ckpt(out, 8)["model"]) >= {"net.time_embed.0.weight", "net.head.weight"}  # the backbone inside EDM's D
    s = subprocess.run([str(BIN / "minsnr"), "sample", "--run", str(out), "--n", "6", "--steps", "3",
                        "--out", str(tmp_path / "s.npz"), "--grid", str(tmp_path / "g.png")],
                       env=ENV, capture_output=True, text=True, timeout=600)
    assert s.returncode == 0, s.stderr[-3000:]
    row = json.loads(s.stdout.strip().splitlines()[-1])
    assert row["nfe"] == 5 and row["n"] == 6 and (tmp_path / "g.png").exists()
    import numpy as np
    with np.load(tmp_path / "s.npz") as z:
        imgs = next(z[k] for k in z.files if z[k].ndim >= 3)
    assert imgs.shape[0] == 6


def test_latent_run_from_the_command_line(tmp_path):
    "A latent run as a user makes one: encode a dataset with an autoencoder, train on the latents, sample decoded images."
    from minsnr.autoencoder import AEConfig, Autoencoder, encode_dataset, save_autoencoder
    from minsnr.data import load_dataset
    aecfg = AEConfig(channels=(8, 16), subset=256)
    ae = Autoencoder(1, 4, aecfg.channels).eval()  # untrained: the plumbing is what is tested
    aep = save_autoencoder(ae, aecfg, tmp_path / "ae.pt")
    lat = encode_dataset(ae, load_dataset("fashion_mnist", "train", pad_to=32, subset=256), tmp_path / "latents.pt")
    cfg = _write(tmp_path, "latent", {**TINY, "data": "latents", "data_path": str(lat), "autoencoder": str(aep),
                                      "subset": None, "steps": 4, "log_every": 2, "ckpt_every": 4})
    out = tmp_path / "latent"
    r = _train(cfg, out)
    assert r.returncode == 0, r.stderr[-3000:]
    s = subprocess.run([str(BIN / "minsnr"), "sample", "--run", str(out), "--n", "4", "--steps", "2",
                        "--out", str(tmp_path / "s.npz")], env=ENV, capture_output=True, text=True, timeout=600)
    assert s.returncode == 0, s.stderr[-3000:]
    import numpy as np
    with np.load(tmp_path / "s.npz") as z:
        assert z["images"].shape == (4, 1, 32, 32) and z["images"].dtype == np.uint8  # decoded, not 4x16x16 latents


def test_time_limit_stops_cleanly_and_resume_is_exact(tmp_path):
    """`--time-limit` ends the run at a clean point (exit status 4, a checkpoint, status 'stopped'); `--resume` then
    finishes it on the straight run's weights, bit for bit."""
    cfg = _write(tmp_path, "limit", {**TINY, "steps": 24, "log_every": 4, "ckpt_every": 8, "keep_checkpoints": 3})
    straight, limited = tmp_path / "straight", tmp_path / "limited"
    r = _train(cfg, straight)
    assert r.returncode == 0, r.stderr[-3000:]
    r = _train(cfg, limited, "--time-limit", "0.001s")  # past before the first step: it stops at the first log step
    assert r.returncode == 4, (r.returncode, r.stderr[-3000:])
    assert json.loads(r.stdout.strip().splitlines()[-1])["status"] == "stopped"
    prov = json.loads((limited / "provenance.json").read_text())
    assert (prov["status"], prov["steps_done"]) == ("stopped", 4), prov
    assert sorted(p.name for p in (limited / "checkpoints").glob("step_*.pt")) == ["step_00000004.pt"]
    r = _train(cfg, limited, "--resume", "--time-limit", "1h")
    assert r.returncode == 0, r.stderr[-3000:]
    _assert_same_state(_ckpt(straight, 24), _ckpt(limited, 24))
    assert _metrics(straight) == _metrics(limited)
    r = _train(cfg, tmp_path / "never", "--time-limit", "soon")
    assert r.returncode == 2 and "--time-limit: must be a positive time such as 1500, 1500s, 25m or 1.5h, got 'soon'" in r.stderr, r.stderr

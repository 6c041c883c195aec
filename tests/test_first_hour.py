"""What a new user meets in a first hour with the command line, each checked where it once went wrong: the EMA of a
short run samples grey images (now a warning), `minsnr fid` worked for minutes before refusing a bad file or
silently scored images too small to mean anything (now every input is checked first, and the reference's features
are cached), output folders were checked only after the work, a failed `reproduce` left folders behind, and a file
that is no checkpoint got PyTorch's advice to load it unsafely.

The commands run in this process (`minsnr.cli.main`) on tiny runs trained once."""
import json
from pathlib import Path

import numpy as np
import pytest

import minsnr.metrics
import minsnr.trainer
from minsnr.cli import EMA_STALE, main
from minsnr.trainer import ema_start_weight

TINY = {"data": "fashion_mnist", "subset": 64, "model": "vit_s_4", "model_kwargs": {"width": 32, "depth": 1, "heads": 2},
        "batch_size": 16, "steps": 2, "precision": "fp32", "log_every": 2, "ckpt_every": 2}
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    "Two tiny runs: the default EMA (0.9999, no warm-up), and the same with `ema_warmup`."
    d = tmp_path_factory.mktemp("first_hour")
    for name, extra in (("plain", {}), ("warm", {"ema_warmup": True})):
        (d / f"{name}.json").write_text(json.dumps({**TINY, "name": name, **extra}))
        assert main(["train", "--config", str(d / f"{name}.json"), "--out", str(d / name), "--quiet"]) == 0
    return d


def _run(argv, capsys):
    "(exit status, stdout, non-empty stderr lines) of main(argv)."
    capsys.readouterr()
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as e:
        rc = e.code
    out = capsys.readouterr()
    return rc, out.out, [line for line in out.err.splitlines() if line.strip()]


@pytest.fixture
def no_work(monkeypatch):
    "Loading a model or building the Inception network fails the test: the command had to stop before them."
    def forbidden(*args, **kwargs):
        raise AssertionError("the command started its work before checking its inputs")
    monkeypatch.setattr(minsnr.trainer, "load_model", forbidden)
    monkeypatch.setattr(minsnr.metrics, "InceptionFeatures", forbidden)


# 1. the EMA of a short run

def test_the_readme_demo_without_warmup_keeps_its_initial_weights():
    "300 steps at the default ema_decay 0.9999 leave 97% of the random initial weights in the EMA; warm-up, none."
    assert ema_start_weight(300, 0.9999, False) > 0.97 > EMA_STALE
    assert ema_start_weight(300, 0.9999, True) < 1e-15


def test_sample_warns_when_the_ema_has_not_moved(runs, tmp_path, capsys):
    rc, out, err = _run(["sample", "--run", runs / "plain", "--n", "2", "--steps", "1", "--device", "cpu", "--quiet",
                         "--out", tmp_path / "s.npz"], capsys)
    assert rc == 0 and len(err) == 1, err
    assert err[0].startswith("minsnr sample: warning: the EMA weights at step 2 are still 100% the untrained initial")
    assert "ema_decay 0.9999, ema_warmup false" in err[0] and "--raw" in err[0] and '"ema_warmup": true' in err[0]
    assert json.loads(out.splitlines()[-1])["ema"] is True


@pytest.mark.parametrize("argv", [["--run", "warm"], ["--run", "plain", "--raw"]], ids=["ema_warmup", "raw"])
def test_no_warning_with_warmup_or_raw_weights(argv, runs, capsys):
    argv = [a if a.startswith("-") else runs / a for a in argv]
    rc, _, err = _run(["sample", *argv, "--n", "2", "--steps", "1", "--device", "cpu", "--quiet"], capsys)
    assert rc == 0 and err == [], err


# 2. minsnr fid: every input checked first

def test_fid_refuses_two_channel_images_naming_the_file(tmp_path, capsys, no_work):
    f = tmp_path / "two.npz"
    np.savez(f, images=np.zeros((4, 2, 32, 32), np.uint8))
    rc, _, err = _run(["fid", "--samples", f, "--ref", "fashion_mnist", "--device", "cpu"], capsys)
    assert rc == 2 and len(err) == 1, err
    assert err[0].startswith(f"minsnr fid: error: --samples {f} must have shape [N, C, H, W] with C = 1 or 3")
    assert "(4, 2, 32, 32)" in err[0]


@pytest.mark.parametrize("flag", ["--samples", "--ref"])
def test_fid_refuses_images_too_small_for_inception(flag, tmp_path, capsys, no_work):
    tiny, ok = tmp_path / "tiny.npz", tmp_path / "ok.npz"
    np.savez(tiny, images=np.full((8, 1, 5, 5), 128, np.uint8))
    np.savez(ok, images=np.full((8, 1, 32, 32), 128, np.uint8))
    argv = ["fid", "--samples", tiny if flag == "--samples" else ok, "--ref", tiny if flag == "--ref" else ok]
    rc, _, err = _run([*argv, "--device", "cpu"], capsys)
    assert rc == 2 and len(err) == 1, err
    assert f"{flag} {tiny}: images of 5×5 pixels; FID needs sides of at least 16" in err[0], err[0]


def test_fid_bad_samples_fail_before_a_large_reference(tmp_path, capsys, no_work):
    "The reference's 60,000 images are not encoded first (that took minutes before the error)."
    f = tmp_path / "rgba.npz"
    np.savez(f, images=np.zeros((4, 32, 32, 4), np.uint8))  # NHWC with an alpha channel
    rc, _, err = _run(["fid", "--samples", f, "--ref", "fashion_mnist", "--device", "cpu"], capsys)
    assert rc == 2 and str(f) in err[0] and "(4, 4, 32, 32)" in err[0], err


def test_fid_caches_the_reference_and_says_how_long_it_will_take(tmp_path, capsys, monkeypatch):
    "A second `minsnr fid` against the same reference encodes only the samples; a long job is announced."
    monkeypatch.setenv("MINSNR_INCEPTION", str(minsnr.metrics.inception_weights()))
    monkeypatch.setenv("MINSNR_DATA", str(tmp_path / "data"))  # an empty cache
    import torch
    monkeypatch.setitem(minsnr.metrics.INCEPTION_IMAGES_PER_S, "cpu", 0.1 / torch.get_num_threads())  # 10 s an image
    encoded = []
    call = minsnr.metrics.InceptionFeatures.__call__
    monkeypatch.setattr(minsnr.metrics.InceptionFeatures, "__call__",
                        lambda self, x, *a, **k: encoded.append(len(x)) or call(self, x, *a, **k))
    from minsnr.data import load_dataset
    np.savez(tmp_path / "s.npz", images=load_dataset("fashion_mnist", "train", pad_to=32).pixels()[:6].numpy())
    argv = ["fid", "--samples", tmp_path / "s.npz", "--ref", "fashion_mnist:test", "--n-ref", "7", "--no-kid",
            "--device", "cpu", "--quiet"]
    rc, out, err = _run(argv, capsys)
    first = json.loads(out.splitlines()[-1])
    assert rc == 0 and first["cached"] == [] and sorted(encoded) == [6, 7], (err, encoded)
    assert err == ["minsnr fid: Inception features of 13 images on the CPU will take about 2 min (a dataset's are "
                   "cached for the next time)"], err
    assert [p.name.split("-")[:3] for p in (tmp_path / "data/fid_cache").iterdir()] == [["fashion_mnist", "test", "7"]]
    encoded.clear()
    rc, out, err = _run(argv, capsys)
    second = json.loads(out.splitlines()[-1])
    assert rc == 0 and second["cached"] == ["ref"] and encoded == [6], encoded  # only the samples
    assert second["fid"] == pytest.approx(first["fid"], rel=1e-9) and err == [], err  # 6 images: 60 s, not announced


# 3. outputs checked before the work

@pytest.mark.parametrize("flag, name", [("--out", "s.npz"), ("--grid", "g.png"), ("--out", "s")])
def test_sample_checks_its_output_folders_first(flag, name, runs, tmp_path, capsys, no_work):
    target = tmp_path / "missing" / "dir" / name
    rc, _, err = _run(["sample", "--run", runs / "plain", flag, target], capsys)
    assert rc == 2 and len(err) == 1, err
    assert err[0].startswith(f"minsnr sample: error: {flag} {target}") and f"folder {tmp_path / 'missing/dir'} does not exist" in err[0]
    assert not (tmp_path / "missing").exists()


def test_a_failed_reproduce_creates_nothing(tmp_path, capsys):
    out = tmp_path / "rep"
    rc, _, err = _run(["reproduce", "--only", "fig99", "--out", out, "--quiet"], capsys)
    assert rc == 2 and len(err) == 1 and "--only 'fig99' matches 0 notebooks; valid names:" in err[0], err
    assert not out.exists()


def test_a_file_that_is_no_checkpoint_is_named_and_never_loaded_unsafely(capsys):
    rc, _, err = _run(["sample", "--run", ROOT / "README.md", "--device", "cpu"], capsys)
    assert rc == 2 and len(err) == 1, err
    assert err[0].startswith(f"minsnr sample: error: {ROOT / 'README.md'} is not a minsnr checkpoint"), err[0]
    assert "weights_only" not in err[0] and "False" not in err[0]

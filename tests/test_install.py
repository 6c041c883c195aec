"""Install and packaging checks: one dependency list, a working install, the stable public API."""
import configparser
import importlib.metadata
import math
import re
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]


def settings():
    cfg = configparser.ConfigParser(delimiters=["="])
    cfg.read(ROOT / "settings.ini", encoding="utf-8")
    return cfg["DEFAULT"]


def test_environment_yml_matches_settings_ini():
    s = settings()
    want = set(s["requirements"].split()) | set(s["dev_requirements"].split())
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    got = {p for p in pip if p != "-e ."}
    assert got == want, f"only in environment.yml: {sorted(got - want)}; only in settings.ini: {sorted(want - got)}"
    assert "-e ." in pip, "environment.yml must install minsnr itself"
    assert any(str(d).startswith("python>=" + s["min_python"]) for d in env["dependencies"])


def test_nbdev_pinned_below_3():
    # nbdev 3 no longer reads settings.ini
    assert re.search(r"(^|\s)nbdev>=2\.4,<2\.5(\s|$)", settings()["dev_requirements"])


def test_installed_version_matches_settings():
    import minsnr
    v = settings()["version"]
    assert minsnr.__version__ == v
    assert importlib.metadata.version("minsnr") == v
    declared = {re.split(r"[<>=!~ ]", r)[0].lower() for r in importlib.metadata.requires("minsnr") or []}
    assert {"torch", "timm", "torch-fidelity", "papermill"} <= declared


def test_notebooks_keep_papermill_parameters_tag():
    assert "tags" in settings()["allowed_cell_metadata_keys"].split()


def test_public_api_contract():
    """The public calls that external code relies on (the README's library section), exactly as it writes them."""
    from minsnr.schedules import cosine_schedule
    from minsnr.weightings import loss_weight
    s = cosine_schedule(T=1000)
    assert s.T == 1000 and s.alphas_cumprod.dtype == torch.float64 and s.alphas_cumprod.shape == (1000,)
    t = torch.tensor([0, 1, 500, 999])
    for v in (s.alpha(t), s.sigma(t), s.snr(t)):
        assert v.shape == (4,) and torch.isfinite(v).all()
    snr = s.snr(torch.arange(1000))
    for target in ("eps", "x0", "v"):
        w = loss_weight(snr, "min_snr", target=target, gamma=5.0)
        assert w.shape == (1000,) and torch.isfinite(w).all()
    # Min-SNR-5 on eps: min(5/SNR, 1), computed independently in plain Python
    for ti in (0, 100, 400, 800, 999):
        r = s.snr(torch.tensor(ti)).item()
        assert math.isclose(loss_weight(torch.tensor([r], dtype=torch.float64), "min_snr", "eps", 5.0).item(),
                            min(5.0 / r, 1.0), rel_tol=1e-12)


def test_readme_commands_exist():
    readme = (ROOT / "README.md").read_text()
    make = (ROOT / "Makefile").read_text()
    for cmd in ("make run", "make test"):
        assert f"\n{cmd}\n" in readme, f"README must show `{cmd}` on its own line"
        assert re.search(rf"^{cmd.split()[1]}:", make, re.M), f"Makefile lacks target for `{cmd}`"


def test_offline_datasets_installed():
    """The set-up installs the datasets the reproduction uses (so the notebooks' data checks really run)."""
    from minsnr.data import load_fashion_mnist, load_mnist
    assert load_fashion_mnist("test")[0].shape == (10000, 1, 28, 28)
    assert load_mnist("test")[0].shape == (10000, 1, 28, 28)


def test_progress_bars_are_widgets_in_a_kernel():
    """In a notebook's kernel tqdm.auto draws a live widget bar (ipywidgets), not stderr text with a TqdmWarning."""
    from jupyter_client.manager import start_new_kernel
    km, kc = start_new_kernel(kernel_name="python3")
    msgs = []
    try:
        reply = kc.execute_interactive("from tqdm.auto import tqdm\nfor _ in tqdm(range(3)): pass", timeout=120,
                                       output_hook=msgs.append)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    assert reply["content"]["status"] == "ok", reply["content"]
    shown = [m["content"]["data"] for m in msgs if m["msg_type"] == "display_data"]
    assert any("application/vnd.jupyter.widget-view+json" in d for d in shown), msgs
    assert not [m for m in msgs if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"], msgs

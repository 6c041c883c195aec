"""CPU check behind the Fig. 2 note: fine-tune a small trained ViT on timesteps [100, 200) only, once with a fresh
AdamW (init_from) and once continuing the checkpoint's AdamW state (init_optimizer), and compare the change of the
unweighted x0 loss in every timestep range (identical inputs: minsnr.pareto.bin_mse).
Run from the repository root: .venv/bin/python results/checks/fig2-optimizer-state-cpu/check.py"""
import json
import tempfile
from pathlib import Path

import torch

from minsnr.data import load_dataset
from minsnr.provenance import provenance
from minsnr.pareto import bin_mse
from minsnr.schedules import cosine_schedule
from minsnr.trainer import load_model, train

torch.set_num_threads(2)
tmp = Path(tempfile.mkdtemp())
base = dict(name="b", data="fashion_mnist", subset=4096, image_size=32, model="vit_s_4",
            model_kwargs=dict(width=64, depth=2, heads=4), batch_size=64, lr=1e-3, steps=800, log_every=100,
            ckpt_every=800, precision="fp32", target="x0", strategy="min_snr", gamma=5.0, ema_decay=0.99)
train(base, tmp / "b", progress=False)
ck = str(tmp / "b/checkpoints/step_00000800.pt")
ft = {}
for name, carry in (("fresh", False), ("carried", True)):
    ft[name] = {**base, "name": name, "steps": 150, "log_every": 50, "ckpt_every": 150, "t_range": [100, 200],
                "init_from": ck, "init_optimizer": carry}
    train(ft[name], tmp / name, progress=False)
x, y = load_dataset("fashion_mnist", "train", None, 32, False, 4096).get(torch.arange(4096))
s = cosine_schedule(1000)
m0 = bin_mse(load_model(ck, ema=False)[0], s, x, y, samples_per_bin=1024, batch_size=512)
out = {"base": base, "finetune": ft, "before": m0.tolist(), "change_pct": {}}
for name in ft:
    m1 = bin_mse(load_model(tmp / name, ema=False)[0], s, x, y, samples_per_bin=1024, batch_size=512)
    out["change_pct"][name] = (100 * (m1 / m0 - 1)).tolist()
    print(name, [round(v, 1) for v in out["change_pct"][name]])
out["provenance"] = provenance({})
Path(__file__).with_name("result.json").write_text(json.dumps(out, indent=1) + "\n")

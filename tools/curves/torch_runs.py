#!/usr/bin/env python3
"""PyTorch runs for the doctor's corpus: the same datasets and kinds of settings as make_corpus.py, each written both
as SummaryWriter event files (train/loss every step, val/loss and val/acc or val/rmse per epoch) and as a
Lightning-style metrics.csv (train_loss_step rows, then an epoch row with train_loss_epoch, val_loss, val metric).

    python3 tools/curves/torch_runs.py OUT
"""
import csv
import itertools
import math
import os
import sys

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.tensorboard import SummaryWriter

OUT = sys.argv[1]
torch.set_num_threads(1)

CONFIGS = {  # name: (optimizer, lr, batch, epochs, hidden, subset fraction)
    "sensible": ("adam", 1e-3, 32, 30, [64, 64], 1.0),
    "lr_1e-5": ("adam", 1e-5, 32, 30, [64, 64], 1.0),
    "lr_1e-7": ("adam", 1e-7, 32, 15, [64, 64], 1.0),
    "lr_2": ("adam", 2.0, 32, 20, [64, 64], 1.0),
    "sgd_lr_5": ("sgd", 5.0, 32, 20, [64, 64], 1.0),
    "batch_2": ("adam", 3e-3, 2, 10, [64, 64], 1.0),
    "overfit": ("adam", 3e-3, 16, 120, [256, 256], 0.12),
    "tiny": ("adam", 1e-2, 32, 30, [1], 1.0),
    "few_epochs": ("adam", 3e-4, 32, 6, [64, 64], 1.0),
    "bad_init": ("adam", 1e-3, 32, 20, [64, 64], 1.0),
    "bad_init_sgd": ("sgd", 0.05, 32, 20, [64, 64], 1.0),
}
DATASETS = {"moons": "label", "spirals": "label", "blobs3": "label", "regr": "target"}


def load(name, target, seed, subset):
    frame = pd.read_csv(os.path.join(OUT, "data", f"{name}.csv"))
    y = frame.pop(target).to_numpy()
    x = frame.to_numpy().astype(np.float32)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    n_train = int(len(x) * 0.6 * subset)
    tr, va = order[:n_train], order[int(len(x) * 0.6):int(len(x) * 0.8)]
    mean, std = x[tr].mean(0), x[tr].std(0) + 1e-9
    x = (x - mean) / std
    regression = target == "target"
    if regression:
        y = ((y - y[tr].mean()) / y[tr].std()).astype(np.float32)
    classes = None if regression else int(y.max()) + 1
    return torch.from_numpy(x[tr]), torch.from_numpy(y[tr]), torch.from_numpy(x[va]), torch.from_numpy(y[va]), classes


def main():
    for (dname, target), (cname, (opt_name, lr, batch, epochs, hidden, subset)), seed in itertools.product(
            DATASETS.items(), CONFIGS.items(), [int(sys.argv[2]) if len(sys.argv) > 2 else 1]):
        out = os.path.join(OUT, "runs", f"torch-{dname}-{cname}-{seed}")
        if os.path.exists(os.path.join(out, "metrics.csv")):
            continue
        os.makedirs(out, exist_ok=True)
        torch.manual_seed(seed)
        xt, yt, xv, yv, classes = load(dname, target, seed, subset)
        layers, width = [], xt.shape[1]
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        model = nn.Sequential(*layers, nn.Linear(width, classes or 1))
        if cname.startswith("bad_init"):
            with torch.no_grad():  # an output layer far too large: confident, wrong first predictions
                model[-1].weight.mul_(30)
                model[-1].bias.add_(torch.linspace(-8, 8, classes or 1))
        opt = torch.optim.SGD(model.parameters(), lr=lr) if opt_name == "sgd" else torch.optim.Adam(model.parameters(), lr=lr)

        def loss_of(out, y):
            return F.mse_loss(out.squeeze(1), y) if classes is None else F.cross_entropy(out, y.long())

        writer = SummaryWriter(os.path.join(out, "tb"))
        rows, step = [], 0
        for epoch in range(epochs):
            perm = torch.randperm(len(xt))
            losses = []
            for i in range(0, len(xt), batch):
                idx = perm[i:i + batch]
                loss = loss_of(model(xt[idx]), yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                value = float(loss.detach())
                losses.append(value)
                writer.add_scalar("train/loss", value, step)
                rows.append({"epoch": epoch, "step": step, "train_loss_step": value})
                step += 1
            with torch.no_grad():
                out_v = model(xv)
                val = float(loss_of(out_v, yv))
                if classes is None:
                    metric_name, metric = "val_rmse", math.sqrt(float(F.mse_loss(out_v.squeeze(1), yv)))
                else:
                    metric_name, metric = "val_acc", float((out_v.argmax(1) == yv.long()).float().mean())
            writer.add_scalar("val/loss", val, step)
            writer.add_scalar(metric_name.replace("_", "/"), metric, step)
            mean = sum(losses) / len(losses) if all(map(math.isfinite, losses)) else float("nan")
            rows.append({"epoch": epoch, "step": step, "train_loss_epoch": mean, "val_loss": val, metric_name: metric})
        writer.close()
        fields = ["epoch", "step", "train_loss_step", "train_loss_epoch", "val_loss", "val_acc", "val_rmse"]
        with open(os.path.join(out, "metrics.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=[x for x in fields if any(x in r for r in rows)])
            w.writeheader()
            for r in rows:
                w.writerow({k: ("nan" if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()})
        with open(os.path.join(out, "info.json"), "w") as f:
            import json
            json.dump({"classes": classes, "train_rows": len(xt), "batch": batch}, f)


if __name__ == "__main__":
    main()

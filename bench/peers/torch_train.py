#!/usr/bin/env python3
"""The PyTorch equivalent of `tune train` for the end-to-end benchmark: read the CSV (pandas), split 60/20/20
stratified and seeded, standardise with the training statistics, train an MLP with Adam on shuffled mini-batches,
report the validation loss and ROC AUC every epoch, keep the best-AUC weights, evaluate them on the test rows, and
write the model, the history and the metrics.

    python3 bench/peers/torch_train.py --data FILE --target COL --hidden 64,64 --batch-size 32 --epochs 20 --out DIR
"""
import argparse
import json
import os
import time

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--hidden", default="64,64")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)

    frame = pd.read_csv(a.data)
    y = frame.pop(a.target).to_numpy().astype(np.int64)
    x = frame.to_numpy().astype(np.float32)
    parts = {"train": [], "validation": [], "test": []}
    for c in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == c))
        n_val, n_test = round(len(rows) * 0.2), round(len(rows) * 0.2)
        parts["validation"] += rows[:n_val].tolist()
        parts["test"] += rows[n_val:n_val + n_test].tolist()
        parts["train"] += rows[n_val + n_test:].tolist()
    mean, std = x[parts["train"]].mean(0), x[parts["train"]].std(0) + 1e-12
    x = (x - mean) / std
    tensors = {k: (torch.from_numpy(x[v]), torch.from_numpy(y[v]).float().unsqueeze(1)) for k, v in parts.items()}

    layers, width = [], x.shape[1]
    for h in [int(v) for v in a.hidden.split(",")]:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    model = nn.Sequential(*layers, nn.Linear(width, 1))
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    xt, yt = tensors["train"]
    xv, yv = tensors["validation"]
    history, best, best_state = [], -1.0, None
    for epoch in range(1, a.epochs + 1):
        start = time.perf_counter()
        model.train()
        perm = torch.randperm(len(xt))
        total = 0.0
        for i in range(0, len(xt), a.batch_size):
            idx = perm[i:i + a.batch_size]
            opt.zero_grad(set_to_none=True)
            loss = F.binary_cross_entropy_with_logits(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        model.eval()
        with torch.no_grad():
            out = model(xv)
            val_loss = float(F.binary_cross_entropy_with_logits(out, yv))
            auc = roc_auc_score(yv.numpy().ravel(), torch.sigmoid(out).numpy().ravel())
        history.append({"epoch": epoch, "train_loss": total / len(xt), "val_loss": val_loss, "auc": auc,
                        "seconds": time.perf_counter() - start})
        print(f"{epoch:5d} {total / len(xt):10.4f} {val_loss:10.4f} {auc:10.4f}")
        if auc > best:
            best, best_state = auc, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    model.eval()
    xs, ys = tensors["test"]
    with torch.no_grad():
        test_auc = roc_auc_score(ys.numpy().ravel(), torch.sigmoid(model(xs)).numpy().ravel())
    os.makedirs(a.out, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(a.out, "model.pt"))
    pd.DataFrame(history).to_csv(os.path.join(a.out, "history.csv"), index=False)
    with open(os.path.join(a.out, "metrics.json"), "w") as f:
        json.dump({"test": {"auc": test_auc}}, f)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Builds the doctor's evaluation corpus: real training runs in PyTorch and scikit-learn on seven datasets, each
written as TensorBoard event files and as a Lightning-style metrics.csv with hparams.yaml beside it, plus a raw record
of every step for the labeller (tools/curves/label.py), and per dataset the constant predictor's loss and a reference
loss from well-tuned networks.

    python3 tools/curves/make_corpus.py [OUT] [--jobs N] [--only DATASET,...]     # default OUT .build/curves

Layout of OUT:
    datasets/NAME.json                       B (constant predictor) and R (reference) per framework, classes, rows
    runs/NAME/RUN/run.json                   every epoch's losses and metric, every step's loss, the settings
    tb/NAME/FRAMEWORK/RUN/...                event files (SummaryWriter; a Keras-like train/ validation/ layout for
                                             some scikit-learn runs; HParams records for about half of the runs)
    lightning/NAME/FRAMEWORK/lightning_logs/version_K/{metrics.csv,hparams.yaml}; versions.json maps K to RUN

The settings only make each kind of curve likely (learning rates from 1e-5 to 3 for SGD with and without momentum,
Adam, AdamW, RMSprop; constant, cosine, step and exponential schedules and warmup; batch sizes 1 to 1024; linear and
tiny models; big models on a fifth of the rows; early stopping; blown-up output layers); the labels come from
label.py. Dev-time only: needs torch, scikit-learn, pandas and tensorboard (pip install torch scikit-learn pandas
tensorboard). Deterministic for a given OUT: every run is seeded, one thread each.
"""
import hashlib
import json
import math
import multiprocessing
import os
import sys

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared", "data"))
ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
OUT = os.path.abspath(ARGS[0] if ARGS else os.path.join(ROOT, ".build", "curves"))



class EarlyStop:
    """Early stopping on the validation loss: stop after `patience` epochs without a new lowest (never without one)."""

    def __init__(self, patience):
        self.patience, self.best, self.bad = patience, float("inf"), 0

    def stop(self, v):
        if not self.patience:
            return False
        if v < self.best:
            self.best, self.bad = v, 0
            return False
        self.bad += 1
        return self.bad >= self.patience

def option(name, default):
    for i, a in enumerate(sys.argv):
        if a == name and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return default


# name: (source, target column, task, target scaling)
DATASETS = {
    "breast_cancer": ("breast_cancer.csv", "benign", "binary", None),
    "banana": ("banana.csv", "label", "binary", None),
    "digits": ("digits.csv", "digit", "multiclass", None),
    "segment": ("segment.csv", "category", "multiclass", None),
    "diabetes": ("diabetes.csv", "progression", "regression", "raw"),
    "friedman1": ("friedman1", None, "regression", "standardised"),
    "friedman2": ("friedman2", None, "regression", "raw"),
}


def load(name):
    """Features and target split 60/20/20 (seed 0), features standardised with the training rows."""
    import pandas as pd
    source, target, task, scaling = DATASETS[name]
    if source == "friedman1":
        from sklearn.datasets import make_friedman1
        x, y = make_friedman1(n_samples=3000, n_features=10, noise=1.0, random_state=11)
    elif source == "friedman2":
        from sklearn.datasets import make_friedman2
        x, y = make_friedman2(n_samples=2000, noise=30.0, random_state=12)
    else:
        frame = pd.read_csv(os.path.join(SHARED, source))
        y = frame.pop(target).to_numpy()
        x = frame.to_numpy().astype(np.float64)
    if task != "regression":
        classes = sorted(set(y.tolist()))
        y = np.array([classes.index(v) for v in y.tolist()], dtype=np.int64)
    else:
        y = y.astype(np.float64)
    order = np.random.default_rng(0).permutation(len(x))
    n_train, n_val = int(0.6 * len(x)), int(0.2 * len(x))
    tr, va = order[:n_train], order[n_train:n_train + n_val]
    mean, std = x[tr].mean(0), x[tr].std(0) + 1e-9
    x = ((x - mean) / std).astype(np.float32)
    if task == "regression" and scaling == "standardised":
        y = (y - y[tr].mean()) / y[tr].std()
    if task == "regression":
        y = y.astype(np.float32)
    classes = None if task == "regression" else int(y.max()) + 1
    return {"xt": x[tr], "yt": y[tr], "xv": x[va], "yv": y[va], "task": task, "classes": classes, "scaling": scaling}


def baseline(d):
    """The constant predictor's validation loss: cross-entropy of the training class frequencies, or the squared
    error of the training mean."""
    if d["task"] == "regression":
        return float(np.mean((d["yv"] - d["yt"].mean()) ** 2))
    p = np.bincount(d["yt"], minlength=d["classes"]) / len(d["yt"])
    return float(-np.mean(np.log(np.clip(p[d["yv"]], 1e-12, None))))


# ---------------------------------------------------------------------------------------------------------------
# PyTorch

def torch_run(d, cfg, record_steps=True):
    """Trains one network; returns the per-epoch curves and every step's loss."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.set_num_threads(1)
    torch.manual_seed(cfg["seed"])
    xt, yt = torch.from_numpy(d["xt"]), torch.from_numpy(d["yt"])
    xv, yv = torch.from_numpy(d["xv"]), torch.from_numpy(d["yv"])
    if cfg.get("subset", 1.0) < 1.0:
        keep = torch.randperm(len(xt), generator=torch.Generator().manual_seed(cfg["seed"] + 99))[:max(int(len(xt) * cfg["subset"]), 16)]
        xt, yt = xt[keep], yt[keep]
    task, classes = d["task"], d["classes"]
    outputs = 1 if task != "multiclass" else classes
    act = {"relu": nn.ReLU, "tanh": nn.Tanh, "swish": nn.SiLU}[cfg.get("activation", "relu")]
    layers, width = [], xt.shape[1]
    for h in cfg["hidden"]:
        layers.append(nn.Linear(width, h))
        if cfg.get("batchnorm"):
            layers.append(nn.BatchNorm1d(h))
        layers.append(act())
        if cfg.get("dropout", 0) > 0:
            layers.append(nn.Dropout(cfg["dropout"]))
        width = h
    model = nn.Sequential(*layers, nn.Linear(width, outputs))
    if cfg.get("init_scale"):
        with torch.no_grad():  # an output layer far too large: confident, wrong first predictions
            model[-1].weight.mul_(cfg["init_scale"])
            model[-1].bias.add_(torch.linspace(-6, 6, outputs) if outputs > 1 else torch.tensor([6.0]))
    opt_name, lr = cfg["optimizer"], cfg["lr"]
    params = model.parameters()
    if opt_name == "sgd":
        opt = torch.optim.SGD(params, lr=lr, momentum=cfg.get("momentum", 0.0), nesterov=cfg.get("nesterov", False),
                              weight_decay=cfg.get("weight_decay", 0.0))
    elif opt_name == "adam":
        opt = torch.optim.Adam(params, lr=lr, weight_decay=cfg.get("weight_decay", 0.0))
    elif opt_name == "adamw":
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=cfg.get("weight_decay", 0.01))
    elif opt_name == "rmsprop":
        opt = torch.optim.RMSprop(params, lr=lr, momentum=cfg.get("momentum", 0.0))
    else:
        raise ValueError(opt_name)
    batch, epochs = cfg["batch_size"], cfg["epochs"]
    steps_per_epoch = math.ceil(len(xt) / batch)
    total = steps_per_epoch * epochs
    schedule, warmup = cfg.get("schedule", "constant"), cfg.get("warmup", 0) * steps_per_epoch

    def rate(step):  # a multiplier of lr at a step
        if warmup and step < warmup:
            return (step + 1) / warmup
        if schedule == "cosine":
            return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(total - warmup, 1)))
        if schedule == "step":
            e = step // steps_per_epoch
            return 0.1 ** ((e >= epochs // 2) + (e >= 3 * epochs // 4))
        if schedule == "exponential":
            return 0.95 ** (step // steps_per_epoch)
        return 1.0

    def loss_of(out, y):
        if task == "regression":
            return F.mse_loss(out.squeeze(1), y)
        if task == "binary":
            return F.binary_cross_entropy_with_logits(out.squeeze(1), y.float())
        return F.cross_entropy(out, y)

    def evaluate():
        model.eval()
        with torch.no_grad():
            out = model(xv)
            loss = float(loss_of(out, yv))
            if task == "regression":
                metric = math.sqrt(float(F.mse_loss(out.squeeze(1), yv))) if math.isfinite(loss) else float("nan")
            elif task == "binary":
                from sklearn.metrics import roc_auc_score
                s = out.squeeze(1).numpy()
                metric = float(roc_auc_score(d["yv"], s)) if np.all(np.isfinite(s)) else float("nan")
            else:
                metric = float((out.argmax(1) == yv).float().mean()) if math.isfinite(loss) else float("nan")
        model.train()
        return loss, metric

    T, V, M, S, LR = [], [], [], [], []
    stopper, step = EarlyStop(cfg.get("early_stop")), 0
    gen = torch.Generator().manual_seed(cfg["seed"] + 7)
    for epoch in range(epochs):
        perm = torch.randperm(len(xt), generator=gen)
        losses, diverged = [], False
        for i in range(0, len(xt), batch):
            idx = perm[i:i + batch]
            if len(idx) < 2 and cfg.get("batchnorm"):
                continue
            for g in opt.param_groups:
                g["lr"] = lr * rate(step)
            loss = loss_of(model(xt[idx]), yt[idx])
            value = float(loss.detach())
            losses.append(value)
            step += 1
            if not math.isfinite(value):
                diverged = True
                break
            opt.zero_grad()
            loss.backward()
            opt.step()
        S.extend(losses)
        LR.append(lr * rate(max(step - 1, 0)))
        T.append(sum(losses) / len(losses) if not diverged else float("nan"))
        v, m = evaluate()
        V.append(v)
        M.append(m)
        if diverged or not math.isfinite(v):
            break
        if stopper.stop(v):
            break
    return {"train_loss": T, "val_loss": V, "metric": M, "step_loss": S, "lr": LR, "steps_per_epoch": steps_per_epoch,
            "train_rows": len(xt)}


def torch_configs(d, name):
    """The PyTorch settings of one dataset: each named, each seeded from its name."""
    C = []

    def add(rid, **kw):
        cfg = {"optimizer": "adam", "lr": 1e-3, "batch_size": 32, "epochs": 50, "hidden": [64, 64]}
        cfg.update(kw)
        cfg.setdefault("seed", int(hashlib.sha1(f"{name}/{rid}".encode()).hexdigest(), 16) % 10000)
        C.append((rid, cfg))

    for lr in [1e-5, 1e-4, 1e-3, 1e-2, 0.1, 0.5]:
        add(f"adam_lr{lr:g}", lr=lr)
    for lr in [1e-4, 3e-3, 0.3]:
        add(f"adamw_lr{lr:g}", optimizer="adamw", lr=lr, weight_decay=0.05)
    for lr in [1e-4, 1e-3, 1e-2, 0.1, 0.5, 3.0]:
        add(f"sgd_lr{lr:g}", optimizer="sgd", lr=lr)
    for lr in [1e-4, 1e-3, 1e-2, 0.1, 1.0]:
        add(f"sgdm_lr{lr:g}", optimizer="sgd", lr=lr, momentum=0.9)
    for lr in [3e-3, 0.3]:
        add(f"nesterov_lr{lr:g}", optimizer="sgd", lr=lr, momentum=0.9, nesterov=True)
    for lr in [1e-4, 1e-3, 1e-2, 0.1]:
        add(f"rmsprop_lr{lr:g}", optimizer="rmsprop", lr=lr)
    for b, e in [(1, 12), (2, 15), (4, 20), (8, 30), (64, 60), (256, 100), (1024, 150)]:
        add(f"adam_batch{b}", batch_size=b, epochs=e)
    add("sgd_batch2", optimizer="sgd", lr=0.01, batch_size=2, epochs=15)
    add("adam_batch4_lr1e-2", lr=1e-2, batch_size=4, epochs=15)
    add("linear", hidden=[], lr=1e-2)
    add("hidden1", hidden=[1], lr=1e-2)
    add("hidden2_tanh", hidden=[2], activation="tanh", lr=3e-3)
    add("hidden8", hidden=[8], lr=3e-3)
    add("one_layer32", hidden=[32])
    add("overfit_subset", hidden=[256, 256], lr=3e-3, batch_size=16, epochs=150, subset=0.15)
    add("overfit_wide", hidden=[512, 512], lr=1e-3, epochs=150)
    add("overfit_subset_early_stop", hidden=[256, 256], lr=3e-3, batch_size=16, epochs=150, subset=0.15, early_stop=10)
    add("overfit_subset_dropout", hidden=[256, 256], lr=3e-3, batch_size=16, epochs=150, subset=0.15, dropout=0.5,
        optimizer="adamw", weight_decay=0.1)
    add("adam_cosine", lr=3e-3, schedule="cosine")
    add("adam_step", lr=3e-3, schedule="step")
    add("sgdm_cosine", optimizer="sgd", lr=0.05, momentum=0.9, schedule="cosine")
    add("sgdm_exponential", optimizer="sgd", lr=0.05, momentum=0.9, schedule="exponential")
    add("adam_warmup_cosine", lr=1e-2, warmup=5, schedule="cosine")
    add("adam_early_stop", epochs=200, early_stop=5)
    add("sgdm_early_stop", optimizer="sgd", lr=1e-2, momentum=0.9, epochs=200, early_stop=10)
    add("adam_few_epochs", lr=3e-4, epochs=6)
    add("sgd_few_epochs", optimizer="sgd", lr=1e-2, epochs=8)
    add("adam_10_epochs", epochs=10)
    if d["task"] != "regression":
        add("bad_init", init_scale=30)
        add("bad_init_sgd", optimizer="sgd", lr=0.05, init_scale=30)
    add("swish_bn_dropout", hidden=[128, 128], activation="swish", batchnorm=True, dropout=0.2, epochs=60)
    add("adamw_wd", optimizer="adamw", weight_decay=1e-2, epochs=60)
    for seed in (1, 2, 3):
        add(f"sensible_seed{seed}", seed=seed)
    return C


# ---------------------------------------------------------------------------------------------------------------
# scikit-learn

def sklearn_run(d, cfg):
    """A scikit-learn MLP trained with partial_fit, one epoch at a time; its loss_curve_ is the training loss (half
    the squared error for regression, plus the L2 penalty), the validation loss is computed in the same convention."""
    import warnings
    from sklearn.metrics import accuracy_score, log_loss, r2_score
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    warnings.filterwarnings("ignore")
    xt, yt, xv, yv = d["xt"], d["yt"], d["xv"], d["yv"]
    if cfg.get("subset", 1.0) < 1.0:
        keep = np.random.default_rng(cfg["seed"] + 99).permutation(len(xt))[:max(int(len(xt) * cfg["subset"]), 16)]
        xt, yt = xt[keep], yt[keep]
    kw = dict(hidden_layer_sizes=tuple(cfg["hidden"]), solver=cfg["solver"], learning_rate_init=cfg["lr"],
              batch_size=min(cfg["batch_size"], len(xt)), alpha=cfg.get("alpha", 1e-4), random_state=cfg["seed"],
              momentum=cfg.get("momentum", 0.9), nesterovs_momentum=cfg.get("nesterov", True),
              learning_rate=cfg.get("schedule", "constant"), shuffle=True)
    regression = d["task"] == "regression"
    model = MLPRegressor(**kw) if regression else MLPClassifier(**kw)
    classes = None if regression else np.arange(d["classes"])
    T, V, M = [], [], []
    stopper = EarlyStop(cfg.get("early_stop"))
    for epoch in range(cfg["epochs"]):
        try:
            if regression:
                model.partial_fit(xt, yt)
            else:
                model.partial_fit(xt, yt, classes=classes)
        except (ValueError, FloatingPointError):
            T.append(float("nan"))
            V.append(float("nan"))
            M.append(float("nan"))
            break
        T.append(float(model.loss_curve_[-1]))
        with np.errstate(all="ignore"):
            if regression:
                p = model.predict(xv)
                v = float(0.5 * np.mean((p - yv) ** 2))
                m = float(r2_score(yv, p)) if np.all(np.isfinite(p)) else float("nan")
            else:
                proba = model.predict_proba(xv)
                if np.all(np.isfinite(proba)):
                    v = float(log_loss(yv, proba, labels=classes))
                    m = float(accuracy_score(yv, proba.argmax(1)))
                else:
                    v, m = float("nan"), float("nan")
        V.append(v)
        M.append(m)
        if not (math.isfinite(T[-1]) and math.isfinite(v)):
            break
        if stopper.stop(v):
            break
    return {"train_loss": T, "val_loss": V, "metric": M, "step_loss": [], "lr": [cfg["lr"]] * len(T),
            "steps_per_epoch": math.ceil(len(xt) / min(cfg["batch_size"], len(xt))), "train_rows": len(xt)}


def sklearn_configs(d, name):
    C = []

    def add(rid, **kw):
        cfg = {"solver": "adam", "lr": 1e-3, "batch_size": 200, "epochs": 60, "hidden": [100]}
        cfg.update(kw)
        cfg.setdefault("seed", int(hashlib.sha1(f"{name}/sk/{rid}".encode()).hexdigest(), 16) % 10000)
        C.append((rid, cfg))

    for lr in [1e-4, 1e-3, 1e-2, 0.1]:
        add(f"sk_adam_lr{lr:g}", lr=lr, batch_size=32)
    for lr in [1e-3, 1e-2, 0.1]:
        add(f"sk_sgd_lr{lr:g}", solver="sgd", lr=lr, momentum=0.0, nesterov=False, batch_size=32)
    for lr in [1e-3, 0.05]:
        add(f"sk_nesterov_lr{lr:g}", solver="sgd", lr=lr, momentum=0.9, batch_size=32)
    add("sk_sgd_invscaling", solver="sgd", lr=0.1, schedule="invscaling", momentum=0.9, batch_size=32)
    add("sk_hidden2", hidden=[2], lr=1e-2, batch_size=32)
    add("sk_overfit_subset", hidden=[256, 256], lr=3e-3, batch_size=16, epochs=150, subset=0.15, alpha=1e-6)
    add("sk_early_stop", lr=1e-3, batch_size=32, epochs=300, early_stop=10)
    add("sk_batch2", lr=1e-3, batch_size=2, epochs=15)
    add("sk_default", epochs=100)
    return C


# ---------------------------------------------------------------------------------------------------------------
# Writing the logs

def style_of(rid, choices):
    return choices[int(hashlib.sha1(rid.encode()).hexdigest(), 16) % len(choices)]


def hparams_of(framework, cfg, rec, variant):
    """The settings as a training script would save them (several naming conventions)."""
    if framework == "sklearn":
        h = {"solver": cfg["solver"], "learning_rate_init": cfg["lr"], "learning_rate": cfg.get("schedule", "constant"),
             "batch_size": cfg["batch_size"], "momentum": cfg.get("momentum", 0.9),
             "nesterovs_momentum": cfg.get("nesterov", True), "alpha": cfg.get("alpha", 1e-4),
             "hidden_layer_sizes": list(cfg["hidden"]), "max_iter": cfg["epochs"]}
        if variant == 1:
            h["n_train"] = rec["train_rows"]
        return h
    if variant == 0:
        h = {"lr": cfg["lr"], "batch_size": cfg["batch_size"], "optimizer": cfg["optimizer"],
             "momentum": cfg.get("momentum", 0.0), "weight_decay": cfg.get("weight_decay", 0.0),
             "max_epochs": cfg["epochs"], "hidden": list(cfg["hidden"]), "scheduler": cfg.get("schedule", "constant")}
    elif variant == 1:
        h = {"model": {"hidden_sizes": list(cfg["hidden"]), "dropout": cfg.get("dropout", 0.0)},
             "optim": {"name": cfg["optimizer"].capitalize() if cfg["optimizer"] != "sgd" else "SGD",
                       "learning_rate": cfg["lr"], "momentum": cfg.get("momentum", 0.0),
                       "weight_decay": cfg.get("weight_decay", 0.0)},
             "data": {"batch_size": cfg["batch_size"], "train_size": rec["train_rows"]},
             "trainer": {"max_epochs": cfg["epochs"]}}
        if cfg.get("schedule", "constant") != "constant":
            h["lr_scheduler"] = cfg["schedule"]
    else:
        h = {"learning_rate": cfg["lr"], "batch_size": cfg["batch_size"], "optimizer": cfg["optimizer"],
             "epochs": cfg["epochs"]}
        if cfg.get("momentum"):
            h["momentum"] = cfg["momentum"]
    return h


def yaml_dump(h, indent=""):
    lines = []
    for k, v in h.items():
        if isinstance(v, dict):
            lines.append(f"{indent}{k}:")
            lines.append(yaml_dump(v, indent + "  "))
        elif isinstance(v, list):
            lines.append(f"{indent}{k}:" + ("" if v else " []"))
            lines.extend(f"{indent}- {x}" for x in v)
        elif isinstance(v, bool):
            lines.append(f"{indent}{k}: {'true' if v else 'false'}")
        else:
            lines.append(f"{indent}{k}: {v}")
    return "\n".join(lines)


def flat(h, prefix=""):
    out = {}
    for k, v in h.items():
        if isinstance(v, dict):
            out.update(flat(v, prefix + k + "."))
        elif isinstance(v, list):
            out[prefix + k] = ",".join(map(str, v))
        else:
            out[prefix + k] = v
    return out


def write_tensorboard(path, framework, task, rec, hparams, style, with_hparams):
    from torch.utils.tensorboard import SummaryWriter
    metric = {"binary": "auc", "multiclass": "acc", "regression": "rmse"}[task] if framework == "torch" else \
        ("r2" if task == "regression" else "accuracy")
    T, V, M, S, spe = rec["train_loss"], rec["val_loss"], rec["metric"], rec["step_loss"], rec["steps_per_epoch"]
    if style == "keras":  # train/ and validation/ runs, epoch_ tags, one point per epoch
        train, val = SummaryWriter(os.path.join(path, "train")), SummaryWriter(os.path.join(path, "validation"))
        for e in range(len(T)):
            train.add_scalar("epoch_loss", T[e], e, walltime=1.7e9 + e)
            val.add_scalar("epoch_loss", V[e], e, walltime=1.7e9 + e + 0.5)
            val.add_scalar(f"epoch_{metric}", M[e], e, walltime=1.7e9 + e + 0.5)
        train.close()
        val.close()
        writer = SummaryWriter(path) if with_hparams else None
    else:
        # In the order a training loop writes them: an epoch's steps, then its epoch-level values; wall times a
        # millisecond apart.
        writer = SummaryWriter(path)
        clock = [1.7e9]

        def add(tag, value, step):
            clock[0] += 0.001
            writer.add_scalar(tag, value, step, walltime=clock[0])
        s = 0
        for e in range(len(T)):
            n = min(spe, len(S) - s) if S else 0
            for k in range(s, s + n):
                if style == "pl":
                    add("train_loss_step", S[k], k)
                elif style == "slash":
                    add("train/loss", S[k], k)
            s += n
            end = s - 1 if S else e
            if style == "pl":
                add("train_loss_epoch", T[e], end)
                add("val_loss", V[e], end)
                add(f"val_{metric}", M[e], end)
            elif style == "slash":
                add("val/loss", V[e], end)
                add(f"val/{metric}", M[e], end)
            else:  # "tutorial": epoch-level, x axis the epoch
                add("Loss/train", T[e], e)
                add("Loss/val", V[e], e)
                add(f"{metric.capitalize()}/val", M[e], e)
    if with_hparams:
        finite_v = [v for v in V if math.isfinite(v)]
        writer.add_hparams({k: v for k, v in flat(hparams).items()},
                           {"hparam/best_val_loss": min(finite_v) if finite_v else float("nan")})
    if writer:
        writer.close()


def write_lightning(path, framework, task, rec, hparams, every):
    """metrics.csv as Lightning's CSVLogger writes it (a row per logging call, empty cells elsewhere) and hparams.yaml."""
    import csv
    os.makedirs(path, exist_ok=True)
    T, V, M, S, spe = rec["train_loss"], rec["val_loss"], rec["metric"], rec["step_loss"], rec["steps_per_epoch"]
    metric = {"binary": "val_auc", "multiclass": "val_acc", "regression": "val_rmse"}[task] if framework == "torch" else \
        ("val_r2" if task == "regression" else "val_accuracy")

    def fmt(v):
        return "nan" if isinstance(v, float) and math.isnan(v) else ("inf" if v == float("inf") else repr(v))
    rows = []
    if framework == "torch":
        fields = ["epoch", "step", "train_loss_step", "train_loss_epoch", "val_loss", metric]
        s = 0
        for e in range(len(T)):
            n = min(spe, len(S) - s)
            if every:
                for k in range(n):
                    if (s + k + 1) % every == 0 or (every == 1):
                        rows.append({"epoch": e, "step": s + k, "train_loss_step": fmt(S[s + k])})
            s += n
            rows.append({"epoch": e, "step": s - 1, "val_loss": fmt(V[e]), metric: fmt(M[e])})
            rows.append({"epoch": e, "step": s - 1, "train_loss_epoch": fmt(T[e])})
    else:
        fields = ["epoch", "train_loss", "val_loss", metric]
        for e in range(len(T)):
            rows.append({"epoch": e, "train_loss": fmt(T[e]), "val_loss": fmt(V[e]), metric: fmt(M[e])})
    with open(os.path.join(path, "metrics.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(path, "hparams.yaml"), "w") as f:
        f.write(yaml_dump(hparams) + "\n")


# ---------------------------------------------------------------------------------------------------------------

_CACHE = {}


def dataset(name):
    if name not in _CACHE:
        _CACHE[name] = load(name)
    return _CACHE[name]


def reference(name):
    """A well-tuned network's lowest validation loss: the best of a small grid on seed 0, then the median over
    3 seeds of that setting (150 epochs, early stopping after 20 epochs without a new best)."""
    d = dataset(name)
    grid = []
    for lr in (3e-4, 1e-3, 3e-3):
        for hidden, dropout in (([64, 64], 0.0), ([256, 256], 0.2)):
            cfg = {"optimizer": "adam", "lr": lr, "batch_size": 32, "epochs": 150, "hidden": hidden, "dropout": dropout,
                   "early_stop": 20, "seed": 0}
            v = [x for x in torch_run(d, cfg)["val_loss"] if math.isfinite(x)]
            grid.append((min(v), cfg))
    best = min(grid, key=lambda g: g[0])[1]
    seeds = []
    for seed in (1000, 1001, 1002):
        cfg = dict(best, seed=seed)
        seeds.append(min(x for x in torch_run(d, cfg)["val_loss"] if math.isfinite(x)))
    return float(np.median(seeds)), best, seeds


def one_run(task):
    name, framework, rid, cfg = task
    run_dir = os.path.join(OUT, "runs", name, rid)
    if os.path.exists(os.path.join(run_dir, "run.json")):
        return rid
    d = dataset(name)
    rec = torch_run(d, cfg) if framework == "torch" else sklearn_run(d, cfg)
    # How this run is logged: the event files' tags and the Lightning log's step rows, chosen from its name.
    tb_style = style_of(rid + "/tb", ["pl", "slash", "tutorial"] if framework == "torch" else ["keras", "tutorial"])
    csv_every = style_of(rid + "/csv", [1, 10, 50, 0]) if framework == "torch" else 0
    hp_variant = style_of(rid + "/hp", [0, 1, 2])
    with_hparams = style_of(rid + "/tbhp", [True, False])
    hparams = hparams_of(framework, cfg, rec, hp_variant)
    write_tensorboard(os.path.join(OUT, "tb", name, framework, rid), framework, d["task"], rec, hparams, tb_style, with_hparams)
    metric_name = {"binary": "auc", "multiclass": "acc", "regression": "rmse"}[d["task"]] if framework == "torch" else \
        ("r2" if d["task"] == "regression" else "accuracy")
    record = dict(rec, framework=framework, settings=cfg, metric_name=metric_name,
                  metric_higher_is_better=metric_name != "rmse",
                  metric_monotone_in_loss=d["task"] == "regression",
                  first_step_logged={"tb": bool(rec["step_loss"]) and tb_style in ("pl", "slash"),
                                     "csv": bool(rec["step_loss"]) and csv_every == 1},
                  logging={"tb_style": tb_style, "tb_hparams": with_hparams, "csv_every": csv_every, "hparams_variant": hp_variant})
    os.makedirs(run_dir, exist_ok=True)
    with open(os.path.join(run_dir, "run.json.tmp"), "w") as f:
        json.dump(record, f)
    os.replace(os.path.join(run_dir, "run.json.tmp"), os.path.join(run_dir, "run.json"))
    return rid, csv_every, hparams


def main():
    jobs = int(option("--jobs", "2"))
    only = option("--only", "")
    names = [n for n in DATASETS if not only or n in only.split(",")]
    if "--logs-only" in sys.argv:  # the log files again, from the runs already made
        import shutil
        for n in names:
            shutil.rmtree(os.path.join(OUT, "tb", n), ignore_errors=True)
            for rid in sorted(os.listdir(os.path.join(OUT, "runs", n))):
                rec = json.load(open(os.path.join(OUT, "runs", n, rid, "run.json")), parse_constant=float)
                lg = rec["logging"]
                write_tensorboard(os.path.join(OUT, "tb", n, rec["framework"], rid), rec["framework"], dataset(n)["task"], rec,
                                  hparams_of(rec["framework"], rec["settings"], rec, lg["hparams_variant"]), lg["tb_style"], lg["tb_hparams"])
        write_lightning_folders(names)
        return
    os.makedirs(os.path.join(OUT, "datasets"), exist_ok=True)
    with multiprocessing.Pool(jobs) as pool:
        # References first (per dataset, in parallel).
        todo = [n for n in names if not os.path.exists(os.path.join(OUT, "datasets", f"{n}.json"))]
        for n, (r, cfg, seeds) in zip(todo, pool.map(reference, todo)):
            d = dataset(n)
            b = baseline(d)
            half = 0.5 if d["task"] == "regression" else 1.0  # scikit-learn's squared error is halved
            info = {"task": d["task"], "classes": d["classes"], "target": d["scaling"], "train_rows": len(d["xt"]),
                    "validation_rows": len(d["xv"]), "baseline": {"torch": b, "sklearn": half * b},
                    "reference": {"torch": r, "sklearn": half * r}, "reference_setting": cfg, "reference_seeds": seeds}
            with open(os.path.join(OUT, "datasets", f"{n}.json"), "w") as f:
                json.dump(info, f, indent=1)
            print(f"{n}: baseline {b:.4g}, reference {r:.4g} ({cfg['lr']:g}, {cfg['hidden']})", flush=True)
        tasks = []
        for n in names:
            d = dataset(n)
            tasks += [(n, "torch", rid, cfg) for rid, cfg in torch_configs(d, n)]
            tasks += [(n, "sklearn", rid, cfg) for rid, cfg in sklearn_configs(d, n)]
        done = 0
        for _ in pool.imap_unordered(one_run, tasks):
            done += 1
            if done % 50 == 0:
                print(f"{done}/{len(tasks)} runs", flush=True)
    write_lightning_folders(names)
    print(f"{len(tasks)} runs in {OUT}")


def write_lightning_folders(names):
    """Lightning version folders, numbered in a fixed order (by run name) per dataset and framework."""
    for n in names:
        for framework in ("torch", "sklearn"):
            rids = sorted(r for r in os.listdir(os.path.join(OUT, "runs", n))
                          if json.load(open(os.path.join(OUT, "runs", n, r, "run.json")))["framework"] == framework)
            base = os.path.join(OUT, "lightning", n, framework, "lightning_logs")
            versions = {}
            for k, rid in enumerate(rids):
                rec = json.load(open(os.path.join(OUT, "runs", n, rid, "run.json")), parse_constant=float)
                d = dataset(n)
                write_lightning(os.path.join(base, f"version_{k}"), framework, d["task"], rec,
                                hparams_of(framework, rec["settings"], rec, rec["logging"]["hparams_variant"]),
                                rec["logging"]["csv_every"])
                versions[f"version_{k}"] = rid
            with open(os.path.join(OUT, "lightning", n, framework, "versions.json"), "w") as f:
                json.dump(versions, f, indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Builds the doctor's evaluation corpus: real training runs with deliberately wrong (and right) settings, written by
swift-tune (`tune train`) and by PyTorch (SummaryWriter event files and a Lightning-style metrics.csv).

    python3 tools/curves/make_corpus.py [OUT] [--no-torch] [--data-seed=N]   # default .build/curves; then label.py
                                                                              # and score.py

The settings only make each kind of problem likely; the labels come from tools/curves/label.py, which checks
explicit criteria on the recorded curves. Dev-time only (needs the release `tune`, and torch for the PyTorch runs).
"""
import itertools
import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
# --data-seed N: other generated data sets (and other run seeds), for a fresh corpus nothing was tuned on.
DATA_SEED = next((int(a.split("=")[1]) for a in sys.argv[1:] if a.startswith("--data-seed=")), 3)
OUT = os.path.abspath(ARGS[0] if ARGS else os.path.join(ROOT, ".build", "curves"))
TUNE = os.path.join(ROOT, ".build", "release", "tune")

# name: (generate arguments, target, task note)
DATASETS = {
    "moons": (["moons", "--rows", "2000", "--noise", "0.25"], "label"),
    "spirals": (["spirals", "--rows", "2000"], "label"),
    "blobs3": (["classification", "--rows", "3000", "--classes", "3", "--features", "20"], "label"),
    "regr": (["regression", "--rows", "2000", "--features", "10"], "target"),
    "small": (["classification", "--rows", "250", "--classes", "2", "--features", "40", "--noise", "0.05"], "label"),
}

# name: extra tune train flags; the settings each provoke one kind of curve
CONFIGS = {
    "sensible": ["--lr", "0.001", "--epochs", "40"],
    "sensible_long": ["--lr", "0.003", "--epochs", "60", "--hidden", "128,64"],
    "lr_1e-5": ["--lr", "0.00001", "--epochs", "40"],
    "lr_3e-6": ["--lr", "0.000003", "--epochs", "40"],
    "lr_1e-7": ["--lr", "0.0000001", "--epochs", "20"],
    "lr_0.5": ["--lr", "0.5", "--epochs", "30"],
    "lr_3": ["--lr", "3", "--epochs", "30"],
    "sgd_lr_5": ["--optimizer", "sgd", "--lr", "5", "--epochs", "30"],
    "batch_1": ["--lr", "0.003", "--batch-size", "1", "--epochs", "12"],
    "batch_2": ["--lr", "0.003", "--batch-size", "2", "--epochs", "15"],
    "batch_4": ["--lr", "0.01", "--batch-size", "4", "--epochs", "20"],
    "overfit": ["--lr", "0.003", "--hidden", "256,256", "--epochs", "150", "--split", "0.2,0.4,0.4"],
    "tiny": ["--lr", "0.01", "--hidden", "1", "--epochs", "40"],
    "tiny_tanh": ["--lr", "0.003", "--hidden", "2", "--activation", "tanh", "--epochs", "40"],
    "few_epochs": ["--lr", "0.0003", "--epochs", "6"],
    "few_epochs_8": ["--lr", "0.0005", "--epochs", "8", "--hidden", "32"],
}


def run(args, **kw):
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)


def main():
    os.makedirs(os.path.join(OUT, "data"), exist_ok=True)
    for name, (gen, _) in DATASETS.items():
        path = os.path.join(OUT, "data", f"{name}.csv")
        if not os.path.exists(path):
            run([TUNE, "generate", *gen, "--seed", str(DATA_SEED), "--out", path])
    runs = []
    run_seeds = [1, 2] if DATA_SEED == 3 else [DATA_SEED + 10, DATA_SEED + 11]
    for (dname, (_, target)), (cname, flags), seed in itertools.product(DATASETS.items(), CONFIGS.items(), run_seeds):
        if dname == "small" and cname not in ("overfit", "sensible", "tiny", "lr_1e-5"):
            continue
        out = os.path.join(OUT, "runs", f"swift-{dname}-{cname}-{seed}")
        if not os.path.exists(os.path.join(out, "history.json")):
            subprocess.run([TUNE, "train", "--data", os.path.join(OUT, "data", f"{dname}.csv"), "--target", target,
                            "--seed", str(seed), "--out", out, "--quiet", *flags],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # a diverged run exits 1: keep it
        runs.append(out)
    if "--no-torch" not in sys.argv:
        subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "torch_runs.py"), OUT, str(run_seeds[0])], check=True)
    print(f"{len(runs)} swift-tune runs in {OUT}/runs")


if __name__ == "__main__":
    main()

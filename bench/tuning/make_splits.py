"""Writes each dataset of bench/tuning once per seed with a `split` column (train, validation, test: a stratified
60/20/20 split drawn with numpy), so that swift-tune (`--split column:split`) and the Optuna peer train, select and
test on the same rows.

  python3 bench/tuning/make_splits.py DATA_DIR OUT_DIR SEED..."""
import csv, os, sys

import numpy as np

DATASETS = {"breast_cancer": "benign", "digits": "digit", "banana": "label"}


def main():
    data_dir, out_dir, seeds = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3:]]
    os.makedirs(out_dir, exist_ok=True)
    for name, target in DATASETS.items():
        with open(os.path.join(data_dir, name + ".csv"), newline="") as f:
            rows = list(csv.reader(f))
        header, body = rows[0], rows[1:]
        labels = [r[header.index(target)] for r in body]
        for seed in seeds:
            rng = np.random.default_rng(seed)
            part = [""] * len(body)
            for label in sorted(set(labels)):
                idx = rng.permutation([i for i, v in enumerate(labels) if v == label])
                n_train, n_val = round(0.6 * len(idx)), round(0.2 * len(idx))
                for k, i in enumerate(idx):
                    part[i] = "train" if k < n_train else "validation" if k < n_train + n_val else "test"
            with open(os.path.join(out_dir, f"{name}-{seed}.csv"), "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(header + ["split"])
                for r, p in zip(body, part):
                    w.writerow(r + [p])


if __name__ == "__main__":
    main()

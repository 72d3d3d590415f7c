#!/usr/bin/env python3
"""Labels the doctor's corpus (tools/curves/make_corpus.py) from the recorded curves, by explicit criteria written
here independently of the doctor's rules; writes OUT/labels.json: {entry: {"path", "classes", "labels": [...]}}.
Each PyTorch run gives two entries, its event files and its metrics.csv.

    python3 tools/curves/label.py [OUT]

Criteria, with T and V the per-epoch training and validation losses (E epochs), S the step losses, M the validation
metric, C the chance loss (ln classes; none for regression) and R the lowest validation loss any run of the same
framework reached on the same dataset:
- lr_too_high: a non-finite loss; or T rises above 1.5 T[0]; or T ends above T[0]; or, over the second half,
  the mean relative epoch-to-epoch change of T exceeds 0.25 with at least a third of the changes upward while T
  stays above 0.3 T[0]; or (classification) over the second half T bounces (mean relative change above 0.05)
  without ever getting below chance.
- exploding_gradients / vanishing_gradients (swift-tune runs, which log gradient norms): the mean gradient norm of
  the last epoch is more than 10 times, or less than 1e-3 times, that of the first.
- not_learning: T moves by less than 1% of its mean over the run.
- lr_too_low: not the above; V ends above R + 0.5 (V[0] - R) (far from what the dataset allows) and T still falls
  in the last third at least half as fast as in the first third (no bend).
- noisy: over the second half of the steps, the mean absolute step-to-step change of S exceeds 0.6 of the mean of S
  there (or of a tenth of the mean of the first 5% of steps, when that is larger: near zero, any wiggle is large);
  or, over the last 30% of epochs, consecutive differences of M have a standard deviation above 0.04.
- overfitting: V is lowest at an epoch m <= E - 3, V ends at least 15% above V[m], and T ends at least 10% below T[m].
- underfitting: T ends at or above 0.6 C (classification) or 0.6 T[0] (regression), V ends within 20% of T, R is below
  half of V's end, and T moved less than 3% over the last third.
- still_improving: T and V both end at least 2% below their values at 80% of the run, and V ends within 1% of its
  minimum.
- metric_loss_disagree: the epoch of lowest V and the epoch of best M differ and M differs there by more than 0.002.
- val_loss_up_metric_ok: V ends at least 10% above its minimum (at epoch m < E) while M ends no worse than at m
  (within 0.002).
- bad_init (classification): the first step's loss is above 2 C or below C / 2.
- healthy: none of the above but metric_loss_disagree and val_loss_up_metric_ok.
"""
import csv
import json
import math
import os
import sys

OUT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", ".build", "curves"))


def finite(v):
    return v is not None and math.isfinite(v)


def swift_curves(path):
    h = json.load(open(os.path.join(path, "history.json")), parse_constant=lambda c: float(c))
    T = [float(e["trainLoss"]) for e in h["epochs"]]
    V = [float(e["validationLoss"]) for e in h["epochs"]]
    M = [e["metrics"].get(h["monitor"]) for e in h["epochs"]]
    higher = h["monitorHigherIsBetter"]
    S = [float(v) for v in h["stepLosses"]]
    model = json.load(open(os.path.join(path, "model", "model.json")))
    target = model["preprocessing"]["target"]
    classes = len(target["classes"]) if target.get("classes") else None
    G = [float(e["gradientNormMean"]) for e in h["epochs"]]
    return T, V, M, higher, S, classes, G


def torch_curves(path):
    T, V, M, S = [], [], [], []
    higher = True
    with open(os.path.join(path, "metrics.csv")) as f:
        for r in csv.DictReader(f):
            if r.get("train_loss_step"):
                S.append(float(r["train_loss_step"]))
            if r.get("val_loss"):
                T.append(float(r["train_loss_epoch"]))
                V.append(float(r["val_loss"]))
                if r.get("val_acc"):
                    M.append(float(r["val_acc"]))
                elif r.get("val_rmse"):
                    M.append(float(r["val_rmse"]))
                    higher = False
    classes = json.load(open(os.path.join(path, "info.json")))["classes"]
    return T, V, M, higher, S, classes, None


def labels(T, V, M, higher, S, classes, R, G=None):
    E = len(T)
    out = set()
    chance = math.log(classes) if classes else None
    nonfinite = not all(map(finite, T + V + S))
    if nonfinite or (E > 1 and max(T[1:]) > 1.5 * T[0]) or T[-1] > T[0]:
        out.add("lr_too_high")
    elif E >= 4:
        half = T[E // 2:]
        jumps = [abs(b - a) / max(abs(a), 1e-12) for a, b in zip(half, half[1:])]
        rises = sum(1 for a, b in zip(half, half[1:]) if b > a)
        if jumps and sum(jumps) / len(jumps) > 0.25 and rises >= len(jumps) / 3 and min(half) > 0.3 * T[0]:
            out.add("lr_too_high")
        elif chance and jumps and min(half) > chance and sum(jumps) / len(jumps) > 0.05:
            out.add("lr_too_high")
    if "lr_too_high" in out and nonfinite:
        return out
    if E >= 2 and (max(T) - min(T)) / max(abs(sum(T) / E), 1e-12) < 0.01:
        out.add("not_learning")
    if "lr_too_high" not in out and "not_learning" not in out and E >= 5:
        third = max(E // 3, 2)
        early_fall = T[0] - T[third - 1]
        late_fall = T[E - third] - T[-1]
        if V[-1] > R + 0.5 * (V[0] - R) and early_fall > 0 and late_fall >= 0.5 * early_fall:
            out.add("lr_too_low")
    if len(S) >= 50 and all(map(finite, S)):
        half = S[len(S) // 2:]
        early = S[:max(len(S) // 20, 1)]
        change = sum(abs(b - a) for a, b in zip(half, half[1:])) / (len(half) - 1)
        if change > 0.6 * max(sum(half) / len(half), 0.1 * sum(early) / len(early), 1e-12):
            out.add("noisy")
    if higher and len([m for m in M if finite(m)]) >= 10:
        late = [m for m in M if finite(m)][-max(int(len(M) * 0.3), 3):]
        diffs = [b - a for a, b in zip(late, late[1:])]
        mean = sum(diffs) / len(diffs)
        if math.sqrt(sum((d - mean) ** 2 for d in diffs) / max(len(diffs) - 1, 1)) > 0.04:
            out.add("noisy")
    if E >= 5 and all(map(finite, V)):
        m = min(range(E), key=lambda i: V[i])
        if m <= E - 3 and V[-1] >= 1.15 * V[m] and T[-1] <= 0.9 * T[m]:
            out.add("overfitting")
        third = max(E // 3, 2)
        reference = 0.6 * chance if chance else 0.6 * T[0]
        if (T[-1] >= reference and abs(V[-1] - T[-1]) <= 0.2 * T[-1] and R < 0.5 * V[-1]
                and abs(T[-1] - T[E - third]) <= 0.03 * T[E - third]):
            out.add("underfitting")
        k = int(0.8 * E) - 1
        if T[-1] <= 0.98 * T[k] and V[-1] <= 0.98 * V[k] and V[-1] <= 1.01 * min(V):
            out.add("still_improving")
    if E >= 5 and len(M) == E and all(map(finite, V)) and all(map(finite, M)):
        m = min(range(E), key=lambda i: V[i])
        if m < E - 1 and V[-1] >= 1.10 * V[m] and ((M[-1] - M[m]) if higher else (M[m] - M[-1])) >= -0.002:
            out.add("val_loss_up_metric_ok")
    if chance and S and finite(S[0]) and (S[0] > 2 * chance or S[0] < chance / 2):
        out.add("bad_init")
    if len(M) >= 3 and all(map(finite, V)) and all(map(finite, M)):
        lowest = min(range(E), key=lambda i: V[i])
        best = max(range(len(M)), key=lambda i: (M[i] if higher else -M[i], -i))
        if best != lowest and abs(M[best] - M[lowest]) > 0.002:
            out.add("metric_loss_disagree")
    if G and len(G) >= 3 and all(map(finite, G)) and G[0] > 0:
        if G[-1] > 10 * G[0]:
            out.add("exploding_gradients")
        elif G[-1] < 1e-3 * G[0]:
            out.add("vanishing_gradients")
    if not (out - {"metric_loss_disagree", "val_loss_up_metric_ok"}):
        out.add("healthy")
    return out


def main():
    runs = sorted(os.listdir(os.path.join(OUT, "runs")))
    curves = {}
    for name in runs:
        path = os.path.join(OUT, "runs", name)
        try:
            curves[name] = swift_curves(path) if name.startswith("swift-") else torch_curves(path)
        except (OSError, KeyError, ValueError, IndexError) as e:
            print(f"skipped {name}: {e}", file=sys.stderr)
    # R: the lowest validation loss per (framework, dataset).
    best = {}
    for name, (T, V, *_rest) in curves.items():
        key = tuple(name.split("-")[:2])
        finite_v = [v for v in V if finite(v)]
        if finite_v:
            best[key] = min(best.get(key, math.inf), min(finite_v))
    result = {}
    for name, (T, V, M, higher, S, classes, G) in curves.items():
        if not T:
            # Stopped within the first epoch: only a diverged run does that.
            if any(not finite(s) for s in S):
                result[name] = {"path": os.path.join(OUT, "runs", name), "classes": None, "labels": ["lr_too_high"]}
            continue
        found = sorted(labels(T, V, M, higher, S, classes, best[tuple(name.split("-")[:2])], G))
        path = os.path.join(OUT, "runs", name)
        if name.startswith("torch-"):
            result[name + "/tb"] = {"path": os.path.join(path, "tb"), "classes": classes, "labels": found}
            result[name + "/csv"] = {"path": os.path.join(path, "metrics.csv"), "classes": classes, "labels": found}
        else:
            result[name] = {"path": path, "classes": None, "labels": found}
    json.dump(result, open(os.path.join(OUT, "labels.json"), "w"), indent=1, sort_keys=True)
    counts = {}
    for entry in result.values():
        for label in entry["labels"]:
            counts[label] = counts.get(label, 0) + 1
    print(f"{len(result)} entries labelled:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()

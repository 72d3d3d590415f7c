#!/usr/bin/env python3
"""Labels the doctor's corpus (tools/curves/make_corpus.py): the criteria below, and their thresholds, are the whole
definition of each label. They were written before the doctor's rules were changed, against quantities the doctor is
never given, and this file neither calls the doctor nor shares its code or thresholds.

    python3 tools/curves/label.py [OUT]        # reads OUT/runs/*/*/run.json and OUT/datasets/*.json,
                                               # writes OUT/labels.json

What the labeller knows of a run (run.json, written by the corpus maker from the training loop itself, whatever the
log files keep): every epoch's mean training loss T[1..E], validation loss V[1..E] and validation metric M[1..E], every
step's training loss S, and the settings (optimizer, learning rate, batch size, ...). Of each dataset (datasets/*.json):

- B, the constant predictor's validation loss: the class frequencies of the training rows scored on the validation
  rows (cross-entropy), or the training rows' mean target (squared error; half of it for scikit-learn, whose
  regression loss is half the squared error);
- R, the reference: the median over 3 seeds of the lowest validation loss of a well-tuned network (Adam, the best of
  a small grid of learning rates and widths chosen on one seed, 150 epochs), in the same convention as B.

Notation: Vmin the lowest V, first reached at epoch m; Vend = V[E], Tend = T[E]; q(x) = (x - R) / (B - R), the share
of the improvement from the constant predictor to the reference that a loss x falls short of (0 at the reference, 1
at the constant predictor). "The second half" is epochs floor(E/2)+1..E.

A run gets every label whose criterion holds:

- lr_too_high: any value of T, V or S is not finite (diverged); or a blow-up: the mean loss of some WINDOW rows' worth
  of consecutive steps (ceil(WINDOW / batch size) steps: one row's loss is not the network's) after the first step
  is above BLOWUP x max(B, S[1]); or an explosion: some T[e] (e >= 2) is above EXPLODE x the lowest T before it and the rise
  undoes at least UNDO of the fall before it (T[e] - min >= UNDO x (max - min) of T[1..e-1]: near zero, where a few
  rows make the loss, a doubling is not an explosion); or training left the network worse off: Tend > T[1] while
  Vend >= DEAD x B (dead at the constant predictor's loss); or, when the batch size is above NOISY_BATCH, bouncing
  high: over the second half V moves by BOUNCE of itself or more from epoch to epoch on average, at least a third of
  the moves upward, while the median V of the second half falls short of the reference, q >= BOUNCE_FAR.
- not_learning (not diverged): T moves by less than STILL of its mean over the run (max - min).
- lr_too_low (none of the above, E >= 6): far from the reference at the end, q(Vend) >= LOW_FAR; falling: T fell over
  the first third; and no bend: the mean fall per epoch of T over the last third is at least LOW_NO_BEND x that over
  the first third.
- noisy (not diverged): a batch size of at most NOISY_BATCH rows.
- overfitting (not diverged, E >= 5): the validation loss turned up, Vend >= OVER_RISE x Vmin with m <= E - 2 and
  Tend <= OVER_TRAIN_FELL x T[m]; or a wide gap far from the reference, Vend >= GAP_RATIO x Tend and
  q(Vend) >= GAP_FAR.
- underfitting (none of lr_too_high, not_learning, lr_too_low): short of the reference, Vmin >= UNDER_RATIO x R and
  q(Vmin) >= UNDER_FAR; training close to validation, Tend >= UNDER_CLOSE x Vend; and flat, T moved by at most
  UNDER_FLAT of Tend over the last third.
- still_improving (neither lr_too_high nor lr_too_low, E >= 5): Vend <= (1 + AT_MIN) x Vmin, and both V and T fell by
  at least IMPROVING of their value at epoch ceil(0.8 E) by the end.
- metric_loss_disagree (a metric where higher is better, which a monotone function of the loss is not): at the
  lowest-loss epoch m the metric is more than DISAGREE below its best, M[m] < max(M) - DISAGREE.
- val_loss_up_metric_ok (the same metrics): Vend >= VAL_UP x Vmin with m < E, and M[E] >= M[m] - HOLD.
- bad_init (classification, and only where the log keeps the first step's loss: the doctor is not to judge the
  initialisation from epoch means): S[1] > INIT x ln(C) or S[1] < ln(C) / INIT for C classes.
- healthy: E >= 5, none of lr_too_high, not_learning, lr_too_low, noisy, overfitting, underfitting, still_improving
  and bad_init, and near the reference: Vmin <= HEALTHY_NEAR x R, or q(Vmin) <= HEALTHY_SHARE (a ratio alone is too
  strict where the reference is close to zero, as it is on a validation set that a network can classify perfectly).
"""
import json
import math
import os
import sys

BLOWUP = 10.0
EXPLODE = 1.5
UNDO = 0.25
DEAD = 0.9
BOUNCE = 0.15
BOUNCE_FAR = 0.2
STILL = 0.01
LOW_FAR = 0.3
WINDOW = 32
LOW_NO_BEND = 0.5
NOISY_BATCH = 4
OVER_RISE = 1.2
OVER_TRAIN_FELL = 0.9
GAP_RATIO = 3.0
GAP_FAR = 0.25
UNDER_RATIO = 1.5
UNDER_FAR = 0.05
UNDER_CLOSE = 0.75
UNDER_FLAT = 0.05
AT_MIN = 0.01
IMPROVING = 0.02
DISAGREE = 0.005
VAL_UP = 1.1
HOLD = 0.002
INIT = 2.0
HEALTHY_NEAR = 1.2
HEALTHY_SHARE = 0.02

PROBLEMS = ["lr_too_high", "not_learning", "lr_too_low", "noisy", "overfitting", "underfitting", "still_improving", "bad_init"]


def finite(v):
    return v is not None and math.isfinite(v)


def label(run, dataset):
    """The labels of one run (a set), and the labels that cannot be judged from some of its log files."""
    T, V, M, S = run["train_loss"], run["val_loss"], run.get("metric") or [], run["step_loss"]
    E = len(T)
    B, R = dataset["baseline"][run["framework"]], dataset["reference"][run["framework"]]
    higher = run.get("metric_higher_is_better", True)
    monotone = run.get("metric_monotone_in_loss", False)
    labels = set()

    def q(x):
        return (x - R) / (B - R)

    diverged = not all(finite(v) for v in T + V + S)
    if diverged:
        return {"lr_too_high"}
    if E == 0:
        return set()
    vmin = min(V)
    m = V.index(vmin) + 1
    vend, tend = V[-1], T[-1]
    second = list(range(E // 2 + 1, E + 1))  # 1-based epochs of the second half

    # lr_too_high
    if S:
        w = math.ceil(WINDOW / run["settings"]["batch_size"])
        sums = [0.0]
        for x in S:
            sums.append(sums[-1] + x)
        if any((sums[i + w] - sums[i]) / w > BLOWUP * max(B, S[0]) for i in range(1, len(S) - w + 1)):
            labels.add("lr_too_high")
    for e in range(1, E):
        lo, hi = min(T[:e]), max(T[:e])
        if T[e] > EXPLODE * lo and T[e] - lo >= UNDO * (hi - lo):
            labels.add("lr_too_high")
    if tend > T[0] and vend >= DEAD * B:
        labels.add("lr_too_high")
    if run["settings"]["batch_size"] > NOISY_BATCH and len(second) >= 4:
        late = [V[e - 1] for e in second]
        moves = [(b - a) / a for a, b in zip(late, late[1:]) if a > 0]
        median = sorted(late)[len(late) // 2]
        if moves and sum(abs(x) for x in moves) / len(moves) >= BOUNCE and sum(1 for x in moves if x > 0) >= len(moves) / 3 \
                and q(median) >= BOUNCE_FAR:
            labels.add("lr_too_high")
    high = "lr_too_high" in labels

    # not_learning
    mean_t = sum(T) / E
    if mean_t != 0 and (max(T) - min(T)) / abs(mean_t) < STILL:
        labels.add("not_learning")

    # lr_too_low
    third = max(E // 3, 1)
    if not high and "not_learning" not in labels and E >= 6:
        first_fall = (T[0] - T[third - 1]) / max(third - 1, 1)
        last_fall = (T[E - third] - T[E - 1]) / max(third - 1, 1)
        if q(vend) >= LOW_FAR and first_fall > 0 and last_fall >= LOW_NO_BEND * first_fall:
            labels.add("lr_too_low")
    low = "lr_too_low" in labels

    if run["settings"]["batch_size"] <= NOISY_BATCH:
        labels.add("noisy")

    # overfitting
    if E >= 5:
        if vend >= OVER_RISE * vmin and m <= E - 2 and tend <= OVER_TRAIN_FELL * T[m - 1]:
            labels.add("overfitting")
        if vend >= GAP_RATIO * tend and q(vend) >= GAP_FAR:
            labels.add("overfitting")

    # underfitting
    if not high and not low and "not_learning" not in labels and E >= 5:
        moved = abs(T[E - third] - T[E - 1]) / max(abs(tend), 1e-12)
        if vmin >= UNDER_RATIO * R and q(vmin) >= UNDER_FAR and tend >= UNDER_CLOSE * vend and moved <= UNDER_FLAT:
            labels.add("underfitting")

    # still_improving
    if not high and not low and E >= 5:
        k = math.ceil(0.8 * E)
        if vend <= (1 + AT_MIN) * vmin and V[k - 1] - vend >= IMPROVING * V[k - 1] and T[k - 1] - tend >= IMPROVING * T[k - 1]:
            labels.add("still_improving")

    # the metric against the loss (a metric where higher is better and that is not a function of the loss alone)
    metric_ok = M and higher and not monotone and all(finite(x) for x in M) and len(M) == E
    if metric_ok and E >= 3 and M[m - 1] < max(M) - DISAGREE:
        labels.add("metric_loss_disagree")
    if metric_ok and E >= 5 and vend >= VAL_UP * vmin and m < E and M[-1] >= M[m - 1] - HOLD:
        labels.add("val_loss_up_metric_ok")

    # bad_init: classification only (judged on the first step)
    classes = dataset.get("classes")
    if classes and S:
        chance = math.log(classes)
        if S[0] > INIT * chance or S[0] < chance / INIT:
            labels.add("bad_init")

    if E >= 5 and not (labels & set(PROBLEMS)) and (vmin <= HEALTHY_NEAR * R or q(vmin) <= HEALTHY_SHARE):
        labels.add("healthy")
    return labels


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", ".build", "curves"))
    datasets = {}
    for name in sorted(os.listdir(os.path.join(out, "datasets"))):
        if name.endswith(".json"):
            with open(os.path.join(out, "datasets", name)) as f:
                datasets[name[:-5]] = json.load(f)
    result = {}
    runs_dir = os.path.join(out, "runs")
    for dname in sorted(os.listdir(runs_dir)):
        for rid in sorted(os.listdir(os.path.join(runs_dir, dname))):
            with open(os.path.join(runs_dir, dname, rid, "run.json")) as f:
                run = json.load(f, parse_constant=float)
            labels = label(run, datasets[dname])
            result[f"{dname}/{rid}"] = {"dataset": dname, "framework": run["framework"], "labels": sorted(labels),
                                        # bad_init is judged only in the formats whose log keeps the first step's loss
                                        "first_step_logged": run["first_step_logged"]}
    with open(os.path.join(out, "labels.json"), "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    counts = {}
    for entry in result.values():
        for lab in entry["labels"]:
            counts[lab] = counts.get(lab, 0) + 1
    print(f"{len(result)} runs labelled: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()

"""The Optuna peer of bench/tuning: Optuna's TPE with its median or Hyperband pruner around a PyTorch MLP, over the
same space as `tune search --strategy tpe` (lr log 1e-4..1e-1, width int log 16..256, depth 1..3, dropout
{0, 0.1, 0.3, 0.5}, ReLU or SiLU/Swish), with the same training: Adam, batch size the power of two nearest
sqrt(N_train) within 8..1024, at most --epochs epochs, the model of each trial taken at its best validation epoch by the
metric, features standardised with the training rows (population deviation). The study stops once its trials have
trained --budget epochs (pruned trials count the epochs they ran).

  python3 bench/tuning/optuna_peer.py --data split.csv --target benign --metric auc --budget 1500 --pruner median --seed 0

Prints one JSON object: the best complete trial's validation metric and its test metric (both at its best epoch),
epochs spent, best-so-far against epochs, and the study's wall time (from reading the data, imports excluded)."""
import argparse, csv, json, math, time

import numpy as np
import optuna
import torch
from sklearn.metrics import roc_auc_score


def load(path, target):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    features = [c for c in rows[0] if c not in (target, "split")]
    x = np.array([[float(r[c]) for c in features] for r in rows], dtype=np.float32)
    labels = sorted({r[target] for r in rows}, key=lambda v: float(v))
    y = np.array([labels.index(r[target]) for r in rows], dtype=np.int64)
    part = np.array([r["split"] for r in rows])
    out = {}
    train = part == "train"
    mean = x[train].mean(0)
    sd = x[train].std(0)
    sd[sd == 0] = 1
    for name in ("train", "validation", "test"):
        m = part == name
        out[name] = (torch.from_numpy((x[m] - mean) / sd), torch.from_numpy(y[m]))
    return out, len(labels)


def metric_value(name, logits, y, classes):
    if classes == 2:
        p = torch.sigmoid(logits[:, 0]).numpy()
        if name == "auc":
            return roc_auc_score(y.numpy(), p)
        return float(((p > 0.5) == (y.numpy() == 1)).mean())
    pred = logits.argmax(1)
    return float((pred == y).float().mean())


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--data", required=True)
    a.add_argument("--target", required=True)
    a.add_argument("--metric", choices=["auc", "accuracy"], required=True)
    a.add_argument("--budget", type=int, required=True, help="training epochs over all trials")
    a.add_argument("--epochs", type=int, default=50)
    a.add_argument("--pruner", choices=["median", "hyperband"], required=True)
    a.add_argument("--seed", type=int, default=0)
    args = a.parse_args()
    torch.set_num_threads(1)
    started = time.perf_counter()
    data, classes = load(args.data, args.target)
    xt, yt = data["train"]
    n = len(yt)
    batch = min(max(2 ** round(math.log2(math.sqrt(n))), 8), 1024)
    outputs = 1 if classes == 2 else classes
    spent = [0]
    curve = []  # (epochs spent, best validation so far)
    best = {"value": -math.inf, "test": None, "trial": None}

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        width = trial.suggest_int("width", 16, 256, log=True)
        depth = trial.suggest_int("depth", 1, 3)
        dropout = trial.suggest_categorical("dropout", [0.0, 0.1, 0.3, 0.5])
        activation = trial.suggest_categorical("activation", ["relu", "swish"])
        torch.manual_seed(args.seed * 1000 + trial.number)
        layers, width_in = [], xt.shape[1]
        for _ in range(depth):
            layers += [torch.nn.Linear(width_in, width), torch.nn.ReLU() if activation == "relu" else torch.nn.SiLU()]
            if dropout > 0:
                layers.append(torch.nn.Dropout(dropout))
            width_in = width
        layers.append(torch.nn.Linear(width_in, outputs))
        model = torch.nn.Sequential(*layers)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        loss_fn = torch.nn.BCEWithLogitsLoss() if classes == 2 else torch.nn.CrossEntropyLoss()
        g = torch.Generator().manual_seed(args.seed * 1000 + trial.number)
        trial_best, trial_test = -math.inf, None
        xv, yv = data["validation"]
        xs, ys = data["test"]
        for epoch in range(1, args.epochs + 1):
            model.train()
            order = torch.randperm(n, generator=g)
            for i in range(0, n, batch):
                idx = order[i:i + batch]
                out = model(xt[idx])
                loss = loss_fn(out[:, 0], yt[idx].float()) if classes == 2 else loss_fn(out, yt[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                v = metric_value(args.metric, model(xv), yv, classes)
                if v > trial_best:
                    trial_best = v
                    trial_test = metric_value(args.metric, model(xs), ys, classes)
            spent[0] += 1
            trial.report(v, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        # As Optuna's study.best_trial: complete trials only, each at its best epoch.
        if trial_best > best["value"]:
            best.update(value=trial_best, test=trial_test, trial=trial.number)
        curve.append((spent[0], best["value"]))
        return trial_best

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruner = (optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2) if args.pruner == "median"
              else optuna.pruners.HyperbandPruner(min_resource=1, max_resource=args.epochs, reduction_factor=3))
    # A fixed name: the Hyperband pruner assigns brackets by hashing it, and a drawn one would change them each run.
    study = optuna.create_study(study_name=f"bench-{args.seed}", direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=args.seed), pruner=pruner)
    while spent[0] < args.budget:
        study.optimize(objective, n_trials=1)
    print(json.dumps({"tool": f"optuna {optuna.__version__} tpe+{args.pruner}", "best_validation": best["value"],
                      "test": best["test"], "epochs": spent[0], "trials": len(study.trials),
                      "pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials),
                      "seconds": time.perf_counter() - started, "curve": curve}))


if __name__ == "__main__":
    main()

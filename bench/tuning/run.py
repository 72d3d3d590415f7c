"""bench/tuning: the swift-tune recipe and swift-tune's TPE against Optuna's TPE (median and Hyperband pruners, around
an equivalent PyTorch MLP), on breast_cancer (ROC AUC), digits (accuracy) and banana (ROC AUC), over split seeds, on
the same rows (make_splits.py). Everything runs at one thread, one after the other, in this one run.

  python3 bench/tuning/run.py [--data ../shared/data] [--seeds 0 1 2] [--budget 1500] [--out .build/bench-tuning]

Needs torch, optuna and scikit-learn (pip install torch optuna scikit-learn) and a release build of tune
(swift build -c release --product tune). Prints the markdown table of bench/tuning/README.md and writes every raw
result to OUT/results.json."""
import argparse, json, os, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATASETS = [("breast_cancer", "benign", "auc"), ("digits", "digit", "accuracy"), ("banana", "label", "auc")]


def tune(args, out, env):
    started = time.perf_counter()
    subprocess.run([os.path.join(ROOT, ".build/release/tune")] + args + ["--out", out], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    with open(os.path.join(out, "summary.json")) as f:
        return json.load(f), seconds


def recipe_result(summary, seconds, metric):
    # Best-so-far against cumulative epochs, in the order the trials ran.
    spent, best, curve = 0, None, []
    for t in summary["trials"]:
        spent += t["epochsRun"]
        if t.get("value") is not None and (best is None or t["value"] > best):
            best = t["value"]
        curve.append((spent, best))
    extra = int(summary["spent"]["ensemble_epochs"])
    return {"tool": "swift-tune recipe", "best_validation": summary["best"]["value"], "test": summary["test"][metric],
            "epochs": int(summary["spent"]["epochs"]) + extra, "trials": len(summary["trials"]), "seconds": seconds,
            "curve": curve}


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    a.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    a.add_argument("--budget", type=int, default=1500, help="training epochs per study (TPE studies)")
    a.add_argument("--out", default=os.path.join(ROOT, ".build", "bench-tuning"))
    args = a.parse_args()
    splits = os.path.join(args.out, "splits")
    subprocess.run([sys.executable, os.path.join(HERE, "make_splits.py"), args.data, splits] + [str(s) for s in args.seeds], check=True)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    env.pop("OPENBLAS_CORETYPE", None)  # swift-tune chooses its kernel itself, as it does for a user
    results = []
    for name, target, metric in DATASETS:
        for seed in args.seeds:
            data = os.path.join(splits, f"{name}-{seed}.csv")
            common = ["search", "--data", data, "--target", target, "--split", "column:split", "--seed", str(seed)]
            run_dir = os.path.join(args.out, "runs", f"{name}-{seed}")
            subprocess.run(["rm", "-rf", run_dir], check=True)
            # The recipe gets half the TPE studies' epochs, less 100: a trial may start just under the budget and run
            # to its epoch limit (50), and the best model is trained once more (at most 50) after the search.
            s, secs = tune(common + ["--members", "1", "--budget", f"{args.budget // 2 - 100}epochs"], os.path.join(run_dir, "recipe"), env)
            results.append(dict(recipe_result(s, secs, metric), dataset=name, seed=seed))
            s, secs = tune(common + ["--strategy", "tpe", "--pruner", "median", "--budget", f"{args.budget}epochs"],
                           os.path.join(run_dir, "tpe"), env)
            results.append({"tool": "swift-tune tpe+median", "dataset": name, "seed": seed, "best_validation": s["best"]["value"],
                            "test": s["best"]["test"][metric], "epochs": s["epochs"], "trials": len(s["trials"]), "seconds": secs})
            for pruner in ["median", "hyperband"]:
                started = time.perf_counter()
                p = subprocess.run([sys.executable, os.path.join(HERE, "optuna_peer.py"), "--data", data, "--target", target,
                                    "--metric", metric, "--budget", str(args.budget), "--pruner", pruner, "--seed", str(seed)],
                                   check=True, env=env, capture_output=True, text=True)
                r = json.loads(p.stdout)
                r.update(dataset=name, seed=seed, process_seconds=time.perf_counter() - started)
                results.append(r)
            print(f"{name} seed {seed}: " + ", ".join(f"{r['tool']} {r['best_validation']:.4f}/{r['test']:.4f} {r['epochs']}e {r['seconds']:.1f}s"
                                                    for r in results if r["dataset"] == name and r["seed"] == seed), file=sys.stderr)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f)
    print(table(results, args.seeds))


def table(results, seeds):
    lines = ["| dataset (metric) | method | best validation, mean over seeds | test of the chosen model | epochs | wall s | wall time vs Optuna TPE+median |",
             "|:--|:--|--:|--:|--:|--:|--:|"]
    for name, _, metric in DATASETS:
        rows = [r for r in results if r["dataset"] == name]
        tools = sorted({r["tool"] for r in rows}, key=lambda t: (not t.startswith("swift-tune recipe"), not t.startswith("swift-tune"), t))
        optuna_median = [r for r in rows if r["tool"].endswith("tpe+median") and r["tool"].startswith("optuna")]
        base = statistics.mean(r["seconds"] for r in optuna_median) if optuna_median else None
        for tool in tools:
            rs = [r for r in rows if r["tool"] == tool]
            val = statistics.mean(r["best_validation"] for r in rs)
            test = statistics.mean(r["test"] for r in rs)
            epochs = statistics.mean(r["epochs"] for r in rs)
            secs = statistics.mean(r["seconds"] for r in rs)
            ratio = f"{base / secs:.1f}x shorter" if base and not tool.startswith("optuna") else ("1 (reference)" if tool.endswith("tpe+median") else f"{base / secs:.2f}x")
            lines.append(f"| {name} ({metric}) | {tool} | {val:.4f} | {test:.4f} | {epochs:.0f} | {secs:.1f} | {ratio} |")
    # Per seed: did the recipe reach Optuna TPE+median's final best validation value, and after how many epochs?
    lines.append("")
    lines.append("| dataset | seed | Optuna TPE+median best validation (epochs) | recipe best validation (epochs) | recipe epochs to reach Optuna's best | recipe test - Optuna test |")
    lines.append("|:--|--:|--:|--:|--:|--:|")
    for name, _, _ in DATASETS:
        for seed in seeds:
            o = next((r for r in results if r["dataset"] == name and r["seed"] == seed and r["tool"].startswith("optuna") and r["tool"].endswith("median")), None)
            c = next((r for r in results if r["dataset"] == name and r["seed"] == seed and r["tool"] == "swift-tune recipe"), None)
            if not o or not c:
                continue
            reach = next((e for e, b in c["curve"] if b is not None and b >= o["best_validation"] - 1e-9), None)  # equal within rounding
            lines.append(f"| {name} | {seed} | {o['best_validation']:.4f} ({o['epochs']}) | {c['best_validation']:.4f} ({c['epochs']}) | "
                         f"{reach if reach is not None else 'not reached'} | {c['test'] - o['test']:+.4f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

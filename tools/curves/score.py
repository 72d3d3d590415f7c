#!/usr/bin/env python3
"""Scores `tune doctor` on the labelled corpus: precision and recall per finding, separately on the tuning part
and on the held-aside part (a third of the entries, chosen by a hash of the entry's name, never looked at while
choosing thresholds).

    python3 tools/curves/score.py [OUT] [--markdown] [--verbose]
    python3 tools/curves/score.py FRESH_OUT --fresh --markdown   # a corpus made with another --data-seed: all unseen
"""
import hashlib
import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
OUT = os.path.abspath(ARGS[0] if ARGS else os.path.join(ROOT, ".build", "curves"))
TUNE = os.path.join(ROOT, ".build", "release", "tune")
FINDINGS = ["lr_too_high", "not_learning", "lr_too_low", "noisy", "overfitting", "underfitting", "still_improving",
            "metric_loss_disagree", "val_loss_up_metric_ok", "bad_init", "exploding_gradients", "vanishing_gradients", "healthy"]


def held_aside(name):
    """By the run's settings, without the format suffix (/tb, /csv) and the seed: the copies of one run, and the
    seeds of one configuration, fall on the same side."""
    run = name.split("/")[0]
    key = run.rsplit("-", 1)[0]
    return int(hashlib.sha1(key.encode()).hexdigest(), 16) % 3 == 0


def diagnose(entry):
    args = [TUNE, "doctor", entry["path"], "--json"]
    if entry.get("classes"):
        args += ["--classes", str(entry["classes"])]
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        return None, out.stderr.strip()
    return {f["id"] for f in json.loads(out.stdout)["findings"]}, None


def table(entries, results, markdown):
    lines = []
    if markdown:
        lines += ["| finding | examples | precision | recall |", "|:--|--:|--:|--:|"]
    for f in FINDINGS:
        tp = sum(1 for n in entries if f in results[n] and f in entries[n]["labels"])
        fp = sum(1 for n in entries if f in results[n] and f not in entries[n]["labels"])
        fn = sum(1 for n in entries if f not in results[n] and f in entries[n]["labels"])
        examples = tp + fn
        p = tp / (tp + fp) if tp + fp else float("nan")
        r = tp / (tp + fn) if tp + fn else float("nan")
        if markdown:
            lines.append(f"| {f} | {examples} | {p:.2f} | {r:.2f} |")
        else:
            lines.append(f"{f:22s} examples {examples:3d}  precision {p:.2f}  recall {r:.2f}")
    return "\n".join(lines)


def main():
    labels = json.load(open(os.path.join(OUT, "labels.json")))
    results, errors = {}, []
    for name, entry in sorted(labels.items()):
        found, error = diagnose(entry)
        if found is None:
            errors.append(f"{name}: {error}")
            found = set()
        results[name] = found
    markdown = "--markdown" in sys.argv
    if "--fresh" in sys.argv:
        print(f"Fresh corpus ({len(labels)} entries, none seen while choosing thresholds):\n")
        print(table(labels, results, markdown))
        return
    tuning = {n: e for n, e in labels.items() if not held_aside(n)}
    aside = {n: e for n, e in labels.items() if held_aside(n)}
    print(f"Tuning part ({len(tuning)} entries):\n")
    print(table(tuning, results, markdown))
    print(f"\nHeld-aside part ({len(aside)} entries):\n")
    print(table(aside, results, markdown))
    if "--verbose" in sys.argv:
        print("\nDisagreements (tuning part):")
        for n in sorted(tuning):
            want, got = set(tuning[n]["labels"]), results[n] & set(FINDINGS)
            if want != got:
                print(f"  {n}: labels {sorted(want)}, doctor {sorted(got)}")
    for e in errors:
        print("error:", e, file=sys.stderr)


if __name__ == "__main__":
    main()

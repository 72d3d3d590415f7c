#!/bin/sh
# Runs swift-tune's benchmarks, the PyTorch peer (when torch is installed) and a C program calling cblas_sgemm with
# OPENBLAS_CORETYPE=Cooperlake, all in one run, and prints the comparison.
#   sh bench/run.sh [--quick]
# OPENBLAS_CORETYPE is cleared for swift-tune so that it chooses its kernel itself, as it does for a user.
set -eu
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-.build/bench}
mkdir -p "$out"
swift build -c release --product tune-bench >/dev/null
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .build/release/tune-bench --threads 2 "$@" > "$out/swift.json"
cc -O2 -o "$out/cblas_sgemm" bench/peers/cblas_sgemm.c -lopenblas
OPENBLAS_CORETYPE=Cooperlake OPENBLAS_NUM_THREADS=2 "$out/cblas_sgemm" 1024 > "$out/c_sgemm.json"
if python3 -c 'import torch' 2>/dev/null; then
    python3 bench/peers/torch_bench.py --threads 2 "$@" > "$out/torch.json"
    python3 bench/compare.py "$out/swift.json" "$out/torch.json" --c-sgemm "$out/c_sgemm.json" --markdown
else
    echo "PyTorch is not installed (pip install torch): showing swift-tune alone." >&2
    python3 bench/compare.py "$out/swift.json" "$out/swift.json" --c-sgemm "$out/c_sgemm.json" --markdown
fi
echo
echo "swift-tune BLAS: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["blas"])' "$out/swift.json")"

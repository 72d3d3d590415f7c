#!/bin/sh
# Runs swift-tune's benchmarks, the PyTorch peer (when torch is installed), pandas.read_csv on a 100 MB numeric CSV
# and a C program calling cblas_sgemm with OPENBLAS_CORETYPE=Cooperlake, all in one run, and prints the comparison:
# everything at 2 threads, then the training steps and epochs of networks A-D at 1 thread, then the end-to-end run.
#   sh bench/run.sh [--quick]
# OPENBLAS_CORETYPE is cleared for swift-tune so that it chooses its kernel itself, as it does for a user.
set -eu
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-.build/bench}
mkdir -p "$out"
swift build -c release --product tune-bench >/dev/null
cc -O2 -o "$out/cblas_sgemm" bench/peers/cblas_sgemm.c -lopenblas
[ -f "$out/numeric.csv" ] || python3 bench/peers/make_numeric_csv.py "$out/numeric.csv" 100
export TUNE_BENCH_CSV="$out/numeric.csv"
has_torch=no
python3 -c 'import torch' 2>/dev/null && has_torch=yes
[ "$has_torch" = no ] && echo "PyTorch is not installed (pip install torch): showing swift-tune alone." >&2

for threads in 2 1; do
    if [ "$threads" = 2 ]; then
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .build/release/tune-bench --threads 2 "$@" > "$out/swift-2.json"
    else
        # At 1 thread: the training steps and epochs only.
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .build/release/tune-bench --threads 1 --only train "$@" > "$out/swift-t.json"
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .build/release/tune-bench --threads 1 --only epoch "$@" > "$out/swift-e.json"
        python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); a["results"]+=json.load(open(sys.argv[2]))["results"]; print(json.dumps(a))' \
            "$out/swift-t.json" "$out/swift-e.json" > "$out/swift-1.json"
    fi
    peer="$out/swift-$threads.json"
    if [ "$has_torch" = yes ]; then
        if [ "$threads" = 2 ]; then
            python3 bench/peers/torch_bench.py --threads 2 "$@" > "$out/torch-2.json"
            # pandas.read_csv stands in the PyTorch column for "csv read".
            if python3 -c 'import pandas' 2>/dev/null; then
                python3 bench/peers/pandas_csv.py "$TUNE_BENCH_CSV" "$@" > "$out/pandas.json"
                python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); a["results"]+=json.load(open(sys.argv[2]))["results"]; print(json.dumps(a))' \
                    "$out/torch-2.json" "$out/pandas.json" > "$out/peer-2.json"
                mv "$out/peer-2.json" "$out/torch-2.json"
            fi
        else
            python3 bench/peers/torch_bench.py --threads 1 --only train "$@" > "$out/torch-t.json"
            python3 bench/peers/torch_bench.py --threads 1 --only epoch "$@" > "$out/torch-e.json"
            python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); a["results"]+=json.load(open(sys.argv[2]))["results"]; print(json.dumps(a))' \
                "$out/torch-t.json" "$out/torch-e.json" > "$out/torch-1.json"
        fi
        peer="$out/torch-$threads.json"
    fi
    echo
    echo "## $threads thread(s)"
    echo
    if [ "$threads" = 2 ]; then
        OPENBLAS_CORETYPE=Cooperlake OPENBLAS_NUM_THREADS=2 "$out/cblas_sgemm" 1024 > "$out/c_sgemm.json"
        python3 bench/compare.py "$out/swift-2.json" "$peer" --c-sgemm "$out/c_sgemm.json" --markdown
    else
        python3 bench/compare.py "$out/swift-1.json" "$peer" --markdown
    fi
done
echo
echo "swift-tune BLAS: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["blas"])' "$out/swift-2.json")"
if [ "$has_torch" = yes ] && command -v hyperfine >/dev/null 2>&1 && python3 -c 'import sklearn, pandas' 2>/dev/null; then
    echo
    echo "## End to end"
    echo
    sh bench/e2e.sh 5 2>/dev/null
fi

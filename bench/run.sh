#!/bin/sh
# Runs swift-tune's benchmarks, the PyTorch peer (when torch is installed) and a C program calling cblas_sgemm with
# OPENBLAS_CORETYPE=Cooperlake, all in one run, and prints the comparison: everything at 2 threads, then the training
# steps of networks A-D at 1 thread.
#   sh bench/run.sh [--quick]
# OPENBLAS_CORETYPE is cleared for swift-tune so that it chooses its kernel itself, as it does for a user.
set -eu
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-.build/bench}
mkdir -p "$out"
swift build -c release --product tune-bench >/dev/null
cc -O2 -o "$out/cblas_sgemm" bench/peers/cblas_sgemm.c -lopenblas
has_torch=no
python3 -c 'import torch' 2>/dev/null && has_torch=yes
[ "$has_torch" = no ] && echo "PyTorch is not installed (pip install torch): showing swift-tune alone." >&2

for threads in 2 1; do
    only=""
    [ "$threads" = 1 ] && only="--only train"
    # shellcheck disable=SC2086
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .build/release/tune-bench --threads "$threads" $only "$@" > "$out/swift-$threads.json"
    peer="$out/swift-$threads.json"
    if [ "$has_torch" = yes ]; then
        # shellcheck disable=SC2086
        python3 bench/peers/torch_bench.py --threads "$threads" $only "$@" > "$out/torch-$threads.json"
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

#!/bin/sh
# The foundation issue's check: swift-tune's sgemm 1024x1024x1024 on 2 threads, with the kernel it chooses itself,
# against a C program calling cblas_sgemm with OPENBLAS_CORETYPE=Cooperlake, alternated ROUNDS times in one run
# (this machine is shared and noisy, so single runs mislead); prints each pair and the median ratio.
#   sh bench/sgemm_vs_c.sh [ROUNDS]
set -eu
cd "$(dirname "$0")/.."
rounds=${1:-5}
out=.build/bench
mkdir -p "$out"
swift build -c release --product tune >/dev/null
cc -O2 -o "$out/cblas_sgemm" bench/peers/cblas_sgemm.c -lopenblas
ratios=""
i=1
while [ "$i" -le "$rounds" ]; do
    s=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .build/release/tune env --json --threads 2 --seconds 1 |
        python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["kernel"], round(r["sgemmGFLOPs"], 1))')
    c=$(OPENBLAS_CORETYPE=Cooperlake OPENBLAS_NUM_THREADS=2 "$out/cblas_sgemm" 1024 1 |
        python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["kernel"], r["gflops"])')
    ratio=$(python3 -c "print(round(${s#* } / ${c#* }, 3))")
    echo "round $i: swift-tune (kernel ${s% *}) ${s#* } GFLOP/s, C cblas_sgemm (kernel ${c% *}) ${c#* } GFLOP/s, ratio $ratio"
    ratios="$ratios $ratio"
    i=$((i + 1))
done
python3 -c "import statistics,sys; r=[float(x) for x in sys.argv[1:]]; print(f'median ratio {statistics.median(r):.3f} over {len(r)} rounds')" $ratios

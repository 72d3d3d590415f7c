#!/bin/sh
# The study storage on PostgreSQL against Optuna's RDBStorage on the same server, in the same run:
#   sh bench/storage.sh [ROUNDS]
# Starts a scratch PostgreSQL 15 cluster (127.0.0.1, a free port, password authentication, max_connections=200, in a
# temporary directory removed at exit), builds tune-storage-bench in release mode, then for 16 and 64 worker
# processes runs swift-tune and Optuna alternately, ROUNDS (3) rounds each, a fresh study every run, and prints the
# table: trials per second (median of the rounds), the time a trial costs a worker (workers x seconds / trials, in
# ms) and the CPU time the worker processes spent per trial (the server's not counted), on both sides.
# Needs PostgreSQL 15 (/usr/lib/postgresql/15/bin, or PG_BIN) and pip install optuna psycopg2-binary sqlalchemy.
# Run as root, the server runs as the postgres user. STORAGE_BENCH_TRIALS="16:50 64:20" sets workers:trials-per-worker
# (the same for both sides). With STORAGE_BENCH_STATEMENTS=1 the server loads pg_stat_statements and each run's
# busiest statements are printed after it (calls and total server time), to see where the time goes.
set -eu
cd "$(dirname "$0")/.."
rounds=${1:-3}
pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
sizes=${STORAGE_BENCH_TRIALS:-"16:50 64:20"}
statements=${STORAGE_BENCH_STATEMENTS:-0}
out=${BENCH_OUT:-.build/bench}
mkdir -p "$out"

[ -x "$pg_bin/initdb" ] ||
    { echo "no PostgreSQL in $pg_bin (apt-get install postgresql-15, or set PG_BIN)" >&2; exit 1; }
python3 -c 'import optuna, psycopg2, sqlalchemy' 2>/dev/null ||
    { echo "the Optuna peer needs: pip install optuna psycopg2-binary sqlalchemy" >&2; exit 1; }

swift build -c release --product tune-storage-bench >/dev/null
bench_bin="$(swift build -c release --show-bin-path)/tune-storage-bench"

scratch=$(mktemp -d /tmp/tune-storage-bench-pg.XXXXXX)
as_server=""
if [ "$(id -u)" = 0 ]; then
    chown postgres "$scratch"
    as_server="runuser -u postgres --"
fi
stop() {
    $as_server "$pg_bin/pg_ctl" -D "$scratch/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$scratch"
}
trap stop EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PGPASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
export PGPASSWORD
(umask 077 && printf '%s\n' "$PGPASSWORD" > "$scratch/pwfile")
[ -n "$as_server" ] && chown postgres "$scratch/pwfile"
$as_server "$pg_bin/initdb" -D "$scratch/data" -U postgres --pwfile="$scratch/pwfile" --auth=scram-sha-256 \
    >"$scratch/initdb.log" 2>&1 || { cat "$scratch/initdb.log" >&2; exit 1; }
options="-c listen_addresses=127.0.0.1 -p $port -k $scratch -c max_connections=200"
[ "$statements" = 1 ] && options="$options -c shared_preload_libraries=pg_stat_statements"
$as_server "$pg_bin/pg_ctl" -D "$scratch/data" -o "$options" -l "$scratch/server.log" -w start >/dev/null ||
    { cat "$scratch/server.log" >&2; exit 1; }
uri="postgresql://postgres@127.0.0.1:$port/postgres"
sql() { "$pg_bin/psql" -X -q -A -t -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "$1"; }
[ "$statements" = 1 ] && sql "CREATE EXTENSION pg_stat_statements"

# The busiest statements called at least $1 times since the last reset (STORAGE_BENCH_STATEMENTS=1), then a reset.
busiest() {
    [ "$statements" = 1 ] || return 0
    echo "busiest statements (calls, total server time):" >&2
    sql "SELECT lpad(calls::text, 7) || ' calls ' || lpad(round(total_exec_time)::text, 6) || ' ms  '
            || left(regexp_replace(query, '\s+', ' ', 'g'), 110)
         FROM pg_stat_statements WHERE calls >= $1 ORDER BY total_exec_time DESC LIMIT 14" >&2
    sql "SELECT pg_stat_statements_reset()" >/dev/null
}

[ "$statements" = 1 ] && sql "SELECT pg_stat_statements_reset()" >/dev/null
results="$out/storage.jsonl"
: > "$results"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores; $("$pg_bin/postgres" --version);" \
    "optuna $(python3 -c 'import optuna; print(optuna.__version__)')" >&2
for size in $sizes; do
    workers=${size%%:*}
    trials=${size#*:}
    for round in $(seq 1 "$rounds"); do
        "$bench_bin" --storage "$uri" --study "swift-$workers-$round" --workers "$workers" \
            --trials-per-worker "$trials" | tee -a "$results" >&2
        busiest "$((workers * trials))"
        python3 bench/peers/optuna_storage_bench.py --storage "$uri" --study "optuna-$workers-$round" \
            --workers "$workers" --trials-per-worker "$trials" | tee -a "$results" >&2
        busiest "$((workers * trials))"
    done
done

python3 - "$results" <<'EOF'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
assert all(r["checked"] for r in runs)
print("| workers | trials per run | swift-tune trials/s | Optuna trials/s | ratio | ms per trial per worker,"
      " swift-tune | ms per trial per worker, Optuna | worker CPU ms per trial, swift-tune"
      " | worker CPU ms per trial, Optuna |")
print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
for workers in sorted({r["workers"] for r in runs}):
    def median(swift, key):
        return statistics.median(
            r[key] for r in runs if r["workers"] == workers and (r["peer"] == "swift-tune") == swift)
    trials = "/".join(str(t) for t in sorted({r["trials"] for r in runs if r["workers"] == workers}))
    rates = median(True, "trials_per_second"), median(False, "trials_per_second")
    cells = [str(workers), trials, f"{rates[0]:.0f}", f"{rates[1]:.0f}", f"{rates[0] / rates[1]:.1f}x"]
    for key in ["ms_per_trial_per_worker", "worker_cpu_ms_per_trial"]:
        cells += [f"{median(True, key):.1f}", f"{median(False, key):.1f}"]
    print("| " + " | ".join(cells) + " |")
EOF

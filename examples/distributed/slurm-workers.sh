#!/bin/bash
# Workers of a study on PostgreSQL as a Slurm job array (one task per worker, one CPU each):
#   sbatch --array=0-31 examples/distributed/slurm-workers.sh
# The leader runs elsewhere (a login node, or a job of its own): tune search ... --storage "$TUNE_DB" --study slurm
#SBATCH --job-name=tune-worker
#SBATCH --cpus-per-task=1
#SBATCH --time=04:00:00
#SBATCH --requeue
#SBATCH --signal=B:TERM@120
set -u
export OPENBLAS_NUM_THREADS=1
TUNE_DB=${TUNE_DB:-postgresql://tune@db.cluster.example:5432/tune}
# The password: ~/.pgpass (mode 600) on the shared home, read by tune itself.
tune worker --storage "$TUNE_DB" --study slurm --exit-when-idle 600 --out "$TMPDIR/trials" &
pid=$!
# Preempted or out of time: Slurm sends TERM (120 s early, --signal). The worker stops at once; the trial it was
# training has no more heartbeats, and after the leader's --stale-after it is marked failed and queued again for
# another worker (its intermediate values kept). The task itself is requeued (--requeue) and joins again.
trap 'kill -TERM "$pid"; wait "$pid"; exit 143' TERM
wait "$pid"

"""Optuna's RDBStorage under the load tune-storage-bench puts on swift-tune's PostgreSQL storage: N worker
processes, each with its own storage (one connection pool, as separate Optuna workers have), each running
study.optimize(lambda t: t.suggest_float("x", -10, 10) ** 2, n_trials=M) with the random sampler. Prints the same JSON
line: trials per second over the wall time from the moment every worker is connected to the end of the last one.

    PGPASSWORD=... python3 bench/peers/optuna_storage_bench.py --storage postgresql://USER@HOST:PORT/DB \
        --study NAME --workers 16 --trials-per-worker 50

The URI is swift-tune's; it is given to SQLAlchemy as postgresql+psycopg2://, the password from PGPASSWORD (in the
URL handed to SQLAlchemy, never on the command line). heartbeat_interval is left at its default (None). Optuna's log
is set to WARNING: at INFO it reads the best trial after every trial to print it, one more query per trial, so the
peer is measured at its faster setting. Needs pip install optuna psycopg2-binary sqlalchemy.
"""

import argparse
import fcntl
import json
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
import urllib.parse

import optuna


def sqlalchemy_url(uri):
    """postgresql://user@host:port/db as SQLAlchemy's psycopg2 URL, with the password from PGPASSWORD."""
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme not in ("postgresql", "postgres"):
        sys.exit(f"optuna_storage_bench: expected postgresql://..., got {uri}")
    user = parts.username or os.environ.get("PGUSER") or os.environ.get("USER") or "postgres"
    password = os.environ.get("PGPASSWORD")
    credentials = urllib.parse.quote(user, safe="")
    if password is not None:
        credentials += ":" + urllib.parse.quote(password, safe="")
    host = parts.hostname or "127.0.0.1"
    netloc = f"{credentials}@{host}:{parts.port or 5432}"
    query = f"?{parts.query}" if parts.query else ""
    return f"postgresql+psycopg2://{netloc}{parts.path}{query}"


def worker(url, study_name, index, trials, barrier):
    """Connects, says it is ready, waits for the start (a shared lock on start.lock), runs its trials."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(url)
    study = optuna.load_study(
        study_name=study_name, storage=storage, sampler=optuna.samplers.RandomSampler(seed=index)
    )
    with open(os.path.join(barrier, f"ready-{index}"), "w"):
        pass
    with open(os.path.join(barrier, "start.lock")) as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
    cpu = cpu_seconds()
    study.optimize(lambda t: t.suggest_float("x", -10, 10) ** 2, n_trials=trials)
    with open(os.path.join(barrier, f"cpu-{index}"), "w") as f:
        f.write(str(cpu_seconds() - cpu))


def cpu_seconds():
    """The CPU time this process has used (user and system), in seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_workers(url, study_name, workers, trials):
    """Starts the workers, lets them go once all are connected; the seconds from then until the last is done, and
    the CPU time the workers' trials took."""
    barrier = tempfile.mkdtemp(prefix="optuna-storage-bench-")
    try:
        lock = open(os.path.join(barrier, "start.lock"), "w")
        fcntl.flock(lock, fcntl.LOCK_EX)
        context = multiprocessing.get_context("fork")
        processes = [
            context.Process(target=worker, args=(url, study_name, i, trials, barrier)) for i in range(workers)
        ]
        for p in processes:
            p.start()
        while sum(name.startswith("ready-") for name in os.listdir(barrier)) < workers:
            gone = [i for i, p in enumerate(processes) if p.exitcode is not None]
            if gone:
                for p in processes:
                    p.terminate()
                sys.exit(f"optuna_storage_bench: worker {gone[0] + 1} stopped before the start")
            time.sleep(0.002)
        start = time.monotonic()
        fcntl.flock(lock, fcntl.LOCK_UN)
        for p in processes:
            p.join()
        seconds = time.monotonic() - start
        lock.close()
        cpu = sum(
            float(open(os.path.join(barrier, name)).read()) for name in os.listdir(barrier) if name.startswith("cpu-")
        )
    finally:
        shutil.rmtree(barrier, ignore_errors=True)
    failed = [i + 1 for i, p in enumerate(processes) if p.exitcode != 0]
    if failed:
        sys.exit(f"optuna_storage_bench: worker(s) {failed} failed")
    return seconds, cpu


def problem(trials, expected):
    """What is wrong with the study after the run, or None (as tune-storage-bench checks)."""
    if len(trials) != expected:
        return f"{len(trials)} trials, expected {expected}"
    if sorted(t.number for t in trials) != list(range(expected)):
        return f"the trial numbers are not 0..{expected - 1}"
    for t in trials:
        x = t.params.get("x")
        if t.state != optuna.trial.TrialState.COMPLETE or x is None or not -10 <= x <= 10 or t.value != x ** 2:
            return f"trial {t.number} is {t.state.name} with {t.params} and value {t.value}"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--storage", required=True)
    parser.add_argument("--study", required=True)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--trials-per-worker", type=int, default=50)
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = sqlalchemy_url(args.storage)
    storage = optuna.storages.RDBStorage(url)
    optuna.create_study(study_name=args.study, storage=storage, direction="minimize")
    storage.engine.dispose()  # No connection of the parent's is shared with the forked workers.
    seconds, cpu = run_workers(url, args.study, args.workers, args.trials_per_worker)
    trials = args.workers * args.trials_per_worker
    found = problem(optuna.load_study(study_name=args.study, storage=storage).get_trials(deepcopy=False), trials)
    line = {
        "checked": found is None,
        "ms_per_trial_per_worker": args.workers * seconds * 1000 / trials,
        "peer": f"optuna {optuna.__version__}",
        "seconds": seconds,
        "trials": trials,
        "trials_per_second": trials / seconds,
        "worker_cpu_ms_per_trial": cpu * 1000 / trials,
        "workers": args.workers,
    }
    print(json.dumps(line, sort_keys=True), flush=True)
    if found is not None:
        sys.exit(f"optuna_storage_bench: the study is not as expected: {found}")


if __name__ == "__main__":
    main()

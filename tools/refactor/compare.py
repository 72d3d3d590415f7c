"""Compares two output directories of `tune search` for a refactor that must keep behaviour: summary.json, every
trial of study.sqlite (state, value, parameters, per-epoch values, attributes) and best/model (weights byte for byte,
model.json), leaving out only what measures time (seconds, rates per second, heartbeats, start and end times, the
throughput note). Prints each difference; exits 1 if there is any.

    python3 tools/refactor/compare.py BEFORE_DIR AFTER_DIR
"""
import json
import os
import re
import sqlite3
import sys

# What measures time or names the process, and the output directory's own path, which differ between any two runs.
TIMING = re.compile(r"(?i)(seconds|per_?second|heartbeat|started|ended|finished|elapsed|duration|_at$|At$|time$|throughput|^process$)")
NOTE = re.compile(r"throughput [^;]*|\d+(\.\d+)? ?rows/s")


OUT = []  # the directory being read, replaced by <out>

# Parameter names that a deliberate change respelled: the recipe recorded batch_size and weight_decay until the one
# settings schema (issue 14) gave every setting its flag's name. Read under the new names on both sides.
RENAMED = {"batch_size": "batch-size", "weight_decay": "weight-decay"}
RENAMED_IN_TEXT = re.compile(r"\b(" + "|".join(RENAMED) + r")=")


def normalise(value, key=""):
    if isinstance(value, dict):
        return {k: normalise(v, k) for k, v in sorted(value.items()) if not TIMING.search(k)}
    if isinstance(value, list):
        return [normalise(v, key) for v in value]
    if isinstance(value, str):
        for d in OUT:
            value = value.replace(d, "<out>")
        value = RENAMED_IN_TEXT.sub(lambda m: RENAMED[m.group(1)] + "=", value)
        return NOTE.sub("<timing>", value)
    return value


def read(directory, *path):
    OUT[:] = [os.path.abspath(directory), directory]
    full = os.path.join(directory, *path)
    return normalise(json.load(open(full))) if full.endswith(".json") else study(full)


def study(path):
    db = sqlite3.connect(path)
    trials = {}
    for number, state, value, failure in db.execute("SELECT number, state, value, failure FROM trials ORDER BY number"):
        trials[number] = {"state": state, "value": value, "failure": failure}
    for trial, name, value, distribution in db.execute("SELECT trial, name, value, distribution FROM parameters"):
        trials[trial].setdefault("parameters", {})[RENAMED.get(name, name)] = (value, distribution)
    for trial, step, value in db.execute("SELECT trial, step, value FROM intermediate"):
        trials[trial].setdefault("intermediate", {})[step] = value
    for trial, key, value in db.execute("SELECT trial, key, value FROM attributes"):
        if not TIMING.search(key):
            try:
                value = normalise(json.loads(value), key)
            except ValueError:
                pass
            if key == "fixed_parameters" and isinstance(value, dict):
                value = {RENAMED.get(k, k): v for k, v in value.items()}
            trials[trial].setdefault("attributes", {})[key] = value
    return trials


def differences(a, b, where=""):
    if type(a) is not type(b):
        yield f"{where}: {a!r} != {b!r}"
    elif isinstance(a, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                yield f"{where}.{k}: only in {'after' if k not in a else 'before'}"
            else:
                yield from differences(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        if len(a) != len(b):
            yield f"{where}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            yield from differences(x, y, f"{where}[{i}]")
    elif a != b:
        yield f"{where}: {str(a)[:200]!r} != {str(b)[:200]!r}"


def main(before, after):
    found = []
    found += differences(read(before, "summary.json"), read(after, "summary.json"), where="summary.json")
    found += differences(read(before, "study.sqlite"), read(after, "study.sqlite"), where="study")
    found += differences(read(before, "best", "model", "model.json"), read(after, "best", "model", "model.json"), where="model.json")
    paths = [os.path.join(d, "best", "model", "model.safetensors") for d in (before, after)]
    if open(paths[0], "rb").read() != open(paths[1], "rb").read():
        found.append("best/model/model.safetensors: the weights differ")
    for line in found[:60]:
        print(line)
    print(f"{before} against {after}: " + (f"{len(found)} differences" if found else "the same trials, decisions and best model"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))

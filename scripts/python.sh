#!/bin/sh
# Prints the path of a Python 3 that has numpy, safetensors, mlflow and tensorboard, for the tests that cross-check checkpoints
# with the reference safetensors implementation, read runs from a real MLflow tracking server and read event files through a real TensorBoard. Installs them when
# missing: with pip into the user's Python if that works, otherwise into a virtual environment under .build/python
# (needed where the system Python refuses pip, PEP 668). Python is never needed to run swift-tune itself.
set -eu
cd "$(dirname "$0")/.."
has() { "$1" -c 'import numpy, safetensors, mlflow, tensorboard' >/dev/null 2>&1; }
if command -v python3 >/dev/null 2>&1 && has python3; then command -v python3; exit 0; fi
venv=.build/python
if [ -x "$venv/bin/python3" ] && has "$venv/bin/python3"; then echo "$PWD/$venv/bin/python3"; exit 0; fi
if ! command -v python3 >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >&2
    else
        echo "swift-tune's tests need Python 3 (e.g. sudo apt-get install -y python3 python3-venv)" >&2
        exit 1
    fi
fi
if python3 -m pip install --quiet --disable-pip-version-check numpy safetensors mlflow tensorboard >&2 2>/dev/null && has python3; then
    command -v python3
    exit 0
fi
if ! python3 -m venv "$venv" >&2 2>/dev/null; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
        python3 -m venv "$venv" >&2
    else
        echo "swift-tune's tests need python3-venv (sudo apt-get install -y python3-venv)" >&2
        exit 1
    fi
fi
"$venv/bin/python3" -m pip install --quiet --disable-pip-version-check numpy safetensors mlflow tensorboard >&2
echo "$PWD/$venv/bin/python3"

#!/bin/sh
# The doctor's evaluation, end to end: build the corpus (swift-tune and PyTorch runs), label it by explicit criteria,
# and score `tune doctor` on the tuning part and the held-aside part.
#   sh tools/curves/run.sh [OUT]      (needs torch and tensorboard: pip install torch tensorboard)
set -eu
cd "$(dirname "$0")/../.."
out=${1:-.build/curves}
swift build -c release --product tune >/dev/null
python3 tools/curves/make_corpus.py "$out"
python3 tools/curves/label.py "$out"
python3 tools/curves/score.py "$out" --markdown
# A fresh corpus on other generated data and seeds, made after the thresholds were chosen: scored as a whole.
python3 tools/curves/make_corpus.py "$out-fresh" --data-seed=7
python3 tools/curves/label.py "$out-fresh"
python3 tools/curves/score.py "$out-fresh" --fresh --markdown

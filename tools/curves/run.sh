#!/bin/sh
# The doctor's evaluation, end to end: build the corpus (PyTorch and scikit-learn runs on seven datasets, written as
# TensorBoard event files and as Lightning metrics.csv + hparams.yaml), label it by the criteria of label.py, and score
# `tune doctor` leave one dataset out (the thresholds tuned on six datasets, scored on the seventh).
#   sh tools/curves/run.sh [OUT]     (dev-time: pip install torch scikit-learn pandas tensorboard; about 75 minutes on
#                                     2 cores the first time, a few minutes once the runs exist)
set -eu
cd "$(dirname "$0")/../.."
out=${1:-.build/curves}
python3 -c "import torch, sklearn, pandas, tensorboard" 2>/dev/null || {
    echo "tools/curves needs torch, scikit-learn, pandas and tensorboard: pip install torch scikit-learn pandas tensorboard" >&2
    exit 2
}
swift build -c release --product tune >/dev/null
python3 tools/curves/make_corpus.py "$out"
python3 tools/curves/label.py "$out"
echo "## Every run judged against the best run of its directory, with the constant predictor's loss"
python3 tools/curves/score.py "$out" --markdown
echo
echo "## Every run read alone (no reference), with the constant predictor's loss (the shipped thresholds)"
python3 tools/curves/score.py "$out" --markdown --alone --defaults
echo
echo "## Every run read alone, with nothing but its log files (the shipped thresholds)"
python3 tools/curves/score.py "$out" --markdown --alone --bare --defaults

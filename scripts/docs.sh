#!/bin/sh
# Builds the DocC documentation of every library module (swift-docc-plugin) and fails on any warning: a broken
# symbol link, an article that does not exist. The archives land in .build/plugins/Swift-DocC/outputs/.
#
#     sh scripts/docs.sh
set -eu
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
targets=""
for m in TuneRandom TuneTensor TuneNN TuneData TuneTraining TuneDiagnosis TuneSearch TuneExport TuneReport TuneRun \
    TuneEngine Tune TunePostgres; do
    targets="$targets --target $m"
done
# shellcheck disable=SC2086
$SWIFT package generate-documentation $targets --warnings-as-errors

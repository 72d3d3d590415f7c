#!/bin/sh
# Does a refactor keep behaviour? Builds BASE (a git revision, in a worktree) and the working tree in release mode,
# runs the same three searches with each (the recipe and TPE on digits with a 300-epoch budget at one BLAS thread, and
# a --jobs 2 recipe on generated moons), and compares trials, decisions and the best model bit for bit
# (tools/refactor/compare.py). Needs ../shared/data/digits.csv and python3. With AFTER=REVISION in the environment,
# that revision (in a second worktree) is compared instead of the working tree, which can then be edited meanwhile.
# The base's outputs are run once per base revision and kept in WORKDIR/before (AFTER=none: only record them).
#
#     sh tools/refactor/same-behaviour.sh BASE [WORKDIR]
#     AFTER=HEAD sh tools/refactor/same-behaviour.sh BASE [WORKDIR]
set -eu
base=${1:?usage: same-behaviour.sh BASE_REVISION [WORKDIR]}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${2:-${TMPDIR:-/tmp}/swift-tune-same-behaviour}
digits="$root/../shared/data/digits.csv"
[ -f "$digits" ] || { echo "same-behaviour.sh: $digits is missing" >&2; exit 2; }
mkdir -p "$work"
if [ ! -d "$work/base" ]; then
    git -C "$root" worktree add --detach "$work/base" "$base" >/dev/null
fi
git -C "$work/base" checkout --detach -q "$base"

runs() {  # runs() TREE NAME: build TREE and run the three searches into $work/NAME
    tree=$1; out="$work/$2"
    (cd "$tree" && swift build -c release --product tune >/dev/null)
    tune="$tree/.build/release/tune"
    rm -rf "$out"; mkdir -p "$out"
    OPENBLAS_NUM_THREADS=1 "$tune" search --data "$digits" --target digit --budget 300epochs --out "$out/recipe" >"$out/recipe.log"
    OPENBLAS_NUM_THREADS=1 "$tune" search --data "$digits" --target digit --strategy tpe --budget 300epochs --out "$out/tpe" >"$out/tpe.log"
    [ -f "$work/moons.csv" ] || "$tune" generate moons --rows 600 --seed 3 --out "$work/moons.csv" >/dev/null
    "$tune" search --data "$work/moons.csv" --target label --jobs 2 --epochs 12 --members 2 --out "$out/jobs2" >"$out/jobs2.log"
}

# The base's outputs are kept with the revision they came from and reused while it stays the same.
base_rev=$(git -C "$root" rev-parse "$base")
if [ "$(cat "$work/before/.revision" 2>/dev/null)" != "$base_rev" ]; then
    runs "$work/base" before
    echo "$base_rev" >"$work/before/.revision"
fi
[ "${AFTER:-}" = "none" ] && exit 0
if [ -n "${AFTER:-}" ]; then
    [ -d "$work/head" ] || git -C "$root" worktree add --detach "$work/head" "$AFTER" >/dev/null
    git -C "$work/head" checkout --detach -q "$(git -C "$root" rev-parse "$AFTER")"
    runs "$work/head" after
else
    runs "$root" after
fi
status=0
for name in recipe tpe jobs2; do
    python3 "$root/tools/refactor/compare.py" "$work/before/$name" "$work/after/$name" || status=1
done
exit $status

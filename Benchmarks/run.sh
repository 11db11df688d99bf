#!/usr/bin/env bash
# Benchmark dispatcher (`make bench`): runs every Benchmarks/bench-*.sh, or the ones named as arguments
# (e.g. `Benchmarks/run.sh snapshot-create`). Each script is self-contained and prints its own figures.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ "$#" -gt 0 ]; then
  scripts=(); for n in "$@"; do scripts+=("$here/bench-$n.sh"); done
else
  scripts=("$here"/bench-*.sh)
fi
for s in "${scripts[@]}"; do
  echo "== $(basename "$s" .sh)"
  bash "$s"
done

#!/usr/bin/env bash
# Index load time and peak memory (kopia-format.md §13): the largest fixture, then a synthetic 1M-entry index.
# Measured with /usr/bin/time -v; figures are printed, not asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product kopia-index-bench >/dev/null
bench="$(swift build -c release --show-bin-path)/kopia-index-bench"
fixtures="${FERRY_FIXTURES:-../shared/fixtures/kopia}"
report() { grep -E "index blobs|index load|Elapsed|Maximum resident" ; }
echo "-- fs-multichunk (largest fixture)"
/usr/bin/time -v "$bench" load "$fixtures/fs-multichunk" 2>&1 | report
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$bench" generate "$tmp/synthetic" "${ENTRIES:-1000000}" 8 "$fixtures/fs-default" >/dev/null
echo "-- synthetic ${ENTRIES:-1000000} entries in 8 index blobs"
/usr/bin/time -v "$bench" load "$tmp/synthetic" 2>&1 | report

#!/usr/bin/env bash
# Refresh of an opened repository after one new snapshot (issue 13): the incremental refresh
# (`KopiaRepository.refreshed`: only added index blobs and manifest contents read, the rest merged from the previous
# load) against a full reload of every index blob and manifest (what a refresh did before), in the same run, in
# alternating order, with each one's peak RSS above its start. Two repositories:
#   1. written by `ferry snapshot create`: FILES (100000) small files, then SNAPSHOTS (80) snapshots of a 2000-file
#      tree with half its files changed each time (many index blobs and manifests);
#   2. synthetic: 1,000,000 index entries in 100 index blobs (kopia-index-bench generate; no manifests).
# Figures are printed, not asserted. FERRY_BIN overrides the ferry binary (default: the debug build).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product kopia-index-bench >/dev/null
bench="$(swift build -c release --show-bin-path)/kopia-index-bench"
ferry="${FERRY_BIN:-$(swift build --show-bin-path)/ferry}"
[ -x "$ferry" ] || swift build --product ferry >/dev/null
fixtures="${FERRY_FIXTURES:-../shared/fixtures/kopia}"
work="$(mktemp -d /var/tmp/ferry-bench-refresh.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export KOPIA_PASSWORD=bench-password
python3 Benchmarks/gen-small-tree.py "$work/big" "${FILES:-100000}" 400 >/dev/null
python3 Benchmarks/gen-small-tree.py "$work/small" 2000 400 >/dev/null
"$ferry" repo create --repo "$work/repo" >/dev/null
"$ferry" snapshot create --repo "$work/repo" "$work/big" --identity bench@big:/big >/dev/null
for _ in $(seq 1 "${SNAPSHOTS:-80}"); do
  python3 Benchmarks/gen-small-tree.py --touch "$work/small" 50 >/dev/null
  "$ferry" snapshot create --repo "$work/repo" "$work/small" --identity bench@small:/small >/dev/null
done
echo "-- written by ferry snapshot create: ${FILES:-100000} files, then ${SNAPSHOTS:-80} snapshots of 2000 files"
"$bench" refresh "$work/repo" bench-password "$work/small" "${ROUNDS:-4}"
echo "-- synthetic: 1000000 entries in 100 index blobs"
"$bench" generate "$work/gen" 1000000 100 "$fixtures/fs-default" >/dev/null
"$bench" refresh "$work/gen" fixture-password "$work/small" "${ROUNDS:-4}"

#!/usr/bin/env bash
# Kube client benchmarks: watch-event throughput (10,000 events through one watch, decoded) and informer memory
# (RSS growth while caching 10,000 PVCs), against the loopback test API server in the same process.
# Usage: Benchmarks/bench-kube.sh            (debug build, as `make test` builds it)
#        CONFIG=release Benchmarks/bench-kube.sh
set -euo pipefail
cd "$(dirname "$0")/.."
config="${CONFIG:-debug}"
swift build -c "$config" --build-tests >/dev/null
FERRY_BENCH=1 swift test -c "$config" --skip-build --filter KubeBenchmarks 2>&1 | grep -E "^BENCH|✘" || true

#!/usr/bin/env bash
# Controller benchmark (issue 12): claims through DataSourceLinks to snapshots in other namespaces, grant-to-
# CreateVolume latency, and the RSS of `ferry controller` with many claims cached.
#   Benchmarks/bench-controller.sh [--claims 1000] [--latency-samples 100] [--cached 10000] [--slow-sample 40]
#   CONFIG=release Benchmarks/bench-controller.sh      (default: debug, as `make test` builds it)
set -euo pipefail
cd "$(dirname "$0")/.."
config="${CONFIG:-debug}"
swift build -c "$config" -j 2 --product ferry >/dev/null
swift build -c "$config" -j 2 --product controller-bench >/dev/null
"$(swift build -c "$config" --show-bin-path)/controller-bench" "$@"

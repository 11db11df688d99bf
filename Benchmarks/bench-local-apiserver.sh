#!/usr/bin/env bash
# The local control plane's API server with 10,000 PVCs stored: writes/s (merge patches through HTTPS by concurrent
# clients), watch events/s (5 watchers during the writes; one watch replaying them), and the same run's baseline
# (GET /version round trips over the same transport). Release build; figures are printed as JSON, not asserted.
# Knobs: STORED (10000), WRITERS (16), WATCHERS (5), SECONDS_PER_PHASE (4).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product local-apiserver-bench >/dev/null
"$(swift build -c release --show-bin-path)/local-apiserver-bench"

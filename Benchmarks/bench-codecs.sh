#!/usr/bin/env bash
# Codec throughput (AES-GCM, content hashes, zstd/S2/gzip) in a release build; figures are printed, not asserted.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product kopia-codec-bench >/dev/null
"$(swift build -c release --show-bin-path)/kopia-codec-bench"

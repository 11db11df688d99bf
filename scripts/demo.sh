#!/usr/bin/env bash
# The README's main command on the embedded default (no cluster, no network).
set -euo pipefail
cd "$(dirname "$0")/.."
ferry="$(swift build -c release --show-bin-path)/ferry"
"$ferry" --help

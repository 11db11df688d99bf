#!/usr/bin/env bash
# The README's main command on the embedded default (no cluster, no network).
# Until Ferry's write path exists, the demo reads the fixture repository ../shared/fixtures/kopia/fs-default
# (written by kopia 0.12.1): it lists the snapshots and browses the newest one.
set -euo pipefail
cd "$(dirname "$0")/.."
ferry="$(swift build -c release --show-bin-path)/ferry"
repo="$(cd ../shared/fixtures/kopia/fs-default && pwd)"

# The same variables VolSync's kopia-config Secret provides.
export KOPIA_REPOSITORY="filesystem://$repo"
export KOPIA_PASSWORD="fixture-password"

step() { printf '\n$ %s\n' "$*"; }

echo "Ferry demo: reading the Kopia repository $KOPIA_REPOSITORY"
step ferry snapshot list
"$ferry" snapshot list
newest="$("$ferry" snapshot list | awk 'NR == 2 { print $1 }')"
step ferry ls -l --snapshot "${newest:0:8}"
"$ferry" ls -l --snapshot "${newest:0:8}"
step ferry ls -l --identity webapp-backup-production@production:/data --previous 2 docs
"$ferry" ls -l --identity webapp-backup-production@production:/data --previous 2 docs
step ferry ls --snapshot 0000   "# errors: one line, documented exit code (ferry --help)"
"$ferry" ls --snapshot 0000 2>&1 || echo "(exit code $?)"

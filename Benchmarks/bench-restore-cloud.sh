#!/usr/bin/env bash
# `ferry snapshot create` + `ferry restore` of the generated mixed tree through gcs:// (the real GCS emulator,
# fake-gcs-server, in memory) and azure:// (Tests/Support/KopiaTestSupport/Scripts/azure_blob_server.py, which
# checks a Shared Key signature on every request) beside the same commands on a filesystem repository, in one run.
# BENCH_SIZE_MB (default 512) sets the tree size, BENCH_DIR the work directory (kept with BENCH_KEEP=1),
# FERRY the binary (default: the release build). Both servers are single local processes (the Azure one is
# Python's threading HTTP server), so the figures measure Ferry against slow local peers, not the cloud services.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
source "$here/lib/restore-bench.sh"
bench_setup cloud 512
scripts="$here/../Tests/Support/KopiaTestSupport/Scripts"
gport="$(free_port)"; aport="$(free_port)"
gcs_bin="$(python3 "$scripts/locate_fake_gcs.py")"
"$gcs_bin" -scheme http -backend memory -host 127.0.0.1 -port "$gport" -public-host "127.0.0.1:$gport" \
  -log-level error > "$work/gcs.log" 2>&1 &
gpid=$!
key="$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(64)).decode())')"
python3 "$scripts/azure_blob_server.py" "$aport" benchacct "$key" 5000 > "$work/azure.log" 2>&1 &
apid=$!
trap 'kill -9 $gpid $apid 2>/dev/null; wait $gpid $apid 2>/dev/null || true; [ -z "${BENCH_KEEP:-}" ] && rm -rf "$work"' EXIT
wait_port "$gport" fake-gcs-server
wait_port "$aport" "the Azure blob server"
echo '[{"op":"create-bucket","bucket":"bench"}]' | python3 "$scripts/gcs_peer.py" "http://127.0.0.1:$gport" > /dev/null
echo '[{"op":"create-container","container":"bench"}]' | \
  python3 "$scripts/azure_peer.py" "http://127.0.0.1:$aport/benchacct" benchacct "$key" > /dev/null
export KOPIA_PASSWORD=bench-password STORAGE_EMULATOR_HOST="127.0.0.1:$gport"
export AZURE_STORAGE_ACCOUNT=benchacct AZURE_STORAGE_KEY="$key" AZURE_STORAGE_DOMAIN="http://localhost:$aport"

bench_tree
bench_restore restore-cloud "binary $ferry" filesystem="filesystem://$work/fs-repo" gcs=gcs://bench/ferry \
  azure=azure://bench/ferry

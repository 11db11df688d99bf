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
size="${BENCH_SIZE_MB:-512}"
work="${BENCH_DIR:-$(mktemp -d /tmp/ferry-bench-cloud.XXXXXX)}"
ferry="${FERRY:-$(swift build -c release --show-bin-path)/ferry}"
[ -x "$ferry" ] || { echo "bench: build ferry first (make release) or set FERRY"; exit 1; }
scripts="$here/../Tests/Support/KopiaTestSupport/Scripts"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
gport="$(free_port)"; aport="$(free_port)"
gcs_bin="$(python3 "$scripts/locate_fake_gcs.py")"
"$gcs_bin" -scheme http -backend memory -host 127.0.0.1 -port "$gport" -public-host "127.0.0.1:$gport" \
  -log-level error > "$work/gcs.log" 2>&1 &
gpid=$!
key="$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(64)).decode())')"
python3 "$scripts/azure_blob_server.py" "$aport" benchacct "$key" 5000 > "$work/azure.log" 2>&1 &
apid=$!
trap 'kill -9 $gpid $apid 2>/dev/null; wait $gpid $apid 2>/dev/null || true; [ -z "${BENCH_KEEP:-}" ] && rm -rf "$work"' EXIT
for p in "$gport" "$aport"; do
  python3 - "$p" <<'PY'
import socket, sys, time
for _ in range(600):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close(); sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("bench: a server did not start")
PY
done
echo '[{"op":"create-bucket","bucket":"bench"}]' | python3 "$scripts/gcs_peer.py" "http://127.0.0.1:$gport" > /dev/null
echo '[{"op":"create-container","container":"bench"}]' | \
  python3 "$scripts/azure_peer.py" "http://127.0.0.1:$aport/benchacct" benchacct "$key" > /dev/null
export KOPIA_PASSWORD=bench-password STORAGE_EMULATOR_HOST="127.0.0.1:$gport"
export AZURE_STORAGE_ACCOUNT=benchacct AZURE_STORAGE_KEY="$key" AZURE_STORAGE_DOMAIN="http://localhost:$aport"

tree="$work/tree"
[ -d "$tree" ] || { echo "bench: generating a ${size} MiB mixed tree in $tree"; python3 "$here/gen-tree.py" "$tree" "$size"; }

python3 - "$work" "$ferry" <<'PY'
import os, shutil, subprocess, sys, time
work, ferry = sys.argv[1], sys.argv[2]
tree = f"{work}/tree"
locations = {"filesystem": f"filesystem://{work}/fs-repo", "gcs": "gcs://bench/ferry", "azure": "azure://bench/ferry"}

def timed(name, argv):
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {name} failed")
    return time.monotonic() - t0, usage.ru_maxrss / 1024

mib = sum(os.lstat(os.path.join(d, f)).st_size for d, _, fs in os.walk(tree) for f in fs) / 2**20
rows = []
for kind, repo in locations.items():
    subprocess.run([ferry, "repo", "create", "--repo", repo], check=True, stdout=subprocess.DEVNULL)
    w, _ = timed(f"snapshot create ({kind})", [ferry, "snapshot", "create", tree, "--repo", repo,
                                               "--identity", "bench@bench:/tree"])
    out = f"{work}/restored-{kind}"
    shutil.rmtree(out, ignore_errors=True)
    r, rss = timed(f"restore ({kind})", [ferry, "restore", "--repo", repo, "--target", out, "--sparse"])
    same = subprocess.run(["diff", "-r", "--no-dereference", "-q", tree, out], capture_output=True).returncode == 0
    rows.append((kind, w, r, rss, same))
    shutil.rmtree(out, ignore_errors=True)
print(f"restore-cloud: tree {mib:.0f} MiB, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
      f"binary {ferry}")
for kind, w, r, rss, same in rows:
    print(f"  {kind:10s} snapshot create {w:7.2f} s {mib / w:7.1f} MiB/s | restore {r:7.2f} s {mib / r:7.1f} MiB/s"
          f"  peak RSS {rss:6.1f} MiB  identical: {'yes' if same else 'NO'}")
for kind, w, r, _, _ in rows[1:]:
    print(f"  {kind}/filesystem ratio: snapshot create {w / rows[0][1]:.2f}, restore {r / rows[0][2]:.2f}")
if not all(r[4] for r in rows):
    sys.exit(1)
PY

#!/usr/bin/env bash
# `ferry restore` of the generated mixed tree from a loopback S3 server (moto) beside the same restore from a
# filesystem repository, in one run (issue 6). Both repositories are written by `ferry snapshot create`.
# BENCH_SIZE_MB (default 1024) sets the tree size, BENCH_DIR (default a temp dir) the work directory
# (kept with BENCH_KEEP=1). moto is a single Python process that closes the connection after every response, so
# the S3 figure measures Ferry against a slow server, not Ferry's S3 client at its best.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
size="${BENCH_SIZE_MB:-1024}"
work="${BENCH_DIR:-$(mktemp -d /tmp/ferry-bench-s3.XXXXXX)}"
ferry="$(swift build -c release --show-bin-path)/ferry"
[ -x "$ferry" ] || { echo "bench: build ferry first (make release)"; exit 1; }
command -v moto_server >/dev/null || { echo "bench: moto_server missing (scripts/setup.sh installs it)"; exit 1; }

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
moto_server -H 127.0.0.1 -p "$port" > "$work/moto.log" 2>&1 &
moto=$!
trap 'kill -9 $moto 2>/dev/null; wait $moto 2>/dev/null || true; [ -z "${BENCH_KEEP:-}" ] && rm -rf "$work"' EXIT
python3 - "$port" <<'PY'
import socket, sys, time
for _ in range(600):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close(); sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("bench: moto did not start")
PY
export KOPIA_PASSWORD=bench-password AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret
export AWS_S3_ENDPOINT="http://127.0.0.1:$port" AWS_REGION=us-east-1
python3 -c "import boto3, os; boto3.client('s3', endpoint_url=os.environ['AWS_S3_ENDPOINT'], region_name='us-east-1').create_bucket(Bucket='bench')"

tree="$work/tree"
[ -d "$tree" ] || { echo "bench: generating a ${size} MiB mixed tree in $tree"; python3 "$here/gen-tree.py" "$tree" "$size"; }

python3 - "$work" "$ferry" <<'PY'
import os, shutil, subprocess, sys, time
work, ferry = sys.argv[1], sys.argv[2]
tree = f"{work}/tree"
locations = {"filesystem": f"filesystem://{work}/fs-repo", "s3": "s3://bench/ferry/"}

def timed(name, argv):
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {name} failed")
    return time.monotonic() - t0, usage.ru_maxrss / 1024

def listing(root):
    rows = []
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n); st = os.lstat(p)
            rows.append((os.path.relpath(p, root), st.st_mode, 0 if os.path.isdir(p) else st.st_size,
                         os.readlink(p) if os.path.islink(p) else ""))
    return sorted(rows)

mib = sum(os.lstat(os.path.join(d, f)).st_size for d, _, fs in os.walk(tree) for f in fs) / 2**20
rows = []
for kind, repo in locations.items():
    subprocess.run([ferry, "repo", "create", "--repo", repo], check=True, stdout=subprocess.DEVNULL)
    w, _ = timed(f"snapshot create ({kind})", [ferry, "snapshot", "create", tree, "--repo", repo,
                                               "--identity", "bench@bench:/tree"])
    out = f"{work}/restored-{kind}"
    shutil.rmtree(out, ignore_errors=True)
    r, rss = timed(f"restore ({kind})", [ferry, "restore", "--repo", repo, "--target", out, "--sparse"])
    same = listing(tree) == listing(out) and subprocess.run(
        ["diff", "-r", "--no-dereference", "-q", tree, out], capture_output=True).returncode == 0
    rows.append((kind, w, r, rss, same))
    shutil.rmtree(out, ignore_errors=True)
print(f"restore-s3: tree {mib:.0f} MiB, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; S3 = moto on loopback")
for kind, w, r, rss, same in rows:
    print(f"  {kind:10s} snapshot create {w:7.2f} s {mib / w:7.1f} MiB/s | restore {r:7.2f} s {mib / r:7.1f} MiB/s"
          f"  peak RSS {rss:6.1f} MiB  identical: {'yes' if same else 'NO'}")
fs, s3 = rows[0], rows[1]
print(f"  S3/filesystem restore wall-time ratio: {s3[2] / fs[2]:.2f}")
if not all(r[4] for r in rows):
    sys.exit(1)
PY

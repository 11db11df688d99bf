#!/usr/bin/env bash
# `ferry snapshot create` vs `restic backup` of the same generated mixed tree, in one run.
# BENCH_SIZE_MB (default 1024) sets the tree size; BENCH_DIR (default a temp dir) holds tree and repositories.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
size="${BENCH_SIZE_MB:-1024}"
work="${BENCH_DIR:-$(mktemp -d /tmp/ferry-bench-snap.XXXXXX)}"
trap '[ -z "${BENCH_KEEP:-}" ] && rm -rf "$work"' EXIT
ferry="$(swift build -c release --show-bin-path)/ferry"
command -v restic >/dev/null || { echo "bench: restic missing (scripts/setup.sh installs it)"; exit 1; }

tree="$work/tree"
if [ ! -d "$tree" ]; then
  echo "bench: generating a ${size} MiB mixed tree in $tree"
  python3 "$here/gen-tree.py" "$tree" "$size"
fi
bytes=$(du -sb --apparent-size "$tree" | cut -f1)
files=$(find "$tree" -type f | wc -l)
sync
now() { date +%s.%N; }
export KOPIA_PASSWORD=bench-password RESTIC_PASSWORD=bench-password

rm -rf "$work/ferry-repo" "$work/restic-repo" "$work/ferry-repo-zstd"
"$ferry" repo create --repo "$work/ferry-repo" >/dev/null
t0=$(now)
"$ferry" snapshot create --repo "$work/ferry-repo" "$tree" --identity bench@bench:/tree --parallel "${BENCH_PARALLEL:-4}" --json > "$work/ferry.json"
t1=$(now)
rm -rf "$work/ferry-repo-zstd"
"$ferry" repo create --repo "$work/ferry-repo-zstd" >/dev/null
t4=$(now)
"$ferry" snapshot create --repo "$work/ferry-repo-zstd" "$tree" --identity bench@bench:/tree --parallel "${BENCH_PARALLEL:-4}" --compression zstd-fastest > /dev/null
t5=$(now)
restic init --repo "$work/restic-repo" -q
t2=$(now)
restic backup --repo "$work/restic-repo" -q "$tree" >/dev/null
t3=$(now)

python3 - "$bytes" "$files" "$t0" "$t1" "$t2" "$t3" "$work" "$t4" "$t5" <<'PY'
import sys, subprocess
b, n = int(sys.argv[1]), int(sys.argv[2])
t0, t1, t2, t3 = map(float, sys.argv[3:7]); work = sys.argv[7]; t4, t5 = map(float, sys.argv[8:10])
def du(p): return int(subprocess.check_output(["du", "-sb", p]).split()[0])
fs, rs = t1 - t0, t3 - t2
print(f"snapshot-create: tree {b/2**20:.0f} MiB, {n} files (2 cores)")
print(f"  ferry snapshot create  {fs:7.2f} s  {b/fs/2**20:7.1f} MiB/s  repo {du(work+'/ferry-repo')/2**20:7.1f} MiB")
print(f"  ferry ... zstd-fastest {t5-t4:7.2f} s  {b/(t5-t4)/2**20:7.1f} MiB/s  repo {du(work+'/ferry-repo-zstd')/2**20:7.1f} MiB")
print(f"  restic backup          {rs:7.2f} s  {b/rs/2**20:7.1f} MiB/s  repo {du(work+'/restic-repo')/2**20:7.1f} MiB")
print(f"  ferry/restic wall-time ratio: {fs/rs:.2f} (below 1 = ferry faster)")
PY

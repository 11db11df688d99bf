# Sourced by Benchmarks/bench-restore-*.sh: the work directory, the binary, the tree, loopback ports and the timing
# run they share. Expects `here` (the Benchmarks directory) and `set -euo pipefail`; sets size, work, ferry, tree.
#   bench_setup NAME DEFAULT_MB   BENCH_SIZE_MB, BENCH_DIR (kept with BENCH_KEEP=1) and FERRY (default: the release
#                                 build) as every restore benchmark reads them
#   free_port                     prints a free loopback TCP port
#   wait_port PORT WHAT           waits up to 60 s for a listener on PORT
#   bench_tree                    generates the mixed tree (gen-tree.py) unless BENCH_DIR already holds one
#   bench_restore LABEL NOTE NAME=REPOSITORY…   lib/restore_timing.py (the first repository is the baseline)

bench_setup() {
  size="${BENCH_SIZE_MB:-$2}"
  work="${BENCH_DIR:-$(mktemp -d "/tmp/ferry-bench-$1.XXXXXX")}"
  ferry="${FERRY:-$(swift build -c release --show-bin-path)/ferry}"
  [ -x "$ferry" ] || { echo "bench: build ferry first (make release) or set FERRY"; exit 1; }
  tree="$work/tree"
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_port() {
  python3 - "$1" "$2" <<'PY'
import socket, sys, time
for _ in range(600):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close(); sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(f"bench: {sys.argv[2]} did not start")
PY
}

bench_tree() {
  [ -d "$tree" ] || { echo "bench: generating a ${size} MiB mixed tree in $tree"; python3 "$here/gen-tree.py" "$tree" "$size"; }
}

bench_restore() { python3 "$here/lib/restore_timing.py" "$work" "$ferry" "$@"; }

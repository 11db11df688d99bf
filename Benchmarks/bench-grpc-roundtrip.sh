#!/usr/bin/env bash
# Unary CSI round trips over a Unix socket (GetPluginInfo), server and client in separate processes:
# Ferry client -> Ferry server (defaults, then with busy polling off), and Python grpcio client -> grpcio
# server, in the same run.
# Sequential calls give p50/p99; 16 concurrent callers give calls/s. Figures are printed, not asserted.
# Knobs: SEQUENTIAL (2000), CALLERS (16), PER_CALLER (500). Results also go to bench-out/grpc-roundtrip.json.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product grpc-roundtrip-bench >/dev/null
bench="$(swift build -c release --show-bin-path)/grpc-roundtrip-bench"
seq="${SEQUENTIAL:-2000}" callers="${CALLERS:-16}" per="${PER_CALLER:-500}"
tmp="$(mktemp -d /tmp/ferry-bench-grpc.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

python3 Tests/CSITests/Scripts/csi_peer.py gen "$tmp" proto

"$bench" serve "$tmp/ferry.sock" >/dev/null & pids+=($!)
ferry_json="$("$bench" client "unix://$tmp/ferry.sock" "$seq" "$callers" "$per")"
kill "${pids[-1]}"

FERRY_BENCH_BUSY_POLL_US=0 "$bench" serve "$tmp/ferry-nopoll.sock" >/dev/null & pids+=($!)
nopoll_json="$(FERRY_BENCH_BUSY_POLL_US=0 "$bench" client "unix://$tmp/ferry-nopoll.sock" "$seq" "$callers" "$per")"
kill "${pids[-1]}"

python3 Benchmarks/GRPCRoundTrip/grpcio_bench.py serve "$tmp/py.sock" "$tmp" >/dev/null & pids+=($!)
py_json="$(python3 Benchmarks/GRPCRoundTrip/grpcio_bench.py client "$tmp/py.sock" "$tmp" "$seq" "$callers" "$per")"

mkdir -p bench-out
FERRY="$ferry_json" NOPOLL="$nopoll_json" PY="$py_json" python3 - <<'PY'
import json, os
f, n, p = json.loads(os.environ["FERRY"]), json.loads(os.environ["NOPOLL"]), json.loads(os.environ["PY"])
print(f"{'':22}{'p50 µs':>10}{'p99 µs':>10}{'mean µs':>10}{'calls/s':>12}   ({int(f['sequential_calls'])} sequential, "
      f"{int(f['concurrent_callers'])} concurrent callers)")
for name, r in (("Ferry <-> Ferry", f), ("  busy polling off", n), ("grpcio <-> grpcio", p)):
    print(f"{name:22}{r['p50_us']:10.1f}{r['p99_us']:10.1f}{r['mean_us']:10.1f}{r['calls_per_s']:12.0f}")
print(f"{'grpcio / Ferry':22}{p['p50_us']/f['p50_us']:10.2f}{p['p99_us']/f['p99_us']:10.2f}"
      f"{p['mean_us']/f['mean_us']:10.2f}{f['calls_per_s']/p['calls_per_s']:12.2f}   (calls/s: Ferry / grpcio)")
json.dump({"ferry": f, "ferry_busy_poll_off": n, "grpcio": p}, open("bench-out/grpc-roundtrip.json", "w"), indent=2, sort_keys=True)
PY

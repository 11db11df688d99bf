#!/usr/bin/env bash
# libFuzzer campaign over Ferry's parsers of outside bytes (issue 17 item 10). Not part of `make test`.
#
#   Benchmarks/Fuzz/fuzz.sh [TARGET…]          FUZZ_SECONDS=20 per target (default), all targets when none named
#
# Builds `ferry-fuzz` into .build-fuzz/ with AddressSanitizer and sanitizer coverage (-DFUZZING links libFuzzer's
# driver from libclang_rt.fuzzer_no_main), seeds a corpus per target from Ferry's own encoders, runs each target
# with a time, memory and per-input limit, and prints executions and findings. Crash reproducers land in
# .build-fuzz/findings/TARGET/; replay one with a normal build: `swift run ferry-fuzz TARGET FILE`.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${FUZZ_SECONDS:-20}
all="index directory manifest format codecs ecc objectid time kubejson watch s3xml epochs"
targets=${*:-$all}
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")
fuzzlib=$(ls "$toolchain"/lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a | head -n 1)
swift build -c debug --build-path .build-fuzz --product ferry-fuzz -j "${JOBS:-2}" \
  -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table -Xswiftc -DFUZZING \
  -Xlinker "$fuzzlib" -Xlinker -lstdc++ | { grep -E "error|complete" || true; } | tail -5
bin=.build-fuzz/debug/ferry-fuzz
summary=()
for t in $targets; do
  corpus=.build-fuzz/corpus/$t findings=.build-fuzz/findings/$t
  mkdir -p "$corpus" "$findings"
  "$bin" "$t" --write-seeds "$corpus"
  log=.build-fuzz/$t.log
  set +e
  ASAN_OPTIONS=detect_leaks=0 "$bin" "$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  found=$(ls "$findings" | wc -l)
  summary+=("$t: $execs executions, exit $rc, $found finding(s)")
  echo "${summary[-1]}"
done
printf '%s\n' "== fuzz summary (${seconds}s per target)" "${summary[@]}"

#!/usr/bin/env bash
# Runs every test, in groups, each group in its own test process (run after `swift build --build-tests`).
#
# Why groups: swift-testing runs a process's tests in parallel on Swift's cooperative pool, which is as wide as
# the machine (2 threads here). Suites that wait on subprocesses (the CLI suites run the `ferry` binary, the S3
# suites start moto) would otherwise starve timing-sensitive suites (leader election, gRPC deadlines) of threads.
# A group per process keeps each pool to itself. The last group runs whatever the others skip, so a new test
# target is never silently left out.
set -uo pipefail
cd "$(dirname "$0")/.."
SWIFT="${SWIFT:-swift}"
failed=()
total=0
log=$(mktemp)
# Every `swift test` leaves ~5 empty /tmp/TemporaryDirectory.* behind (SwiftPM's swiftc probes, not the tests), and
# tests put their own files under FileManager.temporaryDirectory: both go to a private TMPDIR removed at exit.
run_tmp=$(mktemp -d /tmp/ferry-tests.XXXXXX)
export TMPDIR="$run_tmp"
trap 'rm -f "$log"; rm -rf "$run_tmp"' EXIT

run_group() {
  local name="$1"; shift
  echo "== test group: $name"
  local start rc
  start=$(date +%s)
  "$SWIFT" test --skip-build "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  # swift-testing closes with "Test run with N tests … passed|failed … with K issues".
  local n
  n=$(grep -oE 'Test run with [0-9]+ test' "$log" | tail -n 1 | grep -oE '[0-9]+')
  total=$(( total + ${n:-0} ))
  # A filter that matches nothing, or a run that never started its tests, passes with "0 tests": count it failed.
  if [ "$rc" -eq 0 ] && [ "${n:-0}" -eq 0 ]; then echo "== test group: $name ran no tests"; rc=1; fi
  echo "== test group: $name finished in $(( $(date +%s) - start )) s, exit $rc"
  [ "$rc" -eq 0 ] || failed+=("$name")
}

run_group kopia --filter 'KopiaTests' --skip 'S3|GCS|Azure'
run_group s3    --filter 'S3'
run_group cloud --filter 'GCS|Azure'
run_group cli   --filter 'FerryCLITests' --skip 'S3|GCS|Azure'
run_group kube  --filter 'KubeTests|CurlHTTPTests|FerryCoreTests'
run_group csi   --filter 'CSITests|GRPCTransportTests'
# Issue 17's 200x start/stop cancellation storm, in its own process (it keeps the 2-thread pool busy).
run_group lifecycle --filter 'LifecycleStressTests'
run_group controllers --filter 'FerryControllersTests'
# Local clusters started by the suites dump their stores here on stop; the sweep below validates them.
export FERRY_STORE_DUMP_DIR="${FERRY_STORE_DUMP_DIR:-$(mktemp -d)}"
run_group cluster --filter 'LocalClusterTests'
run_group e2e   --filter 'EndToEndTests' --skip 'ControllerEndToEndTests|ControllerCrashSafetyEndToEndTests|PythonDriverEndToEndTests'
# The `ferry controller` end-to-end suites (timing goals: grant → Bound within 1 s): one process each, not in parallel.
run_group e2e-controller --filter 'ControllerEndToEndTests'
run_group e2e-crash --filter 'ControllerCrashSafetyEndToEndTests'
run_group e2e-python-driver --filter 'PythonDriverEndToEndTests'
# The Helm chart (rendered, linted, validated by real tools) and the container image checks: pytest suites.
echo "== test group: chart"
chart_start=$(date +%s)
if python3 -m pytest -q helm/tests Tests/ImageTests 2>&1 | tee "$log"; then rc=0; else rc=1; fi
n=$(grep -oE '^[0-9]+ passed' "$log" | tail -n 1 | grep -oE '[0-9]+')
total=$(( total + ${n:-0} ))
echo "== test group: chart finished in $(( $(date +%s) - chart_start )) s, exit $rc"
[ "$rc" -eq 0 ] || failed+=(chart)
covered='KopiaTests|S3|GCS|Azure|FerryCLITests|KubeTests|CurlHTTPTests|FerryCoreTests|CSITests|GRPCTransportTests|LifecycleStressTests|FerryControllersTests|LocalClusterTests|EndToEndTests'
if "$SWIFT" test list --skip-build 2>/dev/null | grep -qvE "$covered"; then
  run_group rest --skip "$covered"
fi
# The demo (scripts/demo.sh) on the local control plane, driven with kubectl, against the debug build: one test.
echo "== test group: demo"
demo_start=$(date +%s)
if FERRY_BIN_DIR=.build/debug timeout 170 bash scripts/demo.sh > "$log" 2>&1; then rc=0; total=$(( total + 1 )); else rc=1; cat "$log"; fi
grep -E '^RESULT' "$log" || true
echo "== test group: demo finished in $(( $(date +%s) - demo_start )) s, exit $rc"
[ "$rc" -eq 0 ] || failed+=(demo)

# After every suite that runs local clusters: each built-in object they stored must be valid against the official
# OpenAPI schema (kubernetes-validate, strict).
echo "== test group: store-sweep"
if python3 scripts/validate-store-dumps.py "$FERRY_STORE_DUMP_DIR"; then :; else failed+=(store-sweep); fi
rm -rf "$FERRY_STORE_DUMP_DIR"

if [ "${#failed[@]}" -gt 0 ]; then
  echo "test groups failed: ${failed[*]} ($total tests ran)"
  exit 1
fi
echo "all test groups passed: $total tests"

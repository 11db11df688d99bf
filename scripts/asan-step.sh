#!/usr/bin/env bash
# Runs one `swift test` filter from the AddressSanitizer build (`make test`'s ASan steps) and, when it fails, ends
# with a compact summary: one line per direct leak or sanitizer error with its first frames. CI keeps only the last
# lines of the output, and LeakSanitizer prints its direct leaks first and the small indirect ones last.
# Usage: scripts/asan-step.sh FILTER   (SWIFT, LSAN_OPTIONS as for `swift test`)
set -uo pipefail
cd "$(dirname "$0")/.."
SWIFT="${SWIFT:-swift}"
filter="$1"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$SWIFT" test --skip-build --sanitize=address --scratch-path .build-asan --filter "$filter" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
[ "$rc" -eq 0 ] && exit 0
echo "== ASan step '$filter' failed (exit $rc); what the sanitizer reported, first frames of each:"
# A report block starts with "Direct leak of …" or "ERROR: AddressSanitizer: …" and lists frames "#N 0x… in fn file".
awk '
  /^(Direct leak of|==[0-9]+==ERROR: )/ { if (line != "") print line; line = $0; frames = 0; next }
  /^(Indirect leak of|SUMMARY:)/ { if (line != "") print line; line = ""; next }
  line != "" && /^ *#[0-9]+ / && frames < 7 {
    fn = ""; for (i = 1; i <= NF; i++) if ($i == "in") { fn = $(i + 1); break }
    if (fn == "") { fn = $3; gsub(/[()]/, "", fn); sub(/.*\//, "", fn) }  # no symbol: library+offset
    if (fn ~ /^(malloc|calloc|realloc|operator|__interceptor)/) next
    sub(/\(.*/, "", fn); line = line " < " fn; frames++
  }
  END { if (line != "") print line }
' "$log" | cut -c1-400 | head -n 12
grep -m 3 -E "assertion failed|Fatal error|fatal error" "$log" || true
exit "$rc"

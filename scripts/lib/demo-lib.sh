# Helpers of the demo scripts (scripts/demo.sh and the parts it sources, scripts/demo-kopia.sh). Sourced after
# `set -euo pipefail`; the cluster helpers read `cluster` (the local control plane's directory) and append background
# process IDs to `pids` (demo.sh stops them on exit).

say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
fail() { echo "demo: FAILED: $*" >&2; exit 1; }
# Every kubectl command is printed before it runs.
k() { printf '\033[2m$ kubectl %s\033[0m\n' "$*" >&2; kubectl "$@"; }
now() { date +%s.%N; }
# seconds_between START END: END − START (not below 0) with two decimals.
seconds_between() { python3 -c "print('%.2f' % max(0.0, $2 - $1))"; }
# wait_for SECONDS "what" command… : polls every 0.1 s until the command succeeds.
wait_for() {
  local limit="$1" what="$2"; shift 2
  local deadline; deadline=$(python3 -c "import time; print(time.time() + $limit)")
  until "$@" >/dev/null 2>&1; do
    python3 -c "import sys, time; sys.exit(0 if time.time() < $deadline else 1)" \
      || fail "$what: not reached within ${limit} s"
    sleep 0.1
  done
}
jp() { kubectl get "$@" 2>/dev/null; }   # quiet reads used by the polls
# wait_field SECONDS NAMESPACE RESOURCE/NAME JSONPATH VALUE: polls until the field reads VALUE.
wait_field() {
  wait_for "$1" "$2/${3#*/} ${5}" sh -c "kubectl get -n '$2' '$3' -o jsonpath='{$4}' | grep -qx '$5'"
}
# wait_warning SECONDS NAMESPACE NAME TEXT: polls until a Warning event on the object mentions TEXT.
wait_warning() {
  wait_for "$1" "a Warning on $2/$3 naming the missing $4" sh -c \
    "kubectl get events -n '$2' --field-selector involvedObject.name='$3',type=Warning -o jsonpath='{.items[*].message}' | grep -q '$4'"
}
# expect_pending NAMESPACE CLAIM: a second later, the claim is still Pending (no grant yet).
expect_pending() {
  sleep 1
  local phase; phase="$(jp pvc -n "$1" "$2" -o jsonpath='{.status.phase}')"
  [ "$phase" = Pending ] || fail "$1/$2 is $phase without a grant (expected Pending)"
}
# claim_volume NAMESPACE CLAIM: sets claim_pv and claim_handle of a bound claim (its volume directory must exist).
claim_volume() {
  claim_pv="$(jp pvc -n "$1" "$2" -o jsonpath='{.spec.volumeName}')"
  claim_handle="$(jp pv "$claim_pv" -o jsonpath='{.spec.csi.volumeHandle}')"
  [ -n "$claim_handle" ] && [ -d "$cluster/volumes/$claim_handle" ] || fail "no volume directory for $1/$2"
}
# bound_watch NAMESPACE CLAIM SECONDS OUT: `kubectl wait` for Bound in the background (started before the grant, it
# reports the moment the claim binds); its PID in bound_watch_pid.
bound_watch() {
  kubectl wait -n "$1" "pvc/$2" --for=jsonpath='{.status.phase}'=Bound --timeout="$3s" > "$4" 2>&1 &
  bound_watch_pid=$!
  pids+=("$bound_watch_pid")
}
# annotations PV PREFIX…: the PV's annotations whose keys start with one of the prefixes, one a line.
annotations() {
  local pv="$1"; shift
  k get pv "$pv" -o jsonpath='{.metadata.annotations}' | python3 -c '
import json, sys
for key, value in sorted(json.load(sys.stdin).items()):
    if key.startswith(tuple(sys.argv[1:])):
        print("   %s: %s" % (key, value))' "$@"
}
# claim_events NAMESPACE NAME: the object's events, oldest first.
claim_events() {
  k get events -n "$1" --field-selector "involvedObject.name=$2" --sort-by=.lastTimestamp -o custom-columns="$event_cols" \
    | cut -c1-260
}
# tree_sums DIR: sha256 of every file below DIR, by path.
tree_sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
pvc_cols='NAME:.metadata.name,STATUS:.status.phase,VOLUME:.spec.volumeName,CAPACITY:.status.capacity.storage,STORAGECLASS:.spec.storageClassName'
event_cols='TYPE:.type,REASON:.reason,FROM:.source.component,MESSAGE:.message'

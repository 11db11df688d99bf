#!/usr/bin/env bash
# `ferry populate` (the populator pod's command) vs `ferry restore` of the same generated mixed tree from the same
# filesystem repository, interleaved, in one run (issue 13's bar: populate within 10% of restore on >= 1 GiB).
# Both with their defaults as the populator pod runs them: populate always resumes (skip-existing check), writes
# sparse, emits JSON progress every 2 s and a report; restore gets --sparse to match.
# BENCH_SIZE_MB (default 1024), BENCH_DIR (default a temp dir; kept with BENCH_KEEP=1), BENCH_REPEAT (default 3).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
size="${BENCH_SIZE_MB:-1024}"
work="${BENCH_DIR:-$(mktemp -d /tmp/ferry-bench-populate.XXXXXX)}"
trap '[ -z "${BENCH_KEEP:-}" ] && rm -rf "$work"' EXIT
ferry="$(swift build -c release --show-bin-path)/ferry"
[ -x "$ferry" ] || { echo "bench: build ferry first (make release)"; exit 1; }
export KOPIA_PASSWORD=bench-password KOPIA_REPOSITORY="filesystem://$work/repo"

tree="$work/tree"
[ -d "$tree" ] || { echo "bench: generating a ${size} MiB mixed tree in $tree"; python3 "$here/gen-tree.py" "$tree" "$size"; }
if [ ! -d "$work/repo" ]; then
  "$ferry" repo create >/dev/null
  "$ferry" snapshot create "$tree" --identity bench@bench:/data >/dev/null
fi
id="$("$ferry" snapshot list --json | python3 -c 'import json,sys; d=json.load(sys.stdin); s=d if isinstance(d,list) else d.get("snapshots",d); print(s[0]["id"])')"
python3 - "$work" "$ferry" "$id" "${BENCH_REPEAT:-3}" <<'PY'
import os, shutil, statistics, subprocess, sys, time
work, ferry, sid, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
tree = f"{work}/tree"
nbytes = sum(os.lstat(os.path.join(d, f)).st_size for d, _, fs in os.walk(tree) for f in fs)

def timed(argv, out):
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    subprocess.run(["sync"], check=True)
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {argv[1]} failed")
    return wall, usage.ru_maxrss / 1024

def listing(root):
    rows = []
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n); st = os.lstat(p)
            rows.append((os.path.relpath(p, root), st.st_mode, 0 if os.path.isdir(p) else st.st_size,
                         0 if os.path.islink(p) else st.st_mtime_ns, os.readlink(p) if os.path.islink(p) else ""))
    return sorted(rows)

runs = {"restore": [], "populate": []}
rss = {"restore": 0, "populate": 0}
for i in range(repeat):
    for name in (["restore", "populate"] if i % 2 == 0 else ["populate", "restore"]):
        out = f"{work}/out-{name}"
        argv = [ferry, "restore", "--snapshot", sid, "--target", out, "--sparse"] if name == "restore" else \
               [ferry, "populate", "--snapshot", sid, "--target", out, "--report", f"{work}/report.json"]
        wall, peak = timed(argv, out)
        runs[name].append(wall); rss[name] = max(rss[name], peak)
if listing(f"{work}/out-restore") != listing(f"{work}/out-populate") or listing(f"{work}/out-populate") != listing(tree):
    sys.exit("bench: the populated tree differs from the restored tree or the source")
mib = nbytes / 2**20
print(f"tree: {mib:.0f} MiB, {sum(len(f) for _, _, f in os.walk(tree))} files; best of {repeat} (median), warm page cache")
for name in ("restore", "populate"):
    best, med = min(runs[name]), statistics.median(runs[name])
    print(f"  ferry {name:8s} {best:6.2f} s ({med:.2f})  {mib / best:7.1f} MiB/s  peak RSS {rss[name]:.0f} MiB")
print("  runs (s): restore " + " ".join("%.2f" % x for x in runs["restore"]) + " | populate " + " ".join("%.2f" % x for x in runs["populate"]))
pairs = [p / r for p, r in zip(runs["populate"], runs["restore"])]
print(f"  populate / restore per interleaved pair: {' '.join('%.3f' % x for x in pairs)} (median {statistics.median(pairs):.3f}); load average {os.getloadavg()[0]:.1f}")
ratio = min(runs["populate"]) / min(runs["restore"])
print(f"  populate / restore wall time (best): {ratio:.3f}  (goal <= 1.10); medians: {statistics.median(runs['populate']) / statistics.median(runs['restore']):.3f}")
PY

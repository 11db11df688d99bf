#!/usr/bin/env bash
# `ferry restore` vs `restic restore` vs `cp -a` of the same generated mixed tree, in one run (issue 5's bar:
# ferry ≤ 1/3 of restic's wall time, ≤ 3× cp -a's, peak RSS < 160 MiB). The repository is built with
# `ferry snapshot create`; all three read from a warm page cache and write to the same file system.
# BENCH_SIZE_MB (default 1024) sets the tree size; BENCH_DIR (default a temp dir) holds tree, repositories and
# outputs (kept with BENCH_KEEP=1); BENCH_OUT (default: BENCH_DIR) is where the three restored copies are
# written — e.g. /dev/shm to take the target file system's inode allocator out of the comparison;
# BENCH_RESTORE_FLAGS (default --sparse; cp -a keeps holes too) are extra `ferry restore` flags;
# BENCH_REPEAT (default 3) runs the three interleaved that many times and reports each one's best and median
# wall time (a shared machine is noisy), with the peak RSS over all runs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
size="${BENCH_SIZE_MB:-1024}"
work="${BENCH_DIR:-$(mktemp -d /tmp/ferry-bench-restore.XXXXXX)}"
trap '[ -z "${BENCH_KEEP:-}" ] && rm -rf "$work"' EXIT
ferry="$(swift build -c release --show-bin-path)/ferry"
[ -x "$ferry" ] || { echo "bench: build ferry first (make release)"; exit 1; }
command -v restic >/dev/null || { echo "bench: restic missing (scripts/setup.sh installs it)"; exit 1; }
export KOPIA_PASSWORD=bench-password RESTIC_PASSWORD=bench-password

tree="$work/tree"
if [ ! -d "$tree" ]; then
  echo "bench: generating a ${size} MiB mixed tree in $tree"
  python3 "$here/gen-tree.py" "$tree" "$size"
fi
if [ ! -d "$work/ferry-repo" ]; then
  echo "bench: ferry snapshot create (repository for the restore)"
  "$ferry" repo create --repo "$work/ferry-repo" >/dev/null
  "$ferry" snapshot create "$tree" --repo "$work/ferry-repo" --identity bench@bench:/tree >/dev/null
fi
if [ ! -d "$work/restic-repo" ]; then
  echo "bench: restic backup (repository for restic restore)"
  restic init --repo "$work/restic-repo" -q
  (cd "$tree" && restic backup --repo "$work/restic-repo" -q .) >/dev/null
fi

out="${BENCH_OUT:-$work}/ferry-bench-out.$$"
mkdir -p "$out"
trap '[ -z "${BENCH_KEEP:-}" ] && rm -rf "$work"; rm -rf "$out"' EXIT
python3 - "$work" "$out" "$ferry" "${BENCH_REPEAT:-3}" ${BENCH_RESTORE_FLAGS---sparse} <<'PY'
import os, subprocess, sys, time, shutil
import statistics
work, out, ferry, repeat, flags = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
tree = f"{work}/tree"

def timed(name, argv, out):
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run(["sync"], check=True)
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"bench: {name} failed with exit code {code}")
    return wall, usage.ru_maxrss / 1024  # ru_maxrss is KiB on Linux

def listing(root):
    out = []
    for d, dirs, files in os.walk(root):
        for n in sorted(dirs + files):
            p = os.path.join(d, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            link = os.readlink(p) if os.path.islink(p) else ""
            out.append((rel, st.st_mode, st.st_size if not os.path.isdir(p) else 0, st.st_mtime_ns if not os.path.islink(p) else 0, link))
    return sorted(out)

nbytes = sum(os.lstat(os.path.join(d, f)).st_size for d, _, fs in os.walk(tree) for f in fs)
nfiles = sum(len(fs) for _, _, fs in os.walk(tree))
runs = {"cp": [], "restic": [], "ferry": []}
rss = {"restic": 0.0, "ferry": 0.0}
for _ in range(max(1, repeat)):
    t, _ = timed("cp -a", ["cp", "-a", tree, f"{out}/cp"], f"{out}/cp")
    runs["cp"].append(t)
    t, r = timed("restic restore", ["restic", "restore", "latest", "--repo", f"{work}/restic-repo", "-q",
                                    "--target", f"{out}/restic"], f"{out}/restic")
    runs["restic"].append(t); rss["restic"] = max(rss["restic"], r)
    t, r = timed("ferry restore", [ferry, "restore", "--repo", f"{work}/ferry-repo", "--target",
                                   f"{out}/ferry"] + flags, f"{out}/ferry")
    runs["ferry"].append(t); rss["ferry"] = max(rss["ferry"], r)
cp_t, rs_t, fe_t = min(runs["cp"]), min(runs["restic"]), min(runs["ferry"])
med = {k: statistics.median(v) for k, v in runs.items()}
rs_rss, fe_rss = rss["restic"], rss["ferry"]
same = listing(tree) == listing(f"{out}/ferry")
diff = subprocess.run(["diff", "-r", "--no-dereference", "-q", tree, f"{out}/ferry"], capture_output=True)
identical = same and diff.returncode == 0
mib = nbytes / 2**20
print(f"restore: tree {mib:.0f} MiB (apparent), {nfiles} files, {os.cpu_count()} cores, output in {os.path.dirname(out)}; "
      f"ferry flags: {' '.join(flags) or '(none)'}; load average {os.getloadavg()[0]:.1f}")
print(f"  {len(runs['cp'])} interleaved runs each; best (median) wall time")
print(f"  cp -a            {cp_t:7.2f} s ({med['cp']:6.2f})  {mib/cp_t:8.1f} MiB/s")
print(f"  restic restore   {rs_t:7.2f} s ({med['restic']:6.2f})  {mib/rs_t:8.1f} MiB/s  peak RSS {rs_rss:6.1f} MiB")
print(f"  ferry restore    {fe_t:7.2f} s ({med['ferry']:6.2f})  {mib/fe_t:8.1f} MiB/s  peak RSS {fe_rss:6.1f} MiB")
print(f"  ferry/restic wall-time ratio: {fe_t/rs_t:.3f} best, {med['ferry']/med['restic']:.3f} median  (bar: <= 0.333)  {'PASS' if fe_t/rs_t <= 1/3 else 'FAIL'}")
print(f"  ferry/cp -a  wall-time ratio: {fe_t/cp_t:.3f} best, {med['ferry']/med['cp']:.3f} median  (bar: <= 3.0)    {'PASS' if fe_t/cp_t <= 3 else 'FAIL'}")
print(f"  ferry peak RSS: {fe_rss:.1f} MiB  (bar: < 160 MiB)  {'PASS' if fe_rss < 160 else 'FAIL'}")
print(f"  restored tree identical to the source (contents, modes, sizes, mtimes, symlinks): {'yes' if identical else 'NO'}")
if not identical:
    sys.exit(1)
PY

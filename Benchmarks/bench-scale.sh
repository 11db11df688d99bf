#!/usr/bin/env bash
# Issue 16: ferry vs restic (and `cp -a`) at scale, in one run — wall time and peak RSS of backup, incremental
# backup after changing 1% of the files, and restore, for up to three generated trees:
#   100k   100,000 files of 0-8 KiB (≈400 MiB) in 1,000 directories        (gen-small-tree.py)
#   1m     1,000,000 files of 0-512 B (≈256 MiB) in 10,000 directories     (gen-small-tree.py)
#   mixed  the 1 GiB mixed tree of bench-restore (gen-tree.py; no incremental step)
# BENCH_TREES (default "100k mixed"; add 1m for the big one — it needs ≈20 GB of disk and ~20 minutes),
# BENCH_DIR (default /tmp/ferry-bench-scale) holds trees, repositories and restored copies; everything is
# removed at the end unless BENCH_KEEP=1 (generated trees are kept and reused when BENCH_KEEP=1).
# kopia 0.12.1 is not installable here (no Debian package, no registry), so restic is the only peer.
#
# Measuring hazard (issue 16): the file system's inode allocator is slow for minutes after mass deletions
# (ext4 `recently_deleted()`), so every restore and copy goes to a fresh directory and nothing is deleted until
# the end of the run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
work="${BENCH_DIR:-/tmp/ferry-bench-scale}"
mkdir -p "$work"
trap '[ -n "${BENCH_KEEP:-}" ] || rm -rf "$work"' EXIT
ferry="$(swift build -c release --show-bin-path)/ferry"
[ -x "$ferry" ] || { echo "bench: build ferry first (make release)"; exit 1; }
command -v restic >/dev/null || { echo "bench: restic missing (scripts/setup.sh installs it)"; exit 1; }
export KOPIA_PASSWORD=bench-password RESTIC_PASSWORD=bench-password
python3 - "$here" "$work" "$ferry" ${BENCH_TREES:-100k mixed} <<'PY'
import os, subprocess, sys, time, shutil
here, work, ferry, trees = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
run_id = str(os.getpid())

def run(name, argv, cwd=None):
    subprocess.run(["sync"], check=True)
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, cwd=cwd)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {name} failed with exit code {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_maxrss / 1024

def listing(root):
    out = []
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            link = os.readlink(p) if os.path.islink(p) else ""
            out.append((os.path.relpath(p, root), st.st_mode, 0 if os.path.isdir(p) else st.st_size,
                        0 if os.path.islink(p) else st.st_mtime_ns, link))
    return sorted(out)

def same_tree(a, b):
    return listing(a) == listing(b) and subprocess.run(["diff", "-r", "--no-dereference", "-q", a, b],
                                                       capture_output=True).returncode == 0

results = []
outs = []
for tree_name in trees:
    spec = {"100k": ("small", 100_000, 8192), "1m": ("small", 1_000_000, 512), "mixed": ("mixed", 1024, 0)}[tree_name]
    src = f"{work}/tree-{tree_name}"
    if not os.path.isdir(src):
        print(f"bench: generating {tree_name} tree in {src}", flush=True)
        if spec[0] == "small":
            subprocess.run(["python3", f"{here}/gen-small-tree.py", src, str(spec[1]), str(spec[2])], check=True)
        else:
            subprocess.run(["python3", f"{here}/gen-tree.py", src, str(spec[1])], check=True)
    nfiles = sum(len(fs) for _, _, fs in os.walk(src))
    nbytes = sum(os.lstat(os.path.join(d, f)).st_size for d, _, fs in os.walk(src) for f in fs)
    out = f"{work}/run-{run_id}-{tree_name}"
    os.makedirs(out)
    frepo, rrepo = f"{out}/ferry-repo", f"{out}/restic-repo"
    subprocess.run([ferry, "repo", "create", "--repo", frepo], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["restic", "init", "--repo", rrepo, "-q"], check=True)
    row = {"tree": tree_name, "files": nfiles, "mib": nbytes / 2**20}
    row["ferry backup"] = run("ferry snapshot create", [ferry, "snapshot", "create", "--repo", frepo, src,
                                                        "--identity", "bench@bench:/tree"])
    row["restic backup"] = run("restic backup", ["restic", "backup", "--repo", rrepo, "-q", "."], cwd=src)
    if spec[0] == "small":
        changed = subprocess.run(["python3", f"{here}/gen-small-tree.py", "--touch", src, "1"], check=True,
                                 capture_output=True, text=True).stdout.strip()
        row["changed"] = changed
        row["ferry incremental"] = run("ferry snapshot create (incremental)",
                                       [ferry, "snapshot", "create", "--repo", frepo, src,
                                        "--identity", "bench@bench:/tree"])
        row["restic incremental"] = run("restic backup (incremental)", ["restic", "backup", "--repo", rrepo, "-q", "."],
                                        cwd=src)
    row["cp -a"] = run("cp -a", ["cp", "-a", src, f"{out}/cp"])
    row["restic restore"] = run("restic restore", ["restic", "restore", "latest", "--repo", rrepo, "-q",
                                                   "--target", f"{out}/restic"])
    row["ferry restore"] = run("ferry restore", [ferry, "restore", "--repo", frepo, "--target", f"{out}/ferry"])
    row["identical"] = same_tree(src, f"{out}/ferry")
    row["load"] = os.getloadavg()[0]
    results.append(row)
    def line(k):
        w, r = row[k]
        return f"  {k:22s} {w:8.2f} s   peak RSS {r:7.1f} MiB"
    print(f"scale: {tree_name} tree, {nfiles} files, {row['mib']:.0f} MiB, {os.cpu_count()} cores, "
          f"load average {row['load']:.1f}", flush=True)
    for k in ["ferry backup", "restic backup", "ferry incremental", "restic incremental", "cp -a", "restic restore",
              "ferry restore"]:
        if k in row:
            print(line(k))
    if "changed" in row:
        print(f"  incremental: {row['changed']} files rewritten (every file of 1% of the leaf directories)")
        print(f"  ferry/restic incremental wall time: {row['ferry incremental'][0] / row['restic incremental'][0]:.2f} (bar <= 0.40)")
    print(f"  ferry restore / cp -a wall time: {row['ferry restore'][0] / row['cp -a'][0]:.2f} (bar <= 1.3); "
          f"ferry restore peak RSS {row['ferry restore'][1]:.1f} MiB (bar <= 128)")
    print(f"  ferry backup peak RSS - restic's: {row['ferry backup'][1] - row['restic backup'][1]:+.1f} MiB (bar <= +100)")
    print(f"  restored tree identical to the source: {'yes' if row['identical'] else 'NO'}", flush=True)
    outs.append(out)
# Deleting restored copies between trees would slow the next tree's restores (see the hazard above).
if os.environ.get("BENCH_KEEP") is None:
    for out in outs:
        shutil.rmtree(out, ignore_errors=True)
if not all(r["identical"] for r in results):
    sys.exit(1)
PY

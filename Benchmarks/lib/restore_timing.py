"""`ferry snapshot create` + `ferry restore` of WORK/tree through each repository, timed, in one run.

usage: restore_timing.py WORK FERRY LABEL NOTE NAME=REPOSITORY...

Each repository is created, snapshotted and restored (--sparse) into WORK/restored-NAME, which must equal the tree
(mode, size and link target of every entry, and `diff -r`). Prints wall time, MiB/s and peak RSS per repository and
every other repository's ratio against the first; exits 1 if a restore differs.
"""
import os
import shutil
import subprocess
import sys
import time


def timed(name, argv):
    t0 = time.monotonic()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {name} failed")
    return time.monotonic() - t0, usage.ru_maxrss / 1024


def listing(root):
    rows = []
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            rows.append((os.path.relpath(p, root), st.st_mode, 0 if os.path.isdir(p) else st.st_size,
                         os.readlink(p) if os.path.islink(p) else ""))
    return sorted(rows)


def main(work, ferry, label, note, repositories):
    tree = f"{work}/tree"
    locations = dict(r.split("=", 1) for r in repositories)
    mib = sum(os.lstat(os.path.join(d, f)).st_size for d, _, fs in os.walk(tree) for f in fs) / 2**20
    rows = []
    for kind, repo in locations.items():
        subprocess.run([ferry, "repo", "create", "--repo", repo], check=True, stdout=subprocess.DEVNULL)
        w, _ = timed(f"snapshot create ({kind})", [ferry, "snapshot", "create", tree, "--repo", repo,
                                                   "--identity", "bench@bench:/tree"])
        out = f"{work}/restored-{kind}"
        shutil.rmtree(out, ignore_errors=True)
        r, rss = timed(f"restore ({kind})", [ferry, "restore", "--repo", repo, "--target", out, "--sparse"])
        same = listing(tree) == listing(out) and subprocess.run(
            ["diff", "-r", "--no-dereference", "-q", tree, out], capture_output=True).returncode == 0
        rows.append((kind, w, r, rss, same))
        shutil.rmtree(out, ignore_errors=True)
    print(f"{label}: tree {mib:.0f} MiB, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {note}")
    for kind, w, r, rss, same in rows:
        print(f"  {kind:10s} snapshot create {w:7.2f} s {mib / w:7.1f} MiB/s | restore {r:7.2f} s {mib / r:7.1f} MiB/s"
              f"  peak RSS {rss:6.1f} MiB  identical: {'yes' if same else 'NO'}")
    base = rows[0]
    for kind, w, r, _, _ in rows[1:]:
        print(f"  {kind}/{base[0]} wall-time ratio: snapshot create {w / base[1]:.2f}, restore {r / base[2]:.2f}")
    return 0 if all(row[4] for row in rows) else 1


if __name__ == "__main__":
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]))

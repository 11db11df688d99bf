#!/usr/bin/env python3
"""Generates a deterministic tree of many small files (same seed, same bytes, every machine).

usage: gen-small-tree.py DIR FILES MAX_BYTES

FILES files of 0..MAX_BYTES bytes (uniform, random bytes: nothing to gain from compression), 100 per directory,
in two levels of directories (DIR/dNNN/eNNN/fNNNNNNN), so 1,000,000 files make 10,000 leaf directories under
100 top-level ones. All mtimes are set to one fixed instant so two generated trees compare equal.

usage: gen-small-tree.py --touch DIR PERCENT
Rewrites every file of PERCENT% of the leaf directories (every (100/PERCENT)-th one, in sorted order) with new
bytes of the same size plus one, i.e. PERCENT% of the files change and the rest of the tree stays as it was.
"""
import os, random, sys

PER_DIR = 100
MTIME = 1_700_000_000

def leaf(root, i):
    d = i // PER_DIR
    return f"{root}/d{d // 100:03d}/e{d % 100:03d}"

def generate(root, files, max_bytes):
    rng = random.Random(20261204)
    for i in range(files):
        d = leaf(root, i)
        if i % PER_DIR == 0:
            os.makedirs(d, exist_ok=True)
        p = f"{d}/f{i:07d}"
        with open(p, "wb") as f:
            f.write(rng.randbytes(rng.randint(0, max_bytes)))
        os.utime(p, (MTIME, MTIME))

def touch(root, percent):
    step = max(1, round(100 / percent))
    leaves = sorted(os.path.join(a, b) for a in os.listdir(root) if os.path.isdir(os.path.join(root, a))
                    for b in os.listdir(os.path.join(root, a)))
    rng = random.Random(4)
    changed = 0
    for k, rel in enumerate(leaves):
        if k % step:
            continue
        d = os.path.join(root, rel)
        for name in sorted(os.listdir(d)):
            p = os.path.join(d, name)
            n = os.path.getsize(p) + 1
            with open(p, "wb") as f:
                f.write(rng.randbytes(n))
            changed += 1
    print(changed)

if __name__ == "__main__":
    if sys.argv[1] == "--touch":
        touch(sys.argv[2], float(sys.argv[3]))
    else:
        generate(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))

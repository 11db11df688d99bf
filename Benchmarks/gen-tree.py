#!/usr/bin/env python3
"""Generates a deterministic mixed source tree for the benchmarks (same seed, same bytes, every machine).

usage: gen-tree.py DIR [TOTAL_MIB]   (default 1024)

Mix by bytes: ~45% large random files (incompressible), ~35% large compressible text/log files,
~15% small files (thousands, 1-64 KiB, in nested directories), ~5% sparse files (holes plus data).
"""
import os, random, sys

def main():
    root = sys.argv[1]
    total = int(sys.argv[2] if len(sys.argv) > 2 else 1024) << 20
    rng = random.Random(20261121)
    os.makedirs(root, exist_ok=True)
    words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10))) for _ in range(4000)]

    def text(n):
        out = bytearray()
        line = 0
        while len(out) < n:
            line += 1
            out += b"%08d %s\n" % (line, b" ".join(rng.choice(words) for _ in range(12)))
        return bytes(out[:n])

    budget = {"random": total * 45 // 100, "text": total * 35 // 100, "small": total * 15 // 100, "sparse": total * 5 // 100}
    os.makedirs(f"{root}/big", exist_ok=True)
    i = 0
    left = budget["random"]
    while left > 0:
        n = min(left, rng.randint(8, 48) << 20)
        with open(f"{root}/big/random-{i:03d}.bin", "wb") as f:
            f.write(rng.randbytes(n))
        left -= n
        i += 1
    os.makedirs(f"{root}/logs", exist_ok=True)
    i = 0
    left = budget["text"]
    while left > 0:
        n = min(left, rng.randint(4, 32) << 20)
        with open(f"{root}/logs/app-{i:03d}.log", "wb") as f:
            f.write(text(n))
        left -= n
        i += 1
    i = 0
    left = budget["small"]
    while left > 0:
        d = f"{root}/small/d{i // 200:03d}/e{(i // 20) % 10}"
        os.makedirs(d, exist_ok=True)
        n = min(left, rng.randint(1, 64) << 10)
        with open(f"{d}/f{i:05d}.{'txt' if i % 3 else 'bin'}", "wb") as f:
            f.write(text(n) if i % 3 else rng.randbytes(n))
        left -= n
        i += 1
    os.makedirs(f"{root}/sparse", exist_ok=True)
    per = max(budget["sparse"] // 4, 1 << 20)
    for k in range(4):
        with open(f"{root}/sparse/disk-{k}.img", "wb") as f:
            f.truncate(per * 4)
            f.seek(per)
            f.write(rng.randbytes(per // 2))
    os.symlink("logs/app-000.log", f"{root}/latest.log")
    os.makedirs(f"{root}/empty-dir", exist_ok=True)

if __name__ == "__main__":
    main()

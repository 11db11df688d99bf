#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a restore runs (`SnapshotRestorer`). Plain value; every field has a safe default.
public struct RestoreOptions: Sendable {
    /// Concurrent pack-range workers (each reads one coalesced range, then decrypts, decompresses and writes its
    /// contents). Default: twice the active processor count, 2 to 16.
    public var parallelism: Int
    /// Upper bound, in bytes, of the pack ranges and decoded contents held in memory at once. Workers wait for
    /// room (backpressure) instead of buffering; a single range larger than the budget runs alone.
    public var memoryBudget: Int
    /// Adjacent contents of one pack are read with one ranged read when the gap between them is at most this.
    public var maximumReadGap: Int
    /// A coalesced ranged read grows up to this many bytes (a single larger content is read alone).
    public var maximumReadLength: Int
    /// Skip a file whose path already holds a regular file with the entry's size and exact mtime, and a symlink
    /// whose path already holds a symlink with the same target (resuming an interrupted restore).
    public var skipExisting: Bool
    /// Apply the entries' uid/gid (only takes effect when running as root).
    public var restoreOwnership: Bool
    /// Leave runs of zero bytes (whole 4 KiB blocks) as holes instead of writing them.
    public var sparse: Bool
    /// Re-hash every decoded content and compare it with its ID. Off by default: each content is already
    /// authenticated by its AEAD tag under a key derived from its ID (kopia-format.md §4.1), which is all Kopia's
    /// own reader checks; `ferry verify` always re-hashes.
    public var checkHashes: Bool
    /// Stop at the first failed file instead of restoring everything else and listing the failures.
    public var failFast: Bool
    /// Files, symlinks and directories per window: the tree is walked and restored this many entries at a
    /// time, so per-entry state never grows with the snapshot. Default: one per 16 KiB of `memoryBudget`,
    /// 256 to 16,384 (6,144 at the default 96 MiB).
    public var windowEntries: Int

    public init(parallelism: Int? = nil, memoryBudget: Int = 96 << 20, maximumReadGap: Int = 512 << 10,
                maximumReadLength: Int = 8 << 20, skipExisting: Bool = false, restoreOwnership: Bool = true,
                sparse: Bool = false, checkHashes: Bool = false, failFast: Bool = false, windowEntries: Int? = nil) {
        self.parallelism = max(1, parallelism ?? Self.defaultParallelism)
        self.memoryBudget = max(1 << 20, memoryBudget)
        self.maximumReadGap = max(0, maximumReadGap)
        self.maximumReadLength = max(1 << 16, maximumReadLength)
        self.skipExisting = skipExisting
        self.restoreOwnership = restoreOwnership
        self.sparse = sparse
        self.checkHashes = checkHashes
        self.failFast = failFast
        self.windowEntries = max(1, windowEntries ?? min(16384, max(256, self.memoryBudget / (16 << 10))))
    }

    /// Twice the active processor count (at least 2, at most 16): reads overlap with decoding and writing.
    public static var defaultParallelism: Int {
        min(16, max(2, ProcessorCount.active * 2))
    }
}

/// The number of processors this process may run on.
enum ProcessorCount {
    static var active: Int {
        let n = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return n > 0 ? n : 1
    }
}

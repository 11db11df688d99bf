import Foundation
import Synchronization

/// Options of one `snapshot create`.
public struct SnapshotUploadOptions: Sendable {
    /// File-data compression (`--compression`); nil = none (Kopia's default policy).
    public var compression: CompressionAlgorithm?
    public var description = ""
    /// Files uploaded at once (`--parallel`).
    public var parallelism = 4
    public var tags: [String: String] = [:]

    public init(compression: CompressionAlgorithm? = nil, description: String = "", parallelism: Int = 4) {
        self.compression = compression
        self.description = description
        self.parallelism = max(1, parallelism)
    }
}

/// What `snapshot create` did.
public struct SnapshotUploadResult: Sendable {
    public var manifestID: String
    public var rootObjectID: ObjectID
    public var source: SnapshotSource
    public var stats: SnapshotStats
    /// Entries reported and skipped (unreadable files and directories, failing `lstat`/`readlink`).
    public var errors: [SourceEntryError]
    /// Sockets, FIFOs and devices skipped.
    public var ignoredCount: Int
    public var symlinkCount: Int
    public var bytesRead: Int64
    public var contents: ContentWriterStats
    public var startTime: KopiaTime
    public var endTime: KopiaTime
}

/// The previous snapshot of the same source, for incremental uploads: a file whose name, size, mtime (to the
/// nanosecond), mode and owner match its entry there reuses that entry's object without being read
/// (Kopia's rule; Kopia's directory entries store no inode, so the inode cannot take part).
public struct PreviousSnapshot: Sendable {
    public var root: DirectoryEntry
    /// Loads a directory object of that snapshot.
    public var loadDirectory: @Sendable (ObjectID) async throws -> [DirectoryEntry]

    public init(root: DirectoryEntry, loadDirectory: @escaping @Sendable (ObjectID) async throws -> [DirectoryEntry]) {
        self.root = root
        self.loadDirectory = loadDirectory
    }
}

/// Takes a snapshot of a local directory tree into a repository (kopia/kopia `snapshot/upload/upload.go`).
///
/// The tree is walked depth first, one directory at a time (``SourceTreeScanner``), so memory follows the depth
/// of the tree and the files in flight, never its size. For each directory:
/// 1. list and `lstat` its children; read the previous snapshot's listing of the same directory (read ahead
///    while the walk is busy elsewhere);
/// 2. regular files, `parallelism` at a time across the tree: unchanged ones (same name, size, mtime to the
///    nanosecond, mode, owner) reuse the previous entry's object without being read; others are split
///    (``Splitter``), their chunks deduplicated and written to `p` packs (``ObjectWriter``); symlink targets
///    become objects; subdirectories recurse;
/// 3. a directory whose every child is unchanged (files and symlinks identical, subdirectories unchanged, the
///    same names) reuses its previous directory object and summary — nothing is encoded or hashed; any other is
///    written as a `k` object with Kopia's fields and summary.
/// Then `flush()`: packs, then the index blob; only then the snapshot manifest (its own `q` pack and index
/// blob). An interruption before the manifest leaves a readable repository without the new snapshot.
public struct SnapshotUploader: Sendable {
    public let objects: ObjectWriter
    public let options: SnapshotUploadOptions

    public init(objects: ObjectWriter, options: SnapshotUploadOptions) {
        self.objects = objects
        self.options = options
    }

    private final class CounterBox: Sendable {
        let state: Mutex<Counters>
        init(_ c: Counters) { state = Mutex(c) }
    }

    private struct Counters: Sendable {
        var errors: [SourceEntryError] = []
        var ignored = 0
        var cachedFiles = 0
        var hashedFiles = 0
        var reusedDirectories = 0
        var bytesRead: Int64 = 0
    }

    /// Snapshots `path` as `source`; returns the new manifest's ID.
    /// - Throws: `.pathNotFound` when `path` cannot be read at all; storage and codec errors.
    public func upload(path: String, source: SnapshotSource, previous: PreviousSnapshot?) async throws
        -> SnapshotUploadResult
    {
        let start = KopiaTimeFormat.now()
        let rootName = (path as NSString).lastPathComponent
        let root: ScannedNode
        switch SourceTreeScanner.node(path: path, name: rootName.isEmpty ? "/" : rootName) {
        case .success(let node): root = node
        case .failure(let error):
            throw KopiaError(.pathNotFound, "cannot read the source: \(error.message)", path: path)
        case nil:
            throw KopiaError(.pathNotFound, "cannot read the source: not a file, directory or symlink", path: path)
        }
        let counters = CounterBox(Counters())
        let walk = TreeWalk(objects: objects, compression: options.compression, counters: counters,
                            slots: UploadSlots(options.parallelism), previous: previous)
        guard let rootEntry = try await walk.entry(for: root, old: previous?.root) else {
            let message = counters.state.withLock { $0.errors.first?.message } ?? "unknown error"
            throw KopiaError(.pathNotFound, "cannot read the source: \(message)", path: path)
        }
        try await objects.contents.flush()

        let end = KopiaTimeFormat.now()
        let c = counters.state.withLock { $0 }
        var stats = SnapshotStats()
        stats.totalSize = rootEntry.summary?.totalSize ?? rootEntry.size
        stats.fileCount = rootEntry.summary?.fileCount ?? 1
        stats.cachedFiles = Int64(c.cachedFiles)
        stats.nonCachedFiles = Int64(c.hashedFiles)
        stats.dirCount = rootEntry.summary?.dirCount ?? 0
        stats.errorCount = Int64(c.errors.count)
        stats.ignoredErrorCount = 0
        var draft = SnapshotManifestDraft(source: source, description: options.description, startTime: start,
                                          endTime: end, stats: stats, rootEntry: rootEntry, tags: options.tags)
        draft.tags = options.tags
        let manifestID = ManifestWriter.newID()
        try await ManifestWriter(contents: objects.contents).write([
            ManifestWriter.Entry(id: manifestID, labels: draft.labels, modified: end, dataJSON: draft.dataJSON)
        ])
        try await objects.contents.flush()
        return SnapshotUploadResult(
            manifestID: manifestID, rootObjectID: rootEntry.objectID, source: source, stats: stats, errors: c.errors,
            ignoredCount: c.ignored, symlinkCount: Int(rootEntry.summary?.symlinkCount ?? 0),
            bytesRead: c.bytesRead, contents: objects.contents.stats, startTime: start, endTime: end)
    }

    /// The depth-first walk of one upload.
    private struct TreeWalk: Sendable {
        let objects: ObjectWriter
        let compression: CompressionAlgorithm?
        let counters: CounterBox
        let slots: UploadSlots
        let previous: PreviousSnapshot?

        /// The entry for `node` (uploading what changed), or nil when it could not be read (reported).
        func entry(for node: ScannedNode, old: DirectoryEntry?) async throws -> DirectoryEntry? {
            switch node.kind {
            case .file:
                if let old, Self.unchanged(node, old) {
                    counters.state.withLock { $0.cachedFiles += 1 }
                    return Self.entry(node, objectID: old.objectID, size: node.size)
                }
                return try await slots.run { try await upload(node) }
            case .symlink(let target):
                let id = try await objects.write(target, prefix: 0, compression: nil)
                return DirectoryEntry(name: node.name, type: .symlink, permissions: FilePermissions(rawValue: 0o777),
                                      size: node.size, modified: node.modified, uid: node.uid, gid: node.gid,
                                      objectID: id)
            case .directory:
                return try await directory(node, old: old?.isDirectory == true ? old : nil)
            }
        }

        private func upload(_ node: ScannedNode) async throws -> DirectoryEntry? {
            do {
                let (id, n) = try await objects.writeFile(at: node.path, compression: compression)
                counters.state.withLock {
                    $0.hashedFiles += 1
                    $0.bytesRead += n
                }
                return Self.entry(node, objectID: id, size: n)
            } catch let error as KopiaError where error.code == .ioFailure {
                counters.state.withLock { $0.errors.append(SourceEntryError(path: node.path, message: error.message)) }
                return nil
            }
        }

        private func directory(_ node: ScannedNode, old: DirectoryEntry?) async throws -> DirectoryEntry? {
            async let oldListing = Self.previousEntries(previous, old)
            let listing: SourceTreeScanner.Listing
            switch SourceTreeScanner.list(path: node.path) {
            case .success(let l): listing = l
            case .failure(let error):
                _ = await oldListing
                counters.state.withLock { $0.errors.append(error) }
                return nil
            }
            counters.state.withLock {
                $0.errors += listing.errors
                $0.ignored += listing.ignored
            }
            let oldEntries = await oldListing
            let byName = oldEntries.map { Dictionary($0.map { ($0.name, $0) }) { a, _ in a } } ?? [:]
            let children = listing.children
            // Files upload concurrently (bounded by the slots); subdirectories are walked one after another, so
            // only the listings on the current path are held.
            var results = [DirectoryEntry?](repeating: nil, count: children.count)
            try await withThrowingTaskGroup(of: (Int, DirectoryEntry?).self) { group in
                for (i, child) in children.enumerated() {
                    let old = byName[child.name]
                    if case .file = child.kind, !(old.map { Self.unchanged(child, $0) } ?? false) {
                        await slots.wait()
                        group.addTask {
                            // Released here, not when the group drains: a subdirectory walked meanwhile may need it.
                            defer { slots.release() }
                            return (i, try await upload(child))
                        }
                        continue
                    }
                    results[i] = try await entry(for: child, old: old)
                }
                for try await (i, e) in group { results[i] = e }
            }
            var entries: [DirectoryEntry] = []
            entries.reserveCapacity(children.count)
            var failed: [DirectorySummary.EntryError] = []
            for (child, result) in zip(children, results) {
                if let result { entries.append(result) } else if case .file = child.kind {
                    failed.append(DirectorySummary.EntryError(path: child.path, error: "unreadable"))
                }
            }
            // Everything as before: the previous directory object and summary stand as they are.
            if let old, let oldSummary = old.summary, let oldEntries, failed.isEmpty, listing.errors.isEmpty,
               entries.count == oldEntries.count,
               entries.allSatisfy({ e in byName[e.name].map { Self.same(e, $0) } ?? false })
            {
                counters.state.withLock { $0.reusedDirectories += 1 }
                return DirectoryEntry(name: node.name, type: .directory, permissions: node.permissions, size: 0,
                                      modified: node.modified, uid: node.uid, gid: node.gid, objectID: old.objectID,
                                      summary: oldSummary)
            }
            let summary = Self.summarize(entries, modified: node.modified, failed: failed)
            let json = DirectoryObjectJSON.encode(entries: DirectoryObjectJSON.kopiaOrder(entries), summary: summary)
            let id = try await objects.write(json, prefix: UInt8(ascii: "k"), compression: objects.metadataCompression)
            return DirectoryEntry(name: node.name, type: .directory, permissions: node.permissions, size: 0,
                                  modified: node.modified, uid: node.uid, gid: node.gid, objectID: id, summary: summary)
        }

        /// The previous snapshot's listing of the directory `old`, or nil (no previous, or unreadable).
        private static func previousEntries(_ previous: PreviousSnapshot?, _ old: DirectoryEntry?) async
            -> [DirectoryEntry]?
        {
            guard let previous, let old else { return nil }
            return try? await previous.loadDirectory(old.objectID)
        }

        /// Kopia's rule for reusing a file's object without reading it.
        static func unchanged(_ node: ScannedNode, _ o: DirectoryEntry) -> Bool {
            o.type == .file && o.size == node.size && o.modified.seconds == node.modified.seconds
                && o.modified.nanoseconds == node.modified.nanoseconds && o.permissions == node.permissions
                && o.uid == node.uid && o.gid == node.gid
        }

        /// Whether a new entry says exactly what the previous one said (directory summaries included).
        static func same(_ e: DirectoryEntry, _ o: DirectoryEntry) -> Bool {
            e.type == o.type && e.objectID == o.objectID && e.size == o.size && e.permissions == o.permissions
                && e.modified == o.modified && e.uid == o.uid && e.gid == o.gid && e.summary == o.summary
        }

        static func entry(_ node: ScannedNode, objectID: ObjectID, size: Int64) -> DirectoryEntry {
            DirectoryEntry(name: node.name, type: .file, permissions: node.permissions, size: size,
                           modified: node.modified, uid: node.uid, gid: node.gid, objectID: objectID)
        }

        static func summarize(_ entries: [DirectoryEntry], modified: KopiaTime,
                              failed: [DirectorySummary.EntryError]) -> DirectorySummary {
            var size: Int64 = 0, fileCount: Int64 = 0, symlinks: Int64 = 0, dirs: Int64 = 1
            var failedCount = Int64(failed.count)
            var maxTime = modified
            for e in entries {
                if let s = e.summary, e.isDirectory {
                    size += s.totalSize
                    fileCount += s.fileCount
                    symlinks += s.symlinkCount
                    dirs += s.dirCount
                    failedCount += s.failedCount
                    if let t = s.maxModTime, t > maxTime { maxTime = t }
                } else {
                    if e.type == .symlink { symlinks += 1 } else {
                        fileCount += 1
                        size += e.size
                    }
                    if e.modified > maxTime { maxTime = e.modified }
                }
            }
            return DirectorySummary(totalSize: size, fileCount: fileCount, symlinkCount: symlinks, dirCount: dirs,
                                    maxModTime: maxTime, failedCount: failedCount, errors: failed)
        }
    }
}

/// At most `n` file uploads at once across the whole walk (`SnapshotUploadOptions.parallelism`): `wait()`
/// suspends until a slot is free.
final class UploadSlots: Sendable {
    private let state: Mutex<(free: Int, waiters: [CheckedContinuation<Void, Never>])>

    init(_ n: Int) {
        state = Mutex((max(1, n), []))
    }

    func wait() async {
        let granted = state.withLock { s -> Bool in
            guard s.free > 0 else { return false }
            s.free -= 1
            return true
        }
        if granted { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.free > 0 {
                    s.free -= 1
                    return true
                }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.free += 1
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }

    /// Runs `body` in a slot.
    func run<R: Sendable>(_ body: () async throws -> R) async rethrows -> R {
        await wait()
        defer { release() }
        return try await body()
    }
}

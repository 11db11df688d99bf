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
/// 1. Walk the tree (``SourceTreeScanner``), metadata only.
/// 2. Upload regular files, `parallelism` at a time: each is split (``Splitter``), its chunks deduplicated
///    against the whole repository and written to `p` packs (``ObjectWriter``); unchanged files reuse the
///    previous snapshot's objects. Symlink targets become objects too.
/// 3. Bottom-up, write each directory as a `k` object with Kopia's fields and summaries.
/// 4. `flush()`: packs, then the index blob. 5. Only then the snapshot manifest (its own `q` pack and index
///    blob). An interruption before step 5 leaves a readable repository without the new snapshot.
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
        var cachedFiles = 0
        var hashedFiles = 0
        var bytesRead: Int64 = 0
    }

    /// Snapshots `path` as `source`; returns the new manifest's ID.
    /// - Throws: `.pathNotFound` when `path` cannot be read at all; storage and codec errors.
    public func upload(path: String, source: SnapshotSource, previous: PreviousSnapshot?) async throws
        -> SnapshotUploadResult
    {
        let start = KopiaTimeFormat.now()
        var scanner = SourceTreeScanner()
        let rootName = (path as NSString).lastPathComponent
        guard let root = scanner.scan(path: path, name: rootName.isEmpty ? "/" : rootName) else {
            throw KopiaError(.pathNotFound, "cannot read the source: \(scanner.errors.first?.message ?? "unknown error")",
                             path: path)
        }
        let counters = CounterBox(Counters(errors: scanner.errors))

        // Files to upload, in tree order, and the previous objects of unchanged files.
        var collected: [ScannedNode] = []
        collectFiles(root, into: &collected)
        let files = collected
        let reuse = try await previousObjects(root: root, previous: previous)
        let objects = self.objects
        let compression = options.compression
        var results = [String: (ObjectID, Int64)]()
        try await withThrowingTaskGroup(of: (String, ObjectID, Int64)?.self) { group in
            var next = 0
            func addTask() {
                let node = files[next]
                next += 1
                group.addTask {
                    if let old = reuse[node.path] {
                        counters.state.withLock { $0.cachedFiles += 1 }
                        return (node.path, old, node.size)
                    }
                    do {
                        let (id, n) = try await objects.writeFile(at: node.path, compression: compression)
                        counters.state.withLock {
                            $0.hashedFiles += 1
                            $0.bytesRead += n
                        }
                        return (node.path, id, n)
                    } catch let error as KopiaError where error.code == .ioFailure {
                        counters.state.withLock { $0.errors.append(SourceEntryError(path: node.path, message: error.message)) }
                        return nil
                    }
                }
            }
            while next < min(files.count, options.parallelism) { addTask() }
            while let done = try await group.next() {
                if let (p, id, n) = done { results[p] = (id, n) }
                if next < files.count { addTask() }
            }
        }

        let failedPaths = Set(counters.state.withLock { $0.errors.map(\.path) })
        let rootEntry = try await writeTree(root, files: results, failed: failedPaths)
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
            ignoredCount: scanner.ignored, symlinkCount: Int(rootEntry.summary?.symlinkCount ?? 0),
            bytesRead: c.bytesRead, contents: objects.contents.stats, startTime: start, endTime: end)
    }

    private func collectFiles(_ node: ScannedNode, into out: inout [ScannedNode]) {
        switch node.kind {
        case .file: out.append(node)
        case .directory(let children): for c in children { collectFiles(c, into: &out) }
        case .symlink: break
        }
    }

    /// Maps paths of unchanged files to their previous object IDs.
    private func previousObjects(root: ScannedNode, previous: PreviousSnapshot?) async throws -> [String: ObjectID] {
        guard let previous, previous.root.isDirectory, case .directory = root.kind else { return [:] }
        var out: [String: ObjectID] = [:]
        func walk(_ node: ScannedNode, _ old: DirectoryEntry) async {
            guard case .directory(let children) = node.kind else { return }
            guard let entries = try? await previous.loadDirectory(old.objectID) else { return }
            let byName = Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            for child in children {
                guard let o = byName[child.name] else { continue }
                switch child.kind {
                case .file where o.type == .file && o.size == child.size && o.modified.seconds == child.modified.seconds
                    && o.modified.nanoseconds == child.modified.nanoseconds && o.permissions == child.permissions
                    && o.uid == child.uid && o.gid == child.gid:
                    out[child.path] = o.objectID
                case .directory where o.isDirectory:
                    await walk(child, o)
                default:
                    break
                }
            }
        }
        await walk(root, previous.root)
        return out
    }

    /// Writes directory objects bottom-up and returns the entry for `node`.
    private func writeTree(_ node: ScannedNode, files: [String: (ObjectID, Int64)], failed: Set<String>) async throws
        -> DirectoryEntry
    {
        switch node.kind {
        case .file:
            let (id, n) = files[node.path] ?? (ObjectID(contentID: ContentID(hash: [])), node.size)
            return DirectoryEntry(name: node.name, type: .file, permissions: node.permissions, size: n,
                                  modified: node.modified, uid: node.uid, gid: node.gid, objectID: id)
        case .symlink(let target):
            let id = try await objects.write(target, prefix: 0, compression: nil)
            return DirectoryEntry(name: node.name, type: .symlink, permissions: FilePermissions(rawValue: 0o777),
                                  size: node.size, modified: node.modified, uid: node.uid, gid: node.gid, objectID: id)
        case .directory(let children):
            var entries: [DirectoryEntry] = []
            var size: Int64 = 0, fileCount: Int64 = 0, symlinks: Int64 = 0, dirs: Int64 = 1, failedCount: Int64 = 0
            var maxTime = node.modified
            var errors: [DirectorySummary.EntryError] = []
            for child in children {
                if case .file = child.kind, files[child.path] == nil {
                    if failed.contains(child.path) {
                        failedCount += 1
                        errors.append(DirectorySummary.EntryError(path: child.path, error: "unreadable"))
                    }
                    continue
                }
                let e = try await writeTree(child, files: files, failed: failed)
                entries.append(e)
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
            let summary = DirectorySummary(totalSize: size, fileCount: fileCount, symlinkCount: symlinks, dirCount: dirs,
                                           maxModTime: maxTime, failedCount: failedCount, errors: errors)
            let json = DirectoryObjectJSON.encode(entries: DirectoryObjectJSON.kopiaOrder(entries), summary: summary)
            let id = try await objects.write(json, prefix: UInt8(ascii: "k"), compression: objects.metadataCompression)
            return DirectoryEntry(name: node.name, type: .directory, permissions: node.permissions, size: 0,
                                  modified: node.modified, uid: node.uid, gid: node.gid, objectID: id, summary: summary)
        }
    }
}

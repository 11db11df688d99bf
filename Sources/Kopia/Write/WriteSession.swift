/// One writer session on a repository: the low-level API for building snapshots by hand — including hostile
/// ones for restore tests — and the engine under ``SnapshotUploader``.
///
/// ```swift
/// let session = try await RepositoryWriter.open(storage: storage, password: pw, logger: log).session()
/// let file = try await session.writeObject(Array("hi".utf8))
/// let hostile = DirectoryEntry(name: "../escape", type: .file, permissions: FilePermissions(rawValue: 0o644),
///                              size: 2, modified: t, objectID: file)
/// let dir = try await session.writeDirectory([hostile])            // written as given: no sorting, no checks
/// let root = DirectoryEntry(name: "data", type: .directory, permissions: FilePermissions(rawValue: 0o755),
///                           modified: t, objectID: dir)
/// let id = try await session.commitSnapshot(root: root, source: SnapshotSource(userName: "u", host: "h", path: "/data"))
/// ```
///
/// Nothing is visible to readers until ``flush()`` or ``commitSnapshot(root:source:description:startTime:endTime:stats:)``
/// (which flushes, writes the manifest, and flushes again). Calls may overlap except `flush`/`commit`.
public struct WriteSession: Sendable {
    public let contents: ContentWriter
    public let objects: ObjectWriter

    public init(contents: ContentWriter, splitter: SplitterAlgorithm, metadataCompression: CompressionAlgorithm?) {
        self.contents = contents
        objects = ObjectWriter(contents: contents, splitter: splitter, metadataCompression: metadataCompression)
    }

    /// Writes bytes as a file (or symlink-target) object, split as Kopia splits.
    public func writeObject(_ bytes: [UInt8], compression: CompressionAlgorithm? = nil) async throws -> ObjectID {
        try await objects.write(bytes, prefix: 0, compression: compression)
    }

    /// Writes a directory object holding exactly `entries`, in the order given (use
    /// ``DirectoryObjectJSON/kopiaOrder(_:)`` for Kopia's order). Names are not checked: `/`, `..`, empty names,
    /// duplicates and symlink-then-file sequences are written as given. A nil summary is computed from the entries.
    public func writeDirectory(_ entries: [DirectoryEntry], summary: DirectorySummary? = nil) async throws -> ObjectID {
        let summary = summary ?? WriteSession.summarize(entries)
        let json = DirectoryObjectJSON.encode(entries: entries, summary: summary)
        return try await objects.write(json, prefix: UInt8(ascii: "k"), compression: objects.metadataCompression)
    }

    /// Writes an arbitrary directory JSON document as a `k` object (for malformed-directory tests).
    public func writeRawDirectoryJSON(_ json: [UInt8]) async throws -> ObjectID {
        try await objects.write(json, prefix: UInt8(ascii: "k"), compression: objects.metadataCompression)
    }

    /// Publishes everything written so far (packs, then one index blob).
    public func flush() async throws { try await contents.flush() }

    /// Flushes, then writes and publishes a snapshot manifest with `root` as its root entry.
    /// - Returns: the manifest ID.
    public func commitSnapshot(
        root: DirectoryEntry, source: SnapshotSource, description: String = "", startTime: KopiaTime? = nil,
        endTime: KopiaTime? = nil, stats: SnapshotStats? = nil
    ) async throws -> String {
        try await contents.flush()
        let now = KopiaTimeFormat.now()
        var s = stats ?? SnapshotStats()
        if stats == nil, let summ = root.summary {
            s.totalSize = summ.totalSize
            s.fileCount = summ.fileCount
            s.dirCount = summ.dirCount
            s.nonCachedFiles = summ.fileCount
        }
        let draft = SnapshotManifestDraft(source: source, description: description, startTime: startTime ?? now,
                                          endTime: endTime ?? now, stats: s, rootEntry: root)
        let id = ManifestWriter.newID()
        try await ManifestWriter(contents: contents).write([
            ManifestWriter.Entry(id: id, labels: draft.labels, modified: endTime ?? now, dataJSON: draft.dataJSON)
        ])
        try await contents.flush()
        return id
    }

    /// A directory summary computed from direct entries (and the summaries of directory entries).
    public static func summarize(_ entries: [DirectoryEntry], ownModified: KopiaTime? = nil) -> DirectorySummary {
        var size: Int64 = 0, files: Int64 = 0, links: Int64 = 0, dirs: Int64 = 1, failed: Int64 = 0
        var maxTime = ownModified
        for e in entries {
            if e.isDirectory, let s = e.summary {
                size += s.totalSize
                files += s.fileCount
                links += s.symlinkCount
                dirs += s.dirCount
                failed += s.failedCount
                if let t = s.maxModTime, maxTime.map({ t > $0 }) ?? true { maxTime = t }
            } else {
                if e.type == .symlink { links += 1 } else if e.type == .file {
                    files += 1
                    size += e.size
                }
                if maxTime.map({ e.modified > $0 }) ?? true { maxTime = e.modified }
            }
        }
        return DirectorySummary(totalSize: size, fileCount: files, symlinkCount: links, dirCount: dirs,
                                maxModTime: maxTime, failedCount: failed)
    }
}

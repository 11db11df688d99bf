public import Logging

/// A repository opened for writing: format, the current merged index (for deduplication), the write epoch and
/// the manifests (for incremental snapshots and deletion).
///
/// Opening reads the same state a reader reads; each ``session()`` starts a new writer session (a new
/// `s…` session ID). Several sessions may write one after another; concurrent writers on one repository are
/// safe in Kopia's sense (each writes its own packs and index blobs) but do not see each other's contents.
public struct RepositoryWriter: Sendable {
    public let storage: any BlobStorage
    public let format: RepositoryFormat
    public let index: ContentManager
    public let epoch: Int
    public let logger: Logger

    /// Opens the repository in `storage` with `password`.
    /// - Throws: as `RepositoryFormat.open` and `ContentManager.open`; `.unsupportedFormat` for a repository that
    ///   does not use index v2 with the epoch manager (format v1), which Ferry does not write.
    public static func open(storage: any BlobStorage, password: String, logger: Logger) async throws -> RepositoryWriter {
        let format = try await RepositoryFormat.open(storage: storage, password: password)
        guard format.parameters.indexVersion == 2, format.parameters.epochParameters.enabled else {
            throw KopiaError(.unsupportedFormat,
                             "Ferry writes only format v2/v3 repositories (index v2, epoch manager); this one is version \(format.version)",
                             blobID: FormatBlob.blobID)
        }
        let index = try await ContentManager.open(storage: storage, format: format, logger: logger)
        let markers = try await storage.list(prefix: "xe")
        let epoch = markers.compactMap { Int($0.id.dropFirst(2)) }.max() ?? 0
        return RepositoryWriter(storage: storage, format: format, index: index, epoch: epoch, logger: logger)
    }

    /// The repository's splitter.
    public var splitter: SplitterAlgorithm {
        get throws { try SplitterAlgorithm(name: format.parameters.splitter) }
    }

    /// A new writer session deduplicating against the index as opened. Directory listings and indirect lists
    /// are zstd-fastest compressed (Kopia's default `metadataCompression`).
    public func session() throws -> WriteSession {
        let writer = ContentWriter(format: format, storage: storage, existing: index, epoch: epoch)
        return WriteSession(contents: writer, splitter: try splitter,
                            metadataCompression: try CompressionAlgorithm(name: "zstd-fastest"))
    }

    /// Every live manifest.
    public func manifests() async throws -> ManifestStore {
        try await ManifestStore.load(from: index, logger: logger)
    }

    /// The newest complete snapshot of `source`, if any.
    public func latestSnapshot(of source: SnapshotSource) async throws -> SnapshotManifest? {
        let store = try await manifests()
        let entries = store.find(labels: ["type": "snapshot", "hostname": source.host, "username": source.userName,
                                          "path": source.path])
        let snapshots = entries.compactMap { try? SnapshotManifest(entry: $0) }.filter { !$0.isIncomplete }
        return snapshots.max { ($0.startTime, $0.endTime) < ($1.startTime, $1.endTime) }
    }

    /// Takes a snapshot of the directory at `path` as `source`, incrementally against the newest complete
    /// snapshot of the same source.
    public func snapshot(path: String, source: SnapshotSource, options: SnapshotUploadOptions) async throws
        -> SnapshotUploadResult
    {
        let session = try session()
        var previous: PreviousSnapshot?
        if let last = try await latestSnapshot(of: source) {
            let objects = ObjectStore(contents: index)
            previous = PreviousSnapshot(root: last.rootEntry) { id in
                try Directory.parse(try await objects.read(id), objectID: id).entries
            }
        }
        return try await SnapshotUploader(objects: session.objects, options: options)
            .upload(path: path, source: source, previous: previous)
    }

    /// Deletes a snapshot by manifest ID: writes a `deleted` manifest entry newer than the original (Kopia's
    /// `manifest.Delete`). Contents stay until Kopia's maintenance collects them.
    /// - Throws: `.snapshotNotFound` when no live snapshot manifest has that ID.
    public func deleteSnapshot(id: String) async throws {
        let store = try await manifests()
        guard let entry = store.entry(id: id), entry.type == "snapshot" else {
            throw KopiaError(.snapshotNotFound, "no snapshot with manifest ID \(id)")
        }
        let writer = ContentWriter(format: format, storage: storage, existing: index, epoch: epoch)
        var modified = KopiaTimeFormat.now()
        if modified <= entry.modified { modified = KopiaTime(seconds: entry.modified.seconds + 1) }
        try await ManifestWriter(contents: writer).write([
            ManifestWriter.Entry(id: id, labels: entry.labels, modified: modified, deleted: true, dataJSON: nil)
        ])
        try await writer.flush()
    }
}

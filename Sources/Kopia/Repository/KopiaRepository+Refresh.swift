public import Logging

extension KopiaRepository {
    /// The same repository re-read, so snapshots written since `open` (or the last refresh) appear, and deleted ones
    /// disappear. The format (and so the password's key derivation) is reused: no scrypt, and the storage (with
    /// its connections) is shared.
    ///
    /// Incremental (`ContentManager.refreshed`): when the active index set is exactly the one already loaded (same
    /// blob IDs and lengths, same deletion watermark — index blobs are immutable, and manifests are contents the
    /// index names), the receiver is returned as is and the listing was the whole cost. Otherwise only the index
    /// blobs added since are read, the entries of blobs still listed are reused, those of blobs gone (compaction)
    /// are dropped, and only manifest contents not parsed before are read; the result is what `open` would give.
    ///
    /// The receiver is unchanged (values are immutable); callers swap in the result.
    /// - Throws: as `open(storage:password:logger:)` after the format step.
    public func refreshed(logger: Logger) async throws -> KopiaRepository {
        guard let current = contents as? ContentManager else {
            let contents = try await ContentManager.open(storage: storage, format: format, logger: logger)
            let manifests = try await ManifestStore.load(from: contents, logger: logger)
            return try KopiaRepository(storage: storage, format: format, contents: contents, manifests: manifests)
        }
        guard let contents = try await current.refreshed(logger: logger) else {
            logger.debug("index unchanged", metadata: ["kopia.index.blobs": "\(current.indexBlobs.count)"])
            return self
        }
        let manifests = try await manifests.reloaded(from: contents, logger: logger)
        return try KopiaRepository(storage: storage, format: format, contents: contents, manifests: manifests)
    }

    /// Same IDs with the same lengths (order and modification times ignored).
    static func sameIndexSet(_ a: [BlobMetadata], _ b: [BlobMetadata]) -> Bool {
        guard a.count == b.count else { return false }
        var lengths: [String: Int64] = [:]
        for blob in b { lengths[blob.id] = blob.length }
        return a.allSatisfy { lengths[$0.id] == $0.length }
    }
}

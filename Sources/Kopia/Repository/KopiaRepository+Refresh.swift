public import Logging

extension KopiaRepository {
    /// The same repository re-read: index blobs and manifests loaded again, so snapshots written since `open` (or
    /// the last refresh) appear, and deleted ones disappear. The format (and so the password's key derivation) is
    /// reused: no scrypt, and the storage (with its connections) is shared.
    ///
    /// When the active index set is exactly the one already loaded (same blob IDs and lengths, same deletion
    /// watermark — index blobs are immutable, and manifests are contents the index names), the receiver is
    /// returned as is: a refresh of an unchanged repository costs the listing only.
    ///
    /// The receiver is unchanged (values are immutable); callers swap in the result.
    /// - Throws: as `open(storage:password:logger:)` after the format step.
    public func refreshed(logger: Logger) async throws -> KopiaRepository {
        if let current = contents as? ContentManager {
            let (blobs, watermark) = try await IndexLoader.activeBlobs(storage: storage, format: format)
            if watermark == current.deletionWatermark, Self.sameIndexSet(blobs, current.indexBlobs) {
                logger.debug("index unchanged", metadata: ["kopia.index.blobs": "\(blobs.count)"])
                return self
            }
        }
        let contents = try await ContentManager.open(storage: storage, format: format, logger: logger)
        let manifests = try await ManifestStore.load(from: contents, logger: logger)
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

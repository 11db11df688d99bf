public import Logging

extension KopiaRepository {
    /// The same repository re-read: index blobs and manifests loaded again, so snapshots written since `open` (or
    /// the last refresh) appear, and deleted ones disappear. The format (and so the password's key derivation) is
    /// reused: no scrypt, and the storage (with its connections) is shared.
    ///
    /// The receiver is unchanged (values are immutable); callers swap in the result.
    /// - Throws: as `open(storage:password:logger:)` after the format step.
    public func refreshed(logger: Logger) async throws -> KopiaRepository {
        let contents = try await ContentManager.open(storage: storage, format: format, logger: logger)
        let manifests = try await ManifestStore.load(from: contents, logger: logger)
        return try KopiaRepository(storage: storage, format: format, contents: contents, manifests: manifests)
    }
}

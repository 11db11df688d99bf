public import Kopia

/// A `BlobStorage` wrapper for tests that intercepts some operations and passes the rest to `base`: conform, keep
/// `base`, and implement only what the test changes (a failing write, a recorded read, a lying listing).
public protocol ForwardingStorage: BlobStorage {
    var base: any BlobStorage { get }
}

extension ForwardingStorage {
    public var displayName: String { base.displayName }
    public func read(_ id: String) async throws -> [UInt8] { try await base.read(id) }
    public func read(_ id: String, offset: Int64, length: Int) async throws -> [UInt8] {
        try await base.read(id, offset: offset, length: length)
    }
    public func list(prefix: String) async throws -> [BlobMetadata] { try await base.list(prefix: prefix) }
    public func metadata(_ id: String) async throws -> BlobMetadata { try await base.metadata(id) }
    public func write(_ id: String, _ data: [UInt8]) async throws { try await base.write(id, data) }
    public func delete(_ id: String) async throws { try await base.delete(id) }
}

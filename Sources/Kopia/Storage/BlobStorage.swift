public import Foundation

/// What storage knows about one blob.
public struct BlobMetadata: Sendable, Hashable {
    public var id: String
    public var length: Int64
    public var modified: Date?

    public init(id: String, length: Int64, modified: Date? = nil) {
        self.id = id
        self.length = length
        self.modified = modified
    }
}

/// The contract every blob store keeps (filesystem, S3, decorators, test doubles).
///
/// Blob IDs are flat strings (kopia-format.md §1.1); a backend maps them to files or keys.
/// - Reads of a missing blob throw `KopiaError` with code `.blobNotFound` and the blob ID set.
/// - `read(_:offset:length:)` returns exactly `length` bytes or throws `.truncatedData` naming the blob.
/// - `list(prefix:)` returns every blob whose ID starts with `prefix`, in unspecified order.
/// - `write` is atomic: readers see the old state or the whole new blob, never a part.
/// - `delete` of a missing blob succeeds (idempotent).
/// - Transient backend failures carry `retry: .transient`; everything else is `.permanent`.
/// - All methods may be called concurrently from many tasks.
public protocol BlobStorage: Sendable {
    /// A human-readable location for messages (`filesystem:///path`, `s3://bucket/prefix`). No credentials.
    var displayName: String { get }
    func read(_ id: String) async throws -> [UInt8]
    func read(_ id: String, offset: Int64, length: Int) async throws -> [UInt8]
    func list(prefix: String) async throws -> [BlobMetadata]
    func metadata(_ id: String) async throws -> BlobMetadata
    func write(_ id: String, _ data: [UInt8]) async throws
    func delete(_ id: String) async throws
}

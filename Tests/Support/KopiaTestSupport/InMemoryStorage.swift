import Foundation
public import Kopia
import Synchronization

/// A `BlobStorage` held in memory, for tests (STYLE.md §2: test doubles live in test-support targets).
///
/// Keeps the full `BlobStorage` contract (it runs in the conformance suite). Thread-safe through a `Mutex`.
public final class InMemoryStorage: BlobStorage {
    private let blobs = Mutex<[String: (bytes: [UInt8], modified: Date)]>([:])

    public init(_ initial: [String: [UInt8]] = [:]) {
        let now = Date()
        blobs.withLock { state in
            for (id, bytes) in initial { state[id] = (bytes, now) }
        }
    }

    /// Copies every blob of `storage` (all prefixes) into a new in-memory storage.
    public static func copy(of storage: any BlobStorage) async throws -> InMemoryStorage {
        let copy = InMemoryStorage()
        for meta in try await storage.list(prefix: "") {
            try await copy.write(meta.id, try await storage.read(meta.id))
        }
        return copy
    }

    public var displayName: String { "memory://" }

    public func read(_ id: String) async throws -> [UInt8] {
        guard let entry = blobs.withLock({ $0[id] }) else {
            throw KopiaError(.blobNotFound, "blob is missing", blobID: id)
        }
        return entry.bytes
    }

    public func read(_ id: String, offset: Int64, length: Int) async throws -> [UInt8] {
        guard offset >= 0, length >= 0 else {
            throw KopiaError(.invalidArgument, "negative offset \(offset) or length \(length)", blobID: id)
        }
        let bytes = try await read(id)
        guard offset + Int64(length) <= Int64(bytes.count) else {
            throw KopiaError(.truncatedData, "blob is shorter than expected", blobID: id)
        }
        return Array(bytes[Int(offset)..<Int(offset) + length])
    }

    public func list(prefix: String) async throws -> [BlobMetadata] {
        blobs.withLock { state in
            state.compactMap { id, entry in
                id.hasPrefix(prefix) ? BlobMetadata(id: id, length: Int64(entry.bytes.count), modified: entry.modified) : nil
            }
        }
    }

    public func metadata(_ id: String) async throws -> BlobMetadata {
        guard let entry = blobs.withLock({ $0[id] }) else {
            throw KopiaError(.blobNotFound, "blob is missing", blobID: id)
        }
        return BlobMetadata(id: id, length: Int64(entry.bytes.count), modified: entry.modified)
    }

    public func write(_ id: String, _ data: [UInt8]) async throws {
        guard !id.isEmpty else { throw KopiaError(.invalidArgument, "empty blob ID") }
        blobs.withLock { $0[id] = (data, Date()) }
    }

    public func delete(_ id: String) async throws {
        _ = blobs.withLock { $0.removeValue(forKey: id) }
    }
}

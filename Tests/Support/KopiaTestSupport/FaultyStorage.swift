public import Kopia
import Synchronization

/// Wraps a `BlobStorage` and damages the blobs it is told to: reads of a named blob fail, or return its bytes
/// truncated or with a bit flipped. Listing and metadata report the damaged length. Writes and deletes pass
/// through. Thread-safe.
public final class FaultyStorage: BlobStorage {
    public enum Fault: Sendable {
        /// Reads throw this error.
        case fail(KopiaError)
        /// The blob looks absent.
        case missing
        /// The blob ends after this many bytes.
        case truncate(Int)
        /// Bit `bit` of byte `offset` is inverted.
        case flipBit(offset: Int, bit: Int)
    }

    public let base: any BlobStorage
    private let faults = Mutex<[String: Fault]>([:])

    public init(_ base: any BlobStorage) {
        self.base = base
    }

    public func inject(_ fault: Fault, into id: String) {
        faults.withLock { $0[id] = fault }
    }

    public func clear(_ id: String) {
        _ = faults.withLock { $0.removeValue(forKey: id) }
    }

    public var displayName: String { "faulty+" + base.displayName }

    private func damaged(_ id: String) async throws -> [UInt8]? {
        guard let fault = faults.withLock({ $0[id] }) else { return nil }
        switch fault {
        case .fail(let error): throw error
        case .missing: throw KopiaError(.blobNotFound, "blob is missing (injected)", blobID: id)
        case .truncate(let n): return Array(try await base.read(id).prefix(max(n, 0)))
        case .flipBit(let offset, let bit):
            var bytes = try await base.read(id)
            if bytes.indices.contains(offset) { bytes[offset] ^= UInt8(1) << UInt8(bit & 7) }
            return bytes
        }
    }

    public func read(_ id: String) async throws -> [UInt8] {
        if let bytes = try await damaged(id) { return bytes }
        return try await base.read(id)
    }

    public func read(_ id: String, offset: Int64, length: Int) async throws -> [UInt8] {
        guard let bytes = try await damaged(id) else { return try await base.read(id, offset: offset, length: length) }
        guard offset >= 0, length >= 0, offset + Int64(length) <= Int64(bytes.count) else {
            throw KopiaError(.truncatedData, "blob is shorter than expected (injected)", blobID: id)
        }
        return Array(bytes[Int(offset)..<Int(offset) + length])
    }

    public func list(prefix: String) async throws -> [BlobMetadata] {
        var out: [BlobMetadata] = []
        for meta in try await base.list(prefix: prefix) {
            switch faults.withLock({ $0[meta.id] }) {
            case .missing?: continue
            case .truncate(let n)?: out.append(BlobMetadata(id: meta.id, length: min(meta.length, Int64(n)), modified: meta.modified))
            default: out.append(meta)
            }
        }
        return out
    }

    public func metadata(_ id: String) async throws -> BlobMetadata {
        if let bytes = try await damaged(id) { return BlobMetadata(id: id, length: Int64(bytes.count)) }
        return try await base.metadata(id)
    }

    public func write(_ id: String, _ data: [UInt8]) async throws {
        try await base.write(id, data)
    }

    public func delete(_ id: String) async throws {
        try await base.delete(id)
    }
}

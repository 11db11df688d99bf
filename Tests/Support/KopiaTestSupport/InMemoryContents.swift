public import Kopia

/// Contents held in memory, for testing Objects/, Manifests/ and Snapshots/ without a repository
/// (STYLE.md: a test double of the `ContentReading` seam, not a mock).
///
/// IDs are a deterministic 16-byte hash of prefix and bytes (not Kopia's keyed hash; `ContentReading` callers never
/// recompute IDs). Build it up with `add(_:prefix:)`, then hand it out; `remove(_:)` simulates a lost content.
public struct InMemoryContents: ContentReading {
    public private(set) var storage: [ContentID: [UInt8]] = [:]

    public init() {}

    /// Stores `bytes` and returns their content ID (`prefix` 0 = none, else an ASCII letter g…z).
    @discardableResult
    public mutating func add(_ bytes: [UInt8], prefix: UInt8 = 0) -> ContentID {
        let id = ContentID(prefix: prefix, hash: Self.hash(bytes, prefix: prefix))
        storage[id] = bytes
        return id
    }

    /// Stores `bytes` under a chosen ID (to plant damaged or surprising contents).
    public mutating func put(_ bytes: [UInt8], as id: ContentID) {
        storage[id] = bytes
    }

    public mutating func remove(_ id: ContentID) {
        storage[id] = nil
    }

    public func content(_ id: ContentID) async throws -> [UInt8] {
        guard let bytes = storage[id] else {
            throw KopiaError(.contentNotFound, "content not found", contentID: id.description)
        }
        return bytes
    }

    public func contains(_ id: ContentID) -> Bool { storage[id] != nil }

    public func contentIDs(prefix: UInt8) -> [ContentID] {
        storage.keys.filter { $0.prefix == prefix }.sorted()
    }

    static func hash(_ bytes: [UInt8], prefix: UInt8) -> [UInt8] {
        var out: [UInt8] = []
        for seed: UInt64 in [0xcbf2_9ce4_8422_2325, 0x8422_2325_cbf2_9ce4] {
            var h = seed ^ UInt64(prefix)
            for b in bytes {
                h ^= UInt64(b)
                h = h &* 0x0000_0100_0000_01b3
            }
            h ^= UInt64(bytes.count)
            for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: h >> (8 * UInt64(i)))) }
        }
        return out
    }
}

import Foundation

/// One labelled entry of the manifest store (kopia-format.md §10; kopia `repo/manifest/manifest_entry.go`,
/// `serialized.go`):
///
/// `{"id":"<32 hex>","labels":{"type":"snapshot",…},"modified":"<RFC 3339>","deleted":true?,"data":<JSON>}`
public struct ManifestEntry: Sendable, Hashable {
    /// 32 hex digits (16 random bytes); a snapshot's ID is its manifest entry's ID.
    public let id: String
    public let labels: [String: String]
    public let modified: KopiaTime
    /// A tombstone: a later entry with the same ID and `deleted: true` removes the manifest.
    public let isDeleted: Bool
    /// The payload, as parsed; `.null` for tombstones.
    public let data: ManifestJSON

    public init(id: String, labels: [String: String], modified: KopiaTime, isDeleted: Bool = false,
                data: ManifestJSON = .null) {
        self.id = id
        self.labels = labels
        self.modified = modified
        self.isDeleted = isDeleted
        self.data = data
    }

    /// The `type` label (`snapshot`, `policy`, `maintenance`, …).
    public var type: String? { labels["type"] }

    /// Decodes `data` into `T`.
    /// - Throws: `KopiaError` `.invalidManifest` naming the manifest ID and what did not decode.
    public func decodeData<T: Decodable>(_ type: T.Type) throws(KopiaError) -> T {
        do {
            let bytes = try JSONEncoder().encode(data)
            return try JSONDecoder().decode(T.self, from: bytes)
        } catch let error as KopiaError {
            throw error
        } catch {
            throw KopiaError(.invalidManifest, "manifest \(id) (type \(self.type ?? "none")) does not decode: "
                                 + Self.describe(error), cause: error)
        }
    }

    /// A short, person-readable reason for a decoding error (the coding path and what was wrong).
    static func describe(_ error: any Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func path(_ c: DecodingError.Context) -> String {
            let p = c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "" : " at \(p)"
        }
        switch e {
        case .keyNotFound(let key, let c): return "missing field \"\(key.stringValue)\"\(path(c))"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "\(c.debugDescription)\(path(c))"
        case .dataCorrupted(let c): return "\(c.debugDescription)\(path(c))"
        @unknown default: return "\(e)"
        }
    }
}

/// Writes manifest entries (kopia-format.md §10; kopia/kopia `repo/manifest/manifest_manager.go`).
///
/// A batch of entries becomes one content with prefix `m` in a `q` pack: the plaintext is the gzip of
/// `{"entries":[{"id","labels","modified","deleted"?,"data"}…]}`, stored with zstd-fastest content compression
/// when that shrinks it (Kopia ≥ 0.18 does the same; 0.12 stored it raw — gzip'd JSON rarely shrinks further, so
/// both cases occur and readers follow the index header). Deleting = writing an entry with `deleted: true` and
/// a newer `modified`.
public struct ManifestWriter: Sendable {
    public let contents: ContentWriter

    public init(contents: ContentWriter) {
        self.contents = contents
    }

    /// One manifest entry to write; `dataJSON` is the entry's `data` as encoded JSON.
    public struct Entry: Sendable {
        public var id: String
        public var labels: [String: String]
        public var modified: KopiaTime
        public var deleted: Bool
        public var dataJSON: String?

        public init(id: String = ManifestWriter.newID(), labels: [String: String], modified: KopiaTime,
                    deleted: Bool = false, dataJSON: String?) {
            self.id = id
            self.labels = labels
            self.modified = modified
            self.deleted = deleted
            self.dataJSON = dataJSON
        }
    }

    /// A new manifest ID: 16 random bytes as 32 hex.
    public static func newID() -> String { Hex.encode(randomBytes(16)) }

    /// Encodes `{"entries":[…]}` as Kopia writes it (labels sorted by key, as Go marshals maps).
    public static func encode(_ entries: [Entry]) -> String {
        var w = GoJSON()
        w.beginObject()
        w.key("entries")
        w.beginArray()
        for e in entries {
            w.beginObject()
            w.field("id", e.id)
            w.key("labels")
            w.beginObject()
            for (k, v) in e.labels.sorted(by: { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }) {
                w.field(k, v)
            }
            w.endObject()
            w.field("modified", KopiaTimeFormat.utc(e.modified))
            if e.deleted { w.field("deleted", true) }
            if let data = e.dataJSON {
                w.key("data")
                w.raw(data)
            }
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.text + "\n"  // Go's json.Encoder newline, as in Kopia's manifest contents
    }

    /// Writes `entries` as one `m` content. Not visible until the content writer flushes.
    @discardableResult
    public func write(_ entries: [Entry]) async throws -> ContentID {
        let gz = try Compression.gzip(Array(ManifestWriter.encode(entries).utf8))
        return try await contents.write(gz, prefix: UInt8(ascii: "m"), compression: try CompressionAlgorithm(name: "zstd-fastest"))
    }
}

import Foundation
public import Logging

/// The repository's manifests, merged (kopia-format.md §10; kopia `repo/manifest/committed_manifest_manager.go`).
///
/// Loading reads every live content with prefix `m` through `ContentReading` (which already removes content-level
/// zstd), gunzips it, parses `{"entries":[ManifestEntry…]}`, keeps per `id` the entry with the latest `modified`
/// (ties: the first seen, in content-ID order), and then drops tombstones (`deleted: true`).
///
/// An immutable snapshot of the store at load time; `Sendable`. Reload to see newer manifests.
public struct ManifestStore: Sendable {
    /// Live entries, sorted by `modified` ascending (ties by ID).
    public let entries: [ManifestEntry]
    /// How many `m` contents were read.
    public let contentCount: Int
    /// Each manifest content's parsed entries, before the merge. A content ID is the hash of its bytes, so a
    /// reload reuses these for every content still live instead of reading it again (`reloaded(from:logger:)`).
    let parsed: [ContentID: [ManifestEntry]]

    public init(entries: [ManifestEntry], contentCount: Int = 0) {
        self.init(entries: entries, contentCount: contentCount, parsed: [:])
    }

    init(entries: [ManifestEntry], contentCount: Int, parsed: [ContentID: [ManifestEntry]]) {
        self.entries = Self.merge(entries)
        self.contentCount = contentCount
        self.parsed = parsed
    }

    /// Reads and merges all manifest contents.
    /// - Throws: `KopiaError` `.invalidManifest` (not gzip, not JSON, an entry without ID or time) with the
    ///   content ID set; content errors (`.corruptContent`, `.blobNotFound`, …) from `ContentReading`.
    public static func load(from contents: any ContentReading, logger: Logger) async throws -> ManifestStore {
        try await load(from: contents, reusing: [:], logger: logger)
    }

    /// The manifests of `contents` (a refreshed index of the same repository), reading only the manifest contents
    /// this store has not parsed: the same store `load(from:logger:)` returns, at the cost of the new contents.
    /// - Throws: as `load(from:logger:)`.
    public func reloaded(from contents: any ContentReading, logger: Logger) async throws -> ManifestStore {
        try await Self.load(from: contents, reusing: parsed, logger: logger)
    }

    static func load(from contents: any ContentReading, reusing known: [ContentID: [ManifestEntry]],
                     logger: Logger) async throws -> ManifestStore {
        let ids = contents.contentIDs(prefix: UInt8(ascii: "m"))
        var all: [ManifestEntry] = []
        var parsed: [ContentID: [ManifestEntry]] = [:]
        parsed.reserveCapacity(ids.count)
        var read = 0
        for id in ids {
            if let entries = known[id] {
                all.append(contentsOf: entries)
                parsed[id] = entries
                continue
            }
            let plaintext: [UInt8]
            do {
                plaintext = try await contents.content(id)
            } catch let error as KopiaError {
                throw error.adding(contentID: id.description)
            }
            let entries = try parseContent(plaintext, contentID: id)
            read += 1
            all.append(contentsOf: entries)
            parsed[id] = entries
        }
        let store = ManifestStore(entries: all, contentCount: ids.count, parsed: parsed)
        logger.debug("manifests loaded", metadata: [
            "kopia.manifest.contents": "\(ids.count)", "kopia.manifest.contents.read": "\(read)",
            "kopia.manifest.entries": "\(store.entries.count)",
        ])
        return store
    }

    /// Parses one manifest content's plaintext: gzip of `{"entries":[…]}`.
    /// - Throws: `KopiaError` `.invalidManifest` with the content ID set.
    public static func parseContent(_ plaintext: [UInt8], contentID: ContentID) throws(KopiaError) -> [ManifestEntry] {
        let json: [UInt8]
        do {
            json = try ManifestDecompression.gunzip(plaintext)
        } catch {
            throw KopiaError(.invalidManifest, "manifest content is not gzip-compressed JSON",
                             contentID: contentID.description, cause: error)
        }
        let raw: RawContent
        do {
            raw = try JSONDecoder().decode(RawContent.self, from: Data(json))
        } catch {
            throw KopiaError(.invalidManifest, "manifest content does not parse: " + ManifestEntry.describe(error),
                             contentID: contentID.description, cause: error)
        }
        var out: [ManifestEntry] = []
        for e in raw.entries ?? [] {
            guard let modified = try? KopiaTime(rfc3339: e.modified) else {
                throw KopiaError(.invalidManifest, "manifest \(e.id) has an invalid modification time \"\(e.modified)\"",
                                 contentID: contentID.description)
            }
            out.append(ManifestEntry(id: e.id, labels: e.labels ?? [:], modified: modified,
                                     isDeleted: e.deleted ?? false, data: e.data ?? .null))
        }
        return out
    }

    /// Merge rule of kopia-format.md §10: latest `modified` per ID wins (first seen on ties), then tombstones go.
    static func merge(_ entries: [ManifestEntry]) -> [ManifestEntry] {
        var latest: [String: ManifestEntry] = [:]
        for e in entries {
            if let current = latest[e.id], current.modified >= e.modified { continue }
            latest[e.id] = e
        }
        return latest.values.filter { !$0.isDeleted }.sorted { ($0.modified, $0.id) < ($1.modified, $1.id) }
    }

    /// The live entry with this ID.
    public func entry(id: String) -> ManifestEntry? {
        entries.first { $0.id == id }
    }

    /// Entries whose labels contain every given key=value, sorted by `modified` ascending.
    public func find(labels: [String: String]) -> [ManifestEntry] {
        entries.filter { e in labels.allSatisfy { e.labels[$0.key] == $0.value } }
    }

    private struct RawContent: Decodable {
        var entries: [RawEntry]?
    }

    private struct RawEntry: Decodable {
        var id: String
        var labels: [String: String]?
        var modified: String
        var deleted: Bool?
        var data: ManifestJSON?
    }
}

/// Totals a snapshot records about its source (kopia `snapshot/stats.go`). Missing fields are 0.
public struct SnapshotStats: Sendable, Hashable, Codable {
    public var totalSize: Int64 = 0
    public var excludedTotalSize: Int64 = 0
    public var fileCount: Int64 = 0
    public var cachedFiles: Int64 = 0
    public var nonCachedFiles: Int64 = 0
    public var dirCount: Int64 = 0
    public var excludedFileCount: Int64 = 0
    public var excludedDirCount: Int64 = 0
    public var ignoredErrorCount: Int64 = 0
    public var errorCount: Int64 = 0

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func v(_ k: CodingKeys) throws -> Int64 { try c.decodeIfPresent(Int64.self, forKey: k) ?? 0 }
        totalSize = try v(.totalSize)
        excludedTotalSize = try v(.excludedTotalSize)
        fileCount = try v(.fileCount)
        cachedFiles = try v(.cachedFiles)
        nonCachedFiles = try v(.nonCachedFiles)
        dirCount = try v(.dirCount)
        excludedFileCount = try v(.excludedFileCount)
        excludedDirCount = try v(.excludedDirCount)
        ignoredErrorCount = try v(.ignoredErrorCount)
        errorCount = try v(.errorCount)
    }
}

/// A snapshot: a manifest entry with label `type=snapshot` (kopia-format.md §11; kopia `snapshot/manifest.go`).
public struct SnapshotManifest: Sendable, Hashable {
    /// The manifest entry's ID (the `id` inside `data` is written empty).
    public let id: String
    public let source: SnapshotSource
    public let description: String
    public let startTime: KopiaTime
    public let endTime: KopiaTime
    public let stats: SnapshotStats
    /// Why the snapshot is incomplete (`checkpoint`, `canceled`, `limit reached`), nil when complete.
    public let incompleteReason: String?
    /// The root of the tree: usually a directory; a single-file snapshot has a file root.
    public let rootEntry: DirectoryEntry
    public let tags: [String: String]
    public let pins: [String]
    /// When the manifest entry was last written.
    public let modified: KopiaTime

    public var isIncomplete: Bool { incompleteReason != nil }

    /// Size, file and directory counts of the whole tree, as `kopia snapshot list` shows them: the root entry's
    /// directory summary (the root directory itself counted), else the upload statistics (which count only the
    /// files read in this run, not those reused from the previous snapshot).
    public var totals: (size: Int64, files: Int64, dirs: Int64) {
        if let summary = rootEntry.summary {
            return (summary.totalSize, summary.fileCount, summary.dirCount)
        }
        return (stats.totalSize, stats.fileCount + stats.cachedFiles, stats.dirCount)
    }

    public init(id: String, source: SnapshotSource, description: String = "", startTime: KopiaTime,
                endTime: KopiaTime, stats: SnapshotStats = SnapshotStats(), incompleteReason: String? = nil,
                rootEntry: DirectoryEntry, tags: [String: String] = [:], pins: [String] = [],
                modified: KopiaTime? = nil) {
        self.id = id
        self.source = source
        self.description = description
        self.startTime = startTime
        self.endTime = endTime
        self.stats = stats
        self.incompleteReason = incompleteReason
        self.rootEntry = rootEntry
        self.tags = tags
        self.pins = pins
        self.modified = modified ?? endTime
    }

    /// Decodes a `type=snapshot` manifest entry.
    /// - Throws: `KopiaError` `.invalidManifest` naming the manifest ID and the field that did not decode.
    public init(entry: ManifestEntry) throws(KopiaError) {
        let raw: Raw
        do {
            raw = try entry.decodeData(Raw.self)
        } catch {
            throw KopiaError(.invalidManifest, "snapshot manifest \(entry.id) does not decode: \(error.message)",
                             cause: error)
        }
        let source = raw.source ?? SnapshotSource(userName: entry.labels["username"] ?? "",
                                                  host: entry.labels["hostname"] ?? "",
                                                  path: entry.labels["path"] ?? "")
        guard let root = raw.rootEntry else {
            throw KopiaError(.invalidManifest, "snapshot manifest \(entry.id) has no rootEntry")
        }
        let reason = raw.incomplete.flatMap { $0.isEmpty ? nil : $0 }
        self.init(id: entry.id, source: source, description: raw.description ?? "", startTime: raw.startTime,
                  endTime: raw.endTime ?? raw.startTime, stats: raw.stats ?? SnapshotStats(),
                  incompleteReason: reason, rootEntry: root, tags: raw.tags ?? [:], pins: raw.pins ?? [],
                  modified: entry.modified)
    }

    private struct Raw: Decodable {
        var source: SnapshotSource?
        var description: String?
        var startTime: KopiaTime
        var endTime: KopiaTime?
        var stats: SnapshotStats?
        var incomplete: String?
        var rootEntry: DirectoryEntry?
        var tags: [String: String]?
        var pins: [String]?
    }
}

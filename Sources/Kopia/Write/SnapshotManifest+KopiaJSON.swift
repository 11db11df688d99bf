/// The snapshot manifest `data` and labels as Kopia writes them (kopia-format.md §11; kopia/kopia
/// `snapshot/manifest.go`, `snapshot/manager.go`).
///
/// Labels: `type=snapshot`, `hostname`, `username`, `path` (+ `tag:<k>` per tag). Data fields in Kopia's order:
/// `id` (always `""`), `source{host,userName,path}`, `description`, `startTime`, `endTime`, `stats{…}`,
/// `incomplete`?, `rootEntry`, `tags`?, `pins`?.
public struct SnapshotManifestDraft: Sendable {
    public var source: SnapshotSource
    public var description: String
    public var startTime: KopiaTime
    public var endTime: KopiaTime
    public var stats: SnapshotStats
    public var incompleteReason: String?
    public var rootEntry: DirectoryEntry
    public var tags: [String: String]

    public init(source: SnapshotSource, description: String = "", startTime: KopiaTime, endTime: KopiaTime,
                stats: SnapshotStats = SnapshotStats(), incompleteReason: String? = nil, rootEntry: DirectoryEntry,
                tags: [String: String] = [:]) {
        self.source = source
        self.description = description
        self.startTime = startTime
        self.endTime = endTime
        self.stats = stats
        self.incompleteReason = incompleteReason
        self.rootEntry = rootEntry
        self.tags = tags
    }

    public var labels: [String: String] {
        var l = ["type": "snapshot", "hostname": source.host, "username": source.userName, "path": source.path]
        for (k, v) in tags { l["tag:" + k] = v }
        return l
    }

    public var dataJSON: String {
        var w = GoJSON()
        w.beginObject()
        w.field("id", "")
        w.key("source")
        w.beginObject()
        w.field("host", source.host)
        w.field("userName", source.userName)
        w.field("path", source.path)
        w.endObject()
        w.field("description", description)
        w.field("startTime", KopiaTimeFormat.utc(startTime))
        w.field("endTime", KopiaTimeFormat.utc(endTime))
        w.key("stats")
        w.beginObject()
        w.field("totalSize", stats.totalSize)
        w.field("excludedTotalSize", stats.excludedTotalSize)
        w.field("fileCount", stats.fileCount)
        w.field("cachedFiles", stats.cachedFiles)
        w.field("nonCachedFiles", stats.nonCachedFiles)
        w.field("dirCount", stats.dirCount)
        w.field("excludedFileCount", stats.excludedFileCount)
        w.field("excludedDirCount", stats.excludedDirCount)
        w.field("ignoredErrorCount", stats.ignoredErrorCount)
        w.field("errorCount", stats.errorCount)
        w.endObject()
        if let incompleteReason, !incompleteReason.isEmpty { w.field("incomplete", incompleteReason) }
        w.key("rootEntry")
        rootEntry.encode(into: &w)
        if !tags.isEmpty {
            w.key("tags")
            w.beginObject()
            for (k, v) in tags.sorted(by: { $0.key < $1.key }) { w.field(k, v) }
            w.endObject()
        }
        w.endObject()
        return w.text
    }
}

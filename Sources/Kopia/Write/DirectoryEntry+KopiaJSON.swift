/// Encoders for directory objects in the exact shape Kopia writes them (kopia-format.md §12.1; kopia/kopia
/// `snapshot/manifest.go` `DirEntry`, `DirectorySummary`, `snapshot/snapshotfs/dir_writer.go`).
///
/// Field order and `omitempty` follow Kopia's Go structs: `name, type, mode, size, mtime, uid, gid, obj, summ`
/// with `mode`, `size`, `uid`, `gid` omitted when 0; summaries write `size, files, symlinks, dirs, maxTime,
/// incomplete?, numFailed, numIgnoredErrors?, errors?`. Modes are Go `os.FileMode` bits in octal with a leading
/// `0` (`"0755"`, setgid directory `"020000775"`). Times are RFC 3339 UTC with nanoseconds, trailing zeros
/// trimmed.
extension DirectoryEntry {
    /// The entry as Kopia's JSON object.
    public var kopiaJSON: String {
        var w = GoJSON()
        encode(into: &w)
        return w.text
    }

    func encode(into w: inout GoJSON) {
        w.beginObject()
        w.field("name", name)
        w.field("type", type.kopiaLetter)
        let mode = type == .symlink ? (permissions.goMode == 0 ? 0o777 : permissions.goMode) : permissions.goMode
        if mode != 0 { w.field("mode", "0" + String(mode, radix: 8)) }
        if size != 0 { w.field("size", size) }
        w.field("mtime", KopiaTimeFormat.utc(modified))
        if uid != 0 { w.field("uid", uid) }
        if gid != 0 { w.field("gid", gid) }
        w.field("obj", objectID.description)
        if let summary {
            w.key("summ")
            summary.encode(into: &w)
        }
        w.endObject()
    }
}

extension DirectorySummary {
    /// A summary from counts, for writers and tests.
    public init(
        totalSize: Int64, fileCount: Int64, symlinkCount: Int64, dirCount: Int64, maxModTime: KopiaTime?,
        incompleteReason: String? = nil, failedCount: Int64 = 0, ignoredErrorCount: Int64 = 0,
        errors: [EntryError] = []
    ) {
        self.totalSize = totalSize
        self.fileCount = fileCount
        self.symlinkCount = symlinkCount
        self.dirCount = dirCount
        self.maxModTime = maxModTime
        self.incompleteReason = incompleteReason
        self.failedCount = failedCount
        self.ignoredErrorCount = ignoredErrorCount
        self.errors = errors
    }

    func encode(into w: inout GoJSON) {
        w.beginObject()
        w.field("size", totalSize)
        w.field("files", fileCount)
        w.field("symlinks", symlinkCount)
        w.field("dirs", dirCount)
        if let maxModTime { w.field("maxTime", KopiaTimeFormat.utc(maxModTime)) }
        if let incompleteReason, !incompleteReason.isEmpty { w.field("incomplete", incompleteReason) }
        w.field("numFailed", failedCount)
        if ignoredErrorCount != 0 { w.field("numIgnoredErrors", ignoredErrorCount) }
        if !errors.isEmpty {
            w.key("errors")
            w.beginArray()
            for e in errors {
                w.beginObject()
                w.field("path", e.path)
                w.field("error", e.error)
                w.endObject()
            }
            w.endArray()
        }
        w.endObject()
    }
}

/// Directory object JSON: `{"stream":"kopia:directory","entries":[…]|null,"summary":{…}}`.
public enum DirectoryObjectJSON {
    /// Encodes `entries` in the order given (Kopia's order is directories first, then the rest, each by name;
    /// see ``kopiaOrder(_:)``). An empty list is written as `null`, as Kopia does. Hostile or unusual entries
    /// (names with `/`, `..`, duplicates) are written as given — for building test repositories.
    public static func encode(entries: [DirectoryEntry], summary: DirectorySummary?) -> [UInt8] {
        var w = GoJSON()
        w.beginObject()
        w.field("stream", "kopia:directory")
        w.key("entries")
        if entries.isEmpty {
            w.null()
        } else {
            w.beginArray()
            for e in entries { e.encode(into: &w) }
            w.endArray()
        }
        if let summary {
            w.key("summary")
            summary.encode(into: &w)
        }
        w.endObject()
        return Array((w.text + "\n").utf8)  // Go's json.Encoder adds a newline, as in Kopia's directory objects
    }

    /// Kopia's entry order: directories first, then everything else, each group by name in byte order.
    public static func kopiaOrder(_ entries: [DirectoryEntry]) -> [DirectoryEntry] {
        entries.sorted { a, b in
            if a.isDirectory != b.isDirectory { return a.isDirectory }
            return Array(a.name.utf8).lexicographicallyPrecedes(Array(b.name.utf8))
        }
    }
}

/// The kind of a directory entry (kopia `snapshot/manifest.go` `EntryType`).
public enum EntryType: Sendable, Hashable, CustomStringConvertible {
    case file
    case directory
    case symlink
    /// A type letter Ferry does not know; listed, never restored.
    case other(String)

    public init(kopiaLetter: String) {
        switch kopiaLetter {
        case "f": self = .file
        case "d": self = .directory
        case "s": self = .symlink
        default: self = .other(kopiaLetter)
        }
    }

    /// Kopia's letter: `f`, `d`, `s`.
    public var kopiaLetter: String {
        switch self {
        case .file: "f"
        case .directory: "d"
        case .symlink: "s"
        case .other(let s): s
        }
    }

    /// The `ls -l` type character: `-`, `d`, `l`, `?`.
    public var lsCharacter: Character {
        switch self {
        case .file: "-"
        case .directory: "d"
        case .symlink: "l"
        case .other: "?"
        }
    }

    public var description: String {
        switch self {
        case .file: "file"
        case .directory: "directory"
        case .symlink: "symlink"
        case .other(let s): "unknown type \"\(s)\""
        }
    }
}

/// What a directory's subtree holds (kopia `DirectorySummary`), as recorded at backup time.
public struct DirectorySummary: Sendable, Hashable, Decodable {
    public struct EntryError: Sendable, Hashable, Decodable {
        public let path: String
        public let error: String
    }

    public var totalSize: Int64
    public var fileCount: Int64
    public var symlinkCount: Int64
    public var dirCount: Int64
    public var maxModTime: KopiaTime?
    public var incompleteReason: String?
    public var failedCount: Int64
    public var ignoredErrorCount: Int64
    public var errors: [EntryError]

    enum CodingKeys: String, CodingKey {
        case totalSize = "size", fileCount = "files", symlinkCount = "symlinks", dirCount = "dirs"
        case maxModTime = "maxTime", incompleteReason = "incomplete", failedCount = "numFailed"
        case ignoredErrorCount = "numIgnoredErrors", errors
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        totalSize = try c.decodeIfPresent(Int64.self, forKey: .totalSize) ?? 0
        fileCount = try c.decodeIfPresent(Int64.self, forKey: .fileCount) ?? 0
        symlinkCount = try c.decodeIfPresent(Int64.self, forKey: .symlinkCount) ?? 0
        dirCount = try c.decodeIfPresent(Int64.self, forKey: .dirCount) ?? 0
        maxModTime = try c.decodeIfPresent(KopiaTime.self, forKey: .maxModTime)
        incompleteReason = try c.decodeIfPresent(String.self, forKey: .incompleteReason)
        failedCount = try c.decodeIfPresent(Int64.self, forKey: .failedCount) ?? 0
        ignoredErrorCount = try c.decodeIfPresent(Int64.self, forKey: .ignoredErrorCount) ?? 0
        errors = try c.decodeIfPresent([EntryError].self, forKey: .errors) ?? []
    }
}

/// One entry of a directory object (kopia-format.md §12.1):
///
/// | Key | Notes |
/// |---|---|
/// | `name` | base name |
/// | `type` | `f` file, `d` directory, `s` symlink |
/// | `mode` | octal text with a leading 0 of Go mode bits; omitted if 0 |
/// | `size` | omitted if 0; for symlinks the target length |
/// | `mtime` | RFC 3339 with nanoseconds, any offset |
/// | `uid`, `gid` | omitted if 0 |
/// | `obj` | object ID of the file data, symlink target or directory listing |
/// | `summ` | `DirectorySummary`, directories only |
public struct DirectoryEntry: Sendable, Hashable, Decodable {
    public let name: String
    public let type: EntryType
    public let permissions: FilePermissions
    public let size: Int64
    public let modified: KopiaTime
    public let uid: UInt32
    public let gid: UInt32
    public let objectID: ObjectID
    public let summary: DirectorySummary?

    public init(name: String, type: EntryType, permissions: FilePermissions, size: Int64 = 0,
                modified: KopiaTime, uid: UInt32 = 0, gid: UInt32 = 0, objectID: ObjectID,
                summary: DirectorySummary? = nil) {
        self.name = name
        self.type = type
        self.permissions = permissions
        self.size = size
        self.modified = modified
        self.uid = uid
        self.gid = gid
        self.objectID = objectID
        self.summary = summary
    }

    enum CodingKeys: String, CodingKey {
        case name, type, mode, size, mtime, uid, gid, obj, summ
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        type = EntryType(kopiaLetter: try c.decodeIfPresent(String.self, forKey: .type) ?? "")
        permissions = try c.decodeIfPresent(String.self, forKey: .mode).map { text throws(KopiaError) in
            try FilePermissions(kopiaMode: text)
        } ?? FilePermissions(rawValue: 0)
        size = try c.decodeIfPresent(Int64.self, forKey: .size) ?? 0
        modified = try c.decodeIfPresent(KopiaTime.self, forKey: .mtime) ?? KopiaTime(seconds: 0)
        uid = try c.decodeIfPresent(UInt32.self, forKey: .uid) ?? 0
        gid = try c.decodeIfPresent(UInt32.self, forKey: .gid) ?? 0
        objectID = try c.decode(ObjectID.self, forKey: .obj)
        summary = try c.decodeIfPresent(DirectorySummary.self, forKey: .summ)
    }

    public var isDirectory: Bool { type == .directory }
}

/// What a restore will do, decided before any byte is written (kopia-format.md §12, §13; restic's
/// `internal/restorer/doc.go`): every directory, file and symlink of the snapshot with its place in the target,
/// and for every file the contents that make it up and where each lands.
///
/// Indices are stable: directory 0 is the target itself (the snapshot's root directory); every other node names
/// its parent directory by index, and parents always come before their children. A plan is a pure value built by
/// `RestorePlanner`; executing it never reads a directory listing again.
public struct RestorePlan: Sendable {
    /// A directory to create (or reuse) and whose metadata is applied after all its children.
    public struct PlannedDirectory: Sendable {
        /// Index of the parent directory; nil for the root (the target).
        public let parent: Int?
        public let name: String
        /// The snapshot's entry; nil for the target of a single-file snapshot (its metadata is left alone).
        public let entry: DirectoryEntry?
        /// Path relative to the target ("" for the root), for messages.
        public let path: String
        /// The prefix of the temporary names of files written in this directory (never a sibling's name prefix).
        public let temporaryPrefix: String
    }

    /// A regular file: the chunks that make it up, in object order.
    public struct PlannedFile: Sendable {
        public let parent: Int
        public let name: String
        public let entry: DirectoryEntry
        public let path: String
        public let chunks: [ObjectChunk]
        /// The file's position among all files of the snapshot (stable across runs, even when `skipExisting`
        /// leaves some out): names its temporary file.
        public let ordinal: Int
        /// Whether the single chunk is a whole direct object whose length is only known once decoded.
        public let lengthFromContent: Bool
        /// The size the file is created with before chunks arrive (holes stay holes).
        public var expectedSize: Int64 {
            lengthFromContent ? entry.size : (chunks.last?.end ?? 0)
        }
    }

    /// A symlink and its target (read while planning: targets are tiny).
    public struct PlannedSymlink: Sendable {
        public let parent: Int
        public let name: String
        public let entry: DirectoryEntry
        public let path: String
        public let target: String
    }

    /// Something the planner could not plan (an unreadable or refused listing, a file whose chunk list is
    /// damaged). Its subtree is left out; the failure is reported with the restore's result.
    public struct Failure: Sendable, Error, CustomStringConvertible {
        public let path: String
        public let error: KopiaError
        public var description: String { "\(path.isEmpty ? "." : path): \(error)" }
    }

    public var directories: [PlannedDirectory] = []
    public var files: [PlannedFile] = []
    public var symlinks: [PlannedSymlink] = []
    public var failures: [Failure] = []
    /// Files and symlinks seen so far, planned or not (the next file's `ordinal`).
    var leavesPlanned = 0

    /// Total bytes of the planned files.
    public var totalBytes: Int64 { files.reduce(0) { $0 + $1.expectedSize } }

    public init() {}
}

/// One bounded window of a restore (kopia-format.md §12, §13; restic's `internal/restorer/doc.go`): the
/// directories entered, the files and symlinks found, and the directories completed since the previous window.
/// `RestorePlanner` walks the snapshot depth first and cuts it into windows of at most a few thousand entries,
/// so a restore holds the state of the files in flight, never of the whole tree; within a window reads are still
/// grouped by pack.
///
/// Directory IDs are stable for the whole walk: 0 is the target itself (the snapshot's root directory); every
/// other directory names its parent by ID, and a parent always appears in the same or an earlier window than
/// its children. A window is a pure value; executing it never reads a directory listing again.
public struct RestorePlan: Sendable {
    /// A directory to create (or reuse) and whose metadata is applied after all its children.
    public struct PlannedDirectory: Sendable {
        /// This directory's ID (0 for the target).
        public let id: Int
        /// ID of the parent directory; nil for the root (the target).
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
        /// The file's position among all files and symlinks of the snapshot in walk order (stable across runs,
        /// even when `skipExisting` leaves some out): names its temporary file.
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
        /// Position among all files and symlinks (names the temporary link).
        public let ordinal: Int
    }

    /// Something the planner could not plan (an unreadable or refused listing, a file whose chunk list is
    /// damaged). Its subtree is left out; the failure is reported with the restore's result.
    public struct Failure: Sendable, Error, CustomStringConvertible {
        public let path: String
        public let error: KopiaError
        public var description: String { "\(path.isEmpty ? "." : path): \(error)" }
    }

    /// Directories entered in this window, parents before children.
    public var directories: [PlannedDirectory] = []
    public var files: [PlannedFile] = []
    public var symlinks: [PlannedSymlink] = []
    public var failures: [Failure] = []
    /// Directories whose whole subtree lies in this window or earlier ones, children before parents (post-order):
    /// their metadata can be applied once this window's files and symlinks are in place.
    public var finishedDirectories: [Int] = []

    /// Total bytes of the planned files.
    public var totalBytes: Int64 { files.reduce(0) { $0 + $1.expectedSize } }

    public init() {}
}

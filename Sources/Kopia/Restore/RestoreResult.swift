/// What a restore or verify did, and every path that failed (ARCHITECTURE.md §3: exit code 0 only on full
/// success). Plain value.
public struct RestoreResult: Sendable {
    /// One path that was not restored (or, for verify, is damaged), with the error naming pack and content.
    public struct Failure: Sendable, CustomStringConvertible {
        public let path: String
        public let error: KopiaError

        /// Whether the repository's data is at fault (damaged or missing blob/content/listing), as opposed to
        /// the local file system or a refused entry.
        public var isDamage: Bool {
            [.corruptBlob, .truncatedData, .blobNotFound, .contentNotFound, .corruptContent, .invalidObjectID,
             .invalidDirectory].contains(error.code)
        }

        public var description: String { "\(path.isEmpty ? "." : path): \(error)" }
    }

    public var directories = 0
    public var files = 0
    public var symlinks = 0
    /// Files and symlinks left alone because the target already held them (`skipExisting`).
    public var skipped = 0
    /// Bytes of the files restored (or verified).
    public var bytes: Int64 = 0
    /// Bytes read from pack blobs.
    public var packBytesRead: Int64 = 0
    public var contentsRead = 0
    public var failures: [Failure] = []
    /// Wall-clock seconds per phase, summed over the restore's windows: `plan` (waiting for the next window of
    /// the walk), `directories` (creating them), `contents` (read, decode, write, rename), `metadata` (symlinks
    /// and directory attributes).
    public var phaseSeconds: [(phase: String, seconds: Double)] = []
    /// The restore stopped at the first failure (`failFast`).
    public var stoppedEarly = false

    public var succeeded: Bool { failures.isEmpty && !stoppedEarly }

    public init() {}
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import Logging
import Synchronization

/// Restores a snapshot tree into a local directory, fast and without ever writing outside it
/// (ARCHITECTURE.md §2.2 Restore; kopia-format.md §12.2 is the behaviour matched or beaten).
///
/// Steps, window by window of a depth-first walk (`RestorePlanner`, `RestorePipeline`): create the window's
/// directories (mode 0700 while restoring, each opened with `O_NOFOLLOW` relative to its parent) → read every
/// content once, grouped by pack with coalesced ranges, decoded on all cores within a memory budget, written with
/// positioned writes into temporary names → rename each completed file into place with its mode, owner (as
/// root) and mtime → symlinks (created, never followed) → metadata of the directories the window finished,
/// children before parents, the target last with the root entry's attributes.
///
/// Foreign files in the target are left alone; only the snapshot's paths are created or replaced. A damaged
/// content fails the files that use it (listed with the pack blob) and the rest goes on, unless `failFast`.
/// Cancelling the task stops reading; files not yet complete are removed. Not reentrant on one target.
public struct SnapshotRestorer: Sendable {
    public let repository: KopiaRepository
    public let options: RestoreOptions
    public let logger: Logger

    public init(repository: KopiaRepository, options: RestoreOptions = RestoreOptions(), logger: Logger) {
        self.repository = repository
        self.options = options
        self.logger = logger
    }

    /// Restores the tree under `root` (a snapshot's root entry) into the directory `target` (created if missing).
    ///
    /// Memory stays bounded whatever the size of the snapshot: the tree is walked and restored in windows of
    /// `options.windowEntries` entries (see `RestorePipeline`), with at most `options.memoryBudget` bytes of
    /// pack ranges and decoded contents in flight.
    /// - Returns: counts and every failed path; `succeeded` is false if anything failed.
    /// - Throws: `KopiaError` only when the restore cannot start (the target cannot be created or opened) or
    ///   on cancellation; per-path problems are in the result.
    public func restore(_ root: DirectoryEntry, into target: String, progress: RestoreProgress = RestoreProgress())
        async throws -> RestoreResult
    {
        let rootFD = try PosixFiles.openTarget(target)
        let handles = DirectoryHandles(root: rootFD)
        defer { handles.closeAll() }
        if let summary = root.summary, root.isDirectory {
            progress.setTotals(files: Int(clamping: summary.fileCount), bytes: summary.totalSize)
        } else {
            progress.setTotals(files: root.type == .file ? 1 : 0, bytes: root.type == .file ? root.size : 0)
        }
        let planner = RestorePlanner(repository: repository, root: root, windowEntries: options.windowEntries)
        let output = DirectoryTreeOutput(handles: handles, options: options, progress: progress)
        let pipeline = RestorePipeline(repository: repository, options: options, progress: progress,
                                       checkHashes: options.checkHashes)
        var phases = RestorePipeline.Phases()
        let completed = try await pipeline.run(planner, into: output, phases: &phases)
        let tally = output.tally
        var result = RestoreResult()
        result.directories = tally.directories
        result.files = tally.files
        result.symlinks = tally.symlinks
        result.skipped = tally.skipped
        result.bytes = tally.bytes
        result.failures = tally.failures
        let snapshot = progress.snapshot()
        result.packBytesRead = snapshot.packBytesRead
        result.contentsRead = snapshot.contentsRead
        result.stoppedEarly = !completed
        result.phaseSeconds = phases.seconds
        result.failures.sort { $0.path < $1.path }
        logger.debug("restore finished", metadata: [
            "restore.directories": "\(result.directories)", "restore.files": "\(result.files)",
            "restore.symlinks": "\(result.symlinks)", "restore.failures": "\(result.failures.count)",
        ])
        return result
    }
}

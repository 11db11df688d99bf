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
/// Steps: plan (walk every listing and chunk list) → create directories (mode 0700 while restoring, each opened
/// with `O_NOFOLLOW` relative to its parent) → read every content once, grouped by pack with coalesced ranges,
/// decoded on all cores within a memory budget, written with positioned writes into temporary names → rename
/// each completed file into place with its mode, owner (as root) and mtime → symlinks (created, never followed)
/// → directory metadata, children before parents, the target last with the root entry's attributes.
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
    /// - Returns: counts and every failed path; `succeeded` is false if anything failed.
    /// - Throws: `KopiaError` only when the restore cannot start (the target cannot be created or opened) or
    ///   on cancellation; per-path problems are in the result.
    public func restore(_ root: DirectoryEntry, into target: String, progress: RestoreProgress = RestoreProgress())
        async throws -> RestoreResult
    {
        let clock = ContinuousClock()
        var mark = clock.now
        var phases: [(String, Double)] = []
        func lap(_ phase: String) {
            let now = clock.now
            let d = now - mark
            phases.append((phase, Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18))
            mark = now
        }
        let rootFD = try PosixFiles.openTarget(target)
        let plan = try await RestorePlanner(repository: repository).plan(root: root)
        lap("plan")
        logger.debug("restore planned", metadata: [
            "restore.directories": "\(plan.directories.count)", "restore.files": "\(plan.files.count)",
            "restore.symlinks": "\(plan.symlinks.count)", "restore.plan.failures": "\(plan.failures.count)",
        ])
        let handles = DirectoryHandles(root: rootFD, plan: plan)
        defer { handles.closeAll() }
        let metadata = MetadataApplier(restoreOwnership: options.restoreOwnership)
        var result = RestoreResult()
        result.failures = plan.failures.map { RestoreResult.Failure(path: $0.path, error: $0.error) }

        let (created, directoryFailures) = try await BlockingIO.run { Self.createDirectories(plan, handles) }
        result.directories = created
        result.failures += directoryFailures
        lap("directories")

        // Nothing below a directory that could not be restored is read or written; its failure says so.
        var work = plan
        work.files.removeAll { handles.isBlocked($0.parent) }
        work.symlinks.removeAll { handles.isBlocked($0.parent) }
        if options.skipExisting {
            let candidates = work
            let keep = try await BlockingIO.run { Self.filesToWrite(candidates, handles) }
            result.skipped = candidates.files.count - keep.count
            work.files = keep.map { candidates.files[$0] }
        }
        progress.setTotals(files: work.files.count, bytes: work.totalBytes)

        let assembler = FileAssembler(plan: work, handles: handles, metadata: metadata, sparse: options.sparse,
                                      progress: progress)
        let source = RestoreContentSources.make(repository.contents, checkHashes: options.checkHashes)
        let schedule = ReadSchedule(files: work.files, source: source, maximumGap: options.maximumReadGap,
                                    maximumLength: options.maximumReadLength)
        for (file, error) in schedule.missing { assembler.fail(file: file, error: error) }
        assembler.completeEmptyFiles()
        let failFast = options.failFast
        let reader = PackReader(source: source, parallelism: options.parallelism,
                                budget: ByteBudget(capacity: options.memoryBudget), progress: progress)
        await reader.run(schedule, shouldStop: { failFast && progress.snapshot().filesFailed > 0 }) { content, outcome in
            Self.deliver(content, outcome, to: assembler)
        }
        lap("contents")
        result.files = assembler.completedCount
        result.bytes = assembler.completedBytes
        result.failures += assembler.recordedFailures
        let snapshot = progress.snapshot()
        result.packBytesRead = snapshot.packBytesRead
        result.contentsRead = snapshot.contentsRead
        try Task.checkCancellation()
        if failFast, !result.failures.isEmpty {
            result.stoppedEarly = true
            result.phaseSeconds = phases
            return result
        }

        let skipExisting = options.skipExisting
        let linkPlan = work
        let (links, skippedLinks, linkFailures) = try await BlockingIO.run {
            Self.createSymlinks(linkPlan, handles, metadata, skipExisting: skipExisting)
        }
        result.symlinks = links
        result.skipped += skippedLinks
        result.failures += linkFailures
        lap("symlinks")
        result.failures += try await BlockingIO.run { Self.applyDirectoryMetadata(plan, handles, metadata) }
        lap("metadata")
        result.failures.sort { $0.path < $1.path }
        result.phaseSeconds = phases
        return result
    }

    /// Writes one decoded content to every place that needs it (decompressing `Z` objects, checking lengths).
    static func deliver(_ content: ReadSchedule.Content, _ outcome: Result<[UInt8], KopiaError>,
                        to assembler: FileAssembler) {
        switch outcome {
        case .failure(let error):
            for t in content.targets { assembler.fail(file: t.file, error: error) }
        case .success(let plain):
            var expanded: [UInt8]?
            for t in content.targets {
                var bytes = plain
                if t.decompress {
                    if expanded == nil {
                        do {
                            expanded = try ObjectDecompression.decompress(plain, contentID: content.info.contentID)
                        } catch {
                            assembler.fail(file: t.file, error: KopiaError.wrap(error).adding(
                                blobID: content.info.packBlobID, contentID: content.info.contentID.description))
                            continue
                        }
                    }
                    bytes = expanded ?? []
                }
                if t.exactLength, Int64(bytes.count) != t.length {
                    assembler.fail(file: t.file, error: KopiaError(
                        .corruptContent, "chunk at offset \(t.offset) decodes to \(bytes.count) bytes, its list says \(t.length)",
                        blobID: content.info.packBlobID, contentID: content.info.contentID.description))
                    continue
                }
                bytes.withUnsafeBytes { assembler.write(file: t.file, offset: t.offset, bytes: $0) }
            }
        }
    }

    /// Creates every directory below the target, parents first; a directory that cannot be created or opened
    /// (a file or symlink in the way) blocks its subtree.
    static func createDirectories(_ plan: RestorePlan, _ handles: DirectoryHandles) -> (Int, [RestoreResult.Failure]) {
        var failures: [RestoreResult.Failure] = []
        var blocked = Set<Int>()
        var created = plan.directories.isEmpty ? 0 : 1
        for (i, dir) in plan.directories.enumerated() {
            guard let parent = dir.parent else { continue }
            if blocked.contains(parent) {
                blocked.insert(i)
                handles.block(i, KopiaError(.ioFailure, "a parent directory could not be restored", path: dir.path))
                continue
            }
            do {
                try handles.withDirectory(parent) { (fd: Int32) throws(KopiaError) in
                    try PosixFiles.makeDirectory(fd, dir.name, path: dir.path)
                }
                try handles.withDirectory(i) { (_: Int32) throws(KopiaError) in }
                created += 1
            } catch {
                blocked.insert(i)
                handles.block(i, error)
                failures.append(RestoreResult.Failure(path: dir.path, error: error.adding(path: dir.path)))
            }
        }
        return (created, failures)
    }

    /// The indices of the files `skipExisting` must still write: not those whose path already holds a regular
    /// file with the entry's size and exact mtime (what a completed earlier run left).
    static func filesToWrite(_ plan: RestorePlan, _ handles: DirectoryHandles) -> [Int] {
        plan.files.indices.filter { i in
            let f = plan.files[i]
            let st = try? handles.withDirectory(f.parent) { (fd: Int32) throws(KopiaError) in
                PosixFiles.status(fd, f.name)
            }
            guard let st = st ?? nil, (st.st_mode & S_IFMT) == S_IFREG else { return true }
            let same = Int64(st.st_size) == f.entry.size && Int64(st.st_mtim.tv_sec) == f.entry.modified.seconds
                && Int64(st.st_mtim.tv_nsec) == Int64(f.entry.modified.nanoseconds)
            return !same
        }
    }

    /// Creates symlinks under temporary names and renames them into place (replacing a file or symlink there,
    /// never a directory); their targets are stored, never followed.
    static func createSymlinks(_ plan: RestorePlan, _ handles: DirectoryHandles, _ metadata: MetadataApplier,
                               skipExisting: Bool) -> (Int, Int, [RestoreResult.Failure]) {
        var created = 0
        var skipped = 0
        var failures: [RestoreResult.Failure] = []
        for (i, link) in plan.symlinks.enumerated() {
            let temporary = TemporaryName.name(prefix: plan.directories[link.parent].temporaryPrefix, index: i,
                                               symlink: true)
            do {
                let skip = try handles.withDirectory(link.parent) { (fd: Int32) throws(KopiaError) -> Bool in
                    if skipExisting, PosixFiles.linkTarget(fd, link.name) == link.target { return true }
                    PosixFiles.unlink(fd, temporary)
                    try PosixFiles.symlink(link.target, fd, temporary, path: link.path)
                    do throws(KopiaError) {
                        try PosixFiles.rename(fd, from: temporary, to: link.name, path: link.path)
                    } catch {
                        PosixFiles.unlink(fd, temporary)
                        throw error
                    }
                    try metadata.applySymlink(link.entry, parent: fd, name: link.name, path: link.path)
                    return false
                }
                if skip { skipped += 1 } else { created += 1 }
            } catch {
                failures.append(RestoreResult.Failure(path: link.path, error: error.adding(path: link.path)))
            }
        }
        return (created, skipped, failures)
    }

    /// Applies directory metadata deepest first (after all children), the target itself last.
    static func applyDirectoryMetadata(_ plan: RestorePlan, _ handles: DirectoryHandles, _ metadata: MetadataApplier)
        -> [RestoreResult.Failure]
    {
        var failures: [RestoreResult.Failure] = []
        for i in plan.directories.indices.reversed() {
            let dir = plan.directories[i]
            guard let entry = dir.entry, !handles.isBlocked(i) else { continue }
            do {
                try handles.withDirectory(i) { (fd: Int32) throws(KopiaError) in
                    try metadata.apply(entry, fd: fd, path: dir.path)
                }
            } catch {
                if !failures.contains(where: { $0.path == dir.path }) {
                    failures.append(RestoreResult.Failure(path: dir.path, error: error.adding(path: dir.path)))
                }
            }
        }
        return failures
    }
}

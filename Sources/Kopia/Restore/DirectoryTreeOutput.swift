#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The restore's output: writes each window into the target directory (kopia-format.md §12.2).
///
/// `prepare` creates the window's directories, parents first (mode 0700 while restoring, each opened with
/// `O_NOFOLLOW` relative to its parent; one that cannot be created blocks its subtree) and, with
/// `skipExisting`, leaves out files already in place; the contents then go to a `FileAssembler` (temporary
/// names, renamed into place when complete); `finish` creates the symlinks (temporary name + rename, never
/// followed) and applies the metadata of the directories the window finished, children before parents, the
/// target last with the root entry's attributes, then forgets them.
final class DirectoryTreeOutput: RestoreOutput, Sendable {
    let handles: DirectoryHandles
    let metadata: MetadataApplier
    let options: RestoreOptions
    let progress: RestoreProgress
    private let state = Mutex(Tally())

    /// What the restore did so far.
    struct Tally: Sendable {
        var directories = 0
        var files = 0
        var symlinks = 0
        var skipped = 0
        var bytes: Int64 = 0
        var failures: [RestoreResult.Failure] = []
    }

    init(handles: DirectoryHandles, options: RestoreOptions, progress: RestoreProgress) {
        self.handles = handles
        self.options = options
        self.progress = progress
        metadata = MetadataApplier(restoreOwnership: options.restoreOwnership)
    }

    var tally: Tally { state.withLock { $0 } }
    var hasFailures: Bool { state.withLock { !$0.failures.isEmpty } || progress.snapshot().filesFailed > 0 }

    func prepare(_ window: RestorePlan) async throws -> (files: [RestorePlan.PlannedFile], sink: FileAssembler) {
        let handles = self.handles
        let (created, failures) = try await BlockingIO.run { Self.createDirectories(window.directories, handles) }
        var files = window.files.filter { !handles.isBlocked($0.parent) }
        var skipped = 0
        if options.skipExisting {
            let candidates = files
            let keep = try await BlockingIO.run { Self.filesToWrite(candidates, handles) }
            skipped = candidates.count - keep.count
            for i in Set(candidates.indices).subtracting(keep) {
                progress.fileDone()
                progress.addBytes(candidates[i].expectedSize)
            }
            files = keep.map { candidates[$0] }
        }
        state.withLock { t in
            t.directories += created
            t.skipped += skipped
            t.failures += window.failures.map { RestoreResult.Failure(path: $0.path, error: $0.error) }
            t.failures += failures
        }
        let sink = FileAssembler(files: files, handles: handles, metadata: metadata, sparse: options.sparse,
                                 progress: progress)
        return (files, sink)
    }

    func finish(_ window: RestorePlan, files: [RestorePlan.PlannedFile], sink: FileAssembler, stopping: Bool)
        async throws
    {
        state.withLock { t in
            t.files += sink.completedCount
            t.bytes += sink.completedBytes
            t.failures += sink.recordedFailures
        }
        if stopping { return }
        let handles = self.handles
        let metadata = self.metadata
        let skipExisting = options.skipExisting
        let links = window.symlinks.filter { !handles.isBlocked($0.parent) }
        let (linked, skippedLinks, linkFailures) = try await BlockingIO.run {
            Self.createSymlinks(links, handles, metadata, skipExisting: skipExisting)
        }
        let finished = window.finishedDirectories
        let metadataFailures = try await BlockingIO.run {
            Self.applyDirectoryMetadata(finished, handles, metadata)
        }
        state.withLock { t in
            t.symlinks += linked
            t.skipped += skippedLinks
            t.failures += linkFailures + metadataFailures
        }
    }

    /// Creates the window's directories, parents first; a directory that cannot be created or opened (a file or
    /// symlink in the way) blocks its subtree. The root (0) exists already.
    static func createDirectories(_ directories: [RestorePlan.PlannedDirectory], _ handles: DirectoryHandles)
        -> (Int, [RestoreResult.Failure])
    {
        var failures: [RestoreResult.Failure] = []
        var created = 0
        for dir in directories {
            handles.register(dir)
            guard let parent = dir.parent else {
                created += 1
                continue
            }
            if handles.isBlocked(parent) {
                handles.block(dir.id, KopiaError(.ioFailure, "a parent directory could not be restored",
                                                 path: dir.path))
                continue
            }
            do {
                try handles.withDirectory(parent) { (fd: Int32) throws(KopiaError) in
                    try PosixFiles.makeDirectory(fd, dir.name, path: dir.path)
                }
                try handles.withDirectory(dir.id) { (_: Int32) throws(KopiaError) in }
                created += 1
            } catch {
                handles.block(dir.id, error)
                failures.append(RestoreResult.Failure(path: dir.path, error: error.adding(path: dir.path)))
            }
        }
        return (created, failures)
    }

    /// The indices of the files `skipExisting` must still write: not those whose path already holds a regular
    /// file with the entry's size and exact mtime (what a completed earlier run left).
    static func filesToWrite(_ files: [RestorePlan.PlannedFile], _ handles: DirectoryHandles) -> [Int] {
        files.indices.filter { i in
            let f = files[i]
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
    static func createSymlinks(_ links: [RestorePlan.PlannedSymlink], _ handles: DirectoryHandles,
                               _ metadata: MetadataApplier, skipExisting: Bool) -> (Int, Int, [RestoreResult.Failure])
    {
        var created = 0
        var skipped = 0
        var failures: [RestoreResult.Failure] = []
        for link in links {
            let temporary = TemporaryName.name(prefix: handles.temporaryPrefix(link.parent), index: link.ordinal,
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

    /// Applies the metadata of finished directories in the order given (children before parents, the target
    /// last), then releases them.
    static func applyDirectoryMetadata(_ finished: [Int], _ handles: DirectoryHandles, _ metadata: MetadataApplier)
        -> [RestoreResult.Failure]
    {
        var failures: [RestoreResult.Failure] = []
        for id in finished {
            defer { handles.release(id) }
            guard let dir = handles.entry(id), let entry = dir.entry, !handles.isBlocked(id) else { continue }
            do {
                try handles.withDirectory(id) { (fd: Int32) throws(KopiaError) in
                    try metadata.apply(entry, fd: fd, path: dir.path)
                }
            } catch {
                failures.append(RestoreResult.Failure(path: dir.path, error: error.adding(path: dir.path)))
            }
        }
        return failures
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Assembles a window's files from chunks arriving in any order from many workers (positioned writes): a file is
/// created under its temporary name on its first chunk, sized up front (so holes stay holes), written with
/// `pwrite` at each chunk's offset, and — when its last chunk is in — given its metadata and renamed to its real
/// name. A file with any failed chunk is removed instead, so no half-written file ever has a real name.
///
/// Contract: `write(file:…)` or `fail(file:…)` is called exactly once per planned chunk of a file. Thread-safe:
/// per-file state sits behind one of 256 striped locks; only the first chunk's `openat` runs under a lock, every
/// other system call runs outside it, so many small files proceed in parallel.
final class FileAssembler: ContentSink, @unchecked Sendable {
    // @unchecked: `slots` is only touched under the stripe lock for its index (see `stripe(for:)`).
    private struct Slot {
        var fd: Int32 = -1
        var remaining: Int32
        var failed = false
        /// The end of the furthest chunk written (the length of a direct object is known only once decoded).
        var end: Int64 = 0
    }

    private final class Stripe: Sendable {
        let lock = Mutex<Void>(())
    }

    private let files: [RestorePlan.PlannedFile]
    private let temporaryNames: [String]
    private let handles: DirectoryHandles
    private let metadata: MetadataApplier
    private let writer: SparseWriter
    private let progress: RestoreProgress
    private let slots: UnsafeMutableBufferPointer<Slot>
    private let stripes: [Stripe]
    private let failures = Mutex<[RestoreResult.Failure]>([])
    private let completed = Atomic<Int>(0)
    private let bytes = Atomic<Int64>(0)

    init(files: [RestorePlan.PlannedFile], handles: DirectoryHandles, metadata: MetadataApplier, sparse: Bool,
         progress: RestoreProgress) {
        self.files = files
        temporaryNames = files.map { f in
            TemporaryName.name(prefix: handles.temporaryPrefix(f.parent), index: f.ordinal)
        }
        self.handles = handles
        self.metadata = metadata
        writer = SparseWriter(sparse: sparse)
        self.progress = progress
        slots = .allocate(capacity: files.count)
        _ = slots.initialize(from: files.map { Slot(remaining: Int32(clamping: $0.chunks.count)) })
        stripes = (0..<256).map { _ in Stripe() }
    }

    deinit {
        slots.deinitialize()
        slots.deallocate()
    }

    /// Files renamed into place so far.
    var completedCount: Int { completed.load(ordering: .relaxed) }
    /// Bytes of the completed files.
    var completedBytes: Int64 { bytes.load(ordering: .relaxed) }
    /// Every file that failed so far.
    var recordedFailures: [RestoreResult.Failure] { failures.withLock { $0 } }

    private func stripe(for file: Int) -> Stripe { stripes[file & 255] }

    /// Writes one decoded chunk of `file` at `offset`, then counts the chunk as done.
    func write(file: Int, offset: Int64, bytes chunk: UnsafeRawBufferPointer) {
        let path = files[file].path
        do {
            guard let fd = try open(file) else {
                finish(file, end: 0, error: nil)
                return
            }
            try writer.write(fd, chunk, at: offset, path: path)
            progress.addBytes(Int64(chunk.count))
            finish(file, end: offset + Int64(chunk.count), error: nil)
        } catch {
            finish(file, end: 0, error: error)
        }
    }

    /// Counts one chunk of `file` as failed (the file will be removed, and `error` reported for it).
    func fail(file: Int, error: KopiaError) {
        finish(file, end: 0, error: error)
    }

    /// Completes files that have no chunks at all (an indirect object with an empty list).
    func completeEmptyFiles() {
        for (i, f) in files.enumerated() where f.chunks.isEmpty {
            do {
                _ = try open(i)
            } catch {
                record(i, error)
            }
            finalize(i)
        }
    }

    /// The descriptor of `file`, created on first use; nil when the file already failed.
    private func open(_ file: Int) throws(KopiaError) -> Int32? {
        try stripe(for: file).lock.withLock { _ throws(KopiaError) -> Int32? in
            if slots[file].failed { return nil }
            if slots[file].fd >= 0 { return slots[file].fd }
            let f = files[file]
            let fd = try handles.withDirectory(f.parent) { (dir: Int32) throws(KopiaError) -> Int32 in
                try PosixFiles.createFile(dir, temporaryNames[file], path: f.path)
            }
            if f.expectedSize > 0 {
                do throws(KopiaError) {
                    try PosixFiles.truncate(fd, to: f.expectedSize, path: f.path)
                } catch {
                    close(fd)
                    throw error
                }
            }
            slots[file].fd = fd
            return fd
        }
    }

    private func finish(_ file: Int, end: Int64, error: KopiaError?) {
        if let error { record(file, error) }
        let last = stripe(for: file).lock.withLock { _ -> Bool in
            if error != nil { slots[file].failed = true }
            slots[file].end = max(slots[file].end, end)
            slots[file].remaining -= 1
            return slots[file].remaining == 0
        }
        if last { finalize(file) }
    }

    private func record(_ file: Int, _ error: KopiaError) {
        let path = files[file].path
        let failure = RestoreResult.Failure(path: path, error: error.adding(path: path))
        let first = failures.withLock { list -> Bool in
            // One failure per file is enough (the first one says which pack and content).
            guard !list.contains(where: { $0.path == path }) else { return false }
            list.append(failure)
            return true
        }
        if first {
            stripe(for: file).lock.withLock { _ in slots[file].failed = true }
            progress.fileFailed()
        }
    }

    /// Metadata and rename (or removal after a failure); runs once, after the last chunk.
    private func finalize(_ file: Int) {
        let (fd, failed, end) = stripe(for: file).lock.withLock { _ in
            (slots[file].fd, slots[file].failed, slots[file].end)
        }
        let f = files[file]
        let temporary = temporaryNames[file]
        if failed {
            if fd >= 0 { close(fd) }
            try? handles.withDirectory(f.parent) { (dir: Int32) throws(KopiaError) in PosixFiles.unlink(dir, temporary) }
            return
        }
        guard fd >= 0 else { return }
        do {
            defer { close(fd) }
            let size = f.lengthFromContent ? end : f.expectedSize
            if size != f.expectedSize { try PosixFiles.truncate(fd, to: size, path: f.path) }
            try metadata.apply(f.entry, fd: fd, path: f.path)
            try handles.withDirectory(f.parent) { (dir: Int32) throws(KopiaError) in
                try PosixFiles.rename(dir, from: temporary, to: f.name, path: f.path)
            }
            completed.wrappingAdd(1, ordering: .relaxed)
            bytes.wrappingAdd(size, ordering: .relaxed)
            progress.fileDone()
        } catch {
            record(file, error)
            try? handles.withDirectory(f.parent) { (dir: Int32) throws(KopiaError) in PosixFiles.unlink(dir, temporary) }
        }
    }
}

import Synchronization

/// Live counters of a restore or verify, updated by every worker and read by whoever shows progress.
///
/// Lock-free (atomics); safe from any thread. `snapshot()` is a consistent-enough view for a progress bar
/// (each counter is read atomically, not all together).
public final class RestoreProgress: Sendable {
    private let bytesDone = Atomic<Int64>(0)
    private let filesDone = Atomic<Int>(0)
    private let filesFailed = Atomic<Int>(0)
    private let contentsRead = Atomic<Int>(0)
    private let bytesRead = Atomic<Int64>(0)
    private let totals = Mutex<(files: Int, bytes: Int64)>((0, 0))

    public init() {}

    public struct Snapshot: Sendable, Equatable {
        /// File bytes written (or verified), holes included.
        public var bytesDone: Int64
        public var bytesTotal: Int64
        public var filesDone: Int
        public var filesFailed: Int
        public var filesTotal: Int
        /// Contents read and decoded.
        public var contentsRead: Int
        /// Bytes read from pack blobs.
        public var packBytesRead: Int64
    }

    public func snapshot() -> Snapshot {
        let t = totals.withLock { $0 }
        return Snapshot(bytesDone: bytesDone.load(ordering: .relaxed), bytesTotal: t.bytes,
                        filesDone: filesDone.load(ordering: .relaxed), filesFailed: filesFailed.load(ordering: .relaxed),
                        filesTotal: t.files, contentsRead: contentsRead.load(ordering: .relaxed),
                        packBytesRead: bytesRead.load(ordering: .relaxed))
    }

    func setTotals(files: Int, bytes: Int64) { totals.withLock { $0 = (files, bytes) } }
    func addTotals(files: Int, bytes: Int64) { totals.withLock { $0 = ($0.files + files, $0.bytes + bytes) } }
    func addBytes(_ n: Int64) { bytesDone.wrappingAdd(n, ordering: .relaxed) }
    func fileDone() { filesDone.wrappingAdd(1, ordering: .relaxed) }
    func fileFailed() { filesFailed.wrappingAdd(1, ordering: .relaxed) }
    func packRead(bytes: Int64, contents: Int) {
        bytesRead.wrappingAdd(bytes, ordering: .relaxed)
        contentsRead.wrappingAdd(contents, ordering: .relaxed)
    }
}

import Dispatch
import Foundation
import Synchronization

/// Executes a `ReadSchedule`: `parallelism` dedicated worker threads each take the next unit, wait for its bytes
/// in the memory budget, read the range (one ranged read of one pack; memory-mapped on a filesystem
/// repository), then decrypt, decompress and (optionally) hash-check each content and hand the plaintext to
/// `deliver`, which writes it (restore) or drops it (verify). Decoding and writing therefore run on all cores,
/// with as many units in flight as the budget allows.
///
/// The workers are plain threads, not the cooperative pool or Dispatch's global queue: their work is blocking
/// (`pwrite`, page faults), and Dispatch narrows its pool to the core count when the machine is busy, which
/// would serialize the writes. Sources that can only read asynchronously (S3) are awaited from the worker.
///
/// A failed range read or a content that fails to decode reaches `deliver` as `.failure` for that content's
/// targets (the error names the pack and content); other contents go on. `shouldStop` is checked before each
/// unit (fail-fast); cancelling the calling task stops the workers the same way and cancels the asynchronous
/// reads they are waiting for (an S3 GET in flight aborts at once). Returns when every unit was delivered or skipped.
struct PackReader: Sendable {
    let source: any RestoreContentSource
    let parallelism: Int
    let budget: ByteBudget
    let progress: RestoreProgress

    typealias Deliver = @Sendable (ReadSchedule.Content, Result<[UInt8], KopiaError>) -> Void

    func run(_ schedule: ReadSchedule, shouldStop: @escaping @Sendable () -> Bool, deliver: @escaping Deliver) async {
        let units = schedule.units
        let workers = max(1, min(parallelism, units.count))
        let segments = Segments(count: units.count, parts: workers)
        let cancelled = StopFlag()
        let fetches = FetchTasks()
        await withTaskCancellationHandler {
            await WorkerThreads.run(count: workers) { worker in
                while !shouldStop() && !cancelled.isSet {
                    guard let i = segments.take(preferring: worker) else { return }
                    process(units[i], fetches: fetches, deliver: deliver)
                }
            }
        } onCancel: {
            cancelled.set()
            fetches.cancelAll()
        }
        // Units nobody took (stopped early) still owe their targets an answer.
        let stopped = KopiaError(.cancelled, "the restore stopped before this content was read")
        while let i = segments.take(preferring: 0) {
            for content in units[i].contents { deliver(content, .failure(stopped)) }
        }
    }

    /// Reads and delivers one unit; runs on a worker thread.
    private func process(_ unit: ReadSchedule.Unit, fetches: FetchTasks, deliver: Deliver) {
        let taken = budget.acquireBlocking(unit.memoryCost)
        defer { budget.release(taken) }
        let raw: PackRange
        do {
            raw = try fetch(unit, fetches: fetches)
        } catch {
            let e = KopiaError.wrap(error).adding(blobID: unit.pack)
            for content in unit.contents {
                deliver(content, .failure(e.adding(contentID: content.info.contentID.description)))
            }
            return
        }
        progress.packRead(bytes: Int64(raw.count), contents: unit.contents.count)
        for content in unit.contents {
            do {
                deliver(content, .success(try source.decode(content.info, range: raw, rangeOffset: unit.offset)))
            } catch {
                deliver(content, .failure(KopiaError.wrap(error).adding(
                    blobID: content.info.packBlobID, contentID: content.info.contentID.description)))
            }
        }
    }

    /// The unit's bytes: directly when the source can read without suspending, else by awaiting it.
    private func fetch(_ unit: ReadSchedule.Unit, fetches: FetchTasks) throws -> PackRange {
        let first = unit.contents.first?.info.contentID
        if let range = try source.fetchBlocking(pack: unit.pack, offset: unit.offset, length: unit.length,
                                                 firstContent: first) {
            return range
        }
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        let source = self.source
        // An unstructured task (this is a worker thread, not a task), registered so that cancelling the restore
        // cancels it; the worker waits on its own thread, never on the cooperative pool.
        let task = Task {
            do {
                try Task.checkCancellation()
                box.result = .success(try await source.fetch(pack: unit.pack, offset: unit.offset, length: unit.length,
                                                             firstContent: first))
            } catch {
                box.result = .failure(error)
            }
            done.signal()
        }
        let id = fetches.register(task)
        done.wait()
        fetches.unregister(id)
        guard let result = box.result else { throw KopiaError(.cancelled, "the pack read did not finish") }
        return try result.get()
    }

    /// Carries an async result to the waiting worker thread.
    private final class ResultBox: @unchecked Sendable {
        // @unchecked: written once by the task before `signal()`, read by the worker after `wait()`.
        var result: Result<PackRange, any Error>?
    }

    /// The asynchronous reads workers wait for; all cancelled (and later ones cancelled at birth) once the
    /// calling task is cancelled.
    private final class FetchTasks: Sendable {
        private let state = Mutex<(cancelled: Bool, next: Int, tasks: [Int: Task<Void, Never>])>((false, 0, [:]))

        func register(_ task: Task<Void, Never>) -> Int {
            let (id, cancelled) = state.withLock { s -> (Int, Bool) in
                s.next += 1
                if !s.cancelled { s.tasks[s.next] = task }
                return (s.next, s.cancelled)
            }
            if cancelled { task.cancel() }
            return id
        }

        func unregister(_ id: Int) { state.withLock { _ = $0.tasks.removeValue(forKey: id) } }

        func cancelAll() {
            let tasks = state.withLock { s -> [Task<Void, Never>] in
                s.cancelled = true
                defer { s.tasks = [:] }
                return Array(s.tasks.values)
            }
            for t in tasks { t.cancel() }
        }
    }

    /// Set once when the calling task is cancelled.
    private final class StopFlag: Sendable {
        private let flag = Atomic<Bool>(false)
        var isSet: Bool { flag.load(ordering: .relaxed) }
        func set() { flag.store(true, ordering: .relaxed) }
    }

    /// The units cut into one contiguous segment per worker. A worker reads its own segment front to back
    /// (sequential pack reads) and then helps with the others, so workers usually write *different* files at
    /// the same time — writes to one file serialize on its inode lock in the kernel.
    private final class Segments: Sendable {
        private let bounds: [Range<Int>]
        private let cursors: [Cursor]

        private final class Cursor: Sendable {
            let next: Atomic<Int>
            init(_ start: Int) { next = Atomic(start) }
        }

        init(count: Int, parts: Int) {
            let size = (count + parts - 1) / max(parts, 1)
            bounds = (0..<parts).map { p in min(count, p * size)..<min(count, (p + 1) * size) }
            cursors = bounds.map { Cursor($0.lowerBound) }
        }

        /// The next unit: from segment `preferring` while it lasts, then from the others in turn.
        func take(preferring first: Int) -> Int? {
            for k in 0..<bounds.count {
                let p = (first + k) % bounds.count
                guard cursors[p].next.load(ordering: .relaxed) < bounds[p].upperBound else { continue }
                let i = cursors[p].next.wrappingAdd(1, ordering: .relaxed).oldValue
                if i < bounds[p].upperBound { return i }
            }
            return nil
        }
    }
}

/// Runs work on dedicated threads and waits for all of them without blocking the calling task.
enum WorkerThreads {
    static func run(count: Int, _ body: @escaping @Sendable (Int) -> Void) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let remaining = Countdown(count)
            for worker in 0..<count {
                let thread = Thread {
                    body(worker)
                    if remaining.finishOne() { continuation.resume() }
                }
                thread.name = "ferry-restore-\(worker)"
                thread.stackSize = 1 << 20
                thread.start()
            }
        }
    }

    private final class Countdown: Sendable {
        private let left: Atomic<Int>
        init(_ n: Int) { left = Atomic(n) }
        /// True for the call that finishes the last one.
        func finishOne() -> Bool { left.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue == 0 }
    }
}

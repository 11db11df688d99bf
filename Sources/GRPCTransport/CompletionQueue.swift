internal import CGRPC
import Synchronization
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The work to run when one completion-queue tag completes. Passed to gRPC as a retained `Unmanaged` pointer
/// and released exactly once: on the queue thread when the event arrives, or by ``cancel(_:)`` when the batch
/// that would have delivered it was never started.
final class CompletionTag {
    private let body: (Bool) -> Void
    private init(_ body: @escaping (Bool) -> Void) { self.body = body }

    /// A retained tag; it must reach gRPC (and so the queue) or be handed to ``cancel(_:)``.
    static func make(_ body: @escaping (Bool) -> Void) -> UnsafeMutableRawPointer {
        Unmanaged.passRetained(CompletionTag(body)).toOpaque()
    }

    /// Releases a tag whose batch was not started.
    static func cancel(_ tag: UnsafeMutableRawPointer) {
        Unmanaged<CompletionTag>.fromOpaque(tag).release()
    }

    /// Runs and releases a tag delivered by the queue.
    static func complete(_ tag: UnsafeMutableRawPointer, success: Bool) {
        Unmanaged<CompletionTag>.fromOpaque(tag).takeRetainedValue().body(success)
    }
}

/// A gRPC completion queue with its one dedicated OS thread (grpc-c.md §3.6).
///
/// The thread waits in `grpc_completion_queue_next` — never a cooperative-pool thread — polling for a short
/// window after each completion (``BusyPollPolicy``) and blocking otherwise. It runs each tag's closure, which
/// resumes continuations or starts tasks and must not block. ``shutdownAndJoin()`` shuts the queue down, lets
/// the thread drain every outstanding event, and joins it; `deinit` then destroys the queue.
///
/// `@unchecked Sendable`: `raw` is immutable and gRPC's queue functions are thread-safe; `thread` is written
/// once in `init` and read only by `shutdownAndJoin`, which its owner calls once.
final class CompletionQueue: @unchecked Sendable {
    let raw: OpaquePointer
    /// Runs jobs enqueued from this queue's thread right there (see ``QueueThreadExecutor``).
    let executor: QueueThreadExecutor
    private var thread: pthread_t
    private var joined = false
    private let startedThreadID = ThreadIDCell()

    /// - Parameters:
    ///   - name: the thread's name (15 bytes are kept).
    ///   - busyPoll: how long the thread keeps polling without sleeping after each completion; zero blocks in
    ///     the kernel at once.
    init(name: String, busyPoll: Duration) {
        raw = grpc_completion_queue_create_for_next(nil)
        executor = QueueThreadExecutor(identity: UInt(bitPattern: raw))
        thread = pthread_t()
        let published = startedThreadID
        let loop = QueueLoop(queue: SendablePointer(raw: raw), name: name, busyPoll: busyPoll) { id in
            published.value.store(id, ordering: .releasing)
        }
        let context = Unmanaged.passRetained(loop).toOpaque()
        let rc = pthread_create(&thread, nil, { arg in
            guard let arg else { return nil }
            let loop = Unmanaged<QueueLoop>.fromOpaque(arg).takeRetainedValue()
            loop.run()
            return nil
        }, context)
        // No input reaches this: failing to create one thread means the process is out of resources.
        precondition(rc == 0, "pthread_create failed for the gRPC completion queue: \(rc)")
    }

    /// The queue thread's kernel thread id once it runs (0 before): diagnostics and tests read its CPU time
    /// from /proc/self/task/<id>.
    var threadID: Int32 { startedThreadID.value.load(ordering: .acquiring) }

    /// Shuts the queue down and waits until its thread has delivered every outstanding event and exited.
    /// Call once, after every server and call using the queue has been shut down or destroyed.
    func shutdownAndJoin() {
        guard !joined else { return }
        joined = true
        grpc_completion_queue_shutdown(raw)
        pthread_join(thread, nil)
    }

    deinit {
        shutdownAndJoin()
        grpc_completion_queue_destroy(raw)
    }
}

/// Where the queue thread publishes its kernel thread id.
private final class ThreadIDCell: Sendable {
    let value = Atomic<Int32>(0)
}

/// The body of the completion-queue thread: deliver completions, polling between them as ``BusyPollPolicy``
/// decides and blocking in gRPC core otherwise.
private final class QueueLoop {
    let queue: SendablePointer
    let name: String
    let busyPoll: Duration
    let started: (Int32) -> Void

    init(queue: SendablePointer, name: String, busyPoll: Duration, started: @escaping (Int32) -> Void) {
        self.queue = queue
        self.name = name
        self.busyPoll = busyPoll
        self.started = started
    }

    func run() {
        cgrpc_name_current_thread(name)
        started(cgrpc_current_thread_id())
        QueueThreadMarker.current = UInt(bitPattern: queue.raw)
        defer { QueueThreadMarker.current = 0 }
        let zero = gpr_time_0(GPR_CLOCK_MONOTONIC)
        let forever = gpr_inf_future(GPR_CLOCK_MONOTONIC)
        var policy = BusyPollPolicy(window: busyPoll)
        while true {
            let polling = policy.shouldPoll(now: cgrpc_monotonic_nanos())
            let event = grpc_completion_queue_next(queue.raw, polling ? zero : forever, nil)
            switch event.type {
            case GRPC_QUEUE_SHUTDOWN:
                return
            case GRPC_OP_COMPLETE:
                if let tag = event.tag { CompletionTag.complete(tag, success: event.success != 0) }
                policy.completed(now: cgrpc_monotonic_nanos(), whilePolling: polling)
            case GRPC_QUEUE_TIMEOUT:
                // Let a thread waiting for this CPU (a woken handler, the caller being resumed) run first.
                let before = cgrpc_monotonic_nanos()
                sched_yield()
                policy.yielded(before: before, after: cgrpc_monotonic_nanos())
            default:
                continue
            }
        }
    }
}

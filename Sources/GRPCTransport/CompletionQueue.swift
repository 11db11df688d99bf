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
/// resumes continuations or starts tasks and must not block. ``shutdownAndJoin()`` (async) shuts the queue
/// down, lets the thread drain every outstanding event, and waits for it to exit without blocking the calling
/// task: the `pthread_join` runs on a short-lived joiner thread that resumes the caller. `deinit` destroys the
/// queue (after the join; if nobody joined, a joiner thread joins and then destroys it).
///
/// `@unchecked Sendable`: `raw` and `thread` are immutable and gRPC's queue functions are thread-safe; the join
/// state is in a Mutex.
final class CompletionQueue: @unchecked Sendable {
    let raw: OpaquePointer
    /// Runs jobs enqueued from this queue's thread right there (see ``QueueThreadExecutor``).
    let executor: QueueThreadExecutor
    private let thread: pthread_t
    private let startedThreadID = ThreadIDCell()

    /// The queue thread's life as seen by its owner: running, being joined (callers waiting), joined.
    private enum JoinState {
        case running
        case joining([CheckedContinuation<Void, Never>])
        case joined
    }
    private let joinState = Mutex(JoinState.running)

    /// - Parameters:
    ///   - name: the thread's name (15 bytes are kept).
    ///   - busyPoll: how long the thread keeps polling without sleeping after each completion; zero blocks in
    ///     the kernel at once.
    init(name: String, busyPoll: Duration) {
        raw = grpc_completion_queue_create_for_next(nil)
        executor = QueueThreadExecutor(identity: UInt(bitPattern: raw))
        let published = startedThreadID
        let loop = QueueLoop(queue: SendablePointer(raw: raw), name: name, busyPoll: busyPoll) { id in
            published.value.store(id, ordering: .releasing)
        }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(loop).toOpaque()
        let rc = pthread_create(&thread, nil, { arg in
            guard let arg else { return nil }
            let loop = Unmanaged<QueueLoop>.fromOpaque(arg).takeRetainedValue()
            loop.run()
            return nil
        }, context)
        // No input reaches this: failing to create one thread means the process is out of resources.
        precondition(rc == 0, "pthread_create failed for the gRPC completion queue: \(rc)")
        self.thread = thread
    }

    /// The queue thread's kernel thread id once it runs (0 before): diagnostics and tests read its CPU time
    /// from /proc/self/task/<id>.
    var threadID: Int32 { startedThreadID.value.load(ordering: .acquiring) }

    /// Shuts the queue down and suspends until its thread has delivered every outstanding event and exited.
    /// Call after every server and call using the queue has been shut down or destroyed. Idempotent; concurrent
    /// callers all wait. Never blocks the calling thread.
    func shutdownAndJoin() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            enum Step { case start, wait, done }
            let step = joinState.withLock { state -> Step in
                switch state {
                case .running: state = .joining([c]); return .start
                case .joining(let waiters): state = .joining(waiters + [c]); return .wait
                case .joined: return .done
                }
            }
            switch step {
            case .done: c.resume()
            case .wait: break
            case .start:
                grpc_completion_queue_shutdown(raw)
                let thread = self.thread
                spawnJoinerThread { [self] in
                    pthread_join(thread, nil)
                    let waiters = joinState.withLock { state -> [CheckedContinuation<Void, Never>] in
                        guard case .joining(let waiters) = state else { return [] }
                        state = .joined
                        return waiters
                    }
                    for w in waiters { w.resume() }
                }
            }
        }
    }

    /// Starts shutting down and joining on a joiner thread, which runs `then` after the join; returns at once.
    /// For `deinit`s, which must not block. If a join is already under way or done, `then` runs at once.
    func shutdownInBackground(then: @escaping @Sendable () -> Void) {
        let start = joinState.withLock { state -> Bool in
            guard case .running = state else { return false }
            state = .joining([])
            return true
        }
        guard start else { then(); return }
        grpc_completion_queue_shutdown(raw)
        let thread = self.thread
        spawnJoinerThread { [self] in
            pthread_join(thread, nil)
            let waiters = joinState.withLock { state -> [CheckedContinuation<Void, Never>] in
                guard case .joining(let waiters) = state else { return [] }
                state = .joined
                return waiters
            }
            for w in waiters { w.resume() }
            then()
        }
    }

    deinit {
        let running = joinState.withLock { if case .running = $0 { true } else { false } }
        if running {
            // Nobody joined: shut down and let a joiner thread join and destroy, so deinit never blocks.
            grpc_completion_queue_shutdown(raw)
            let thread = self.thread
            let queue = SendablePointer(raw: raw)
            spawnJoinerThread {
                pthread_join(thread, nil)
                grpc_completion_queue_destroy(queue.raw)
            }
        } else {
            grpc_completion_queue_destroy(raw)
        }
    }
}

/// Runs `body` on a new detached OS thread (named ferry-grpc-join): where a `pthread_join` waits, so that no task
/// and no cooperative-pool thread ever blocks on one.
func spawnJoinerThread(_ body: @escaping @Sendable () -> Void) {
    final class Box { let body: @Sendable () -> Void; init(_ b: @escaping @Sendable () -> Void) { body = b } }
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    pthread_attr_setstacksize(&attributes, 256 * 1024)
    defer { pthread_attr_destroy(&attributes) }
    var joiner = pthread_t()
    let context = Unmanaged.passRetained(Box(body)).toOpaque()
    let rc = pthread_create(&joiner, &attributes, { arg in
        guard let arg else { return nil }
        cgrpc_name_current_thread("ferry-grpc-join")
        Unmanaged<Box>.fromOpaque(arg).takeRetainedValue().body()
        return nil
    }, context)
    // No input reaches this: failing to create one thread means the process is out of resources.
    precondition(rc == 0, "pthread_create failed for a joiner thread: \(rc)")
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

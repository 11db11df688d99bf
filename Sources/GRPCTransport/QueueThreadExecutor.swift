#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A task executor that runs a job on the completion-queue thread when the job is enqueued *from* that thread
/// while it is delivering a completion, and hands every other job to the global concurrent executor.
///
/// Why: a server handler task started from the queue thread would otherwise wait for a cooperative-pool thread to
/// wake up, and on a small virtual machine each such wake-up costs about as much as the socket round trip
/// itself. With this executor as the task's preference the handler starts at once on the queue thread and runs
/// there until its first real suspension; whatever resumes it later resumes it on the pool, as usual.
///
/// The price is that a handler's synchronous prefix holds up the queue's other completions, so servers that run
/// long computations before their first `await` must not opt in (``ServerConfiguration/startsHandlersOnQueueThread``).
///
/// A job enqueued while an inline job is already running on the queue thread goes to the pool (no nesting).
final class QueueThreadExecutor: TaskExecutor {
    /// What the queue thread stores in its thread-specific slot while it may run jobs inline (the address of
    /// its gRPC completion queue, unique while the queue lives).
    private let identity: UInt

    init(identity: UInt) { self.identity = identity }

    func enqueue(_ job: consuming ExecutorJob) {
        guard QueueThreadMarker.current == identity else {
            globalConcurrentExecutor.enqueue(job)
            return
        }
        QueueThreadMarker.current = 0
        job.runSynchronously(on: asUnownedTaskExecutor())
        QueueThreadMarker.current = identity
    }
}

/// The thread-specific slot that tells a ``QueueThreadExecutor`` it is on its queue's thread, between events.
enum QueueThreadMarker {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        // Only fails when the process has run out of thread-specific keys (PTHREAD_KEYS_MAX), which no input reaches.
        precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
        return key
    }()

    static var current: UInt {
        get { UInt(bitPattern: pthread_getspecific(key)) }
        set { pthread_setspecific(key, UnsafeRawPointer(bitPattern: newValue)) }
    }
}

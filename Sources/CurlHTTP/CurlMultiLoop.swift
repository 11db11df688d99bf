internal import CCurl
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The one thread that drives a libcurl multi handle for an ``HTTPClient``.
///
/// Protocol: callers `submit` or `cancel` transfers through a locked inbox and wake the thread with
/// `curl_multi_wakeup` (thread-safe). The thread alone touches the multi handle, the easy handles after submit, and
/// resumes every continuation. It never runs Swift concurrency work, so slow I/O never blocks the cooperative pool.
///
/// On shutdown the thread cleans the multi handle up (closing every cached connection, TLS included) and frees its
/// OpenSSL thread state before it resumes the waiters of ``waitUntilStopped()``: once a client has stopped, nothing
/// of it meets OpenSSL's exit handler if the process exits at once (a thread whose OpenSSL state is freed by its own
/// exit after that handler ran leaks it, or crashes on first use).
final class CurlMultiLoop: @unchecked Sendable {  // @unchecked: `multi`/`active` confined to the loop thread
    private struct Inbox {
        var adds: [CurlTransfer] = []
        var cancels: [CurlTransfer] = []
        var shuttingDown = false
        /// The multi handle was cleaned up: nothing may wake it any more.
        var closed = false
    }

    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex(Inbox())
    /// Set when the loop thread has left its loop (every transfer failed or finished); waiters resumed then.
    private let exit = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private let threadName: String

    init(configuration: HTTPClientConfiguration) throws(HTTPError) {
        CurlGlobal.initialize()
        guard let multi = curl_multi_init() else { throw HTTPError(.transport, "curl_multi_init failed") }
        self.multi = multi
        self.threadName = configuration.threadName
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, configuration.maxConnectionsPerHost)
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(1, configuration.maxCachedConnections))
        _ = ccurl_multi_setopt_long(multi, CURLMOPT_PIPELINING, 2 /* CURLPIPE_MULTIPLEX */)
        // A plain detached pthread, not a Foundation Thread: nothing on its stack is Foundation's, so the LeakSanitizer
        // suppressions for libFoundation cannot hide an allocation made on this thread. It holds `self` until run()
        // returns.
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        defer { pthread_attr_destroy(&attributes) }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, &attributes, { arg in
            guard let arg else { return nil }
            Unmanaged<CurlMultiLoop>.fromOpaque(arg).takeRetainedValue().run()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<CurlMultiLoop>.fromOpaque(context).release()  // deinit cleans the multi handle up
            throw HTTPError(.transport, "cannot start the HTTP client's thread (pthread_create: \(rc))")
        }
    }

    /// The thread cleans the handle up when it stops; this covers a loop whose thread never started.
    deinit {
        if !inbox.withLock({ $0.closed }) { curl_multi_cleanup(multi) }
    }

    /// Queues a transfer. Returns false if the loop is shutting down (the transfer was not taken).
    func submit(_ transfer: CurlTransfer) -> Bool {
        inbox.withLock { box -> Bool in
            guard !box.shuttingDown else { return false }
            box.adds.append(transfer)
            curl_multi_wakeup(multi)
            return true
        }
    }

    /// Requests cancellation; idempotent, safe before submit and after completion.
    func cancel(_ transfer: CurlTransfer) {
        transfer.cancelRequested.store(true, ordering: .sequentiallyConsistent)
        inbox.withLock { box in
            guard !box.closed else { return }  // stopped: every transfer already failed
            box.cancels.append(transfer)
            curl_multi_wakeup(multi)
        }
    }

    /// Fails every transfer in flight with `.shutdown` and stops the thread. Idempotent.
    func shutdown() {
        inbox.withLock { box in
            box.shuttingDown = true
            if !box.closed { curl_multi_wakeup(multi) }
        }
    }

    /// Suspends (without blocking a thread) until the loop thread has finished its last transfer and left its
    /// loop; returns at once if it has. Call after ``shutdown()``.
    func waitUntilStopped() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = exit.withLock { e -> Bool in
                if !e.done { e.waiters.append(c) }
                return e.done
            }
            if done { c.resume() }
        }
    }

    private func run() {
        // Named for /proc and debuggers (and the storm test's census of threads left behind).
        ccurl_name_current_thread(threadName)
        defer {
            let waiters = exit.withLock { e -> [CheckedContinuation<Void, Never>] in
                e.done = true
                defer { e.waiters = [] }
                return e.waiters
            }
            for w in waiters { w.resume() }
        }
        while true {
            let (adds, cancels, stop) = inbox.withLock { box in
                defer { box.adds = []; box.cancels = [] }
                return (box.adds, box.cancels, box.shuttingDown)
            }
            for t in adds {
                if t.cancelRequested.load(ordering: .sequentiallyConsistent) {
                    t.fail(HTTPError(.cancelled, "cancelled", url: t.redactedURL))
                } else if curl_multi_add_handle(multi, t.easy) == CURLM_OK {
                    active[t.easy] = t
                } else {
                    t.fail(HTTPError(.transport, "curl_multi_add_handle failed", url: t.redactedURL))
                }
            }
            for t in cancels where active.removeValue(forKey: t.easy) != nil {
                curl_multi_remove_handle(multi, t.easy)
                t.fail(HTTPError(.cancelled, "cancelled", url: t.redactedURL))
            }
            if stop {
                for t in active.values {
                    curl_multi_remove_handle(multi, t.easy)
                    t.fail(HTTPError(.shutdown, "HTTP client shut down", url: t.redactedURL))
                }
                active = [:]
                // Wakes are refused from here on (under the inbox lock), so the handle can go.
                inbox.withLock { $0.closed = true }
                curl_multi_cleanup(multi)
                ccurl_release_tls_thread_state()
                return
            }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            var left: Int32 = 0
            while let msg = curl_multi_info_read(multi, &left) {
                guard msg.pointee.msg == CURLMSG_DONE, let easy = msg.pointee.easy_handle else { continue }
                let result = msg.pointee.data.result
                curl_multi_remove_handle(multi, easy)
                active.removeValue(forKey: easy)?.complete(result)
            }
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }
}

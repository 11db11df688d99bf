/// A de-duplicating, rate-limited work queue keyed by object (client-go's workqueue semantics).
///
/// Contract: a key added while queued is not queued twice; a key added while being processed is queued again only
/// after ``done(_:)``, so one key is never processed by two workers at once. ``addRateLimited(_:)`` waits the
/// per-key exponential backoff (reset by ``forget(_:)``) and respects an overall token bucket; the wait is the
/// larger of the two. ``get()`` suspends until a key is ready and returns nil after ``shutDown()`` once drained.
public actor WorkQueue<Key: Hashable & Sendable>: FerryService {
    public struct RateLimit: Sendable {
        public var baseDelay: Duration
        public var maxDelay: Duration
        /// Overall rate (tokens per second) and burst of the token bucket. A rate that is not positive (0, negative,
        /// NaN) turns the bucket off rather than stopping the queue; a tiny rate waits at most
        /// `Duration.configurationLimit`.
        public var perSecond: Double
        public var burst: Int
        public init(baseDelay: Duration = .milliseconds(5), maxDelay: Duration = .seconds(1000), perSecond: Double = 10,
                    burst: Int = 100) {
            self.baseDelay = baseDelay
            self.maxDelay = maxDelay
            self.perSecond = perSecond
            self.burst = burst
        }
    }

    /// The queue's lifecycle: accepting keys, or shut down (get() drains, then returns nil). One way only.
    private enum State { case accepting, shutDown }

    private var queue: [Key] = []
    private var head = 0
    private var dirty: Set<Key> = []
    private var processing: Set<Key> = []
    private var waiters: [(id: UInt64, continuation: CheckedContinuation<Key?, Never>)] = []
    private var nextWaiterID: UInt64 = 0
    private var delayed: [UInt64: Task<Void, Never>] = [:]
    private var nextDelayID: UInt64 = 0
    private var runners: [CheckedContinuation<Void, Never>] = []
    private var failures: [Key: Int] = [:]
    private var state = State.accepting
    private let limit: RateLimit
    private let clock: any FerryClock
    private var tokens: Double
    private var lastRefill: Duration

    /// - Parameter clock: the time of backoffs, ``addAfter(_:_:)`` delays and the token bucket's refill.
    public init(rateLimit: RateLimit = RateLimit(), clock: any FerryClock = SystemClock()) {
        self.limit = rateLimit
        self.clock = clock
        self.tokens = Double(rateLimit.burst)
        self.lastRefill = clock.monotonicNow()
    }

    /// Number of keys waiting (not counting those being processed).
    public var count: Int { queue.count - head }

    /// Keys scheduled by ``addAfter(_:_:)`` or ``addRateLimited(_:)`` whose delay has not passed yet.
    public var delayedCount: Int { delayed.count }

    /// True once ``shutDown()`` ran.
    public var isShutDown: Bool { state == .shutDown }

    public func add(_ key: Key) {
        guard state == .accepting, !dirty.contains(key) else { return }
        dirty.insert(key)
        guard !processing.contains(key) else { return }
        if !waiters.isEmpty {
            dirty.remove(key)
            processing.insert(key)
            waiters.removeFirst().continuation.resume(returning: key)
        } else {
            queue.append(key)
        }
    }

    /// The next key; mark it with ``done(_:)`` when finished. nil once shut down and drained, or when the calling
    /// task is cancelled while waiting (the wait ends at once; no key is taken).
    public func get() async -> Key? {
        if head < queue.count {
            let key = queue[head]
            head += 1
            if head > 1024, head * 2 > queue.count { queue.removeFirst(head); head = 0 }
            dirty.remove(key)
            processing.insert(key)
            return key
        }
        if state == .shutDown || Task.isCancelled { return nil }
        nextWaiterID += 1
        let id = nextWaiterID
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Key?, Never>) in
                if Task.isCancelled { c.resume(returning: nil) } else { waiters.append((id, c)) }
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    private func cancelWaiter(_ id: UInt64) {
        guard let i = waiters.firstIndex(where: { $0.id == id }) else { return }
        waiters.remove(at: i).continuation.resume(returning: nil)
    }

    public func done(_ key: Key) {
        processing.remove(key)
        if dirty.contains(key) {
            dirty.remove(key)
            add(key)
        }
    }

    /// Adds after the key's backoff: base × 2^failures (capped), or later if the token bucket is empty.
    public func addRateLimited(_ key: Key) {
        let n = failures[key, default: 0]
        failures[key] = n + 1
        // base × 2^n in Double, clamped: no Duration overflow for a big base or many failures.
        let exp = limit.baseDelay.clampedMultiplied(by: Double(sign: .plus, exponent: min(n, 62), significand: 1))
        let perItem = min(exp, limit.maxDelay.clampedToConfigurationLimit)
        addAfter(key, max(perItem, bucketDelay()))
    }

    /// How many times ``addRateLimited(_:)`` ran for the key since the last ``forget(_:)``.
    public func retries(_ key: Key) -> Int { failures[key, default: 0] }

    /// Clears the key's backoff (call after a success).
    public func forget(_ key: Key) { failures[key] = nil }

    /// Adds `key` once `delay` has passed on the queue's clock. Pending delays are cancelled by ``shutDown()``.
    public func addAfter(_ key: Key, _ delay: Duration) {
        guard state == .accepting else { return }
        guard delay > .zero else { return add(key) }
        nextDelayID += 1
        let id = nextDelayID
        let clock = self.clock
        delayed[id] = Task { [weak self] in
            let slept: Bool
            do { try await clock.sleep(for: delay); slept = true } catch { slept = false }
            await self?.fireDelayed(id, key, add: slept)
        }
    }

    private func fireDelayed(_ id: UInt64, _ key: Key, add shouldAdd: Bool) {
        guard delayed.removeValue(forKey: id) != nil else { return }
        if shouldAdd { add(key) }
    }

    /// Stops accepting keys, cancels pending delayed adds, and ends waiting ``get()`` calls (nil) and ``run()``.
    /// Keys already queued are still handed out. Idempotent.
    public func shutDown() {
        guard state == .accepting else { return }
        state = .shutDown
        for w in waiters { w.continuation.resume(returning: nil) }
        waiters = []
        for task in delayed.values { task.cancel() }
        delayed = [:]
        for r in runners { r.resume() }
        runners = []
    }

    /// The queue as a service: suspends until the calling task is cancelled (graceful shutdown) or ``shutDown()``
    /// is called, then shuts the queue down and returns. Workers' ``get()`` then drain what is queued and get nil.
    public func run() async {
        if state == .accepting, !Task.isCancelled {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    if state == .shutDown || Task.isCancelled { c.resume() } else { runners.append(c) }
                }
            } onCancel: {
                Task { await self.shutDown() }
            }
        }
        shutDown()
    }

    private func bucketDelay() -> Duration {
        let now = clock.monotonicNow()
        let elapsed = now - lastRefill
        lastRefill = now
        guard limit.perSecond > 0 else { return .zero }  // bucket off (also NaN)
        tokens = min(Double(limit.burst), tokens + elapsed.secondsValue * limit.perSecond)
        tokens -= 1
        return tokens >= 0 ? .zero : Duration(clampingSeconds: -tokens / limit.perSecond)
    }
}

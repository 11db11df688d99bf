/// A de-duplicating, rate-limited work queue keyed by object (client-go's workqueue semantics).
///
/// Contract: a key added while queued is not queued twice; a key added while being processed is queued again only
/// after ``done(_:)``, so one key is never processed by two workers at once. ``addRateLimited(_:)`` waits the
/// per-key exponential backoff (reset by ``forget(_:)``) and respects an overall token bucket; the wait is the
/// larger of the two. ``get()`` suspends until a key is ready and returns nil after ``shutDown()`` once drained.
public actor WorkQueue<Key: Hashable & Sendable> {
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

    private var queue: [Key] = []
    private var head = 0
    private var dirty: Set<Key> = []
    private var processing: Set<Key> = []
    private var waiters: [CheckedContinuation<Key?, Never>] = []
    private var failures: [Key: Int] = [:]
    private var shuttingDown = false
    private let limit: RateLimit
    private var tokens: Double
    private var lastRefill = ContinuousClock.now

    public init(rateLimit: RateLimit = RateLimit()) {
        self.limit = rateLimit
        self.tokens = Double(rateLimit.burst)
    }

    /// Number of keys waiting (not counting those being processed).
    public var count: Int { queue.count - head }

    public func add(_ key: Key) {
        guard !shuttingDown, !dirty.contains(key) else { return }
        dirty.insert(key)
        guard !processing.contains(key) else { return }
        if !waiters.isEmpty {
            dirty.remove(key)
            processing.insert(key)
            waiters.removeFirst().resume(returning: key)
        } else {
            queue.append(key)
        }
    }

    /// The next key; mark it with ``done(_:)`` when finished. nil once shut down and drained.
    public func get() async -> Key? {
        if head < queue.count {
            let key = queue[head]
            head += 1
            if head > 1024, head * 2 > queue.count { queue.removeFirst(head); head = 0 }
            dirty.remove(key)
            processing.insert(key)
            return key
        }
        if shuttingDown { return nil }
        return await withCheckedContinuation { waiters.append($0) }
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

    public func addAfter(_ key: Key, _ delay: Duration) {
        guard delay > .zero else { return add(key) }
        Task { [weak self] in
            try? await Task.sleep(for: delay)
            await self?.add(key)
        }
    }

    /// Stops accepting keys; waiting ``get()`` calls return nil.
    public func shutDown() {
        shuttingDown = true
        for w in waiters { w.resume(returning: nil) }
        waiters = []
    }

    private func bucketDelay() -> Duration {
        let now = ContinuousClock.now
        let elapsed = now - lastRefill
        lastRefill = now
        guard limit.perSecond > 0 else { return .zero }  // bucket off (also NaN)
        tokens = min(Double(limit.burst), tokens + elapsed.secondsValue * limit.perSecond)
        tokens -= 1
        return tokens >= 0 ? .zero : Duration(clampingSeconds: -tokens / limit.perSecond)
    }
}

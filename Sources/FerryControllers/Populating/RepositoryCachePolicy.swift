/// Which opened repositories ``RepositoryCache`` keeps, and how long it remembers a password that did not open one
/// (pure: the cache passes what it knows about its entries, the policy answers).
///
/// Bounds: at most `maxRepositories` open at once and at most `maxIndexEntries` index entries over all of them
/// (an opened repository's memory is mostly its index); entries unused for `idleTimeout` are closed. The most
/// recently used entry is never evicted for size (the repository a reconcile is using right now stays open even
/// when it alone is over the bound). Eviction is least-recently-used first.
public struct RepositoryCachePolicy: Sendable, Hashable {
    public var maxRepositories: Int
    public var maxIndexEntries: Int
    public var idleTimeout: Duration
    /// How long a wrong password is remembered for one Secret version (no scrypt per retry); a changed Secret
    /// (new resourceVersion) is tried at once.
    public var wrongPasswordMemory: Duration

    public init(maxRepositories: Int = 32, maxIndexEntries: Int = 20_000_000, idleTimeout: Duration = .seconds(600),
                wrongPasswordMemory: Duration = .seconds(120)) {
        self.maxRepositories = maxRepositories
        self.maxIndexEntries = maxIndexEntries
        self.idleTimeout = idleTimeout
        self.wrongPasswordMemory = wrongPasswordMemory
    }

    /// What the cache knows about one entry.
    public struct EntryFacts<Key: Hashable & Sendable>: Sendable {
        public var key: Key
        /// When a caller last asked for it (ContinuousClock).
        public var lastUsed: ContinuousClock.Instant
        /// Index entries of the opened repository; nil while it is still opening (never evicted then).
        public var indexEntries: Int?
        public init(key: Key, lastUsed: ContinuousClock.Instant, indexEntries: Int?) {
            self.key = key
            self.lastUsed = lastUsed
            self.indexEntries = indexEntries
        }
    }

    /// The keys to close now: idle ones first, then least-recently-used ones until both bounds hold.
    /// Entries still opening are never chosen; the most recently used entry is chosen only when idle.
    public func evictions<Key>(_ entries: [EntryFacts<Key>], now: ContinuousClock.Instant) -> [Key] {
        let newest = entries.max { $0.lastUsed < $1.lastUsed }?.key
        var evicted: [Key] = []
        var kept: [EntryFacts<Key>] = []
        for e in entries.sorted(by: { $0.lastUsed < $1.lastUsed }) {
            if e.indexEntries != nil, now - e.lastUsed >= idleTimeout { evicted.append(e.key) } else { kept.append(e) }
        }
        var count = kept.count
        var total = kept.reduce(0) { $0 + ($1.indexEntries ?? 0) }
        for e in kept where count > maxRepositories || total > maxIndexEntries {
            guard let entries = e.indexEntries, e.key != newest else { continue }
            evicted.append(e.key)
            count -= 1
            total -= entries
        }
        return evicted
    }

    /// Whether a remembered wrong-password failure still answers for its Secret version.
    public func remembersFailure(since: ContinuousClock.Instant, now: ContinuousClock.Instant) -> Bool {
        now - since < wrongPasswordMemory
    }
}

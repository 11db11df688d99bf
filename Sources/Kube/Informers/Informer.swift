public import Logging
import Synchronization

/// One change delivered to informer handlers, after the cache already reflects it.
public enum InformerEvent<T: KubeResource>: Sendable {
    case added(T)
    case updated(old: T, new: T)
    case deleted(T)
}

/// How an ``Informer`` holds cached objects.
public enum InformerStorage: Sendable {
    /// As decoded ``JSONView`` trees: reads cost nothing, each object costs its whole tree (≈ 2.8 KiB a claim).
    case decoded
    /// Packed as ``CompactJSON`` (≈ 0.3 KiB a claim), decoded on every read. Index lookups that only need keys
    /// (``Informer/keys(byIndex:_:)``) decode nothing.
    case compact
}

/// A list-then-watch cache of one kind, with indexers and event handlers (client-go's shared informer, simplified).
///
/// Contract: ``run()`` lists, then watches from the list's resourceVersion; a broken watch resumes from the last
/// seen version (bookmarks advance it), a `410 Gone` relists and reconciles the cache (emitting adds, updates and
/// deletes for what changed meanwhile), other failures back off exponentially (capped). Handlers run one at a time,
/// in event order, on the task that called ``run()``; reads of the cache are thread-safe and never block on it.
/// Indexers and handlers must be added before ``run()``.
public final class Informer<T: KubeResource>: Sendable, FerryService {
    public typealias IndexFunction = @Sendable (T) -> [String]
    public typealias Handler = @Sendable (InformerEvent<T>) async -> Void
    /// Applied to every object before it enters the cache and reaches handlers (client-go's `SetTransform`).
    public typealias Transform = @Sendable (T) -> T

    public typealias Storage = InformerStorage

    /// Drops `metadata.managedFields` (server-side apply bookkeeping, often larger than the rest of the object).
    /// Safe for caches whose objects are written back with update: an update without managedFields keeps the
    /// stored ones (the API server takes them from the live object).
    public static var droppingManagedFields: Transform {
        { o in
            guard o.metadata.object["managedFields"] != nil else { return o }
            var o = o
            o.metadata.object["managedFields"] = nil
            return o
        }
    }

    private enum Stored: Sendable {
        case decoded(T)
        case compact(CompactJSON)
    }

    /// A change found by a relist, materialized only when its handlers run.
    private enum Pending {
        case added(ObjectKey)
        case updated(old: Stored, key: ObjectKey)
        case deleted(Stored)
    }

    private struct State {
        var items: [ObjectKey: Stored] = [:]
        var storedBytes = 0
        var indices: [String: [String: Set<ObjectKey>]] = [:]
        var indexers: [String: IndexFunction] = [:]
        var handlers: [Handler] = []
        var synced = false
        var lastResourceVersion = ""
        var relists = 0
        var syncWaiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
        var nextWaiterID: UInt64 = 0
    }

    private let client: KubeClient
    private let namespace: String?
    private let labelSelector: String?
    private let fieldSelector: String?
    private let pageSize: Int
    private let storage: Storage
    private let transform: Transform?
    private let logger: Logger
    private let state = Mutex(State())

    /// - Parameters:
    ///   - namespace: nil watches every namespace (or a cluster-scoped kind).
    ///   - pageSize: list page size (`limit`). Pages are folded into the cache one at a time.
    ///   - storage: how cached objects are held (``Storage``).
    ///   - transform: applied to every object before it is cached and handed to handlers (e.g.
    ///     ``droppingManagedFields``).
    public init(client: KubeClient, type: T.Type = T.self, namespace: String?, labelSelector: String? = nil,
                fieldSelector: String? = nil, pageSize: Int = 500, storage: Storage = .decoded,
                transform: Transform? = nil, logger: Logger) {
        self.client = client
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.pageSize = pageSize
        self.storage = storage
        self.transform = transform
        self.logger = logger
    }

    /// Adds an index: `function` maps an object to its index keys.
    public func addIndexer(_ name: String, _ function: @escaping IndexFunction) {
        state.withLock { $0.indexers[name] = function; $0.indices[name] = [:] }
    }
    /// The namespace index (`byNamespace(_:)`), added by default callers usually want.
    public static var namespaceIndex: String { "namespace" }
    public func addNamespaceIndexer() { addIndexer(Self.namespaceIndex) { [$0.metadata.namespace ?? ""] } }

    public func addHandler(_ handler: @escaping Handler) { state.withLock { $0.handlers.append(handler) } }

    // MARK: Cache reads

    public var hasSynced: Bool { state.withLock { $0.synced } }
    /// The resourceVersion the cache reflects.
    public var lastResourceVersion: String { state.withLock { $0.lastResourceVersion } }
    /// How many times the informer relisted after its first list (410 Gone and similar).
    public var relistCount: Int { state.withLock { $0.relists } }
    public func get(_ key: ObjectKey) -> T? { state.withLock { $0.items[key] }.flatMap(load) }
    public func get(name: String, namespace: String?) -> T? { get(ObjectKey(namespace: namespace, name: name)) }
    public func list() -> [T] { state.withLock { Array($0.items.values) }.compactMap(load) }
    /// The keys of every cached object (nothing decoded).
    public func keys() -> [ObjectKey] { state.withLock { Array($0.items.keys) } }
    public var count: Int { state.withLock { $0.items.count } }
    /// Bytes of packed objects held (``Storage/compact``; 0 for ``Storage/decoded``), excluding per-object headers.
    public var storedBytes: Int { state.withLock { $0.storedBytes } }
    public func byIndex(_ index: String, _ key: String) -> [T] {
        state.withLock { s in (s.indices[index]?[key] ?? []).compactMap { s.items[$0] } }.compactMap(load)
    }
    /// The keys of the objects under `key` in `index` (nothing decoded).
    public func keys(byIndex index: String, _ key: String) -> [ObjectKey] {
        state.withLock { s in Array(s.indices[index]?[key] ?? []) }
    }
    public func byNamespace(_ ns: String) -> [T] { byIndex(Self.namespaceIndex, ns) }

    /// Suspends until the first list has been applied, or the calling task is cancelled. No polling: the first
    /// list resumes every waiter, cancellation resumes its own waiter at once.
    /// - Returns: true when the cache has synced, false when the wait ended by cancellation.
    @discardableResult
    public func waitForSync() async -> Bool {
        let id = state.withLock { s -> UInt64 in s.nextWaiterID += 1; return s.nextWaiterID }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                let result: Bool? = state.withLock { s in
                    if s.synced { return true }
                    if Task.isCancelled { return false }
                    s.syncWaiters[id] = c
                    return nil
                }
                if let result { c.resume(returning: result) }
            }
        } onCancel: {
            state.withLock { $0.syncWaiters.removeValue(forKey: id) }?.resume(returning: false)
        }
    }

    // MARK: Running

    /// Runs list-and-watch until the calling task is cancelled. Never throws; failures are logged and retried.
    public func run() async {
        var backoff = Duration.milliseconds(100)
        var needList = true
        while !Task.isCancelled {
            do {
                if needList {
                    try await relist()
                    needList = false
                }
                let rv = lastResourceVersion
                let stream = try await client.watch(T.self, namespace: namespace, options: WatchOptions(
                    resourceVersion: rv, labelSelector: labelSelector, fieldSelector: fieldSelector, allowBookmarks: true,
                    timeoutSeconds: 300))
                for try await event in stream {
                    await apply(event)
                    backoff = .milliseconds(100)
                }
            } catch let error as KubeError where error.code == .gone {
                logger.info("watch expired, relisting", metadata: ["kube.resource": "\(T.resourceType.plural)"])
                needList = true
                state.withLock { $0.relists += 1 }
            } catch {
                if Task.isCancelled { return }
                logger.info("watch failed, retrying", metadata: [
                    "kube.resource": "\(T.resourceType.plural)", "error": "\(error)", "backoff": "\(backoff)",
                ])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(30))
            }
        }
    }

    private func relist() async throws(KubeError) {
        let indexers = state.withLock { $0.indexers }
        var fresh: [ObjectKey: Stored] = [:]
        var freshIndices: [String: [String: Set<ObjectKey>]] = indexers.mapValues { _ in [:] }
        var freshBytes = 0
        // Page by page: only one page of decoded objects is alive at a time.
        var options = ListOptions(labelSelector: labelSelector, fieldSelector: fieldSelector, limit: pageSize)
        var page = try await client.list(T.self, namespace: namespace, options: options)
        let resourceVersion = page.resourceVersion
        while true {
            for item in page.items {
                let o = transform?(item) ?? item
                let key = o.key
                let stored = store(o)
                freshBytes += byteCount(stored)
                fresh[key] = stored
                for (name, fn) in indexers { for v in fn(o) { freshIndices[name, default: [:]][v, default: []].insert(key) } }
            }
            guard let token = page.continueToken else { break }
            options.continueToken = token
            page = try await client.list(T.self, namespace: namespace, options: options)
        }
        // Only this task changes `items`, so the old map read here is still current when the new one replaces it.
        let old = state.withLock { $0.items }
        var pending: [Pending] = []
        for (key, o) in old where fresh[key] == nil { pending.append(.deleted(o)) }
        for (key, new) in fresh {
            if let o = old[key] {
                if load(o)?.metadata.resourceVersion != load(new)?.metadata.resourceVersion {
                    pending.append(.updated(old: o, key: key))
                }
            } else {
                pending.append(.added(key))
            }
        }
        var syncWaiters: [CheckedContinuation<Bool, Never>] = []
        let handlers = state.withLock { s -> [Handler] in
            s.items = fresh
            s.indices = freshIndices
            s.storedBytes = freshBytes
            s.lastResourceVersion = resourceVersion
            s.synced = true
            syncWaiters = Array(s.syncWaiters.values)
            s.syncWaiters = [:]
            return s.handlers
        }
        // Resumed after the lock is released: resuming takes the waiting task's status lock, which a concurrent
        // Task.cancel() holds while its cancellation handler (in waitForSync) waits for this lock — resuming under
        // the lock deadlocked the two threads (seen in the start/stop storm).
        for w in syncWaiters { w.resume(returning: true) }
        // Objects are decoded one event at a time, as handlers take them.
        for p in pending {
            let event: InformerEvent<T>?
            switch p {
            case .added(let key): event = fresh[key].flatMap(load).map { .added($0) }
            case .updated(let o, let key):
                if let o = load(o), let n = fresh[key].flatMap(load) { event = .updated(old: o, new: n) } else { event = nil }
            case .deleted(let o): event = load(o).map { .deleted($0) }
            }
            if let event { for h in handlers { await h(event) } }
        }
    }

    private func apply(_ event: WatchEvent<T>) async {
        // Decoding and packing happen outside the lock; only this task changes `items`, so `old` stays current.
        let changed: T?
        switch event {
        case .added(let o), .modified(let o): changed = transform?(o) ?? o
        case .deleted(let o): changed = transform?(o) ?? o
        case .bookmark: changed = nil
        }
        let key = changed?.key
        let oldStored = key.flatMap { k in state.withLock { $0.items[k] } }
        let old = oldStored.flatMap(load)
        var newStored: Stored?
        if case .deleted = event {} else { newStored = changed.map(store) }
        let (out, handlers): (InformerEvent<T>?, [Handler]) = state.withLock { s in
            if let rv = event.resourceVersion, !rv.isEmpty { s.lastResourceVersion = rv }
            guard let key, let changed else { return (nil, s.handlers) }
            var out: InformerEvent<T>?
            if let oldStored {
                s.storedBytes -= byteCount(oldStored)
                if let old { unindex(&s, key, old) }
            }
            if let newStored {
                if let old {
                    if old.metadata.resourceVersion != changed.metadata.resourceVersion { out = .updated(old: old, new: changed) }
                } else {
                    out = .added(changed)
                }
                s.items[key] = newStored
                s.storedBytes += byteCount(newStored)
                index(&s, key, changed)
            } else {
                s.items[key] = nil
                out = .deleted(changed)
            }
            return (out, s.handlers)
        }
        if let out { for h in handlers { await h(out) } }
    }

    // MARK: Storage

    private func store(_ o: T) -> Stored {
        switch storage {
        case .decoded: .decoded(o)
        case .compact: .compact(CompactJSON(object: o.object))
        }
    }

    private func load(_ s: Stored) -> T? {
        switch s {
        case .decoded(let o): return o
        case .compact(let c):
            do {
                guard let o = try c.decode().object else { return nil }
                return T(object: o)
            } catch {
                // Only bytes this informer packed are stored; reaching this is a bug, not bad input.
                logger.error("cached object unreadable", metadata: [
                    "kube.resource": "\(T.resourceType.plural)", "error": "\(error)",
                ])
                return nil
            }
        }
    }

    private func byteCount(_ s: Stored) -> Int {
        if case .compact(let c) = s { c.byteCount } else { 0 }
    }

    private func index(_ s: inout State, _ key: ObjectKey, _ o: T) {
        for (name, fn) in s.indexers { for v in fn(o) { s.indices[name, default: [:]][v, default: []].insert(key) } }
    }
    private func unindex(_ s: inout State, _ key: ObjectKey, _ o: T) {
        for (name, fn) in s.indexers {
            for v in fn(o) {
                s.indices[name]?[v]?.remove(key)
                if s.indices[name]?[v]?.isEmpty == true { s.indices[name]?[v] = nil }
            }
        }
    }
}

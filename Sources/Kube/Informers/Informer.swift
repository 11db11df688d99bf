public import Logging
import Synchronization

/// One change delivered to informer handlers, after the cache already reflects it.
public enum InformerEvent<T: KubeResource>: Sendable {
    case added(T)
    case updated(old: T, new: T)
    case deleted(T)
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

    private struct State {
        var items: [ObjectKey: T] = [:]
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
    private let logger: Logger
    private let state = Mutex(State())

    /// - Parameters:
    ///   - namespace: nil watches every namespace (or a cluster-scoped kind).
    ///   - pageSize: list page size (`limit`).
    public init(client: KubeClient, type: T.Type = T.self, namespace: String?, labelSelector: String? = nil,
                fieldSelector: String? = nil, pageSize: Int = 500, logger: Logger) {
        self.client = client
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.pageSize = pageSize
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
    public func get(_ key: ObjectKey) -> T? { state.withLock { $0.items[key] } }
    public func get(name: String, namespace: String?) -> T? { get(ObjectKey(namespace: namespace, name: name)) }
    public func list() -> [T] { state.withLock { Array($0.items.values) } }
    public var count: Int { state.withLock { $0.items.count } }
    public func byIndex(_ index: String, _ key: String) -> [T] {
        state.withLock { s in (s.indices[index]?[key] ?? []).compactMap { s.items[$0] } }
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
        let list = try await client.listAll(T.self, namespace: namespace, options: ListOptions(
            labelSelector: labelSelector, fieldSelector: fieldSelector, limit: pageSize))
        var events: [InformerEvent<T>] = []
        var syncWaiters: [CheckedContinuation<Bool, Never>] = []
        let handlers = state.withLock { s -> [Handler] in
            var fresh: [ObjectKey: T] = [:]
            for item in list.items { fresh[item.key] = item }
            for (key, old) in s.items where fresh[key] == nil { events.append(.deleted(old)); unindex(&s, key, old) }
            for (key, new) in fresh {
                if let old = s.items[key] {
                    if old.metadata.resourceVersion != new.metadata.resourceVersion { events.append(.updated(old: old, new: new)) }
                    unindex(&s, key, old)
                } else {
                    events.append(.added(new))
                }
                index(&s, key, new)
            }
            s.items = fresh
            s.lastResourceVersion = list.resourceVersion
            s.synced = true
            syncWaiters = Array(s.syncWaiters.values)
            s.syncWaiters = [:]
            return s.handlers
        }
        // Resumed after the lock is released: resuming takes the waiting task's status lock, which a concurrent
        // Task.cancel() holds while its cancellation handler (in waitForSync) waits for this lock — resuming under
        // the lock deadlocked the two threads (seen in the start/stop storm).
        for w in syncWaiters { w.resume(returning: true) }
        for e in events { for h in handlers { await h(e) } }
    }

    private func apply(_ event: WatchEvent<T>) async {
        let (out, handlers): (InformerEvent<T>?, [Handler]) = state.withLock { s in
            if let rv = event.resourceVersion, !rv.isEmpty { s.lastResourceVersion = rv }
            var out: InformerEvent<T>?
            switch event {
            case .added(let o), .modified(let o):
                let key = o.key
                if let old = s.items[key] {
                    unindex(&s, key, old)
                    if old.metadata.resourceVersion != o.metadata.resourceVersion { out = .updated(old: old, new: o) }
                } else {
                    out = .added(o)
                }
                s.items[key] = o
                index(&s, key, o)
            case .deleted(let o):
                if let old = s.items.removeValue(forKey: o.key) { unindex(&s, o.key, old) }
                out = .deleted(o)
            case .bookmark:
                break
            }
            return (out, s.handlers)
        }
        if let out { for h in handlers { await h(out) } }
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

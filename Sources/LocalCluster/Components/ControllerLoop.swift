import Kube
import Logging

/// What one sync of a key asks for next.
enum SyncOutcome: Sendable {
    /// Finished; forget the key's backoff.
    case done
    /// Try again with the key's exponential backoff (a conflict, a transient API or CSI error).
    case retry(String)
    /// Look again after a fixed delay (waiting on another component), backoff cleared.
    case after(Duration)
}

/// The loop every simulated controller shares, client-go style: informers feed a de-duplicating work queue, one
/// worker syncs one key at a time, failures back off per key, and every `resync` period every key is queued
/// again (the PV controller's 15 s `PVClaimBinderSyncPeriod`). Returns when the calling task is cancelled.
struct ControllerLoop<Key: Hashable & Sendable>: Sendable {
    let name: String
    let queue: WorkQueue<Key>
    let logger: Logger

    init(name: String, logger: Logger) {
        self.name = name
        self.queue = WorkQueue(rateLimit: .init(baseDelay: .milliseconds(50), maxDelay: .seconds(30), perSecond: 200,
                                                burst: 1000))
        self.logger = logger
    }

    func enqueue(_ key: Key) { Task { await queue.add(key) } }

    /// Runs the informers and the worker.
    /// - Parameters:
    ///   - informers: each informer's `run` and `waitForSync`.
    ///   - resync: period of re-queuing `allKeys()`; nil for none.
    ///   - workers: keys synced at once (never the same key twice).
    func run(informers: [(run: @Sendable () async -> Void, synced: @Sendable () async -> Void)], resync: Duration?,
             workers: Int = 1, allKeys: @escaping @Sendable () -> [Key],
             sync: @escaping @Sendable (Key) async -> SyncOutcome) async {
        let queue = self.queue
        let logger = self.logger
        let name = self.name
        await withTaskGroup(of: Void.self) { group in
            for informer in informers { group.addTask { await informer.run() } }
            for informer in informers { await informer.synced() }
            if let resync {
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: resync)
                        for key in allKeys() { await queue.add(key) }
                    }
                }
            }
            for key in allKeys() { await queue.add(key) }
            await withTaskCancellationHandler {
                await withTaskGroup(of: Void.self) { workerGroup in
                    for _ in 0..<max(1, workers) {
                        workerGroup.addTask { await Self.work(queue: queue, name: name, logger: logger, sync: sync) }
                    }
                }
            } onCancel: {
                Task { await queue.shutDown() }
            }
            group.cancelAll()
        }
    }

    private static func work(queue: WorkQueue<Key>, name: String, logger: Logger,
                             sync: @Sendable (Key) async -> SyncOutcome) async {
        while let key = await queue.get() {
            switch await sync(key) {
            case .done:
                await queue.forget(key)
            case .retry(let reason):
                logger.debug("sync failed, retrying", metadata: ["controller": "\(name)", "key": "\(key)",
                                                                 "error": "\(reason)"])
                await queue.addRateLimited(key)
            case .after(let delay):
                await queue.forget(key)
                await queue.addAfter(key, delay)
            }
            await queue.done(key)
        }
    }
}

extension Informer {
    /// The pair ``ControllerLoop/run(informers:resync:allKeys:sync:)`` takes.
    var loopEntry: (run: @Sendable () async -> Void, synced: @Sendable () async -> Void) {
        ({ await self.run() }, { await self.waitForSync() })
    }
}

/// Well-known annotation, label and finalizer names (kubernetes.md §9).
enum Names {
    static let bindCompleted = "pv.kubernetes.io/bind-completed"
    static let boundByController = "pv.kubernetes.io/bound-by-controller"
    static let provisionedBy = "pv.kubernetes.io/provisioned-by"
    static let storageProvisioner = "volume.kubernetes.io/storage-provisioner"
    static let betaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner"
    static let selectedNode = "volume.kubernetes.io/selected-node"
    static let defaultClass = "storageclass.kubernetes.io/is-default-class"
    static let provisionerFinalizer = "external-provisioner.volume.kubernetes.io/finalizer"
    static let snapshotSourceProtection = "provisioner.storage.kubernetes.io/volumesnapshot-as-source-protection"
    static let cloningProtection = "provisioner.storage.kubernetes.io/cloning-protection"
}

extension EventRecorder {
    /// Records an event about an object, best effort (the recorder logs refusals).
    func emit<T: KubeResource>(_ object: T, type: EventType, reason: String, message: String) async {
        _ = await record(object.reference, type: type, reason: reason, message: message)
    }
}

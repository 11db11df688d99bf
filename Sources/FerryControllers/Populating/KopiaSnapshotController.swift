public import Kube
public import Logging

/// Runs ``KopiaSnapshotStatusReconciler`` for every KopiaSnapshot: an informer on the kind (all namespaces), a
/// work queue (one worker per key at a time), periodic re-resolution, and the repository cache's bounds — when a
/// KopiaSnapshot goes away, repositories no remaining KopiaSnapshot names are closed.
///
/// Run it only while leading (it writes status). ``run()`` returns when its task is cancelled.
public final class KopiaSnapshotController: Sendable {
    public let informer: Informer<KopiaSnapshot>
    public let reconciler: KopiaSnapshotStatusReconciler
    let queue: WorkQueue<ObjectKey>
    let context: ReconcileContext
    let workers: Int

    /// - Parameters:
    ///   - workers: KopiaSnapshots resolved at once (opens of different repositories run in parallel).
    public init(client: KubeClient, reconciler: KopiaSnapshotStatusReconciler, context: ReconcileContext,
                workers: Int = 2, logger: Logger) {
        informer = Informer(client: client, namespace: nil, logger: logger)
        self.reconciler = reconciler
        self.context = context
        self.workers = max(1, workers)
        let c = context.configuration
        queue = WorkQueue(rateLimit: .init(baseDelay: c.retryIntervalStart, maxDelay: c.retryIntervalMax,
                                           perSecond: 10_000, burst: 10_000))
    }

    /// The repository Secrets KopiaSnapshots name (pure): what the cache may keep open.
    public static func secretsInUse(_ snapshots: [KopiaSnapshot]) -> Set<RepositoryCache.SecretName> {
        Set(snapshots.compactMap { ks in
            guard let name = ks.spec.repository, !name.isEmpty else { return nil }
            return RepositoryCache.SecretName(namespace: ks.namespace ?? "", name: name)
        })
    }

    /// Runs the informer, the workers and the gauges until cancelled.
    public func run() async {
        let queue = self.queue
        let informer = self.informer
        let repositories = reconciler.populator.repositories
        informer.addHandler { event in
            switch event {
            case .added(let ks): await queue.add(ks.key)
            case .updated(let old, let new):
                // Status-only updates (ours, or a claim's resolution) change nothing to resolve.
                if old.metadata.generation != new.metadata.generation || old.metadata.deletionTimestamp != new.metadata.deletionTimestamp {
                    await queue.add(new.key)
                }
            case .deleted:
                await repositories.retainOnly(Self.secretsInUse(informer.list()))
            }
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await informer.run() }
            for _ in 0..<workers { group.addTask { [self] in await work() } }
            group.addTask { [self] in await gaugeLoop() }
            await withTaskCancellationHandler {
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            } onCancel: {
                Task { await queue.shutDown() }
            }
            group.cancelAll()
        }
    }

    func work() async {
        while let key = await queue.get() {
            let outcome: ReconcileOutcome
            if let ks = informer.get(key) {
                outcome = await reconciler.reconcile(ks, context: context)
            } else {
                outcome = .done
            }
            context.metrics.increment("ferry_kopiasnapshot_reconciles_total")
            switch outcome {
            case .done: await queue.forget(key)
            case .requeue(let after):
                await queue.forget(key)
                await queue.addAfter(key, after)
            case .waiting:
                await queue.forget(key)
                await queue.addAfter(key, reconciler.recheckInterval)
            case .failed(_, let final):
                if final { await queue.addAfter(key, context.configuration.retryIntervalMax) } else { await queue.addRateLimited(key) }
            }
            await queue.done(key)
        }
    }

    func gaugeLoop() async {
        let repositories = reconciler.populator.repositories
        while !Task.isCancelled {
            let s = await repositories.statistics
            context.metrics.set("ferry_kopia_repositories_open", to: Double(s.open))
            context.metrics.set("ferry_kopia_repository_opens_total", to: Double(s.opens))
            context.metrics.set("ferry_kopia_repository_refreshes_total", to: Double(s.refreshes))
            context.metrics.set("ferry_kopia_repository_evictions_total", to: Double(s.evictions))
            try? await Task.sleep(for: .seconds(5))
        }
    }
}

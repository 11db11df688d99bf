import Logging
public import Kube
import Foundation

/// The controller runtime: one work queue per kind (claims, links, sources), workers that run the reconcilers,
/// informer handlers that enqueue keys, and the grant index that re-enqueues every claim and link waiting on a
/// namespace at once when a grant there changes.
///
/// Contract: a key is reconciled by one worker at a time (``WorkQueue``); outcomes map to queue actions —
/// `.done` forgets the backoff, `.requeue(after:)` adds after the delay, `.waiting` adds after the resync bound
/// (informers wake it sooner), `.failed(final: false)` backs off exponentially from `retryIntervalStart` to
/// `retryIntervalMax`, `.failed(final: true)` retries after `retryIntervalMax`. ``run()`` returns when its task is
/// cancelled; in-flight reconciles are cancelled with it, which is safe because every step is idempotent.
public final class Controller: Sendable {
    public let context: ReconcileContext
    public let claims: ClaimReconciler
    public let links = LinkReconciler()
    public let sources = SourceProtectionReconciler()
    public let claimQueue: WorkQueue<ObjectKey>
    public let linkQueue: WorkQueue<ObjectKey>
    public let sourceQueue: WorkQueue<SourceReference>

    public init(context: ReconcileContext, kopia: (any KopiaClaimReconciling)? = nil) {
        self.context = context
        self.claims = ClaimReconciler(kopia: kopia)
        let c = context.configuration
        let rate = WorkQueue<ObjectKey>.RateLimit(baseDelay: c.retryIntervalStart, maxDelay: c.retryIntervalMax,
                                                  perSecond: 10_000, burst: 10_000)
        claimQueue = WorkQueue(rateLimit: rate)
        linkQueue = WorkQueue(rateLimit: rate)
        sourceQueue = WorkQueue(rateLimit: .init(baseDelay: c.retryIntervalStart, maxDelay: c.retryIntervalMax,
                                                 perSecond: 10_000, burst: 10_000))
    }

    // MARK: Wiring informers

    /// Adds the handlers that turn informer events into keys. Call before the informers run.
    ///
    /// Each handler wakes a reconcile only when the event changed what that reconcile reads (``WakeFilter``):
    /// a source's protection finalizer, a link's status or a resourceVersion-only update wake nothing, while a
    /// grant created, changed or deleted, a source created, deleted, made ready or bound, a link created, changed or
    /// deleted, and a claim deleted still wake every dependent at once.
    public func register(_ cache: InformerCache) {
        cache.claims.addHandler { [self] event in
            switch event {
            case .added(let c): await claimChanged(c, old: nil)
            case .updated(let old, let new): await claimChanged(new, old: old)
            case .deleted(let c):
                context.feedback.forget(uid: c.metadata.uid)
                context.sharedReads.invalidate(PersistentVolumeClaim.self, name: c.name, namespace: c.namespace)
                if let uid = c.metadata.uid {
                    context.infeasibleDelays.forget(uid)
                    context.provisionedClaims.remove(uid)
                    context.topologyMemo.forget(uid)
                }
                if let s = ClaimReconciler.source(of: c, cache: context.cache) { await enqueue(s, cause: "claim-deleted") }
                await enqueueDependents(of: Self.sourceReference(of: c), cause: "source-claim")
            }
        }
        cache.populatorPods?.addHandler { [self] event in
            let pod: Pod = switch event { case .added(let p), .updated(_, let p), .deleted(let p): p }
            if let key = PopulatingNames.claimKey(of: pod.metadata.annotations, labels: pod.metadata.labels) {
                await enqueueClaim(key, cause: "populator-pod")
            }
        }
        cache.links?.addHandler { [self] event in
            let link: DataSourceLink = switch event { case .added(let l), .updated(_, let l), .deleted(let l): l }
            if WakeFilter.matters(event, WakeFilter.linkItself) {
                await enqueueLink(link.key, cause: "link")
            } else {
                filtered("link")
            }
            if WakeFilter.matters(event, WakeFilter.linkAsReference) {
                for key in context.cache.claims(usingLink: link.key) { await enqueueClaim(key, cause: "link") }
            }
        }
        let onGrant: @Sendable (String) async -> Void = { [self] namespace in await grantChanged(in: namespace) }
        cache.grantsV1?.addHandler { [self] event in
            let g: ReferenceGrantV1 = switch event { case .added(let g), .updated(_, let g), .deleted(let g): g }
            guard WakeFilter.matters(event, { WakeFilter.grant($0.metadata, spec: $0.object["spec"]) }) else { return filtered("grant") }
            await onGrant(g.namespace ?? "")
        }
        cache.grantsBeta?.addHandler { [self] event in
            let g: ReferenceGrant = switch event { case .added(let g), .updated(_, let g), .deleted(let g): g }
            guard WakeFilter.matters(event, { WakeFilter.grant($0.metadata, spec: $0.object["spec"]) }) else { return filtered("grant") }
            await onGrant(g.namespace ?? "")
        }
        cache.snapshots?.addHandler { [self] event in
            let s: VolumeSnapshot = switch event { case .added(let s), .updated(_, let s), .deleted(let s): s }
            // Always: a claim's reconcile reads the snapshot (finalizers included) through the shared reads.
            context.sharedReads.invalidate(VolumeSnapshot.self, name: s.name, namespace: s.namespace)
            if let content = s.status.boundVolumeSnapshotContentName {
                context.sharedReads.invalidate(VolumeSnapshotContent.self, name: content, namespace: nil)
            }
            guard WakeFilter.matters(event, WakeFilter.snapshotAsSource) else { return filtered("snapshot") }
            let ref = SourceReference(group: SourceReference.volumeSnapshotGroup, kind: "VolumeSnapshot", namespace: s.namespace ?? "", name: s.name)
            await enqueueDependents(of: ref, cause: "snapshot")
        }
    }

    func claimChanged(_ claim: PersistentVolumeClaim, old: PersistentVolumeClaim?) async {
        context.sharedReads.invalidate(PersistentVolumeClaim.self, name: claim.name, namespace: claim.namespace)
        if let pv = claim.spec.volumeName { context.sharedReads.invalidate(PersistentVolume.self, name: pv, namespace: nil) }
        let event: InformerEvent<PersistentVolumeClaim> = old.map { .updated(old: $0, new: claim) } ?? .added(claim)
        if WakeFilter.matters(event, WakeFilter.claimItself) {
            await enqueueClaim(claim.key, cause: "claim")
            // A prime PVC (bound, resized, …) wakes the user's PVC it is filled for.
            if let user = PopulatingNames.claimKey(of: claim.metadata.annotations, labels: claim.metadata.labels) {
                await enqueueClaim(user, cause: "prime-claim")
            }
        } else {
            filtered("claim")
        }
        let wasPending = old.map(SourceProtection.isDependent) ?? true
        if wasPending, !SourceProtection.isDependent(claim), let s = ClaimReconciler.source(of: claim, cache: context.cache) {
            await enqueue(s, cause: "claim-no-longer-dependent")
        }
        // As a clone source: created, bound (or no longer), resized, being deleted — wake the claims and links that
        // use it. Its protection finalizer (Ferry's own write) wakes nobody.
        if WakeFilter.matters(event, WakeFilter.claimAsSource) {
            await enqueueDependents(of: Self.sourceReference(of: claim), cause: "source-claim")
        }
    }

    static func sourceReference(of claim: PersistentVolumeClaim) -> SourceReference {
        SourceReference(group: "", kind: "PersistentVolumeClaim", namespace: claim.namespace ?? "", name: claim.name)
    }

    /// The claims still waiting on a source and every link pointing at it.
    func enqueueDependents(of source: SourceReference, cause: String) async {
        await enqueueClaimsReferencing(source, cause: cause)
        for key in context.cache.linkKeys(referencing: source) { await enqueueLink(key, cause: cause) }
    }

    /// An informer event that changed nothing its reconciles read (``WakeFilter``), counted by kind.
    func filtered(_ kind: String) {
        context.metrics.increment("ferry_informer_events_filtered_total", ["kind": kind])
    }

    func enqueueClaimsReferencing(_ source: SourceReference, cause: String) async {
        for key in context.cache.dependentClaimKeys(of: source) { await enqueueClaim(key, cause: cause) }
    }

    // Every add is counted by queue and cause (`ferry_workqueue_adds_total`), before the queue de-duplicates it:
    // what wakes reconciles, and how often, is visible on /metrics.
    func enqueueClaim(_ key: ObjectKey, cause: String) async {
        context.metrics.increment("ferry_workqueue_adds_total", ["queue": "claim", "cause": cause])
        await claimQueue.add(key)
    }

    func enqueueLink(_ key: ObjectKey, cause: String) async {
        context.metrics.increment("ferry_workqueue_adds_total", ["queue": "link", "cause": cause])
        await linkQueue.add(key)
    }

    func enqueue(_ source: SourceReference, cause: String) async {
        context.metrics.increment("ferry_workqueue_adds_total", ["queue": "source", "cause": cause])
        await sourceQueue.add(source)
    }

    /// The grant index: every claim and link whose source lies in `namespace`, at once.
    public func grantChanged(in namespace: String) async {
        let (claimKeys, linkKeys) = context.cache.dependents(ofSourceNamespace: namespace)
        for key in claimKeys { await enqueueClaim(key, cause: "grant") }
        for key in linkKeys { await enqueueLink(key, cause: "grant") }
    }

    // MARK: Running

    /// Runs workers, the resync and the orphan sweep until cancelled.
    public func run() async {
        let c = context.configuration
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<c.workers {
                group.addTask { [self] in await work(claimQueue, kind: "claim") { key in await reconcileClaim(key) } }
            }
            group.addTask { [self] in await work(linkQueue, kind: "link") { key in await links.reconcile(key, context: context) } }
            group.addTask { [self] in await work(sourceQueue, kind: "source") { s in await sources.reconcile(s, context: context) } }
            group.addTask { [self] in await sweepLoop() }
            group.addTask { [self] in await gaugeLoop() }
            await withTaskCancellationHandler {
                while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            } onCancel: { [self] in
                Task { await claimQueue.shutDown(); await linkQueue.shutDown(); await sourceQueue.shutDown() }
            }
            group.cancelAll()
        }
    }

    /// Reconciles a claim; when that provisioned it (its PV exists now and this process had not seen it before),
    /// its source's protection is looked at at once instead of waiting for the binder's update. A reconcile of a
    /// claim already known provisioned does not enqueue the source again: the first one did, and the source
    /// reconcile retries on its own until the finalizer is gone.
    public func reconcileClaim(_ key: ObjectKey) async -> ReconcileOutcome {
        let uid = context.cache.claim(key)?.metadata.uid
        let knownProvisioned = uid.map(context.provisionedClaims.contains) ?? false
        let outcome = await claims.reconcile(key, context: context)
        if outcome == .done, !knownProvisioned, let uid, context.provisionedClaims.contains(uid),
           let claim = context.cache.claim(key), SourceProtection.isDependent(claim),
           let source = ClaimReconciler.source(of: claim, cache: context.cache) {
            await enqueue(source, cause: "provisioned")
        }
        return outcome
    }

    /// One orphan sweep now: every source carrying Ferry's finalizer is looked at (kubernetes.md §5).
    public func sweep() async {
        for s in context.cache.protectedSources() { await enqueue(s, cause: "sweep") }
    }

    func sweepLoop() async {
        await sweep()
        let interval = context.configuration.sweepInterval
        guard interval > .zero else { return }
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await sweep()
        }
    }

    func gaugeLoop() async {
        while !Task.isCancelled {
            context.metrics.set("ferry_workqueue_depth", ["queue": "claim"], to: Double(await claimQueue.count))
            context.metrics.set("ferry_workqueue_depth", ["queue": "link"], to: Double(await linkQueue.count))
            context.metrics.set("ferry_workqueue_depth", ["queue": "source"], to: Double(await sourceQueue.count))
            try? await Task.sleep(for: .seconds(1))
        }
    }

    func work<K: Hashable & Sendable>(_ queue: WorkQueue<K>, kind: String,
                                      _ reconcile: @Sendable (K) async -> ReconcileOutcome) async {
        let clock = ContinuousClock()
        while let key = await queue.get() {
            context.metrics.add("ferry_operations_in_flight", [:], 1)
            let start = clock.now
            let outcome = await reconcile(key)
            let elapsed = clock.now - start
            context.metrics.add("ferry_operations_in_flight", [:], -1)
            let label: String
            switch outcome {
            case .done:
                label = "done"
                await queue.forget(key)
            case .requeue(let after):
                label = "requeue"
                await queue.forget(key)
                await queue.addAfter(key, after)
            case .waiting(let reason):
                label = "waiting:\(reason)"
                await queue.forget(key)
                await queue.addAfter(key, context.configuration.resyncInterval)
            case .failed(let reason, let final):
                label = "failed:\(reason)"
                if final { await queue.addAfter(key, context.configuration.retryIntervalMax) } else { await queue.addRateLimited(key) }
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            context.metrics.increment("ferry_operations_total", ["kind": kind, "outcome": label])
            context.metrics.observe("ferry_operation_duration_seconds", ["kind": kind, "outcome": label.split(separator: ":").first.map(String.init) ?? label], seconds: seconds)
            await queue.done(key)
        }
    }
}

public import Foundation
public import Kopia
public import Kube
public import Logging

/// The Kopia populator plugged into Ferry's controller runtime (`KopiaClaimReconciling`): observes a claim's
/// population (KopiaSnapshot, repository, prime PVC, PV, Secret, pod), asks `PopulateDecider`, performs the actions.
///
/// Level-triggered: everything that must survive a restart is on objects (the pinned snapshot annotation, the
/// deterministic names, the failure count on the prime PVC, the held reclaim policy on the PV). The grant is
/// re-checked right before the claimRef swap; the credentials Secret lives only in the work namespace.
public struct KopiaPopulator: KopiaClaimReconciling {
    public let settings: PopulatorObjects.Settings
    public let repositories: RepositoryCache
    public let decider: PopulateDecider

    public init(settings: PopulatorObjects.Settings, repositories: RepositoryCache, decider: PopulateDecider = PopulateDecider()) {
        self.settings = settings
        self.repositories = repositories
        self.decider = decider
    }

    public func reconcile(claim: PersistentVolumeClaim, source: KopiaSourceRequest, context: ReconcileContext) async
        -> ReconcileOutcome {
        do {
            let observed = try await observe(claim: claim, source: source, context: context)
            var decision = decider.decide(observed.observation)
            // Fail closed: the grant is looked at again right before the volume changes hands.
            if decision.actions.contains(where: { if case .rebind = $0 { true } else { false } }),
               case .denied(let denial) = context.decideGrant(source.request) {
                var o = observed.observation
                o.access = .denied(message: denial.message)
                decision = decider.decide(o)
            }
            try await perform(decision.actions, observed: observed, context: context)
            switch decision.outcome {
            case .done: return .done
            case .requeue(let after): return .requeue(after: after)
            case .waiting(let reason, let recheck):
                return recheck < context.configuration.resyncInterval ? .requeue(after: recheck) : .waiting(reason: reason)
            }
        } catch let error as KubeError {
            context.logger.debug("populate step failed", metadata: [
                "pvc.namespace": "\(claim.namespace ?? "")", "pvc.name": "\(claim.name)", "error": "\(error)",
            ])
            return .failed(reason: error.message, final: false)
        } catch {
            return .failed(reason: "\(error)", final: false)
        }
    }

    /// What `observe` read, kept for the actions (objects to patch, credentials to copy).
    struct Observed: Sendable {
        var observation: PopulateObservation
        var objects: PopulatorObjects
        var claim: PersistentVolumeClaim
        var kopiaSnapshot: KopiaSnapshot?
        var credentials: RepositoryCredentials?
        var source: KopiaSourceRequest
        var snapshot: ResolvedSnapshotFacts?
        /// The key the password derived for the repository, when the controller opened it (not for a repository
        /// on a PVC): the pod gets it instead of the password.
        var repositoryKey: RepositoryKey?
    }

    func observe(claim: PersistentVolumeClaim, source: KopiaSourceRequest, context: ReconcileContext) async throws
        -> Observed {
        let ns = claim.namespace ?? ""
        var c = PopulateObservation.Claim(namespace: ns, name: claim.name, uid: claim.metadata.uid ?? "")
        c.deleting = claim.metadata.deletionTimestamp != nil
        c.phase = claim.status.phase
        c.volumeName = claim.spec.volumeName
        c.requestedBytes = claim.spec.resources.requests["storage"].flatMap(Quantity.bytes)
        c.storageClassName = claim.spec.storageClassName
        c.accessModes = claim.spec.accessModes
        c.volumeMode = claim.spec.volumeMode
        c.selectedNode = claim.metadata.annotations["volume.kubernetes.io/selected-node"]
        c.pinnedSnapshotID = claim.metadata.annotations[PopulatingNames.pinnedSnapshotAnnotation]
        c.hasFinalizer = claim.metadata.finalizers.contains(PopulatingNames.finalizer)

        let ref = source.request.source
        let kopiaSnapshot: KopiaSnapshot? = try await context.kube.getIfPresent(KopiaSnapshot.self, name: ref.name, namespace: ref.namespace)
        let access: PopulateObservation.Access = kopiaSnapshot == nil
            ? .sourceNotFound(namespace: ref.namespace, name: ref.name)
            : .allowed(grant: source.authority.grantName.map { "\(ref.namespace)/\($0)" })
        let workNamespace = kopiaSnapshot?.spec.repositoryPVC != nil ? ref.namespace : settings.workNamespace
        let objects = PopulatorObjects(claim: claim, workNamespace: workNamespace)
        var o = PopulateObservation(claim: c, access: access, resolution: nil, workNamespace: workNamespace)
        var credentials: RepositoryCredentials?
        var snapshot: ResolvedSnapshotFacts?
        var repositoryKey: RepositoryKey?
        if let ks = kopiaSnapshot, !c.deleting, c.phase != "Bound" {
            // Before a snapshot is pinned, the index must have been read after the claim was created (a backup
            // finished before it is what its user expects); the owner-side reconciler's refreshes usually are. A
            // pinned claim only checks its snapshot is still there: the periodic refresh is enough.
            let fresh: ContinuousClock.Instant? = c.pinnedSnapshotID == nil
                ? KopiaIndexFreshness.requiredRead(created: claim.metadata.creationTimestamp, wallNow: context.now(), monotonicNow: .now)
                : nil
            let r = await resolve(ks, pinned: c.pinnedSnapshotID, freshAsOf: fresh, context: context)
            o.resolution = r.resolution
            credentials = r.credentials
            repositoryKey = r.repositoryKey
            if case .snapshot(let s) = r.resolution { snapshot = s }
        }
        if let className = claim.spec.storageClassName, !className.isEmpty {
            o.waitForFirstConsumer = context.cache.storageClass(named: className).map { $0.volumeBindingMode == "WaitForFirstConsumer" }
        }
        let prime: PersistentVolumeClaim? = try await context.kube.getIfPresent(PersistentVolumeClaim.self, name: objects.primeName, namespace: workNamespace)
        if let prime {
            let failures = Int(prime.metadata.annotations[PopulatingNames.failuresAnnotation] ?? "") ?? 0
            var since: Duration?
            if let text = prime.metadata.annotations[PopulatingNames.lastFailureAnnotation],
               let at = ISO8601DateFormatter().date(from: text) {
                since = .milliseconds(Int64(max(0, context.now().timeIntervalSince(at)) * 1000))
            }
            o.prime = .init(phase: prime.status.phase, volumeName: prime.spec.volumeName, failures: failures,
                            sinceLastFailure: since)
        }
        if let volumeName = c.phase == "Bound" ? c.volumeName : o.prime?.volumeName,
           let pv: PersistentVolume = try await context.kube.getIfPresent(PersistentVolume.self, name: volumeName, namespace: nil) {
            o.volume = .init(name: pv.name, reclaimPolicy: pv.spec.persistentVolumeReclaimPolicy,
                             heldReclaimPolicy: pv.metadata.annotations[PopulatingNames.heldReclaimAnnotation],
                             claimNamespace: pv.spec.claimRef?.namespace, claimName: pv.spec.claimRef?.name,
                             claimUID: pv.spec.claimRef?.uid)
        }
        let secret: Secret? = try await context.kube.getIfPresent(Secret.self, name: objects.credentialsName, namespace: workNamespace)
        o.credentialsExist = secret != nil
        if let pod: Pod = try await context.kube.getIfPresent(Pod.self, name: objects.podName, namespace: workNamespace) {
            o.pod = Self.podFacts(pod)
        }
        return Observed(observation: o, objects: objects, claim: claim, kopiaSnapshot: kopiaSnapshot,
                        credentials: credentials, source: source, snapshot: snapshot, repositoryKey: repositoryKey)
    }

    /// The pod's phase and what `ferry populate` reported in its termination message.
    static func podFacts(_ pod: Pod) -> PopulateObservation.PodFacts {
        let statuses: [JSONMap] = pod.status["containerStatuses"] ?? []
        var message: String?
        for s in statuses {
            let state: JSONMap = s[view: "state"]
            let terminated: JSONMap = state[view: "terminated"]
            if let m: String = terminated["message"] { message = m }
        }
        let phase: PopulateObservation.PodFacts.Phase = switch pod.status.phase {
        case "Succeeded": .succeeded
        case "Failed": .failed
        case "Running": .running
        default: .pending
        }
        let report = PopulateReport.parse(message)
        let text = report?.message ?? message ?? pod.status.message ?? pod.status.reason
        return .init(phase: phase, message: text, report: report)
    }
}

extension KubeVerbs {
    /// GET that maps NotFound to nil.
    func getIfPresent<T: KubeResource>(_ type: T.Type, name: String, namespace: String?) async throws(KubeError) -> T? {
        do { return try await get(type, name: name, namespace: namespace) } catch {
            if error.code == .notFound { return nil }
            throw error
        }
    }
}

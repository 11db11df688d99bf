import Foundation
import FerryControllers
import Kube
import Logging
import Synchronization

/// When each step of a Kopia claim's population happened, as seen by watches of the test's own (informers on the
/// grant, the claim, the prime PVC, the populator pod and its credentials Secret; clock: the test process's ContinuousClock). Used to split
/// grant → Bound into the controller's side (grant seen → pod created) and the pod's (pod created → Succeeded).
final class KopiaGrantTimeline: Sendable {
    struct Marks: Sendable {
        var grantSeen: ContinuousClock.Instant?
        var primeCreated: ContinuousClock.Instant?
        var primeBound: ContinuousClock.Instant?
        var podCreated: ContinuousClock.Instant?
        var podRunning: ContinuousClock.Instant?
        var podFinished: ContinuousClock.Instant?
        var claimBound: ContinuousClock.Instant?
        /// The keys of Ferry's short-lived credentials Secret(s) for the pod (names only, never values).
        var credentialKeys: Set<String> = []
    }

    final class Box: Sendable { let value = Mutex(Marks()) }
    private let marks = Box()
    private let run: Task<Void, Never>
    private let informers: (Informer<ReferenceGrant>, Informer<PersistentVolumeClaim>, Informer<Pod>, Informer<Secret>)

    /// Watches grants in `owner`, the claim `claimNamespace/claimName`, and Ferry's prime PVCs and pods everywhere.
    init(client: KubeClient, owner: String, claimNamespace: String, claimName: String) async {
        var logger = Logger(label: "e2e-timeline")
        logger.logLevel = .error
        let grants = Informer<ReferenceGrant>(client: client, namespace: owner, logger: logger)
        let claims = Informer<PersistentVolumeClaim>(client: client, namespace: nil, logger: logger)
        let pods = Informer<Pod>(client: client, namespace: nil, labelSelector: PopulatingNames.ownerUIDLabel, logger: logger)
        let secrets = Informer<Secret>(client: client, namespace: nil, labelSelector: PopulatingNames.ownerUIDLabel, logger: logger)
        informers = (grants, claims, pods, secrets)
        let marks = self.marks
        secrets.addHandler { event in
            if case .added(let s) = event { marks.value.withLock { $0.credentialKeys.formUnion(s.decodedData.keys) } }
        }
        grants.addHandler { event in
            if case .added = event { marks.value.withLock { m in if m.grantSeen == nil { m.grantSeen = .now } } }
        }
        claims.addHandler { event in
            let claim: PersistentVolumeClaim = switch event { case .added(let c), .updated(_, let c), .deleted(let c): c }
            let now = ContinuousClock.now
            marks.value.withLock { m in
                if claim.namespace == claimNamespace, claim.name == claimName, claim.status.phase == "Bound", m.claimBound == nil {
                    m.claimBound = now
                }
                if claim.metadata.labels[PopulatingNames.ownerUIDLabel] != nil {
                    if m.primeCreated == nil { m.primeCreated = now }
                    if claim.status.phase == "Bound", m.primeBound == nil { m.primeBound = now }
                }
            }
        }
        pods.addHandler { event in
            let pod: Pod = switch event { case .added(let p), .updated(_, let p), .deleted(let p): p }
            let now = ContinuousClock.now
            marks.value.withLock { m in
                if m.podCreated == nil { m.podCreated = now }
                if pod.status.phase == "Running", m.podRunning == nil { m.podRunning = now }
                if ["Succeeded", "Failed"].contains(pod.status.phase ?? ""), m.podFinished == nil { m.podFinished = now }
            }
        }
        run = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await grants.run() }
                group.addTask { await claims.run() }
                group.addTask { await pods.run() }
                group.addTask { await secrets.run() }
            }
        }
        while !(grants.hasSynced && claims.hasSynced && pods.hasSynced && secrets.hasSynced), !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    var current: Marks { marks.value.withLock { $0 } }

    func stop() async {
        run.cancel()
        await run.value
    }

    /// Ferry's own share from the grant to a running populator: grant seen → prime PVC created, plus prime PVC
    /// Bound → pod created (the time between is the cluster's provisioner and binder, not Ferry's).
    var ferryShare: Double? {
        let m = current
        guard let seen = m.grantSeen, let created = m.primeCreated, let bound = m.primeBound, let pod = m.podCreated else { return nil }
        return Self.seconds(created - seen) + Self.seconds(pod - bound)
    }

    /// "grant seen +0.000 s, prime +…, pod +…, running +…, finished +…, Bound +…" relative to `start`.
    func describe(from start: ContinuousClock.Instant) -> String {
        let m = current
        func at(_ name: String, _ i: ContinuousClock.Instant?) -> String {
            guard let i else { return "\(name) —" }
            return "\(name) +" + String(format: "%.3f s", Self.seconds(i - start))
        }
        return [at("grant seen", m.grantSeen), at("prime created", m.primeCreated), at("prime Bound", m.primeBound),
                at("pod created", m.podCreated),
                at("pod running", m.podRunning), at("pod finished", m.podFinished), at("claim Bound", m.claimBound)]
            .joined(separator: ", ")
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

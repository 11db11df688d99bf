import Kube
import Logging

/// The pvc-protection and pv-protection controllers of kube-controller-manager (kubernetes.md §9.1, admission
/// `StorageObjectInUseProtection`): they only ever remove the finalizers admission added.
///
/// Reproduces: a claim being deleted keeps `kubernetes.io/pvc-protection` while a scheduled pod (`spec.nodeName`
/// set) of its namespace has a `persistentVolumeClaim` volume naming it — whatever the pod's phase, as upstream's
/// `podUsesPVC`; a PV being deleted keeps `kubernetes.io/pv-protection` while its phase is Bound.
///
/// Knowingly differs: reads pods from the informer only (no live list before letting go); no generic ephemeral
/// volumes.
public struct ProtectionController: ClusterComponent {
    public var name: String { "protection-controller" }

    public init() {}

    static let pvcFinalizer = "kubernetes.io/pvc-protection"
    static let pvFinalizer = "kubernetes.io/pv-protection"

    enum Key: Hashable, Sendable { case claim(ObjectKey), volume(String) }

    public func run(context: ComponentContext) async throws {
        let client = context.client
        let logger = context.logger
        let claims = Informer<PersistentVolumeClaim>(client: client, namespace: nil, logger: logger)
        let volumes = Informer<PersistentVolume>(client: client, namespace: nil, logger: logger)
        let pods = Informer<Pod>(client: client, namespace: nil, logger: logger)
        let loop = ControllerLoop<Key>(name: name, logger: logger)
        claims.addHandler { event in
            if case .updated(_, let c) = event, c.metadata.deletionTimestamp != nil { loop.enqueue(.claim(c.key)) }
            if case .added(let c) = event, c.metadata.deletionTimestamp != nil { loop.enqueue(.claim(c.key)) }
        }
        volumes.addHandler { event in
            if case .updated(_, let v) = event, v.metadata.deletionTimestamp != nil { loop.enqueue(.volume(v.name)) }
            if case .added(let v) = event, v.metadata.deletionTimestamp != nil { loop.enqueue(.volume(v.name)) }
        }
        pods.addHandler { event in
            let pod: Pod
            switch event {
            case .added(let p), .updated(_, let p), .deleted(let p): pod = p
            }
            for claim in Self.claimNames(pod) {
                loop.enqueue(.claim(ObjectKey(namespace: pod.metadata.namespace, name: claim)))
            }
        }
        await loop.run(informers: [claims.loopEntry, volumes.loopEntry, pods.loopEntry], resync: .seconds(15),
                       allKeys: {
                           claims.list().filter { $0.metadata.deletionTimestamp != nil }.map { .claim($0.key) }
                               + volumes.list().filter { $0.metadata.deletionTimestamp != nil }.map { .volume($0.name) }
                       },
                       sync: { key in
                           do {
                               switch key {
                               case .claim(let k):
                                   guard var claim = claims.get(k), claim.metadata.deletionTimestamp != nil,
                                         claim.metadata.finalizers.contains(Self.pvcFinalizer) else { return .done }
                                   let used = pods.list().contains {
                                       $0.metadata.namespace == k.namespace && !($0.spec.nodeName ?? "").isEmpty
                                           && Self.claimNames($0).contains(k.name)
                                   }
                                   if used { return .done }
                                   claim.metadata.finalizers.removeAll { $0 == Self.pvcFinalizer }
                                   _ = try await client.update(claim)
                               case .volume(let n):
                                   guard var volume = volumes.get(name: n, namespace: nil), volume.metadata.deletionTimestamp != nil,
                                         volume.metadata.finalizers.contains(Self.pvFinalizer),
                                         volume.status.phase != "Bound" else { return .done }
                                   volume.metadata.finalizers.removeAll { $0 == Self.pvFinalizer }
                                   _ = try await client.update(volume)
                               }
                               return .done
                           } catch {
                               return .retry("\(error)")
                           }
                       })
    }

    static func claimNames(_ pod: Pod) -> [String] {
        pod.spec.volumes.compactMap { $0.object["persistentVolumeClaim"]?.object?["claimName"]?.string }
    }
}

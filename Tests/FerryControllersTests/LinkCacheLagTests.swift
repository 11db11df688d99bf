import CSI
import ControllerTestSupport
import FerryControllers
import Foundation
import Kube
import Logging
import Testing

/// A claim that reaches Ferry's cache before its DataSourceLink (both applied in one `kubectl apply`) is provisioned
/// through the link read from the API server, without a spurious "DataSourceLink … not found" Warning.
struct LinkCacheLagTests {
    /// The in-memory cluster's cache, except that links are not cached yet.
    struct LaggingCache: ClusterCache {
        let base: InMemoryCluster
        func claim(_ key: ObjectKey) -> PersistentVolumeClaim? { base.claim(key) }
        func storageClass(named name: String) -> StorageClass? { base.storageClass(named: name) }
        func link(_ key: ObjectKey) -> DataSourceLink? { nil }
        func snapshot(_ key: ObjectKey) -> VolumeSnapshot? { base.snapshot(key) }
        func grants(in namespace: String) -> [GrantRule] { base.grants(in: namespace) }
        func claims(referencing source: SourceReference) -> [PersistentVolumeClaim] { base.claims(referencing: source) }
        func dependents(ofSourceNamespace namespace: String) -> (claims: [ObjectKey], links: [ObjectKey]) {
            base.dependents(ofSourceNamespace: namespace)
        }
        func claims(usingLink key: ObjectKey) -> [ObjectKey] { base.claims(usingLink: key) }
        func protectedSources() -> [SourceReference] { base.protectedSources() }
        func linkKeys(referencing source: SourceReference) -> [ObjectKey] { base.linkKeys(referencing: source) }
        func nodeTopology(driver: String) -> NodeTopologyView? { base.nodeTopology(driver: driver) }
    }

    func context(_ cluster: InMemoryCluster, _ csi: FakeCSIController) -> ReconcileContext {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return ReconcileContext(kube: cluster, cache: LaggingCache(base: cluster), csi: csi, feedback: Feedback(sink: cluster),
                                metrics: ControllerMetrics(),
                                configuration: ControllerConfiguration(driver: DriverCapabilities(name: Build.driver)),
                                logger: logger, now: { Date(timeIntervalSince1970: 1_700_000_000) }, provisionerIdentity: "1-1-test")
    }

    @Test func aLinkNotCachedYetIsReadFromTheAPIServer() async {
        let cluster = InMemoryCluster(), csi = FakeCSIController()
        cluster.put(Build.storageClass())
        var link = DataSourceLink(name: "link", namespace: "staging")
        link.spec.sourceRef = Build.ref(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "snap", ns: "staging")
        cluster.put(link)
        cluster.put(Build.snapshot(ns: "staging"))
        cluster.put(Build.content(ns: "staging"))
        cluster.put(Build.claim(ref: Build.ref(group: "ferry.io", kind: "DataSourceLink", name: "link")))
        let key = ObjectKey(namespace: "staging", name: "claim")
        #expect(await ClaimReconciler().reconcile(key, context: context(cluster, csi)) == .done)
        #expect(cluster.events.filter { $0.type == "Warning" }.isEmpty, "\(cluster.events)")
        #expect(csi.calls.filter { $0 == "CreateVolume" }.count == 1)
    }

    @Test func aLinkMissingFromTheAPIServerTooIsReported() async {
        let cluster = InMemoryCluster(), csi = FakeCSIController()
        cluster.put(Build.storageClass())
        cluster.put(Build.claim(ref: Build.ref(group: "ferry.io", kind: "DataSourceLink", name: "gone")))
        let key = ObjectKey(namespace: "staging", name: "claim")
        #expect(await ClaimReconciler().reconcile(key, context: context(cluster, csi)) != .done)
        #expect(cluster.events.map(\.message) == ["DataSourceLink staging/gone not found"])
        // An API error is not reported as "not found": the attempt is retried.
        cluster.failNext("get datasourcelinks", with: KubeError(.serverError, "boom", status: 500, reason: "InternalError"))
        #expect(await ClaimReconciler().reconcile(key, context: context(cluster, csi)) == .failed(reason: "APIError", final: false))
    }
}

import CSI
import ControllerTestSupport
import FerryControllers
import Foundation
import GRPCTransport
import Kube
import Logging
import Testing

/// The reconcilers against the in-memory API and CSI fakes (issue 17 item 8): decide → act, level-triggered.
struct ReconcilerTests {
    struct World {
        let cluster = InMemoryCluster()
        let csi = FakeCSIController()
        let context: ReconcileContext
        let claimKey = ObjectKey(namespace: "staging", name: "claim")

        init(gate: Bool = false) {
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            context = ReconcileContext(
                kube: cluster, cache: cluster, csi: csi, feedback: Feedback(sink: cluster), metrics: ControllerMetrics(),
                configuration: ControllerConfiguration(driver: DriverCapabilities(name: Build.driver),
                                                       featureGates: FeatureGates(crossNamespaceVolumeDataSource: gate)),
                logger: logger, now: { Date(timeIntervalSince1970: 1_700_000_000) }, provisionerIdentity: "1-1-test")
            cluster.put(Build.storageClass())
            cluster.put(Build.snapshot())
            cluster.put(Build.content())
            var link = DataSourceLink(name: "link", namespace: "staging")
            link.spec.sourceRef = Build.ref(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "snap", ns: "prod")
            cluster.put(link)
            cluster.put(Build.claim(ref: Build.ref(group: "ferry.io", kind: "DataSourceLink", name: "link")))
        }

        func grant(to: [GrantRule.To] = [.init(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "snap")]) {
            var g = ReferenceGrant(name: "allow-staging", namespace: "prod")
            var from = ReferenceGrantFrom()
            from.group = ""; from.kind = "PersistentVolumeClaim"; from.namespace = "staging"
            g.spec.from = [from]
            g.spec.to = to.map { t in
                var x = ReferenceGrantTo(); x.group = t.group; x.kind = t.kind; x.name = t.name; return x
            }
            cluster.put(g)
        }

        func reconcile() async -> ReconcileOutcome { await ClaimReconciler().reconcile(claimKey, context: context) }
        var claim: PersistentVolumeClaim? { cluster.claim(claimKey) }
        var pv: PersistentVolume? { cluster.object(PersistentVolume.self, ObjectKey(namespace: nil, name: "pvc-u-1")) }
        var snapshot: VolumeSnapshot? { cluster.snapshot(ObjectKey(namespace: "prod", name: "snap")) }
    }

    @Test func aClaimWhosePVExistsIsDoneWithoutAWarningEvenWhenItsGrantIsGone() async {
        // A restart after the PV was created, before the binder bound the claim; the grant was deleted meanwhile
        // (KEP-3294: nothing is revoked). The PV is read before any denial is reported.
        let w = World()
        w.cluster.put(Build.volume("pvc-u-1", claim: Build.claim()))
        #expect(await w.reconcile() == .done)
        #expect(w.cluster.events.filter { $0.type == "Warning" }.isEmpty)
        #expect(w.csi.calls.isEmpty)
    }

    @Test func aNewClaimIsProvisionedWithoutReadingItsPVFirst() async {
        let w = World()
        w.grant()
        // A GET of the PV would fail the attempt; the new claim is provisioned without one.
        w.cluster.failNext("get persistentvolumes", with: KubeError(.serverError, "must not be read", status: 500, reason: "InternalError"))
        #expect(await w.reconcile() == .done)
        #expect(w.pv != nil)
        #expect(w.csi.calls.filter { $0 == "CreateVolume" }.count == 1)
    }

    @Test func withoutAGrantTheClaimWaitsWithOneEventNamingTheMissingGrant() async {
        let w = World()
        #expect(await w.reconcile() == .waiting(reason: "ReferenceGrantMissing"))
        #expect(await w.reconcile() == .waiting(reason: "ReferenceGrantMissing"))
        let warnings = w.cluster.events.filter { $0.type == "Warning" }
        #expect(warnings.count == 1)
        #expect(warnings.first?.message.hasPrefix("accessing prod/snap of VolumeSnapshot dataSource from staging/claim isn't allowed") == true)
        #expect(warnings.first?.message.contains("kind: ReferenceGrant") == true)
        #expect(w.csi.calls.isEmpty)
        #expect(w.pv == nil)
    }

    @Test func withAGrantTheClaimGetsOnePreBoundVolumeFromTheSnapshot() async throws {
        let w = World()
        w.grant()
        #expect(await w.reconcile() == .done)
        let pv = try #require(w.pv)
        #expect(pv.spec.claimRef?.uid == "u-1")
        #expect(pv.metadata.annotations[Provenance.grant] == "prod/allow-staging")
        #expect(pv.metadata.annotations[Provenance.link] == "link")
        #expect(pv.metadata.annotations[Provenance.sourceHandle] == "snap-handle-1")
        #expect(w.csi.volumes["pvc-u-1"]?.contentSource == VolumeContentSource(type: .snapshot(.init(snapshotId: "snap-handle-1"))))
        #expect(w.snapshot?.metadata.finalizers == [SourceProtection.finalizer])
        #expect(w.cluster.events.map(\.reason) == ["Provisioning", "ProvisioningSucceeded"])
        // Level-triggered: again changes nothing.
        #expect(await w.reconcile() == .done)
        #expect(w.csi.calls.filter { $0 == "CreateVolume" }.count == 1)
        // Once the claim no longer depends on the source, the finalizer goes.
        let source = SourceReference(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", namespace: "prod", name: "snap")
        #expect(await SourceProtectionReconciler().reconcile(source, context: w.context) == .done)
        #expect(w.snapshot?.metadata.finalizers.isEmpty == true)
    }

    @Test func aRestartAfterCreateVolumeReusesTheSameVolume() async throws {
        let w = World()
        w.grant()
        // A previous run got as far as CreateVolume, then died: the driver has the volume, there is no PV.
        _ = try await w.csi.createVolume(CreateVolumeRequest(name: "pvc-u-1", capacityRange: .init(requiredBytes: 1 << 30),
                                                             volumeContentSource: VolumeContentSource(type: .snapshot(.init(snapshotId: "snap-handle-1")))),
                                         timeout: .seconds(1))
        #expect(await w.reconcile() == .done)
        #expect(w.csi.volumes.count == 1)
        #expect(w.pv?.spec.csi?.volumeHandle == "vol-1")
    }

    @Test func aDriverThatDoesNotEchoTheSourceHasItsVolumeDeleted() async {
        let w = World()
        w.grant()
        w.csi.setEchoContentSource(false)
        #expect(await w.reconcile() == .failed(reason: "ContentSourceMissing", final: false))
        #expect(w.csi.volumes.isEmpty)
        #expect(w.csi.calls.contains("DeleteVolume"))
        #expect(w.pv == nil)
        #expect(w.cluster.events.contains { $0.message.hasPrefix("volume content source missing") })
    }

    @Test(arguments: [(RPCStatusCode.deadlineExceeded, ReconcileOutcome.failed(reason: "CreateVolumeInProgress", final: false)),
                      (.unavailable, .failed(reason: "CreateVolumeInProgress", final: false)),
                      (.notFound, .failed(reason: "CreateVolumeFailed", final: false)),
                      (.invalidArgument, .requeue(after: .seconds(300)))])
    func driverErrorsRetryAsMapped(_ code: RPCStatusCode, _ outcome: ReconcileOutcome) async {
        let w = World()
        w.grant()
        w.csi.fail("CreateVolume", with: [RPCError(code, "injected")])
        #expect(await w.reconcile() == outcome)
        #expect(w.pv == nil)
        #expect(w.cluster.events.last?.message.contains("injected") == true)
        if code == .invalidArgument {
            // Infeasible: an early wake-up (an informer event) does not call the driver again before the delay.
            let calls = w.csi.calls.count
            guard case .requeue(let left) = await w.reconcile() else { Issue.record("expected a delayed requeue"); return }
            #expect(left > .seconds(290) && left <= .seconds(300))
            #expect(w.csi.calls.count == calls)
            w.context.infeasibleDelays.forget(w.claim?.metadata.uid ?? "")
        }
        #expect(await w.reconcile() == .done)
        #expect(w.pv != nil)
    }

    @Test func aGrantForAnotherSnapshotDoesNotCount() async {
        let w = World()
        w.grant(to: [.init(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "other")])
        #expect(await w.reconcile() == .waiting(reason: "ReferenceGrantMissing"))
    }

    @Test func aSnapshotThatIsNotReadyIsRetriedWithUpstreamsMessage() async {
        let w = World()
        w.grant()
        w.cluster.put(Build.snapshot(ready: false))
        #expect(await w.reconcile() == .failed(reason: "SourceNotReady", final: false))
        #expect(w.cluster.events.last?.message == "error getting handle for DataSource Type VolumeSnapshot by Name snap: snapshot snap is not Ready")
        #expect(w.csi.calls.isEmpty)
    }

    @Test func aCloneThroughALinkUsesTheSourceVolume() async throws {
        let w = World()
        let source = w.cluster.put(Build.boundClaim())
        w.cluster.put(Build.volume(claim: source))
        var link = DataSourceLink(name: "link", namespace: "staging")
        link.spec.sourceRef = Build.ref(group: "", kind: "PersistentVolumeClaim", name: "data", ns: "prod")
        w.cluster.put(link)
        w.grant(to: [.init(group: "", kind: "PersistentVolumeClaim")])
        #expect(await w.reconcile() == .done)
        #expect(w.csi.volumes["pvc-u-1"]?.contentSource == VolumeContentSource(type: .volume(.init(volumeId: "vol-7"))))
        #expect(w.cluster.claim(ObjectKey(namespace: "prod", name: "data"))?.metadata.finalizers == [SourceProtection.finalizer])
    }

    @Test func aNativeCrossNamespaceReferenceIsLeftToExternalProvisionerButADenialIsExplained() async {
        let w = World(gate: true)
        w.cluster.put(Build.claim("native", uid: "u-2",
                                  ref: Build.ref(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "snap", ns: "prod")))
        let key = ObjectKey(namespace: "staging", name: "native")
        #expect(await ClaimReconciler().reconcile(key, context: w.context) == .waiting(reason: "ReferenceGrantMissing"))
        #expect(w.cluster.events.first?.reason == "ReferenceGrantMissing")
        w.grant()
        #expect(await ClaimReconciler().reconcile(key, context: w.context) == .done)
        #expect(w.csi.calls.isEmpty)  // never raced with external-provisioner
    }

    @Test func linkStatusShowsGrantedAndReady() async throws {
        let w = World()
        let key = ObjectKey(namespace: "staging", name: "link")
        #expect(await LinkReconciler().reconcile(key, context: w.context) == .done)
        var link = try #require(w.cluster.link(key))
        #expect(link.status.conditions.first { $0.type == "Granted" }?.status == "False")
        #expect(link.status.conditions.first { $0.type == "Granted" }?.reason == "ReferenceGrantMissing")
        w.grant()
        #expect(await LinkReconciler().reconcile(key, context: w.context) == .done)
        link = try #require(w.cluster.link(key))
        #expect(link.status.conditions.first { $0.type == "Granted" }?.status == "True")
        #expect(link.status.conditions.first { $0.type == "Ready" }?.status == "True")
        let writes = w.cluster.writes.filter { $0 == "updateStatus datasourcelinks" }.count
        #expect(await LinkReconciler().reconcile(key, context: w.context) == .done)
        #expect(w.cluster.writes.filter { $0 == "updateStatus datasourcelinks" }.count == writes)  // unchanged: no write
    }

    @Test func aGrantChangeEnqueuesEveryClaimAndLinkWaitingOnItsNamespace() async {
        let w = World()
        w.cluster.put(Build.claim("second", uid: "u-2", ref: Build.ref(group: "ferry.io", kind: "DataSourceLink", name: "link")))
        w.cluster.put(Build.claim("elsewhere", ns: "other", uid: "u-3",
                                  ref: Build.ref(group: "ferry.io", kind: "DataSourceLink", name: "link")))
        // Bound already: a grant change revokes nothing, so it is not woken.
        var bound = Build.claim("bound", uid: "u-4", ref: Build.ref(group: "ferry.io", kind: "DataSourceLink", name: "link"))
        bound.spec.volumeName = "pvc-u-4"
        w.cluster.put(bound)
        let controller = Controller(context: w.context)
        await controller.grantChanged(in: "prod")
        #expect(await controller.claimQueue.count == 2)
        #expect(await controller.linkQueue.count == 1)
    }

    @Test func theOrphanSweepRemovesFinalizersNoClaimNeeds() async {
        let w = World()
        w.cluster.put(Build.snapshot(finalizers: [SourceProtection.finalizer, "other/keep"]))
        w.cluster.remove(PersistentVolumeClaim.self, w.claimKey)
        let controller = Controller(context: w.context)
        await controller.sweep()
        #expect(await controller.sourceQueue.count == 1)
        let source = SourceReference(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", namespace: "prod", name: "snap")
        #expect(await SourceProtectionReconciler().reconcile(source, context: w.context) == .done)
        #expect(w.snapshot?.metadata.finalizers == ["other/keep"])
    }

    @Test func metricsRenderAsPrometheusText() {
        let m = ControllerMetrics()
        m.increment("ferry_operations_total", ["kind": "claim", "outcome": "done"])
        m.observe("ferry_operation_duration_seconds", ["kind": "claim"], seconds: 0.02)
        let text = m.render()
        #expect(text.contains("# TYPE ferry_operations_total counter"))
        #expect(text.contains("ferry_operations_total{kind=\"claim\",outcome=\"done\"} 1"))
        #expect(text.contains("ferry_operation_duration_seconds_bucket{kind=\"claim\",le=\"0.025\"} 1"))
        #expect(text.contains("ferry_operation_duration_seconds_count{kind=\"claim\"} 1"))
    }
}

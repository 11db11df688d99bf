import CSI
import ControllerTestSupport
import FerryControllers
import Foundation
import GRPCTransport
import Kube
import Logging
import Testing

/// Giving a WaitForFirstConsumer claim back to the scheduler (external-provisioner's `ProvisioningReschedule`,
/// sig-storage-lib-external-provisioner's `rescheduleProvisioning`), and the topology each CreateVolume carries,
/// through the claim reconciler against the in-memory API and CSI fakes.
struct ReschedulingTests {
    static let key = "topology.ferry.test/node"

    struct World {
        let cluster = InMemoryCluster()
        let csi = FakeCSIController()
        let context: ReconcileContext
        let claimKey = ObjectKey(namespace: "staging", name: "claim")

        /// A driver with (or without) VOLUME_ACCESSIBILITY_CONSTRAINTS, nodes `node-1`/`node-2` with CSINodes, a
        /// StorageClass in `bindingMode`, a granted link to a ready snapshot, and the claim (selected node optional).
        init(topology: Bool = true, bindingMode: String = "WaitForFirstConsumer", selectedNode: String? = "node-1",
             strict: Bool = false, immediate: Bool = true) {
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            context = ReconcileContext(
                kube: cluster, cache: cluster, csi: csi, feedback: Feedback(sink: cluster), metrics: ControllerMetrics(),
                configuration: ControllerConfiguration(driver: DriverCapabilities(name: Build.driver, accessibilityConstraints: topology),
                                                       strictTopology: strict, immediateTopology: immediate),
                logger: logger, now: { Date(timeIntervalSince1970: 1_700_000_000) }, provisionerIdentity: "1-1-test")
            for n in ["node-1", "node-2"] {
                var node = Node(name: n)
                node.metadata.labels = [ReschedulingTests.key: n, "kubernetes.io/hostname": n]
                cluster.put(node)
                var csiNode = CSINode(name: n)
                csiNode.drivers = [JSONMap(object: ["name": .string(Build.driver), "nodeID": .string(n),
                                                    "topologyKeys": [.string(ReschedulingTests.key)]])]
                cluster.put(csiNode)
            }
            var sc = Build.storageClass()
            sc.volumeBindingMode = bindingMode
            cluster.put(sc)
            cluster.put(Build.snapshot())
            cluster.put(Build.content())
            var link = DataSourceLink(name: "link", namespace: "staging")
            link.spec.sourceRef = Build.ref(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot", name: "snap", ns: "prod")
            cluster.put(link)
            var g = ReferenceGrant(name: "allow-staging", namespace: "prod")
            var from = ReferenceGrantFrom()
            from.group = ""; from.kind = "PersistentVolumeClaim"; from.namespace = "staging"
            var to = ReferenceGrantTo()
            to.group = "snapshot.storage.k8s.io"; to.kind = "VolumeSnapshot"
            g.spec.from = [from]
            g.spec.to = [to]
            cluster.put(g)
            var claim = Build.claim(ref: Build.ref(group: "ferry.io", kind: "DataSourceLink", name: "link"))
            claim.metadata.annotations["volume.kubernetes.io/storage-provisioner"] = Build.driver
            if let selectedNode { claim.metadata.annotations[Rescheduling.selectedNodeAnnotation] = selectedNode }
            cluster.put(claim)
        }

        func reconcile() async -> ReconcileOutcome { await ClaimReconciler().reconcile(claimKey, context: context) }
        var claim: PersistentVolumeClaim? { cluster.claim(claimKey) }
        var pv: PersistentVolume? { cluster.object(PersistentVolume.self, ObjectKey(namespace: nil, name: "pvc-u-1")) }
        var warnings: [String] { cluster.events.filter { $0.type == "Warning" }.map(\.message) }
        func select(_ node: String) {
            guard var c = claim else { return }
            c.metadata.annotations[Rescheduling.selectedNodeAnnotation] = node
            cluster.put(c)
        }
    }

    struct FailureCase: Sendable, CustomTestStringConvertible {
        var name: String
        var code: RPCStatusCode
        var topology = true
        var bindingMode = "WaitForFirstConsumer"
        var selectedNode: String? = "node-1"
        var outcome: ReconcileOutcome
        var rescheduled: Bool
        var testDescription: String { name }
    }

    static let failures: [FailureCase] = [
        .init(name: "RESOURCE_EXHAUSTED, topology, selected node → rescheduled", code: .resourceExhausted,
              outcome: .waiting(reason: "Rescheduled"), rescheduled: true),
        .init(name: "RESOURCE_EXHAUSTED without topology → final", code: .resourceExhausted, topology: false,
              outcome: .failed(reason: "CreateVolumeFailed", final: false), rescheduled: false),
        .init(name: "RESOURCE_EXHAUSTED, Immediate binding (no selected node) → final", code: .resourceExhausted,
              bindingMode: "Immediate", selectedNode: nil, outcome: .failed(reason: "CreateVolumeFailed", final: false),
              rescheduled: false),
        .init(name: "INVALID_ARGUMENT → infeasible, never rescheduled", code: .invalidArgument,
              outcome: .requeue(after: .seconds(300)), rescheduled: false),
        .init(name: "DEADLINE_EXCEEDED → may be in progress", code: .deadlineExceeded,
              outcome: .failed(reason: "CreateVolumeInProgress", final: false), rescheduled: false),
        .init(name: "ABORTED → may be in progress", code: .aborted,
              outcome: .failed(reason: "CreateVolumeInProgress", final: false), rescheduled: false),
        .init(name: "INTERNAL → final", code: .internal, outcome: .failed(reason: "CreateVolumeFailed", final: false),
              rescheduled: false),
        .init(name: "NOT_FOUND → final", code: .notFound, outcome: .failed(reason: "CreateVolumeFailed", final: false),
              rescheduled: false),
    ]

    @Test(arguments: failures)
    func aFailedCreateVolumeReschedulesOnlyWhenUpstreamDoes(_ c: FailureCase) async throws {
        let w = World(topology: c.topology, bindingMode: c.bindingMode, selectedNode: c.selectedNode)
        w.csi.fail("CreateVolume", with: [RPCError(c.code, "node-1 has no room")])
        #expect(await w.reconcile() == c.outcome)
        #expect(w.csi.calls.filter { $0 == "CreateVolume" }.count == 1)
        #expect(w.pv == nil)
        // The Warning carries the gRPC error as upstream prints it; no other event for the rescheduling.
        let text = "rpc error: code = \(c.code == .resourceExhausted ? "ResourceExhausted" : "") desc = node-1 has no room"
        if c.code == .resourceExhausted { #expect(w.warnings == [text]) }
        let annotation = try #require(w.claim).metadata.annotations[Rescheduling.selectedNodeAnnotation]
        if c.rescheduled {
            #expect(annotation == nil)
            // Everything else on the claim is kept.
            #expect(w.claim?.metadata.annotations["volume.kubernetes.io/storage-provisioner"] == Build.driver)
            #expect(w.cluster.writes.filter { $0 == "update persistentvolumeclaims" }.count == 1)
        } else {
            #expect(annotation == c.selectedNode)
        }
    }

    @Test func aRescheduledClaimWaitsForTheSchedulerThenProvisionsOnTheNewNode() async throws {
        let w = World()
        w.csi.fail("CreateVolume", with: [RPCError(.resourceExhausted, "node-1 is full")])
        #expect(await w.reconcile() == .waiting(reason: "Rescheduled"))
        // Without a selected node a WaitForFirstConsumer claim waits, and the driver is not called.
        #expect(await w.reconcile() == .waiting(reason: "WaitForFirstConsumer"))
        #expect(w.csi.calls.filter { $0 == "CreateVolume" }.count == 1)
        // The scheduler picks node-2: provisioned there, preferred topology first.
        w.select("node-2")
        #expect(await w.reconcile() == .done)
        let pv = try #require(w.pv)
        #expect(pv.spec.claimRef?.uid == "u-1")
        let request = try #require(w.csi.createVolumeRequests.last)
        #expect(request.accessibilityRequirements?.preferred.first == Topology(segments: [Self.key: "node-2"]))
        #expect(request.accessibilityRequirements?.requisite == [Topology(segments: [Self.key: "node-1"]),
                                                                 Topology(segments: [Self.key: "node-2"])])
    }

    @Test func aClaimChangedMeanwhileIsNotRescheduledButRetried() async throws {
        // The Update carries the claim's resourceVersion: a conflict leaves the annotation and retries.
        let w = World()
        w.csi.fail("CreateVolume", with: [RPCError(.resourceExhausted, "full")])
        w.cluster.failNext("update persistentvolumeclaims",
                           with: KubeError(.conflict, "the object has been modified", status: 409, reason: "Conflict"))
        #expect(await w.reconcile() == .failed(reason: "RescheduleFailed", final: false))
        #expect(w.claim?.metadata.annotations[Rescheduling.selectedNodeAnnotation] == "node-1")
    }

    @Test func aSelectedNodeWithoutCSINodeIsRescheduledBeforeCreateVolume() async throws {
        let w = World(selectedNode: "node-9")
        #expect(await w.reconcile() == .waiting(reason: "Rescheduled"))
        #expect(w.csi.calls.filter { $0 == "CreateVolume" }.isEmpty)
        #expect(w.warnings == ["failed to get selected CSINode node-9: csinode.storage.k8s.io \"node-9\" not found"])
        #expect(w.claim?.metadata.annotations[Rescheduling.selectedNodeAnnotation] == nil)
    }

    @Test func immediateBindingSendsTheAggregatedTopologyOrNoneWhenTurnedOff() async throws {
        let on = World(bindingMode: "Immediate", selectedNode: nil)
        #expect(await on.reconcile() == .done)
        let request = try #require(on.csi.createVolumeRequests.last)
        #expect(request.accessibilityRequirements?.requisite == [Topology(segments: [Self.key: "node-1"]),
                                                                 Topology(segments: [Self.key: "node-2"])])
        let off = World(bindingMode: "Immediate", selectedNode: nil, immediate: false)
        #expect(await off.reconcile() == .done)
        #expect(try #require(off.csi.createVolumeRequests.last).accessibilityRequirements == nil)
        // No CSINode registers the driver: upstream's "no available topology found", retried.
        let none = World(bindingMode: "Immediate", selectedNode: nil)
        for n in ["node-1", "node-2"] { none.cluster.remove(CSINode.self, ObjectKey(namespace: nil, name: n)) }
        #expect(await none.reconcile() == .failed(reason: "TopologyUnavailable", final: false))
        #expect(none.warnings == ["error generating accessibility requirements: no available topology found"])
        #expect(none.csi.calls.filter { $0 == "CreateVolume" }.isEmpty)
    }

    @Test func aRetryAfterATimeoutRepeatsTheSameTopologyEvenIfNodesChanged() async throws {
        let w = World(bindingMode: "Immediate", selectedNode: nil)
        w.csi.fail("CreateVolume", with: [RPCError(.deadlineExceeded, "slow")])
        #expect(await w.reconcile() == .failed(reason: "CreateVolumeInProgress", final: false))
        let first = try #require(w.csi.createVolumeRequests.last?.accessibilityRequirements)
        var node = Node(name: "node-3")
        node.metadata.labels = [Self.key: "node-3"]
        w.cluster.put(node)
        #expect(await w.reconcile() == .done)
        #expect(w.csi.createVolumeRequests.last?.accessibilityRequirements == first)
        #expect(w.context.topologyMemo.count == 0)
    }

    @Test func aClaimWaitingForItsFirstConsumerLeavesTheSourceUntouched() async throws {
        // Upstream does not start before the scheduler selected a node: no finalizer on the other namespace's
        // snapshot, no CreateVolume — while a missing grant is still reported at once (Ferry's feedback).
        let w = World(selectedNode: nil)
        #expect(await w.reconcile() == .waiting(reason: "WaitForFirstConsumer"))
        let snapshot = try #require(w.cluster.snapshot(ObjectKey(namespace: "prod", name: "snap")))
        #expect(!snapshot.metadata.finalizers.contains(SourceProtection.finalizer))
        #expect(w.csi.calls.isEmpty)
        #expect(w.warnings.isEmpty)
        #expect(!w.cluster.writes.contains { $0.hasSuffix("volumesnapshots") })
        w.select("node-2")
        #expect(await w.reconcile() == .done)
        #expect(w.csi.createVolumeRequests.last?.accessibilityRequirements?.preferred.first == Topology(segments: [Self.key: "node-2"]))
        let ungranted = World(selectedNode: nil)
        ungranted.cluster.remove(ReferenceGrant.self, ObjectKey(namespace: "prod", name: "allow-staging"))
        #expect(await ungranted.reconcile() == .waiting(reason: "ReferenceGrantMissing"))
        #expect(ungranted.warnings.first?.hasPrefix("accessing prod/snap of VolumeSnapshot dataSource from staging/claim isn't allowed") == true)
    }

    @Test func theStepAfterAResolvedSourceWaitsForAConsumerFirst() {
        let resolved = ResolvedSource(reference: SourceReference(group: "snapshot.storage.k8s.io", kind: "VolumeSnapshot",
                                                                 namespace: "prod", name: "snap"),
                                      uid: "s-1", contentSource: VolumeContentSource(type: .snapshot(.init(snapshotId: "h"))),
                                      handle: "h", holderName: "snapcontent-1", sizeBytes: nil)
        var o = ProvisioningObservation(claim: Build.claim(), existingVolume: nil, grant: .allowed(.sameNamespace),
                                        source: .success(resolved), awaitingConsumer: true)
        #expect(ProvisioningStep.decide(o) == .waitForConsumer)
        o.awaitingConsumer = false
        #expect(ProvisioningStep.decide(o) == .protectSource(resolved))
        o.sourceProtected = true
        #expect(ProvisioningStep.decide(o) == .provision(resolved))
    }

    @Test func strictTopologySendsOnlyTheSelectedNode() async throws {
        let w = World(selectedNode: "node-2", strict: true)
        #expect(await w.reconcile() == .done)
        let requirement = try #require(w.csi.createVolumeRequests.last?.accessibilityRequirements)
        #expect(requirement.requisite == [Topology(segments: [Self.key: "node-2"])])
        #expect(requirement.preferred == requirement.requisite)
    }
}

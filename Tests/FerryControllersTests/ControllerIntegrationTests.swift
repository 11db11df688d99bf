import CSI
import CSITestSupport
import CurlHTTP
import FerryControllers
import Foundation
import GRPCTransport
import Kube
import KubeTestSupport
import HTTPTestSupport
import Logging
import Testing

/// The whole runtime (informers, queues, grant index, reconcilers) against the test API server over HTTPS and the
/// test CSI driver over its Unix socket.
@Suite(.serialized)
struct ControllerIntegrationTests {
    static let token = "admin-token"

    struct Harness {
        let server: KubeAPIServer
        let client: KubeClient
        let driver: TestCSIDriver
        let served: ServedTestDriver
        let cache: InformerCache
        let controller: Controller
        var kube: LiveKube { LiveKube(client: client) }

        /// - Parameters: the controller's retry intervals; long ones make a test see only what informer events wake.
        init(retryIntervalStart: Duration = .milliseconds(50), retryIntervalMax: Duration = .seconds(2)) async throws {
            server = try KubeAPIServer(installCRDs: true, bookmarkInterval: .milliseconds(200))
            server.addToken(ControllerIntegrationTests.token, for: .init(name: "admin"))
            let config = KubeConfig(server: server.baseURL,
                                    tls: TLSOptions(certificateAuthority: .file(server.certificates.caCertificate)),
                                    credentials: .bearerToken(ControllerIntegrationTests.token), requestTimeout: .seconds(20))
            var logger = Logger(label: "controller-it")
            logger.logLevel = .warning
            client = try KubeClient(config: config, logger: logger)
            driver = TestCSIDriver()
            served = try driver.serve(node: false)
            for ns in ["prod", "staging"] { _ = try await client.create(Namespace(name: ns)) }
            // The driver reports VOLUME_ACCESSIBILITY_CONSTRAINTS: a node where it registered its topology key, as
            // the kubelet would record it (external-provisioner needs one before it provisions anything).
            for (key, value) in driver.configuration.topology?.segments ?? [:] {
                var node = Node(name: "node-1")
                node.metadata.labels = [key: value]
                _ = try await client.create(node)
                var csiNode = CSINode(name: "node-1")
                csiNode.drivers = [JSONMap(object: ["name": .string(driver.configuration.name), "nodeID": "node-1",
                                                    "topologyKeys": [.string(key)]])]
                _ = try await client.create(csiNode)
            }
            cache = InformerCache(client: client, served: .init(links: true, grantVersion: "v1beta1", snapshots: true),
                                  topology: true, logger: logger)
            let caps = DriverCapabilities(name: driver.configuration.name, accessibilityConstraints: true)
            let context = ReconcileContext(
                kube: LiveKube(client: client), cache: cache, csi: served.controller,
                feedback: Feedback(sink: EventRecorder(client: client, component: "ferry", logger: logger)),
                metrics: ControllerMetrics(),
                configuration: ControllerConfiguration(driver: caps, retryIntervalStart: retryIntervalStart,
                                                       retryIntervalMax: retryIntervalMax, workers: 4),
                logger: logger)
            controller = Controller(context: context)
            controller.register(cache)
        }

        func stop() async {
            await served.stop()
            server.stop()
        }

        /// A ready VolumeSnapshot in prod whose content points at a snapshot the driver holds.
        func snapshot(_ name: String, handle: String, restoreSize: String = "1Gi") async throws {
            driver.addSnapshot(Snapshot(sizeBytes: 1 << 30, snapshotId: handle, sourceVolumeId: "src", readyToUse: true))
            var vs = VolumeSnapshot(name: name, namespace: "prod")
            vs.spec.source.persistentVolumeClaimName = "data"
            vs = try await client.create(vs)
            var vsc = VolumeSnapshotContent(name: "content-\(name)")
            vsc.spec.driver = driver.configuration.name
            vsc.spec.deletionPolicy = "Delete"
            vsc.spec.source = JSONMap(object: ["snapshotHandle": .string(handle)])
            vsc.spec.volumeSnapshotRef = ObjectReference(kind: "VolumeSnapshot", namespace: "prod", name: name, uid: vs.metadata.uid)
            vsc = try await client.create(vsc)
            vsc.status.snapshotHandle = handle
            vsc.status.readyToUse = true
            _ = try await client.updateStatus(vsc)
            vs.status.boundVolumeSnapshotContentName = vsc.name
            vs.status.readyToUse = true
            vs.status.restoreSize = restoreSize
            _ = try await client.updateStatus(vs)
        }

        func link(_ name: String, to snapshot: String) async throws {
            var l = DataSourceLink(name: name, namespace: "staging")
            var ref = TypedObjectReference()
            ref.apiGroup = "snapshot.storage.k8s.io"; ref.kind = "VolumeSnapshot"; ref.name = snapshot; ref.namespace = "prod"
            l.spec.sourceRef = ref
            _ = try await client.create(l)
        }

        func claim(_ name: String, link: String) async throws -> PersistentVolumeClaim {
            var c = PersistentVolumeClaim(name: name, namespace: "staging")
            c.spec.accessModes = ["ReadWriteOnce"]
            c.spec.storageClassName = "fast"
            c.spec.resources.requests = ["storage": "1Gi"]
            var ref = TypedObjectReference()
            ref.apiGroup = "ferry.io"; ref.kind = "DataSourceLink"; ref.name = link
            c.spec.dataSourceRef = ref
            return try await client.create(c)
        }

        func grant() async throws {
            var g = ReferenceGrant(name: "staging-may-restore", namespace: "prod")
            var from = ReferenceGrantFrom(); from.group = ""; from.kind = "PersistentVolumeClaim"; from.namespace = "staging"
            var to = ReferenceGrantTo(); to.group = "snapshot.storage.k8s.io"; to.kind = "VolumeSnapshot"
            g.spec.from = [from]; g.spec.to = [to]
            _ = try await client.create(g)
        }

        func events(about name: String) async throws -> [CoreEvent] {
            try await client.list(CoreEvent.self, namespace: "staging").items.filter { $0.involvedObject.name == name }
        }

        func volume(for claim: PersistentVolumeClaim) async -> PersistentVolume? {
            try? await client.get(PersistentVolume.self, name: "pvc-\(claim.metadata.uid ?? "")")
        }
    }

    @Test func aLinkedClaimWaitsForItsGrantThenGetsAVolumeFromTheSnapshot() async throws {
        let h = try await Harness()
        var sc = StorageClass(name: "fast")
        sc.provisioner = h.driver.configuration.name
        sc.volumeBindingMode = "Immediate"
        _ = try await h.client.create(sc)
        try await h.snapshot("snap", handle: "snap-handle-1")
        try await h.link("link", to: "snap")
        let claim = try await h.claim("claim", link: "link")
        let run = Task { await withTaskGroup(of: Void.self) { g in
            g.addTask { await h.cache.run() }
            g.addTask { await h.cache.waitForSync(); await h.controller.run() }
        } }
        defer { run.cancel() }

        // Without a grant: Pending, one Warning that names the missing grant.
        #expect(await eventually { (try? await h.events(about: "claim"))?.contains { $0.message?.contains("isn't allowed") == true } == true })
        #expect(await h.volume(for: claim) == nil)
        #expect(h.driver.requests("CreateVolume", as: CreateVolumeRequest.self).isEmpty)

        // The grant appears: the claim is re-enqueued at once (no backoff wait) and gets its volume.
        let clock = ContinuousClock()
        let granted = clock.now
        try await h.grant()
        #expect(await eventually(.seconds(10)) { await h.volume(for: claim) != nil })
        let latency = clock.now - granted
        print("grant-to-PV latency: \(latency)")
        let pv = try #require(await h.volume(for: claim))
        #expect(pv.spec.claimRef?.uid == claim.metadata.uid)
        #expect(pv.metadata.annotations[Provenance.grant] == "prod/staging-may-restore")
        #expect(pv.metadata.annotations[PersistentVolumeBuilder.provisionedBy] == h.driver.configuration.name)
        let creates = h.driver.requests("CreateVolume", as: CreateVolumeRequest.self)
        #expect(creates.last?.name == "pvc-\(claim.metadata.uid ?? "")")
        #expect(creates.last?.volumeContentSource == VolumeContentSource(type: .snapshot(.init(snapshotId: "snap-handle-1"))))
        #expect(h.driver.volumes.count == 1)
        // The snapshot was protected while the claim was pending (finalizer added before CreateVolume) …
        #expect(h.server.requests.contains("PUT /apis/snapshot.storage.k8s.io/v1/namespaces/prod/volumesnapshots/snap"))
        // … and the link reports the grant.
        #expect(await eventually {
            let l = try? await h.client.get(DataSourceLink.self, name: "link", namespace: "staging")
            return l?.status.conditions.contains { $0.type == "Granted" && $0.status == "True" } == true
        })
        // Once the PV exists the protection goes, without waiting for the binder or the sweep.
        #expect(await eventually {
            let s = try? await h.client.get(VolumeSnapshot.self, name: "snap", namespace: "prod")
            return s?.metadata.finalizers.contains(SourceProtection.finalizer) == false
        })
        run.cancel()
        await h.stop()
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(_ timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let clock = ContinuousClock()
    let end = clock.now + timeout
    while clock.now < end {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

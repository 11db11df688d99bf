import CSI
import CSITestSupport
import FerryControllers
import Foundation
import GRPCTransport
import Kube
import KubeTestSupport
import Testing

/// What wakes a reconcile, on the whole runtime (informers, queues, reconcilers) against the test API server and the
/// test CSI driver: claims arriving one at a time cost about one reconcile each (not one per claim already using
/// the source), and every wake-up correctness depends on still happens at once. The wake-up tests use retry
/// intervals of a minute, so only an informer event can make progress within their window.
@Suite(.serialized)
struct ControllerWakeUpTests {
    typealias Harness = ControllerIntegrationTests.Harness

    /// Reconciles run so far by kind (`ferry_operations_total`, every outcome).
    static func reconciles(_ h: Harness) -> [String: Int] {
        var perKind: [String: Int] = [:]
        for line in h.controller.context.metrics.render().split(separator: "\n") where line.hasPrefix("ferry_operations_total{") {
            guard let kind = line.split(separator: "\"").dropFirst().first,
                  let value = line.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
            perKind[String(kind), default: 0] += Int(value)
        }
        return perKind
    }

    static func start(_ h: Harness) -> Task<Void, Never> {
        Task { await withTaskGroup(of: Void.self) { g in
            g.addTask { await h.cache.run() }
            g.addTask { await h.cache.waitForSync(); await h.controller.run() }
        } }
    }

    static func storageClass(_ h: Harness) async throws {
        var sc = StorageClass(name: "fast")
        sc.provisioner = h.driver.configuration.name
        sc.volumeBindingMode = "Immediate"
        _ = try await h.client.create(sc)
    }

    /// A grant for claims in "staging" to clone claims in "prod", and the 1Gi source claim prod/data (Pending).
    static func cloneSource(_ h: Harness, volumeName: String? = nil) async throws -> PersistentVolumeClaim {
        var grant = ReferenceGrant(name: "clones", namespace: "prod")
        var from = ReferenceGrantFrom(); from.group = ""; from.kind = "PersistentVolumeClaim"; from.namespace = "staging"
        var to = ReferenceGrantTo(); to.group = ""; to.kind = "PersistentVolumeClaim"
        grant.spec.from = [from]; grant.spec.to = [to]
        _ = try await h.client.create(grant)
        var source = PersistentVolumeClaim(name: "data", namespace: "prod")
        source.spec.accessModes = ["ReadWriteOnce"]
        source.spec.storageClassName = "fast"
        source.spec.resources.requests = ["storage": "1Gi"]
        source.spec.volumeName = volumeName
        return try await h.client.create(source)
    }

    static func finalizerGone(_ h: Harness, snapshot: String = "snap") async -> Bool {
        let s = try? await h.client.get(VolumeSnapshot.self, name: snapshot, namespace: "prod")
        return s.map { !$0.metadata.finalizers.contains(SourceProtection.finalizer) } ?? false
    }

    static func condition(_ h: Harness, link: String, _ type: String) async -> Condition? {
        let l = try? await h.client.get(DataSourceLink.self, name: link, namespace: "staging")
        return l?.status.conditions.first { $0.type == type }
    }

    /// Waits until no queue holds work and no reconcile ran for a while.
    static func settle(_ h: Harness) async {
        var last = reconciles(h)
        var quiet = 0
        while quiet < 10 {
            try? await Task.sleep(for: .milliseconds(50))
            let now = reconciles(h)
            let claims = await h.controller.claimQueue.count
            let links = await h.controller.linkQueue.count
            let sources = await h.controller.sourceQueue.count
            let idle = claims == 0 && links == 0 && sources == 0
            quiet = (now == last && idle) ? quiet + 1 : 0
            last = now
        }
    }

    // MARK: Amplification

    /// Before the wake filter, each claim's two protection-finalizer writes on the shared snapshot re-enqueued every
    /// link of the snapshot and every claim still using it, and every reconcile of a provisioned claim re-enqueued
    /// the source: 16 claims paced one by one cost ≈ 270 link, ≈ 270 claim and ≈ 150 source reconciles.
    @Test func claimsArrivingOneByOneCostAboutOneReconcileEachNotOnePerClaimOfTheSource() async throws {
        let h = try await Harness()
        try await Self.storageClass(h)
        try await h.snapshot("snap", handle: "snap-handle-1")
        try await h.grant()
        let run = Self.start(h)
        defer { run.cancel() }
        await h.cache.waitForSync()
        let n = 16
        for i in 0..<n {
            try await h.link("link-\(i)", to: "snap")
            let claim = try await h.claim("claim-\(i)", link: "link-\(i)")
            // Paced: the next claim arrives after this one is provisioned and its source released.
            #expect(await eventually(.seconds(30)) { await h.volume(for: claim) != nil })
            #expect(await eventually(.seconds(30)) { await Self.finalizerGone(h) })
        }
        await Self.settle(h)
        let counts = Self.reconciles(h)
        print("reconciles for \(n) paced claims: \(counts)")
        #expect(h.driver.volumes.count == n)
        // One reconcile per object, plus one claim wake-up when a link's add event reaches the cache after its claim.
        #expect((counts["claim"] ?? 0) <= 2 * n)
        #expect((counts["link"] ?? 0) <= n + 2)
        #expect((counts["source"] ?? 0) <= n + 2)
        // The protection finalizer still went on before CreateVolume and came off after, for every claim.
        let puts = h.server.requests.filter { $0 == "PUT /apis/snapshot.storage.k8s.io/v1/namespaces/prod/volumesnapshots/snap" }
        #expect(puts.count >= 2 * n)
        let filtered = h.controller.context.metrics.counter("ferry_informer_events_filtered_total", ["kind": "snapshot"])
        #expect(filtered >= Double(2 * n))
        run.cancel()
        await h.stop()
    }

    /// The clone path: each clone puts the protection finalizer on the source claim and takes it off again; those
    /// two writes wake neither the source claim's own reconcile nor the other clones.
    @Test func clonesArrivingOneByOneCostAboutOneReconcileEach() async throws {
        let h = try await Harness()
        try await Self.storageClass(h)
        // A bound source claim whose volume the driver holds.
        h.driver.addVolume(Volume(capacityBytes: 1 << 30, volumeId: "vol-data"))
        var source = try await Self.cloneSource(h, volumeName: "pv-data")
        source.status.phase = "Bound"
        source = try await h.client.updateStatus(source)
        var pv = Build.volume(claim: source, driver: h.driver.configuration.name, handle: "vol-data")
        pv.spec.capacity = ["storage": "1Gi"]
        pv.spec.accessModes = ["ReadWriteOnce"]
        pv.status.object = [:]
        pv = try await h.client.create(pv)
        pv.status.phase = "Bound"
        _ = try await h.client.updateStatus(pv)
        let run = Self.start(h)
        defer { run.cancel() }
        await h.cache.waitForSync()
        await Self.settle(h)
        let before = Self.reconciles(h)
        let n = 8
        for i in 0..<n {
            var l = DataSourceLink(name: "clone-\(i)", namespace: "staging")
            l.spec.sourceRef = Build.ref(group: "", kind: "PersistentVolumeClaim", name: "data", ns: "prod")
            _ = try await h.client.create(l)
            let claim = try await h.claim("clone-\(i)", link: "clone-\(i)")
            let provisioned = await eventually(.seconds(30)) { await h.volume(for: claim) != nil }
            let messages = (try? await h.events(about: claim.name))?.compactMap(\.message) ?? []
            #expect(provisioned, "\(messages)")
            #expect(await eventually(.seconds(30)) {
                let s = try? await h.client.get(PersistentVolumeClaim.self, name: "data", namespace: "prod")
                return s.map { !$0.metadata.finalizers.contains(SourceProtection.finalizer) } ?? false
            })
        }
        await Self.settle(h)
        let after = Self.reconciles(h)
        func ran(_ kind: String) -> Int { (after[kind] ?? 0) - (before[kind] ?? 0) }
        print("reconciles for \(n) paced clones: claim \(ran("claim")), link \(ran("link")), source \(ran("source"))")
        #expect(h.driver.volumes.count == n + 1)
        let creates = h.driver.requests("CreateVolume", as: CreateVolumeRequest.self)
        #expect(creates.allSatisfy { $0.volumeContentSource == VolumeContentSource(type: .volume(.init(volumeId: "vol-data"))) })
        // Before: + 2 reconciles of the source claim per clone (its protection finalizer on and off).
        #expect(ran("claim") <= n + 2)
        #expect(ran("link") <= n + 2)
        #expect(ran("source") <= n + 2)
        let puts = h.server.requests.filter { $0 == "PUT /api/v1/namespaces/prod/persistentvolumeclaims/data" }
        #expect(puts.count >= 2 * n)
        run.cancel()
        await h.stop()
    }

    // MARK: Wake-ups that must stay

    @Test func aSnapshotBecomingReadyWakesItsWaitingClaimAndLinkAtOnce() async throws {
        let h = try await Harness(retryIntervalStart: .seconds(60), retryIntervalMax: .seconds(120))
        try await Self.storageClass(h)
        var vs = VolumeSnapshot(name: "snap", namespace: "prod")
        vs.spec.source.persistentVolumeClaimName = "data"
        vs = try await h.client.create(vs)
        try await h.grant()
        try await h.link("link", to: "snap")
        let claim = try await h.claim("claim", link: "link")
        let run = Self.start(h)
        defer { run.cancel() }
        #expect(await eventually { (try? await h.events(about: "claim"))?.contains { $0.message?.contains("not bound") == true } == true })
        #expect(await eventually { await Self.condition(h, link: "link", "Ready")?.reason == "SourceNotReady" })
        // The snapshot controller binds the content and marks it ready: the claim must not wait for its minute of backoff.
        h.driver.addSnapshot(Snapshot(sizeBytes: 1 << 30, snapshotId: "snap-handle-1", sourceVolumeId: "src", readyToUse: true))
        var vsc = VolumeSnapshotContent(name: "content-snap")
        vsc.spec.driver = h.driver.configuration.name
        vsc.spec.deletionPolicy = "Delete"
        vsc.spec.source = JSONMap(object: ["snapshotHandle": "snap-handle-1"])
        vsc.spec.volumeSnapshotRef = ObjectReference(kind: "VolumeSnapshot", namespace: "prod", name: "snap", uid: vs.metadata.uid)
        vsc = try await h.client.create(vsc)
        vsc.status.snapshotHandle = "snap-handle-1"
        vsc.status.readyToUse = true
        _ = try await h.client.updateStatus(vsc)
        vs = try await h.client.get(VolumeSnapshot.self, name: "snap", namespace: "prod")
        vs.status.boundVolumeSnapshotContentName = vsc.name
        vs.status.readyToUse = true
        vs.status.restoreSize = "1Gi"
        _ = try await h.client.updateStatus(vs)
        #expect(await eventually(.seconds(15)) { await h.volume(for: claim) != nil })
        #expect(await eventually(.seconds(15)) { await Self.condition(h, link: "link", "Ready")?.status == "True" })
        #expect(await eventually(.seconds(15)) { await Self.finalizerGone(h) })
        // Deleted: the link says so at once.
        try await h.client.delete(VolumeSnapshot.self, name: "snap", namespace: "prod")
        #expect(await eventually(.seconds(15)) { await Self.condition(h, link: "link", "Ready")?.reason == "SourceNotFound" })
        run.cancel()
        await h.stop()
    }

    @Test func aLinkAppearingAfterItsClaimWakesTheClaim() async throws {
        let h = try await Harness(retryIntervalStart: .seconds(60), retryIntervalMax: .seconds(120))
        try await Self.storageClass(h)
        try await h.snapshot("snap", handle: "snap-handle-1")
        try await h.grant()
        let claim = try await h.claim("claim", link: "late")
        let run = Self.start(h)
        defer { run.cancel() }
        #expect(await eventually { (try? await h.events(about: "claim"))?.contains { $0.message?.contains("not found") == true } == true })
        try await h.link("late", to: "snap")
        #expect(await eventually(.seconds(15)) { await h.volume(for: claim) != nil })
        run.cancel()
        await h.stop()
    }

    @Test func aDeletedClaimReleasesItsSourceAtOnce() async throws {
        let h = try await Harness(retryIntervalStart: .seconds(60), retryIntervalMax: .seconds(120))
        try await Self.storageClass(h)
        try await h.snapshot("snap", handle: "snap-handle-1")
        try await h.grant()
        try await h.link("link", to: "snap")
        h.driver.inject(TestCSIDriver.Fault(error: RPCError(.unavailable, "driver restarting")), into: "CreateVolume")
        _ = try await h.claim("claim", link: "link")
        let run = Self.start(h)
        defer { run.cancel() }
        // Protected before CreateVolume, which fails: the claim backs off for a minute with the finalizer in place.
        #expect(await eventually { !h.driver.requests("CreateVolume", as: CreateVolumeRequest.self).isEmpty })
        #expect(await !Self.finalizerGone(h))
        try await h.client.delete(PersistentVolumeClaim.self, name: "claim", namespace: "staging")
        #expect(await eventually(.seconds(15)) { await Self.finalizerGone(h) })
        h.driver.inject(nil, into: "CreateVolume")
        run.cancel()
        await h.stop()
    }

    @Test func aCloneSourceBeingBoundUpdatesTheLinksPointingAtIt() async throws {
        let h = try await Harness(retryIntervalStart: .seconds(60), retryIntervalMax: .seconds(120))
        try await Self.storageClass(h)
        var source = try await Self.cloneSource(h)
        var l = DataSourceLink(name: "clone-link", namespace: "staging")
        l.spec.sourceRef = Build.ref(group: "", kind: "PersistentVolumeClaim", name: "data", ns: "prod")
        _ = try await h.client.create(l)
        let run = Self.start(h)
        defer { run.cancel() }
        #expect(await eventually { await Self.condition(h, link: "clone-link", "Ready")?.reason == "SourceNotReady" })
        source = try await h.client.get(PersistentVolumeClaim.self, name: "data", namespace: "prod")
        source.status.phase = "Bound"
        _ = try await h.client.updateStatus(source)
        #expect(await eventually(.seconds(15)) { await Self.condition(h, link: "clone-link", "Ready")?.status == "True" })
        run.cancel()
        await h.stop()
    }

    @Test func aGrantChangeReachesEveryLinkAtOnce() async throws {
        let h = try await Harness(retryIntervalStart: .seconds(60), retryIntervalMax: .seconds(120))
        try await h.snapshot("snap", handle: "snap-handle-1")
        try await h.grant()
        for i in 0..<3 { try await h.link("link-\(i)", to: "snap") }
        let run = Self.start(h)
        defer { run.cancel() }
        for i in 0..<3 { #expect(await eventually { await Self.condition(h, link: "link-\(i)", "Granted")?.status == "True" }) }
        // Narrowed to another snapshot: no longer granted.
        var g = try await h.client.get(ReferenceGrant.self, name: "staging-may-restore", namespace: "prod")
        var to = ReferenceGrantTo(); to.group = "snapshot.storage.k8s.io"; to.kind = "VolumeSnapshot"; to.name = "other"
        g.spec.to = [to]
        _ = try await h.client.update(g)
        for i in 0..<3 {
            #expect(await eventually(.seconds(15)) { await Self.condition(h, link: "link-\(i)", "Granted")?.status == "False" })
        }
        // Deleted and created again: granted again.
        try await h.client.delete(ReferenceGrant.self, name: "staging-may-restore", namespace: "prod")
        try await h.grant()
        for i in 0..<3 {
            #expect(await eventually(.seconds(15)) { await Self.condition(h, link: "link-\(i)", "Granted")?.status == "True" })
        }
        run.cancel()
        await h.stop()
    }
}

import Foundation
import GRPCTransport
import Kube
import LocalCluster
import Testing

/// Issue 12 end to end: the real `ferry controller` process beside a local control plane, every user step done with
/// kubectl. One cluster for the suite (``ControllerClusterTrait``); each test works in its own namespace.
@Suite(.serialized, .controllerCluster)
struct ControllerEndToEndTests {
    var cluster: ControllerCluster {
        get throws { try #require(ControllerCluster.current) }
    }

    /// The claim's PV handle, and the backend volumes named after the claim (`pvc-<uid>`).
    func backend(_ c: ControllerCluster, _ namespace: String, _ claim: String) async throws -> (handle: String?, volumes: [String]) {
        let pvc = try await c.client.get(PersistentVolumeClaim.self, name: claim, namespace: namespace)
        let name = "pvc-\(pvc.metadata.uid ?? "?")"
        var handle: String?
        if let pvName = pvc.spec.volumeName, !pvName.isEmpty {
            handle = try await c.client.get(PersistentVolume.self, name: pvName).spec.csi?.volumeHandle
        }
        return (handle, c.backendVolumes().filter { $0.name == name }.map(\.id))
    }

    @Test func aLinkedClaimWaitsForTheGrantThenBindsWithinASecondWithTheData() async throws {
        let c = try cluster
        try await c.linkedClaim("e2e-grant")
        #expect(await poll { try await c.warnings("e2e-grant", "restored").contains { $0.contains("ReferenceGrant") } },
                "\(c.controller.output)")
        let message = try await c.warnings("e2e-grant", "restored").first { $0.contains("ReferenceGrant") } ?? ""
        #expect(message.hasPrefix("accessing production/webapp-nightly of VolumeSnapshot dataSource from e2e-grant/restored isn't allowed"))
        #expect(message.contains("kind: ReferenceGrant"))
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await c.phase("e2e-grant", "restored") == "Pending")

        try await c.grant("e2e-grant-may-restore", from: "e2e-grant")
        let applied = ContinuousClock.now
        #expect(await poll(.seconds(10), every: .milliseconds(10)) {
            (try? await c.client.get(PersistentVolumeClaim.self, name: "restored", namespace: "e2e-grant"))?.status.phase == "Bound"
        })
        let elapsed = ContinuousClock.now - applied
        print("e2e: grant applied (kubectl returned) → claim Bound in \(elapsed)")
        #expect(elapsed < .seconds(1), "bound \(elapsed) after the grant")
        #expect(try await c.phase("e2e-grant", "restored") == "Bound")

        let restored = try #require(try await c.dataOf("e2e-grant", "restored"))
        let original = try #require(try await c.dataOf("production", "webapp-data"))
        #expect(restored != original)
        let digest = ControllerCluster.treeDigest(restored)
        #expect(digest.count == 2)
        #expect(digest == ControllerCluster.treeDigest(original))
        let pv = try await c.kubectl(["get", "pv", "-o", "jsonpath={.items[?(@.spec.claimRef.namespace==\"e2e-grant\")].metadata.annotations}"])
        #expect(pv.contains("\"ferry.io/grant\":\"production/e2e-grant-may-restore\""))
        #expect(pv.contains("\"ferry.io/source-namespace\":\"production\""))
        let b = try await backend(c, "e2e-grant", "restored")
        #expect(b.volumes.count == 1 && b.volumes.first == b.handle)
    }

    @Test func grantsNamingAnotherObjectKindOrNamespaceDoNotCount() async throws {
        let c = try cluster
        try await c.kubectl(["create", "namespace", "e2e-elsewhere"], expectSuccess: false)
        try await c.grant("other-namespace", from: "e2e-elsewhere")
        try await c.grant("other-kind", from: "e2e-wrong", kind: "PersistentVolumeClaim")
        try await c.grant("other-name", from: "e2e-wrong", toName: "another-snapshot")
        try await c.grant("other-from-kind", from: "e2e-wrong", fromKind: "Pod")
        try await c.linkedClaim("e2e-wrong")
        let denied = "accessing production/webapp-nightly of VolumeSnapshot dataSource from e2e-wrong/restored isn't allowed"
        #expect(await poll { try await c.warnings("e2e-wrong", "restored").contains { $0.hasPrefix(denied) } }, "\(c.controller.output)")
        // Still denied a while later (the grant informer re-enqueued the claim for each of the four grants).
        try await Task.sleep(for: .seconds(1))
        #expect(try await c.phase("e2e-wrong", "restored") == "Pending")
        let link = try await c.kubectl(["get", "datasourcelink", "-n", "e2e-wrong", "to-prod", "-o",
                                        "jsonpath={.status.conditions[?(@.type==\"Granted\")].status}"])
        #expect(link == "False")
        #expect(try await backend(c, "e2e-wrong", "restored").volumes.isEmpty)

        try await c.grant("the-right-one", from: "e2e-wrong", toName: "webapp-nightly")
        #expect(await poll(.seconds(10)) { try await c.phase("e2e-wrong", "restored") == "Bound" })
        let granted = try await c.kubectl(["get", "datasourcelink", "-n", "e2e-wrong", "to-prod", "-o",
                                           "jsonpath={.status.conditions[?(@.type==\"Granted\")].status}"])
        #expect(granted == "True")
    }

    @Test func aClaimOfAnotherNamespaceIsClonedThroughALink() async throws {
        let c = try cluster
        try await c.linkedClaim("e2e-clone", claim: "copy", link: "prod-data", kind: "PersistentVolumeClaim", source: "webapp-data")
        try await c.grant("e2e-clone-may-clone", from: "e2e-clone", kind: "PersistentVolumeClaim")
        #expect(await poll(.seconds(15)) { try await c.phase("e2e-clone", "copy") == "Bound" }, "\(c.controller.output)")
        let copy = try #require(try await c.dataOf("e2e-clone", "copy"))
        let original = try #require(try await c.dataOf("production", "webapp-data"))
        #expect(copy != original)
        #expect(ControllerCluster.treeDigest(copy) == ControllerCluster.treeDigest(original))
        #expect(!ControllerCluster.treeDigest(copy).isEmpty)
        let b = try await backend(c, "e2e-clone", "copy")
        #expect(b.volumes.count == 1 && b.volumes.first == b.handle)
        // The source claim's protection finalizer is gone once the PV exists.
        #expect(await poll {
            let f = try await c.kubectl(["get", "pvc", "-n", "production", "webapp-data", "-o", "jsonpath={.metadata.finalizers}"])
            return !f.contains("ferry.io/source-protection")
        })
    }

    @Test func unusableSnapshotsKeepTheClaimPendingWithTheirMessage() async throws {
        let c = try cluster
        let ns = "e2e-src"
        let content = try await c.kubectl(["get", "volumesnapshot", "-n", "production", "webapp-nightly", "-o",
                                           "jsonpath={.status.boundVolumeSnapshotContentName}"])
        // A snapshot held in creation (the driver holds CreateSnapshot), one being deleted (a finalizer keeps it),
        // one of another driver (pre-provisioned content).
        // Every CreateSnapshot is held (in-progress's and doomed's race for the driver).
        c.faults.inject(.init(method: "CreateSnapshot", effect: .hold, count: nil))
        defer { c.faults.clear() }
        try await c.apply("""
            apiVersion: snapshot.storage.k8s.io/v1
            kind: VolumeSnapshot
            metadata: {name: in-progress, namespace: production}
            spec: {volumeSnapshotClassName: local, source: {persistentVolumeClaimName: webapp-data}}
            ---
            apiVersion: snapshot.storage.k8s.io/v1
            kind: VolumeSnapshot
            metadata: {name: doomed, namespace: production, finalizers: [e2e.ferry.io/hold]}
            spec: {volumeSnapshotClassName: local, source: {persistentVolumeClaimName: webapp-data}}
            ---
            apiVersion: snapshot.storage.k8s.io/v1
            kind: VolumeSnapshotContent
            metadata: {name: foreign-content}
            spec:
              driver: other.csi.example.com
              deletionPolicy: Retain
              source: {snapshotHandle: foreign-1}
              volumeSnapshotRef: {name: foreign, namespace: production}
            ---
            apiVersion: snapshot.storage.k8s.io/v1
            kind: VolumeSnapshot
            metadata: {name: foreign, namespace: production}
            spec: {source: {volumeSnapshotContentName: foreign-content}}
            """)
        #expect(await poll { c.faults.held("CreateSnapshot") >= 1 })
        try await c.kubectl(["delete", "volumesnapshot", "-n", "production", "doomed", "--wait=false"])
        try await c.grant("e2e-src-may-restore", from: ns)
        let prefix = "error getting handle for DataSource Type VolumeSnapshot by Name"
        let cases: [(claim: String, source: String, size: String, extra: String, message: String)] = [
            ("missing", "gone", "64Mi", "",
             "\(prefix) gone: error getting snapshot gone from api server: volumesnapshots.snapshot.storage.k8s.io \"gone\" not found"),
            ("deleted", "doomed", "64Mi", "", "\(prefix) doomed: snapshot doomed is being deleted"),
            ("not-ready", "in-progress", "64Mi", "", "\(prefix) in-progress: snapshot in-progress is not Ready"),
            ("foreign", "foreign", "64Mi", "",
             "\(prefix) foreign: snapshotcontent foreign-content for snapshot production/foreign is not handled by CSI driver of StorageClass local.csi.ferry.io"),
            ("too-small", "webapp-nightly", "1Mi", "",
             "\(prefix) webapp-nightly: requested volume size 1048576 is less than the size 67108864 for the source snapshot webapp-nightly"),
            ("block", "webapp-nightly", "64Mi", "  volumeMode: Block",
             "\(prefix) webapp-nightly: requested volume \(ns)/block modifies the mode of the source volume but does not have permission to do so. snapshot.storage.kubernetes.io/allow-volume-mode-change annotation is not present on snapshotcontent \(content)"),
        ]
        for k in cases {
            try await c.linkedClaim(ns, claim: k.claim, link: k.claim, source: k.source, size: k.size, extraSpec: k.extra)
        }
        for k in cases {
            let seen = await poll(.seconds(60)) { try await c.warnings(ns, k.claim).contains(k.message) }
            let got = (try? await c.warnings(ns, k.claim)) ?? []
            #expect(seen, "\(k.claim): \(got)")
        }
        try await Task.sleep(for: .seconds(1))
        for k in cases {
            let phase = try await c.phase(ns, k.claim)
            let volumes = try await backend(c, ns, k.claim).volumes
            #expect(phase == "Pending", "\(k.claim): \(phase) \(c.controller.output.suffix(3000))")
            #expect(volumes.isEmpty, "\(k.claim): \(volumes)")
        }
        // The held snapshot becomes ready: its claim binds with no further kubectl step.
        c.faults.clear()
        #expect(await poll(.seconds(60)) { try await c.phase(ns, "not-ready") == "Bound" }, "\(c.controller.output)")
        try await c.kubectl(["patch", "volumesnapshot", "-n", "production", "doomed", "--type=merge", "-p",
                             "{\"metadata\":{\"finalizers\":null}}"], expectSuccess: false)
    }

    enum DriverError: String, CaseIterable, Sendable {
        case invalidArgument, notFound, unavailable, deadlineExceeded
    }

    @Test(arguments: DriverError.allCases)
    func driverErrorsAreRetriedOrDelayedAsMapped(_ error: DriverError) async throws {
        let c = try cluster
        let ns = "e2e-rpc-\(error.rawValue.lowercased())"
        try await c.kubectl(["create", "namespace", ns])
        try await c.grant("\(ns)-may-restore", from: ns)
        let before = c.faults.calls("CreateVolume")
        let expected: String
        switch error {
        case .invalidArgument:
            c.faults.inject(.init(method: "CreateVolume", effect: .error(.invalidArgument, "e2e: unsupported parameter"), count: 1))
            expected = "Volume provisioning failed with infeasible error. Retries will be delayed. rpc error: code = InvalidArgument desc = e2e: unsupported parameter"
        case .notFound:
            c.faults.inject(.init(method: "CreateVolume", effect: .error(.notFound, "e2e: snapshot not found"), count: 2))
            expected = "rpc error: code = NotFound desc = e2e: snapshot not found"
        case .unavailable:
            c.faults.inject(.init(method: "CreateVolume", effect: .error(.unavailable, "e2e: driver restarting"), count: 2))
            expected = "rpc error: code = Unavailable desc = e2e: driver restarting"
        case .deadlineExceeded:
            // The driver takes 2.5 s; Ferry's --timeout is 1 s. The driver still creates the volume; Ferry's repeat
            // of the same request must adopt it, not make a second one.
            c.faults.inject(.init(method: "CreateVolume", effect: .delay(.milliseconds(2500)), count: 1))
            expected = "rpc error: code = DeadlineExceeded desc ="
        }
        defer { c.faults.clear() }
        try await c.linkedClaim(ns)
        let warned = await poll(.seconds(15)) { try await c.warnings(ns, "restored").contains { $0.hasPrefix(expected) } }
        let got = (try? await c.warnings(ns, "restored")) ?? []
        #expect(warned, "\(got)")
        let failedAt = ContinuousClock.now
        #expect(await poll(.seconds(20)) { try await c.phase(ns, "restored") == "Bound" }, "\(c.controller.output.suffix(3000))")
        let boundAfter = ContinuousClock.now - failedAt
        let calls = c.faults.calls("CreateVolume") - before
        print("e2e: \(error): bound \(boundAfter) after the error event, \(calls) CreateVolume calls")
        switch error {
        case .invalidArgument:
            // Infeasible: the retry waits for --retry-interval-max (2 s), not the 100 ms start interval.
            let times = c.faults.callTimes("CreateVolume").suffix(2)
            #expect(calls == 2)
            if let first = times.first, let second = times.last {
                print("e2e: invalidArgument: retried \(second - first) after the failed call")
                #expect(second - first >= .milliseconds(1900))
            }
        case .notFound, .unavailable:
            #expect(calls == 3)
            #expect(boundAfter < .seconds(3))
        case .deadlineExceeded:
            #expect(calls >= 2)
        }
        let b = try await backend(c, ns, "restored")
        #expect(b.volumes.count == 1, "\(b.volumes)")
        #expect(b.handle != nil && b.volumes.first == b.handle)
        let pvs = try await c.client.list(PersistentVolume.self, namespace: nil).items.filter { $0.spec.claimRef?.namespace == ns }
        #expect(pvs.count == 1)
    }
}

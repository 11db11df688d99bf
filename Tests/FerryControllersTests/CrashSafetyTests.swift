import CSI
import CSITestSupport
import FerryControllers
import Foundation
import GRPCTransport
import Kube
import KubeTestSupport
import HTTPTestSupport
import Testing

/// `ferry controller` killed with SIGKILL at the named points, then restarted: exactly one backend volume and one
/// PV, and no leftover source-protection finalizer (asserted against the driver's volume list and the API store).
/// The points are reached without hooks in the product: the API server refuses the controller's next write (RBAC
/// deny rules) or the driver holds CreateVolume, and the process is killed while it is stuck there.
@Suite(.serialized)
struct CrashSafetyTests {
    enum Point: String, CaseIterable, Sendable {
        case beforeCreateVolume, duringCreateVolume, afterCreateVolume, afterPersistentVolumeCreated
    }

    @Test(arguments: Point.allCases)
    func aKilledControllerLeavesExactlyOneVolumeAndNoFinalizerAfterRestart(_ point: Point) async throws {
        let h = try await ControllerIntegrationTests.Harness()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-crash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try await h.client.create(Namespace(name: "ferry-system"))
        var sc = StorageClass(name: "fast")
        sc.provisioner = h.driver.configuration.name
        sc.volumeBindingMode = "Immediate"
        _ = try await h.client.create(sc)
        try await h.snapshot("snap", handle: "snap-handle-1")
        try await h.link("link", to: "snap")
        try await h.grant()
        let claim = try await h.claim("claim", link: "link")
        h.server.addToken("ferry-token", for: .init(name: "ferry"))
        let config = try ControllerProcessTests.kubeconfig(h.server, dir: dir, token: "ferry-token")
        let args = ["--csi-address", "unix://" + h.served.socketPath, "--kubeconfig", config,
                    "--retry-interval-start", "100ms", "--retry-interval-max", "1s"]
        func snapshotFinalizers() async -> [String] {
            (try? await h.client.get(VolumeSnapshot.self, name: "snap", namespace: "prod"))?.metadata.finalizers ?? []
        }
        func creates() -> Int { h.driver.requests("CreateVolume", as: CreateVolumeRequest.self).count }

        switch point {
        case .beforeCreateVolume:
            h.server.deny(.init(user: "ferry", verb: "update", resource: "volumesnapshots"))
        case .duringCreateVolume:
            h.driver.inject(.init(delay: .seconds(30), times: 1), into: "CreateVolume")
        case .afterCreateVolume:
            h.server.deny(.init(user: "ferry", verb: "create", resource: "persistentvolumes"))
        case .afterPersistentVolumeCreated:
            h.driver.inject(.init(delay: .seconds(1), times: 1), into: "CreateVolume")
        }
        let first = try ControllerProcessTests.Replica(args: args, log: dir.appendingPathComponent("first"))
        defer { first.killHard() }
        switch point {
        case .beforeCreateVolume:
            try await Task.sleep(for: .seconds(2))
            #expect(creates() == 0)
        case .duringCreateVolume:
            #expect(await eventually { creates() == 1 }, "\(first.output)")
        case .afterCreateVolume:
            #expect(await eventually { creates() >= 1 && h.driver.volumes.count == 1 }, "\(first.output)")
            try await Task.sleep(for: .milliseconds(300))
        case .afterPersistentVolumeCreated:
            #expect(await eventually { await snapshotFinalizers().contains(SourceProtection.finalizer) })
            h.server.deny(.init(user: "ferry", verb: "update", resource: "volumesnapshots"))
            #expect(await eventually { await h.volume(for: claim) != nil }, "\(first.output)")
            try await Task.sleep(for: .milliseconds(300))
            #expect(await snapshotFinalizers().contains(SourceProtection.finalizer))
        }
        first.killHard()
        _ = await first.wait()
        h.server.clearDenyRules()
        h.driver.inject(nil, into: "CreateVolume")

        let second = try ControllerProcessTests.Replica(args: args, log: dir.appendingPathComponent("second"))
        defer { second.killHard() }
        #expect(await eventually { await h.volume(for: claim) != nil }, "\(second.output)")
        #expect(await eventually { await !snapshotFinalizers().contains(SourceProtection.finalizer) }, "\(second.output)")
        let pvs = try await h.client.list(PersistentVolume.self, namespace: nil).items
        #expect(pvs.count == 1)
        #expect(pvs.first?.spec.claimRef?.uid == claim.metadata.uid)
        #expect(h.driver.volumes.count == 1)
        #expect(pvs.first?.spec.csi?.volumeHandle == h.driver.volumes.keys.first)
        second.terminate()
        _ = await second.wait()
        await h.stop()
    }
}

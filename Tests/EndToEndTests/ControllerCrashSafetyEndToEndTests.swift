import Foundation
import Kube
import LocalCluster
import Testing

/// `ferry controller` SIGKILLed at each named point of provisioning on the local control plane, then restarted:
/// the claim binds (the real PV binder) with exactly one backend volume and one PV, no orphaned volume and no
/// leftover source-protection finalizer — asserted against the driver's own volume records and the API store.
///
/// The points are reached without hooks in the product: the API server refuses the controller's next write (deny
/// rules for its user) or the driver holds CreateVolume (``CSIFaults``), and the process is killed while stuck there.
@Suite(.serialized, .controllerClusterWithoutController)
struct ControllerCrashSafetyEndToEndTests {
    enum Point: String, CaseIterable, Sendable {
        case beforeCreateVolume, duringCreateVolume, afterCreateVolume, afterPersistentVolumeBeforeFinalizerRemoval
    }

    static let finalizer = "ferry.io/source-protection"
    /// How long a `ferry controller` may take to reach a point (or to finish after its restart): a debug build
    /// starting at load 12-18 (driver probe, CRD and gate checks, informer sync) needed more than the 20 s default.
    static let reach: Duration = .seconds(90)

    @Test(arguments: Point.allCases)
    func aKilledControllerLeavesOneVolumeOnePVAndNoFinalizerAfterRestart(_ point: Point) async throws {
        let c = try #require(ControllerCluster.current)
        let ns = "crash-\(point.rawValue.lowercased())"
        let kubeconfig = try c.tokenKubeconfig(user: "ferry-\(ns)")
        let user = "ferry-\(ns)"
        var args = c.controllerArguments
        if let i = args.firstIndex(of: "--kubeconfig") { args[i + 1] = kubeconfig }
        let log = c.directory.appendingPathComponent("ferry-\(ns).log")
        let ferry = FerryProcess(log: log)
        // A test that throws half-way must not leave its controller running into the next point's test (it is not
        // denied anything and would finish the next claim itself).
        defer { ferry.killNow(); c.instance.server.clearDenyRules(); c.faults.clear() }

        try await c.kubectl(["create", "namespace", ns])
        try await c.grant("\(ns)-may-restore", from: ns)
        func snapshotFinalizers() async throws -> String {
            try await c.kubectl(["get", "volumesnapshot", "-n", "production", "webapp-nightly", "-o", "jsonpath={.metadata.finalizers}"])
        }
        let creates = c.faults.calls("CreateVolume")
        let volumesBefore = c.backendVolumes().count
        switch point {
        case .beforeCreateVolume:
            c.instance.server.deny(.init(user: user, verb: "update", resource: "volumesnapshots"))
            c.instance.server.deny(.init(user: user, verb: "patch", resource: "volumesnapshots"))
        case .duringCreateVolume:
            // Every call is held: Ferry's --timeout (1 s) abandons a held call and repeats it, held again.
            c.faults.inject(.init(method: "CreateVolume", effect: .hold, count: nil))
        case .afterCreateVolume:
            c.instance.server.deny(.init(user: user, verb: "create", resource: "persistentvolumes"))
        case .afterPersistentVolumeBeforeFinalizerRemoval:
            c.faults.inject(.init(method: "CreateVolume", effect: .hold, count: nil))
        }
        try ferry.start(args)
        try await c.linkedClaim(ns)
        let uid = try await c.kubectl(["get", "pvc", "-n", ns, "restored", "-o", "jsonpath={.metadata.uid}"])
        let volumeName = "pvc-\(uid)"

        switch point {
        case .beforeCreateVolume:
            #expect(await poll(Self.reach) { ferry.output.contains("source protection failed") }, "\(ferry.output.suffix(2000))")
            try await Task.sleep(for: .milliseconds(500))
            #expect(c.faults.calls("CreateVolume") == creates)
        case .duringCreateVolume:
            #expect(await poll(Self.reach) { c.faults.held("CreateVolume") >= 1 }, "\(ferry.output.suffix(2000))")
        case .afterCreateVolume:
            #expect(await poll(Self.reach) { c.backendVolumes().contains { $0.name == volumeName } }, "\(ferry.output.suffix(2000))")
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await c.client.list(PersistentVolume.self, namespace: nil).items.allSatisfy { $0.spec.claimRef?.uid != uid })
        case .afterPersistentVolumeBeforeFinalizerRemoval:
            // The finalizer is on before CreateVolume; once it is there, Ferry may no longer update the snapshot.
            #expect(await poll(Self.reach) { c.faults.held("CreateVolume") >= 1 }, "\(ferry.output.suffix(2000))")
            let finalizers = try await snapshotFinalizers()
            #expect(finalizers.contains(Self.finalizer), "\(finalizers) \(ferry.output.suffix(4000))")
            c.instance.server.deny(.init(user: user, verb: "update", resource: "volumesnapshots"))
            c.instance.server.deny(.init(user: user, verb: "patch", resource: "volumesnapshots"))
            c.faults.clear()
            #expect(await poll(Self.reach) {
                try await c.client.list(PersistentVolume.self, namespace: nil).items.contains { $0.spec.claimRef?.uid == uid }
            }, "\(ferry.output.suffix(2000))")
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await snapshotFinalizers().contains(Self.finalizer))
        }
        await ferry.kill9()
        #expect(!ferry.isRunning)
        c.instance.server.clearDenyRules()
        // A call still held in the driver finishes after its caller died, as a real driver's would.
        c.faults.clear()

        try ferry.start(args)
        #expect(await poll(Self.reach) { try await c.phase(ns, "restored") == "Bound" }, "\(ferry.output.suffix(3000))")
        #expect(await poll(Self.reach) { try await !snapshotFinalizers().contains(Self.finalizer) }, "\(ferry.output.suffix(2000))")
        let pvs = try await c.client.list(PersistentVolume.self, namespace: nil).items.filter { $0.spec.claimRef?.uid == uid }
        #expect(pvs.count == 1)
        let mine = c.backendVolumes().filter { $0.name == volumeName }
        #expect(mine.count == 1)
        #expect(pvs.first?.spec.csi?.volumeHandle == mine.first?.id)
        // No orphan: exactly one new backend volume in all, and every backend volume has a PV.
        #expect(c.backendVolumes().count == volumesBefore + 1)
        let handles = Set(try await c.client.list(PersistentVolume.self, namespace: nil).items.compactMap { $0.spec.csi?.volumeHandle })
        #expect(c.backendVolumes().allSatisfy { handles.contains($0.id) }, "\(c.backendVolumes())")
        await ferry.stop()
    }
}

import Foundation
import Kube
import LocalCluster
import Testing

/// The same end-to-end scenarios against an independent CSI driver written with Python grpcio
/// (Tests/EndToEndTests/Scripts/py_csi_driver.py, `py.csi.ferry.test`): the local control plane, `ferry controller`
/// connected to the Python driver's socket, everything a user does done with kubectl. The Python driver's snapshot
/// and source volume are pre-provisioned (its data seeded in its state directory), as an administrator would import
/// them; the PV binder binds the pre-bound PVs Ferry writes whatever their driver.
@Suite(.serialized, .pythonDriverCluster)
struct PythonDriverEndToEndTests {
    var env: PythonDriverCluster {
        get throws { try #require(PythonDriverCluster.current) }
    }

    func backend(_ e: PythonDriverCluster, _ ns: String, _ claim: String) async throws -> (handle: String?, volumes: [[String: Any]]) {
        let pvc = try await e.cluster.client.get(PersistentVolumeClaim.self, name: claim, namespace: ns)
        var handle: String?
        if let pv = pvc.spec.volumeName, !pv.isEmpty {
            handle = try await e.cluster.client.get(PersistentVolume.self, name: pv).spec.csi?.volumeHandle
        }
        return (handle, e.volumes().filter { ($0["name"] as? String) == "pvc-\(pvc.metadata.uid ?? "?")" })
    }

    @Test func aLinkedClaimBindsThroughThePythonDriverOnceGrantedWithTheData() async throws {
        let e = try env
        let c = e.cluster
        try await c.linkedClaim("py-grant", source: "py-nightly", storageClass: "py")
        #expect(await poll { try await c.warnings("py-grant", "restored").contains {
            $0.hasPrefix("accessing production/py-nightly of VolumeSnapshot dataSource from py-grant/restored isn't allowed")
        } }, "\(c.controller.output.suffix(2000))")
        #expect(try await c.phase("py-grant", "restored") == "Pending")
        try await c.grant("py-grant-may-restore", from: "py-grant")
        let applied = ContinuousClock.now
        #expect(await poll(.seconds(10), every: .milliseconds(10)) {
            (try? await c.client.get(PersistentVolumeClaim.self, name: "restored", namespace: "py-grant"))?.status.phase == "Bound"
        })
        let elapsed = ContinuousClock.now - applied
        print("e2e-py: grant applied → claim Bound in \(elapsed)")
        // ControllerEndToEndTests holds Ferry to the 1 s goal; here the Python server (one GIL, a starved CPU while
        // other suites run) gets 2 s.
        #expect(elapsed < .seconds(2))
        let b = try await backend(e, "py-grant", "restored")
        #expect(b.volumes.count == 1)
        let id = try #require(b.volumes.first?["id"] as? String)
        #expect(b.handle == id)
        #expect((b.volumes.first?["source"] as? [String: String]) == ["snapshot": "py-snap-1"])
        let digest = ControllerCluster.treeDigest(e.state.appendingPathComponent("data/\(id)"))
        #expect(digest.count == 2)
        #expect(digest == ControllerCluster.treeDigest(e.state.appendingPathComponent("snapshots/py-snap-1")))
    }

    @Test func aClaimOfAnotherNamespaceIsClonedByThePythonDriverThroughALink() async throws {
        let e = try env
        let c = e.cluster
        try await c.linkedClaim("py-clone", claim: "copy", kind: "PersistentVolumeClaim", source: "py-data",
                                storageClass: "py")
        try await c.grant("py-clone-may-clone", from: "py-clone", kind: "PersistentVolumeClaim")
        #expect(await poll(.seconds(15)) { try await c.phase("py-clone", "copy") == "Bound" }, "\(c.controller.output.suffix(2000))")
        let b = try await backend(e, "py-clone", "copy")
        #expect(b.volumes.count == 1)
        let id = try #require(b.volumes.first?["id"] as? String)
        #expect((b.volumes.first?["source"] as? [String: String]) == ["volume": "pyvol-src"])
        #expect(ControllerCluster.treeDigest(e.state.appendingPathComponent("data/\(id)"))
            == ControllerCluster.treeDigest(e.state.appendingPathComponent("data/pyvol-src")))
    }

    @Test func aSnapshotOfAnotherDriverOrTooSmallARequestStaysPendingWithItsMessage() async throws {
        let e = try env
        let c = e.cluster
        let ns = "py-src"
        try await c.grant("py-src-may-restore", from: ns)
        try await c.linkedClaim(ns, claim: "foreign", link: "foreign", source: "local-nightly", storageClass: "py")
        try await c.linkedClaim(ns, claim: "too-small", link: "too-small", source: "py-nightly", size: "1Mi",
                                storageClass: "py")
        let prefix = "error getting handle for DataSource Type VolumeSnapshot by Name"
        let expected = [
            "foreign": "\(prefix) local-nightly: snapshotcontent local-content for snapshot production/local-nightly is not handled by CSI driver of StorageClass py.csi.ferry.test",
            "too-small": "\(prefix) py-nightly: requested volume size 1048576 is less than the size 67108864 for the source snapshot py-nightly",
        ]
        for (claim, message) in expected {
            let seen = await poll(.seconds(60)) { try await c.warnings(ns, claim).contains(message) }
            let got = (try? await c.warnings(ns, claim)) ?? []
            #expect(seen, "\(claim): \(got)")
        }
        try await Task.sleep(for: .milliseconds(500))
        for claim in expected.keys {
            #expect(try await c.phase(ns, claim) == "Pending")
            #expect(try await backend(e, ns, claim).volumes.isEmpty)
        }
        // Pending claims keep their source protected; later tests check that protection ends.
        try await c.kubectl(["delete", "pvc", "-n", ns, "--all", "--wait=false"])
    }

    enum DriverError: String, CaseIterable, Sendable { case invalidArgument, unavailable, deadlineExceeded }

    @Test(arguments: DriverError.allCases)
    func pythonDriverErrorsAreRetriedOrDelayedAsMapped(_ error: DriverError) async throws {
        let e = try env
        let c = e.cluster
        let ns = "py-rpc-\(error.rawValue.lowercased())"
        try await c.kubectl(["create", "namespace", ns])
        try await c.grant("\(ns)-may-restore", from: ns)
        let expected: String
        switch error {
        case .invalidArgument:
            try e.setFaults([["method": "CreateVolume", "code": "INVALID_ARGUMENT", "message": "py: bad parameter", "count": 1]])
            expected = "Volume provisioning failed with infeasible error. Retries will be delayed. rpc error: code = InvalidArgument desc = py: bad parameter"
        case .unavailable:
            try e.setFaults([["method": "CreateVolume", "code": "UNAVAILABLE", "message": "py: restarting", "count": 2]])
            expected = "rpc error: code = Unavailable desc = py: restarting"
        case .deadlineExceeded:
            try e.setFaults([["method": "CreateVolume", "delay": 2.5, "count": 1]])
            expected = "rpc error: code = DeadlineExceeded desc ="
        }
        defer { try? e.setFaults([]) }
        let before = e.calls().count
        try await c.linkedClaim(ns, source: "py-nightly", storageClass: "py")
        let warned = await poll(.seconds(15)) { try await c.warnings(ns, "restored").contains { $0.hasPrefix(expected) } }
        let got = (try? await c.warnings(ns, "restored")) ?? []
        #expect(warned, "\(got)")
        let failedAt = ContinuousClock.now
        #expect(await poll(.seconds(20)) { try await c.phase(ns, "restored") == "Bound" }, "\(c.controller.output.suffix(2000))")
        let calls = e.calls().count - before
        print("e2e-py: \(error): bound \(ContinuousClock.now - failedAt) after the error event, \(calls) CreateVolume calls")
        switch error {
        case .invalidArgument:
            // Infeasible: the retry waits for --retry-interval-max (2 s), by the driver's own clock.
            #expect(calls == 2)
            let times = e.calls().suffix(2).compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
            if times.count == 2 {
                print("e2e-py: invalidArgument: retried \(times[1] - times[0]) s after the failed call")
                #expect(times[1] - times[0] >= 1.9)
            }
        case .unavailable:
            #expect(calls == 3)
        case .deadlineExceeded:
            #expect(calls >= 2)
        }
        let b = try await backend(e, ns, "restored")
        #expect(b.volumes.count == 1)
        #expect(b.handle != nil && (b.volumes.first?["id"] as? String) == b.handle)
    }

    @Test func aControllerKilledDuringCreateVolumeLeavesOneVolumeAfterRestart() async throws {
        let e = try env
        let c = e.cluster
        let ns = "py-crash"
        try await c.kubectl(["create", "namespace", ns])
        try await c.grant("\(ns)-may-restore", from: ns)
        try e.setFaults([["method": "CreateVolume", "hold": true]])
        defer { try? e.setFaults([]) }
        let before = e.calls().count
        try await c.linkedClaim(ns, source: "py-nightly", storageClass: "py")
        #expect(await poll { e.calls().count > before }, "\(c.controller.output.suffix(2000))")
        await c.controller.kill9()
        try e.setFaults([])
        try c.controller.start(e.controllerArguments)
        #expect(await poll(.seconds(30)) { try await c.phase(ns, "restored") == "Bound" }, "\(c.controller.output.suffix(2000))")
        let b = try await backend(e, ns, "restored")
        #expect(b.volumes.count == 1)
        #expect((b.volumes.first?["id"] as? String) == b.handle)
        let uid = try await c.kubectl(["get", "pvc", "-n", ns, "restored", "-o", "jsonpath={.metadata.uid}"])
        #expect(try await c.client.list(PersistentVolume.self, namespace: nil).items.filter { $0.spec.claimRef?.uid == uid }.count == 1)
        #expect(await poll {
            let f = try await c.kubectl(["get", "volumesnapshot", "-n", "production", "py-nightly", "-o", "jsonpath={.metadata.finalizers}"])
            return !f.contains("ferry.io/source-protection")
        })
    }
}

/// The local control plane, the Python grpcio driver, and `ferry controller` connected to the Python driver.
final class PythonDriverCluster: Sendable {
    @TaskLocal static var current: PythonDriverCluster?
    static let script = ControllerCluster.repositoryRoot.appendingPathComponent("Tests/EndToEndTests/Scripts/py_csi_driver.py").path

    let cluster: ControllerCluster
    let state: URL
    let socket: String
    let controllerArguments: [String]

    init() async throws {
        let cluster = try await ControllerCluster(startController: false)
        self.cluster = cluster
        state = cluster.directory.appendingPathComponent("py-driver")
        socket = cluster.directory.appendingPathComponent("py.sock").path
        var args = cluster.controllerArguments
        if let i = args.firstIndex(of: "--csi-address") { args[i + 1] = "unix://" + socket }
        controllerArguments = args
        do {
            let stubs = cluster.directory.appendingPathComponent("py-stubs")
            try FileManager.default.createDirectory(at: stubs, withIntermediateDirectories: true)
            try Self.seed(state)
            let gen = try await runCommand("python3", [Self.script, "gen", stubs.path,
                                                       ControllerCluster.repositoryRoot.appendingPathComponent("proto").path])
            guard gen.ok else {
                throw PythonDriverError("grpc_tools could not generate the CSI stubs (exit \(gen.status)): \(gen.stderr.suffix(2000))")
            }
            let driver = Process()
            driver.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            driver.arguments = ["python3", Self.script, "serve", socket, stubs.path, state.path]
            driver.standardOutput = FileHandle.nullDevice
            try driver.run()
            cluster.track(driver)
            try await cluster.apply(Self.objects)
            // What the driver's csi-snapshotter would read with ListSnapshots for an imported snapshot.
            for (content, handle) in [("py-content", "py-snap-1"), ("local-content", "local-1")] {
                try await cluster.kubectl(["patch", "volumesnapshotcontent", content, "--subresource=status", "--type=merge", "-p",
                                           "{\"status\":{\"snapshotHandle\":\"\(handle)\",\"readyToUse\":true,\"restoreSize\":67108864}}"])
            }
            try cluster.controller.start(controllerArguments)
        } catch {
            await cluster.stop()
            throw error
        }
    }

    /// The Python driver's snapshot `py-snap-1` and volume `pyvol-src` (64 MiB), with files.
    static func seed(_ state: URL) throws {
        let fm = FileManager.default
        for (dir, text) in [("snapshots/py-snap-1", "from the python snapshot\n"), ("data/pyvol-src", "from the python volume\n")] {
            let root = state.appendingPathComponent(dir)
            try fm.createDirectory(at: root.appendingPathComponent("db"), withIntermediateDirectories: true)
            try text.write(to: root.appendingPathComponent("db/stats.txt"), atomically: true, encoding: .utf8)
            try Data((0..<4096).map { UInt8($0 % 251) }).write(to: root.appendingPathComponent("blob.bin"))
        }
        try fm.createDirectory(at: state.appendingPathComponent("volumes"), withIntermediateDirectories: true)
        try #"{"id": "pyvol-src", "name": "imported", "capacity": 67108864, "source": null}"#
            .write(to: state.appendingPathComponent("volumes/pyvol-src.json"), atomically: true, encoding: .utf8)
    }

    static let objects = """
        apiVersion: storage.k8s.io/v1
        kind: StorageClass
        metadata: {name: py}
        provisioner: py.csi.ferry.test
        reclaimPolicy: Delete
        volumeBindingMode: Immediate
        ---
        apiVersion: snapshot.storage.k8s.io/v1
        kind: VolumeSnapshotContent
        metadata: {name: py-content}
        spec:
          driver: py.csi.ferry.test
          deletionPolicy: Retain
          source: {snapshotHandle: py-snap-1}
          volumeSnapshotRef: {name: py-nightly, namespace: production}
        ---
        apiVersion: snapshot.storage.k8s.io/v1
        kind: VolumeSnapshot
        metadata: {name: py-nightly, namespace: production}
        spec: {source: {volumeSnapshotContentName: py-content}}
        ---
        apiVersion: snapshot.storage.k8s.io/v1
        kind: VolumeSnapshotContent
        metadata: {name: local-content}
        spec:
          driver: local.csi.ferry.io
          deletionPolicy: Retain
          source: {snapshotHandle: local-1}
          volumeSnapshotRef: {name: local-nightly, namespace: production}
        ---
        apiVersion: snapshot.storage.k8s.io/v1
        kind: VolumeSnapshot
        metadata: {name: local-nightly, namespace: production}
        spec: {source: {volumeSnapshotContentName: local-content}}
        ---
        apiVersion: v1
        kind: PersistentVolume
        metadata: {name: py-src-pv}
        spec:
          capacity: {storage: 64Mi}
          accessModes: [ReadWriteOnce]
          persistentVolumeReclaimPolicy: Retain
          storageClassName: py
          claimRef: {namespace: production, name: py-data}
          csi: {driver: py.csi.ferry.test, volumeHandle: pyvol-src}
        ---
        apiVersion: v1
        kind: PersistentVolumeClaim
        metadata: {name: py-data, namespace: production}
        spec:
          storageClassName: py
          accessModes: [ReadWriteOnce]
          resources: {requests: {storage: 64Mi}}
          volumeName: py-src-pv
        """

    /// Replaces the driver's faults file.
    func setFaults(_ faults: [[String: Any]]) throws {
        let data = try JSONSerialization.data(withJSONObject: faults)
        try data.write(to: state.appendingPathComponent("faults.json"), options: .atomic)
    }

    /// The driver's CreateVolume calls so far (its calls.log).
    func calls() -> [String] {
        let text = (try? String(contentsOf: state.appendingPathComponent("calls.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").filter { $0.hasPrefix("CreateVolume ") }.map(String.init)
    }

    /// The driver's volume records.
    func volumes() -> [[String: Any]] {
        let dir = state.appendingPathComponent("volumes")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".json") }.compactMap {
            FileManager.default.contents(atPath: dir.appendingPathComponent($0).path)
                .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        }
    }
}

struct PythonDriverError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

extension Trait where Self == ClusterSuiteTrait<PythonDriverCluster> {
    /// The cluster, the Python driver and `ferry controller` for the suite.
    static var pythonDriverCluster: Self {
        .init(start: { try await PythonDriverCluster() }, stop: { await $0.cluster.stop() }) { e, run in
            try await PythonDriverCluster.$current.withValue(e) { try await run() }
        }
    }
}

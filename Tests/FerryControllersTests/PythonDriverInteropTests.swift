import CSI
import FerryControllers
import Foundation
import GRPCTransport
import Kube
import KubeTestSupport
import HTTPTestSupport
import Logging
import Testing

/// The runtime against an independent CSI driver written with Python grpcio (Tests/CSITests/Scripts/csi_peer.py:
/// volumes `py-<name>`, content source echoed), not only the project's own test driver.
@Suite(.serialized)
struct PythonDriverInteropTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let peer = repo.appendingPathComponent("Tests/CSITests/Scripts/csi_peer.py").path

    static func run(_ args: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    @Test func aLinkedClaimIsProvisionedThroughAPythonGrpcioDriver() async throws {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-py-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        #expect(try Self.run(["python3", Self.peer, "gen", tmp.path, Self.repo.appendingPathComponent("proto").path]) == 0)
        let sockDir = "/tmp/ferry-pycsi-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: sockDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: sockDir) }
        let socket = sockDir + "/csi.sock"
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", Self.peer, "serve", socket, tmp.path]
        server.standardOutput = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) }; server.waitUntilExit() }

        let h = try await ControllerIntegrationTests.Harness()
        var logger = Logger(label: "py-interop")
        logger.logLevel = .warning
        let channel = try GRPCChannel(target: socket, logger: logger)
        defer { channel.close() }
        var problems: [String] = []
        let caps = try #require(await StartupChecks.driver(identity: IdentityClient(channel: channel), controller: ControllerClient(channel: channel),
                                                           timeout: .seconds(20), logger: logger, problems: &problems))
        #expect(caps.name == "py.csi.ferry.test")
        #expect(caps.snapshots && caps.clone && caps.createDeleteVolume)
        var sc = StorageClass(name: "fast")
        sc.provisioner = caps.name
        sc.volumeBindingMode = "Immediate"
        _ = try await h.client.create(sc)
        // A snapshot whose content belongs to the Python driver.
        var vs = VolumeSnapshot(name: "snap", namespace: "prod")
        vs.spec.source.persistentVolumeClaimName = "data"
        vs = try await h.client.create(vs)
        var vsc = VolumeSnapshotContent(name: "content-snap")
        vsc.spec.driver = caps.name
        vsc.spec.deletionPolicy = "Delete"
        vsc.spec.source = JSONMap(object: ["snapshotHandle": "py-snap-1"])
        vsc.spec.volumeSnapshotRef = ObjectReference(kind: "VolumeSnapshot", namespace: "prod", name: "snap", uid: vs.metadata.uid)
        vsc = try await h.client.create(vsc)
        vsc.status.snapshotHandle = "py-snap-1"
        _ = try await h.client.updateStatus(vsc)
        vs.status.boundVolumeSnapshotContentName = vsc.name
        vs.status.readyToUse = true
        vs.status.restoreSize = "1Gi"
        _ = try await h.client.updateStatus(vs)
        try await h.link("link", to: "snap")
        let claim = try await h.claim("claim", link: "link")

        let cache = InformerCache(client: h.client, served: .init(), logger: logger)
        let context = ReconcileContext(
            kube: LiveKube(client: h.client), cache: cache, csi: ControllerClient(channel: channel),
            feedback: Feedback(sink: EventRecorder(client: h.client, component: "ferry", logger: logger)),
            metrics: ControllerMetrics(),
            configuration: ControllerConfiguration(driver: caps, retryIntervalStart: .milliseconds(50), retryIntervalMax: .seconds(2)),
            logger: logger)
        let controller = Controller(context: context)
        controller.register(cache)
        let run = Task { await withTaskGroup(of: Void.self) { g in
            g.addTask { await cache.run() }
            g.addTask { await cache.waitForSync(); await controller.run() }
        } }
        defer { run.cancel() }
        #expect(await eventually { (try? await h.events(about: "claim"))?.contains { $0.message?.contains("isn't allowed") == true } == true })
        try await h.grant()
        #expect(await eventually(.seconds(15)) { await h.volume(for: claim) != nil })
        let pv = try #require(await h.volume(for: claim))
        #expect(pv.spec.csi?.volumeHandle == "py-pvc-\(claim.metadata.uid ?? "")")
        #expect(pv.spec.csi?.driver == "py.csi.ferry.test")
        #expect(pv.metadata.annotations[Provenance.sourceHandle] == "py-snap-1")
        run.cancel()
        kill(server.processIdentifier, SIGTERM)
        await h.stop()
    }
}

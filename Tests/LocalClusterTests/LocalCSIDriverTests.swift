import CSI
import Foundation
import GRPCTransport
import LocalCluster
import Logging
import Testing

/// The local CSI driver over its real socket: volumes are directories with real data.
struct LocalCSIDriverTests {
    static let mount = VolumeCapability(accessMode: .init(mode: .singleNodeWriter), accessType: .mount(.init()))

    /// A driver served on a socket in a fresh directory; removed afterwards.
    static func withDriver(nodes: [String] = ["node-1", "node-2"],
                           _ body: (LocalCSIDriver, ControllerClient, NodeClient, URL) async throws -> Void) async throws {
        let dir = URL(fileURLWithPath: "/tmp/ferry-lcsi-\(UInt32.random(in: 0...UInt32.max))")
        let driver = try LocalCSIDriver(configuration: .init(directory: dir, nodes: nodes))
        let socket = dir.appendingPathComponent("csi.sock").path
        let logger = Logger(label: "csi-test")
        let server = try CSIServer(configuration: .init(address: socket, busyPoll: .zero), identity: driver,
                                   controller: driver, node: driver, logger: logger)
        let channel = try GRPCChannel(target: socket, logger: logger)
        do {
            try await body(driver, ControllerClient(channel: channel), NodeClient(channel: channel), dir)
        } catch {
            channel.close()
            await server.shutdown(gracePeriod: .seconds(1))
            try? FileManager.default.removeItem(at: dir)
            throw error
        }
        channel.close()
        await server.shutdown(gracePeriod: .seconds(1))
        try? FileManager.default.removeItem(at: dir)
    }

    static func write(_ text: String, to url: URL) throws { try Data(text.utf8).write(to: url) }
    static func read(_ url: URL) -> String? { (try? Data(contentsOf: url)).map { String(decoding: $0, as: UTF8.self) } }

    @Test func snapshotsAndRestoresCopyTheVolumeData() async throws {
        try await Self.withDriver { driver, controller, _, _ in
            let created = try await controller.createVolume(.init(
                name: "pvc-a", capacityRange: .init(requiredBytes: 1 << 20), volumeCapabilities: [Self.mount]))
            let id = try #require(created.volume?.volumeId)
            try Self.write("hello", to: driver.volumeDirectory(id).appendingPathComponent("greeting"))

            let snap = try await controller.createSnapshot(.init(sourceVolumeId: id, name: "snapshot-1"))
            let snapID = try #require(snap.snapshot?.snapshotId)
            #expect(snap.snapshot?.readyToUse == true)
            #expect(snap.snapshot?.sizeBytes == 1 << 20)
            // Later writes do not reach the snapshot.
            try Self.write("changed", to: driver.volumeDirectory(id).appendingPathComponent("greeting"))

            let source = VolumeContentSource(type: .snapshot(.init(snapshotId: snapID)))
            let restored = try await controller.createVolume(.init(
                name: "pvc-b", capacityRange: .init(requiredBytes: 1 << 20), volumeCapabilities: [Self.mount],
                volumeContentSource: source))
            #expect(restored.volume?.contentSource == source)
            let restoredID = try #require(restored.volume?.volumeId)
            #expect(Self.read(driver.volumeDirectory(restoredID).appendingPathComponent("greeting")) == "hello")

            let clone = try await controller.createVolume(.init(
                name: "pvc-c", capacityRange: .init(requiredBytes: 1 << 20), volumeCapabilities: [Self.mount],
                volumeContentSource: .init(type: .volume(.init(volumeId: id)))))
            let cloneID = try #require(clone.volume?.volumeId)
            #expect(Self.read(driver.volumeDirectory(cloneID).appendingPathComponent("greeting")) == "changed")
        }
    }

    @Test func createVolumeIsIdempotentByNameAndRejectsConflicts() async throws {
        try await Self.withDriver { _, controller, _, _ in
            let request = CreateVolumeRequest(name: "pvc-x", capacityRange: .init(requiredBytes: 4096),
                                              volumeCapabilities: [Self.mount])
            let first = try await controller.createVolume(request)
            let second = try await controller.createVolume(request)
            #expect(first.volume?.volumeId == second.volume?.volumeId)
            var bigger = request
            bigger.capacityRange = .init(requiredBytes: 1 << 30)
            await #expect(throws: RPCError(.alreadyExists, "")) { try await controller.createVolume(bigger) }
        }
    }

    @Test func missingSourcesAreNotFound() async throws {
        try await Self.withDriver { _, controller, _, _ in
            await #expect(throws: RPCError(.notFound, "")) {
                try await controller.createVolume(.init(name: "a", volumeCapabilities: [Self.mount],
                                                        volumeContentSource: .init(type: .snapshot(.init(snapshotId: "nope")))))
            }
            await #expect(throws: RPCError(.notFound, "")) {
                try await controller.createVolume(.init(name: "b", volumeCapabilities: [Self.mount],
                                                        volumeContentSource: .init(type: .volume(.init(volumeId: "nope")))))
            }
            await #expect(throws: RPCError(.notFound, "")) {
                try await controller.createSnapshot(.init(sourceVolumeId: "nope", name: "s"))
            }
        }
    }

    @Test func volumesLiveOnTheRequestedNode() async throws {
        try await Self.withDriver { _, controller, _, _ in
            let wanted = Topology(segments: [LocalCSIDriver.topologyKey: "node-2"])
            let created = try await controller.createVolume(.init(
                name: "pvc-t", volumeCapabilities: [Self.mount],
                accessibilityRequirements: .init(requisite: [wanted], preferred: [wanted])))
            #expect(created.volume?.accessibleTopology == [wanted])
            let elsewhere = Topology(segments: [LocalCSIDriver.topologyKey: "node-9"])
            await #expect(throws: RPCError(.resourceExhausted, "")) {
                try await controller.createVolume(.init(name: "pvc-u", volumeCapabilities: [Self.mount],
                                                        accessibilityRequirements: .init(requisite: [elsewhere])))
            }
        }
    }

    @Test func publishLinksTheVolumeAndDeleteRemovesItsData() async throws {
        try await Self.withDriver { driver, controller, node, dir in
            let id = try #require(try await controller.createVolume(.init(name: "pvc-p", volumeCapabilities: [Self.mount])).volume?.volumeId)
            let target = dir.appendingPathComponent("pods/p/volumes/data").path
            await #expect(throws: RPCError(.failedPrecondition, "")) {
                try await node.nodePublishVolume(.init(volumeId: id, targetPath: target, volumeCapability: Self.mount))
            }
            _ = try await node.nodeStageVolume(.init(volumeId: id, stagingTargetPath: dir.appendingPathComponent("stage").path,
                                                     volumeCapability: Self.mount))
            _ = try await node.nodePublishVolume(.init(volumeId: id, stagingTargetPath: dir.appendingPathComponent("stage").path,
                                                       targetPath: target, volumeCapability: Self.mount))
            try Self.write("x", to: URL(fileURLWithPath: target).appendingPathComponent("f"))
            #expect(Self.read(driver.volumeDirectory(id).appendingPathComponent("f")) == "x")
            await #expect(throws: RPCError(.failedPrecondition, "")) {
                try await controller.deleteVolume(.init(volumeId: id))
            }
            _ = try await node.nodeUnpublishVolume(.init(volumeId: id, targetPath: target))
            _ = try await node.nodeUnstageVolume(.init(volumeId: id, stagingTargetPath: dir.appendingPathComponent("stage").path))
            _ = try await controller.deleteVolume(.init(volumeId: id))
            _ = try await controller.deleteVolume(.init(volumeId: id))
            #expect(!FileManager.default.fileExists(atPath: driver.volumeDirectory(id).path))
        }
    }
}

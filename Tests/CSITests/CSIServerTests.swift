import CSI
import CSITestSupport
import GRPCTransport
import Logging
import Testing

@Suite(.timeLimit(.minutes(3)))
struct CSIServerTests {
    static let mount = VolumeCapability(accessMode: .init(mode: .singleNodeWriter), accessType: .mount(.init(fsType: "ext4")))

    @Test func identityCallsReturnTheDriversInfo() async throws {
        try await TestCSIDriver().withServed { served async throws in
            let info = try await served.identity.getPluginInfo()
            #expect(info.name == "ferry.test.csi")
            #expect(info.manifest == ["build": "test"])
            let capabilities = try await served.identity.getPluginCapabilities()
            #expect(capabilities.capabilities.contains(.init(type: .service(.init(type: .controllerService)))))
            #expect(try await served.identity.probe().ready == true)
        }
    }

    @Test func createVolumeFromSnapshotEchoesTheSourceAndIsIdempotent() async throws {
        let driver = TestCSIDriver()
        driver.addSnapshot(.init(sizeBytes: 1 << 30, snapshotId: "snap-src", sourceVolumeId: "vol-x", readyToUse: true))
        try await driver.withServed { served async throws in
            let request = CreateVolumeRequest(
                name: "pvc-1", capacityRange: .init(requiredBytes: 2 << 30), volumeCapabilities: [Self.mount],
                secrets: ["token": "s3cr3t"], volumeContentSource: .init(type: .snapshot(.init(snapshotId: "snap-src"))))
            let first = try await served.controller.createVolume(request)
            let second = try await served.controller.createVolume(request)
            #expect(first.volume?.contentSource == request.volumeContentSource)
            #expect(first.volume?.capacityBytes == 2 << 30)
            #expect(first == second)
            #expect(driver.volumes.count == 1)
            let recorded: [CreateVolumeRequest] = driver.requests("CreateVolume")
            #expect(recorded.map(\.secrets) == [["token": "s3cr3t"], ["token": "s3cr3t"]])
        }
    }

    @Test func createVolumeFromAMissingSourceIsNotFound() async throws {
        try await TestCSIDriver().withServed { served async throws in
            let error = await #expect(throws: RPCError.self) {
                try await served.controller.createVolume(.init(
                    name: "pvc-2", volumeCapabilities: [Self.mount],
                    volumeContentSource: .init(type: .volume(.init(volumeId: "nope")))))
            }
            #expect(error?.code == .notFound)
            #expect(error?.message == "volume nope not found")
        }
    }

    @Test func deleteIsIdempotentAndListPaginates() async throws {
        try await TestCSIDriver().withServed { served async throws in
            for index in 0..<5 {
                _ = try await served.controller.createVolume(.init(name: "pvc-\(index)", volumeCapabilities: [Self.mount]))
            }
            let page1 = try await served.controller.listVolumes(.init(maxEntries: 2))
            let page2 = try await served.controller.listVolumes(.init(maxEntries: 2, startingToken: page1.nextToken))
            let page3 = try await served.controller.listVolumes(.init(maxEntries: 2, startingToken: page2.nextToken))
            #expect([page1.entries.count, page2.entries.count, page3.entries.count] == [2, 2, 1])
            #expect(page3.nextToken.isEmpty)
            let id = try #require(page1.entries.first?.volume?.volumeId)
            _ = try await served.controller.deleteVolume(.init(volumeId: id))
            _ = try await served.controller.deleteVolume(.init(volumeId: id))
            #expect(try await served.controller.listVolumes(.init()).entries.count == 4)
        }
    }

    @Test func snapshotsAreCreatedListedAndDeleted() async throws {
        try await TestCSIDriver().withServed { served async throws in
            let volume = try #require(try await served.controller.createVolume(
                .init(name: "pvc-s", volumeCapabilities: [Self.mount])).volume)
            let snapshot = try #require(try await served.controller.createSnapshot(
                .init(sourceVolumeId: volume.volumeId, name: "snap-a")).snapshot)
            #expect(snapshot.readyToUse)
            #expect(snapshot.creationTime != nil)
            let listed = try await served.controller.listSnapshots(.init(sourceVolumeId: volume.volumeId))
            #expect(listed.entries.map(\.snapshot) == [snapshot])
            _ = try await served.controller.deleteSnapshot(.init(snapshotId: snapshot.snapshotId))
            #expect(try await served.controller.listSnapshots(.init()).entries.isEmpty)
        }
    }

    @Test func capabilitiesAndNodeInfoIncludeTopology() async throws {
        try await TestCSIDriver().withServed { served async throws in
            let controller = try await served.controller.controllerGetCapabilities()
            #expect(controller.capabilities.contains(.init(type: .rpc(.init(type: .createDeleteSnapshot)))))
            let info = try await served.node.nodeGetInfo()
            #expect(info.nodeId == "node-1")
            #expect(info.accessibleTopology?.segments == ["topology.ferry.test/zone": "zone-a"])
            let created = try await served.controller.createVolume(.init(
                name: "pvc-t", volumeCapabilities: [Self.mount],
                accessibilityRequirements: .init(preferred: [.init(segments: ["topology.ferry.test/zone": "zone-b"])])))
            #expect(created.volume?.accessibleTopology == [.init(segments: ["topology.ferry.test/zone": "zone-b"])])
        }
    }

    @Test(arguments: [RPCStatusCode.resourceExhausted, .unavailable, .aborted])
    func injectedFailuresReachTheClientOnce(code: RPCStatusCode) async throws {
        let driver = TestCSIDriver()
        driver.inject(.init(error: RPCError(code, "injected"), times: 1), into: "CreateVolume")
        try await driver.withServed { served async throws in
            let request = CreateVolumeRequest(name: "pvc-f", volumeCapabilities: [Self.mount])
            let error = await #expect(throws: RPCError.self) { try await served.controller.createVolume(request) }
            #expect(error?.code == code)
            #expect(error?.message == "injected")
            #expect(try await served.controller.createVolume(request).volume != nil)
        }
    }

    @Test func injectedDelayMeetsTheClientDeadline() async throws {
        let driver = TestCSIDriver()
        driver.inject(.init(delay: .seconds(30)), into: "Probe")
        try await driver.withServed { served async throws in
            let error = await #expect(throws: RPCError.self) {
                try await served.identity.probe(options: .init(timeout: .seconds(5)))
            }
            #expect(error?.code == .deadlineExceeded)
            #expect(driver.calls.first?.deadline != nil)
        }
    }

    @Test func malformedRequestIsInvalidArgumentAndTheServerKeepsServing() async throws {
        try await TestCSIDriver().withServed { served async throws in
            let error = await #expect(throws: RPCError.self) {
                try await served.channel.unary(method: "/csi.v1.Controller/CreateVolume", request: [0x0A, 0x05, 0x41])
            }
            #expect(error?.code == .invalidArgument)
            #expect(try await served.identity.probe().ready == true)
        }
    }

    @Test(arguments: ["/csi.v1.Identity/Nope", "/csi.v1.GroupController/GroupControllerGetCapabilities", "/x/y"])
    func unknownMethodsAreUnimplemented(method: String) async throws {
        try await TestCSIDriver().withServed { served async throws in
            let error = await #expect(throws: RPCError.self) {
                try await served.channel.unary(method: method, request: [])
            }
            #expect(error?.code == .unimplemented)
        }
    }

    @Test func servicesNotServedAreUnimplemented() async throws {
        try await TestCSIDriver().withServed(node: false) { served async throws in
            let error = await #expect(throws: RPCError.self) { try await served.node.nodeGetInfo() }
            #expect(error?.code == .unimplemented)
        }
    }

    @Test func defaultServiceMethodsAnswerUnimplemented() async throws {
        struct OnlyIdentity: IdentityService {}
        let path = try temporaryCSISocketPath()
        defer { removeSocketDirectory(path) }
        let server = try CSIServer(configuration: .init(address: path), identity: OnlyIdentity(), logger: .init(label: "t"))
        let channel = try GRPCChannel(target: path, logger: .init(label: "t"))
        let error = await #expect(throws: RPCError.self) { try await IdentityClient(channel: channel).probe() }
        #expect(error?.code == .unimplemented)
        channel.close()
        await server.shutdown()
    }
}

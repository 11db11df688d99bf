import CSI
import CSITestSupport
import Foundation
import GRPCTransport
import Logging
import Testing

/// Wire interop with an independent gRPC implementation (Python grpcio), both directions.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct InteropTests {
    static let mount = VolumeCapability(accessMode: .init(mode: .singleNodeWriter), accessType: .mount(.init(fsType: "ext4")))

    @Test func pythonClientAgainstFerryServer() async throws {
        let stubs = try await generatePythonStubs()
        defer { try? FileManager.default.removeItem(atPath: stubs) }
        let driver = TestCSIDriver()
        driver.addSnapshot(.init(sizeBytes: 1 << 30, snapshotId: "snap-py", sourceVolumeId: "vol-0", readyToUse: true))
        driver.inject(.init(error: RPCError(.failedPrecondition, "volume x is still published"), times: 1), into: "DeleteVolume")
        driver.inject(.init(delay: .seconds(30), times: 1), into: "Probe")
        try await driver.withServed { served async throws in
            let client = try ChildProcess(["python3", RepoPaths.scripts + "/csi_peer.py", "client", served.socketPath, stubs])
            let status = try await client.wait()
            let output = client.output
            await client.terminate()
            #expect(status == 0, "\(output)")
            let line = try #require(output.split(separator: "\n").last(where: { $0.hasPrefix("{") }))
            let results = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])

            #expect(results["plugin_name"] as? String == "ferry.test.csi")
            #expect(results["manifest"] as? [String: String] == ["build": "test"])
            #expect(results["created_source_case"] as? String == "snapshot")
            #expect(results["created_source_id"] as? String == "snap-py")
            #expect(results["created_capacity"] as? Int == 3 << 30)
            #expect(results["created_topology"] as? [[String: String]] == [["topology.ferry.test/zone": "zone-a"]])
            let created: [CreateVolumeRequest] = driver.requests("CreateVolume")
            #expect(created.first?.secrets == ["user": "py", "token": "t0k3n"])

            #expect(results["missing_source"] as? [String: String] == ["code": "NOT_FOUND", "details": "volume vol-missing not found"])
            #expect(results["injected_failure"] as? [String: String] == ["code": "FAILED_PRECONDITION", "details": "volume x is still published"])
            #expect((results["deadline"] as? [String: String])?["code"] == "DEADLINE_EXCEEDED")
            #expect(results["near_limit"] as? [String: String] == ["code": "OK"])
            #expect((results["near_limit_request_bytes"] as? Int ?? 0) > 4 * 1024 * 1024 - 2048)
            #expect((results["over_limit"] as? [String: String])?["code"] == "RESOURCE_EXHAUSTED")
            #expect(results["concurrent_ok"] as? Int == 64)
            #expect((results["malformed"] as? [String: String])?["code"] == "INVALID_ARGUMENT")
            #expect((results["unknown_method"] as? [String: String])?["code"] == "UNIMPLEMENTED")
            #expect(results["probe_after_errors"] as? Bool == true)
        }
    }

    @Test func ferryClientAndFerryCLIAgainstPythonServer() async throws {
        let stubs = try await generatePythonStubs()
        defer { try? FileManager.default.removeItem(atPath: stubs) }
        let socket = try temporaryCSISocketPath()
        defer { removeSocketDirectory(socket) }
        let server = try ChildProcess(["python3", RepoPaths.scripts + "/csi_peer.py", "serve", socket, stubs])
        let channel = try GRPCChannel(target: socket, logger: Logger(label: "ferry.test.interop"))
        do {
            try await exercisePythonServer(channel: channel, socket: socket)
        } catch {
            Issue.record("python server output: \(server.output)")
            channel.close()
            await server.terminate()
            throw error
        }
        channel.close()
        await server.terminate()
        try? FileManager.default.removeItem(atPath: (socket as NSString).deletingLastPathComponent)
    }

    private func exercisePythonServer(channel: GRPCChannel, socket: String) async throws {
        let identity = IdentityClient(channel: channel)
        let controller = ControllerClient(channel: channel)
        // The Python server may still be starting: the first call waits for it.
        let info = try await identity.getPluginInfo(options: .init(timeout: .seconds(30), waitForReady: true))
        #expect(info.name == "py.csi.ferry.test")
        #expect(info.manifest == ["impl": "grpcio"])
        let capabilities = try await identity.getPluginCapabilities()
        #expect(capabilities.capabilities.contains(.init(type: .volumeExpansion(.init(type: .online)))))
        #expect(try await identity.probe().ready == true)

        let request = CreateVolumeRequest(
            name: "ferry-vol", capacityRange: .init(requiredBytes: 7 << 20), volumeCapabilities: [Self.mount],
            secrets: ["user": "ferry", "password": "p@ss"],
            volumeContentSource: .init(type: .volume(.init(volumeId: "vol-src"))),
            accessibilityRequirements: .init(preferred: [.init(segments: ["zone": "z9"])]))
        let volume = try #require(try await controller.createVolume(request).volume)
        #expect(volume.volumeContext == ["user": "ferry", "password": "p@ss"])
        #expect(volume.contentSource == request.volumeContentSource)
        #expect(volume.capacityBytes == 7 << 20)
        #expect(volume.accessibleTopology == [.init(segments: ["zone": "z9"])])

        let notFound = await #expect(throws: RPCError.self) {
            try await controller.createVolume(.init(name: "not-found"))
        }
        #expect(notFound?.code == .notFound)
        #expect(notFound?.message == "snapshot snap-missing not found")

        let slow = await #expect(throws: RPCError.self) {
            try await controller.createVolume(.init(name: "slow"), options: .init(timeout: .milliseconds(200)))
        }
        #expect(slow?.code == .deadlineExceeded)

        let limit = 4 * 1024 * 1024
        let near = try await controller.createVolume(.init(name: "big-\(limit - 1024)"))
        #expect(near.volume?.volumeContext["x"]?.count == limit - 1024)
        let over = await #expect(throws: RPCError.self) {
            try await controller.createVolume(.init(name: "big-\(limit + 1024)"))
        }
        #expect(over?.code == .resourceExhausted)

        let matched = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<64 {
                group.addTask {
                    let response = try await controller.createVolume(.init(name: "c\(index)", capacityRange: .init(requiredBytes: Int64(index))))
                    return response.volume?.volumeId == "py-c\(index)"
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(matched == 64)

        // `ferry csi info` against the same server, text and JSON.
        let text = try ChildProcess([ferryBinary, "csi", "info", "--endpoint", "unix://" + socket, "--timeout", "60s"])
        #expect(try await text.wait() == 0, "\(text.output)")
        let printed = text.output
        await text.terminate()
        #expect(printed.contains("py.csi.ferry.test 0.9.1"))
        #expect(printed.contains("CONTROLLER_SERVICE"))
        #expect(printed.contains("VOLUME_EXPANSION:ONLINE"))
        #expect(printed.contains("CREATE_DELETE_SNAPSHOT"))
        #expect(printed.contains("py-node"))

        let json = try ChildProcess([ferryBinary, "csi", "info", "--endpoint", socket, "--json", "--timeout", "60s"])
        #expect(try await json.wait() == 0, "\(json.output)")
        let jsonOutput = json.output
        await json.terminate()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(jsonOutput.utf8)) as? [String: Any])
        #expect(object["name"] as? String == "py.csi.ferry.test")
        #expect(object["controllerCapabilities"] as? [String] == ["CREATE_DELETE_VOLUME", "CREATE_DELETE_SNAPSHOT", "CLONE_VOLUME"])
        #expect((object["node"] as? [String: Any])?["nodeID"] as? String == "py-node")
    }
}

import CSITestSupport
import Foundation
import Testing

/// `ferry csi info` error paths and output against the in-memory driver (the Python server is in InteropTests).
@Suite(.timeLimit(.minutes(3)))
struct CSIInfoCommandTests {
    @Test func reportsTheTestDriver() async throws {
        try await TestCSIDriver().withServed { served async throws in
            let child = try ChildProcess([ferryBinary, "csi", "info", "--endpoint", served.socketPath, "--timeout", "60s"])
            #expect(try await child.wait() == 0)
            let output = child.output
            await child.terminate()
            #expect(output.contains("ferry.test.csi 1.0.0"))
            #expect(output.contains("VOLUME_ACCESSIBILITY_CONSTRAINTS"))
            #expect(output.contains("topology.ferry.test/zone=zone-a"))
        }
    }

    @Test func controllerOnlyDriverReportsNodeNotServed() async throws {
        try await TestCSIDriver().withServed(node: false) { served async throws in
            let child = try ChildProcess([ferryBinary, "csi", "info", "--endpoint", served.socketPath, "--json", "--timeout", "60s"])
            #expect(try await child.wait() == 0)
            let output = child.output
            await child.terminate()
            let object = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            #expect(object["node"] == nil)
            #expect((object["controllerCapabilities"] as? [String])?.contains("CREATE_DELETE_VOLUME") == true)
        }
    }

    @Test(arguments: ["1e21", "1e21s", "1e300m"])
    func absurdlyLongTimeoutsMeanForeverInsteadOfATrap(_ timeout: String) async throws {
        try await TestCSIDriver().withServed { served async throws in
            let child = try ChildProcess([ferryBinary, "csi", "info", "--endpoint", served.socketPath, "--timeout", timeout])
            #expect(try await child.wait() == 0)
            let output = child.output
            await child.terminate()
            #expect(output.contains("ferry.test.csi 1.0.0"))
        }
    }

    @Test func slowDriverTimesOutWithAClearMessage() async throws {
        let driver = TestCSIDriver()
        driver.inject(.init(delay: .seconds(30)), into: "GetPluginInfo")
        try await driver.withServed { served async throws in
            let child = try ChildProcess([ferryBinary, "csi", "info", "--endpoint", served.socketPath, "--timeout", "200ms"])
            #expect(try await child.wait() == 6)
            let output = child.output
            await child.terminate()
            #expect(output.contains("no answer from \(served.socketPath) within"))
        }
    }

    @Test(arguments: [
        ("/tmp/ferry-definitely-missing/csi.sock", Int32(6), "no socket at"),
        ("/etc/hostname", Int32(6), "is not a Unix socket"),
        ("relative.sock", Int32(2), "expected unix:///absolute/path"),
    ])
    func badEndpointsFailClearly(endpoint: String, status: Int32, message: String) async throws {
        let child = try ChildProcess([ferryBinary, "csi", "info", "--endpoint", endpoint])
        #expect(try await child.wait() == status)
        let output = child.output
        await child.terminate()
        #expect(output.contains(message), "\(output)")
    }

    @Test func gRPCServerWithoutCSIIsReportedAsNotACSIDriver() async throws {
        let path = try temporaryCSISocketPath()
        defer { removeSocketDirectory(path) }
        let server = try GRPCServerWithoutCSI(path: path)
        let child = try ChildProcess([ferryBinary, "csi", "info", "--endpoint", path, "--timeout", "60s"])
        #expect(try await child.wait() == 6)
        let output = child.output
        await child.terminate()
        await server.stop()
        #expect(output.contains("does not implement the CSI Identity service"), "\(output)")
    }
}

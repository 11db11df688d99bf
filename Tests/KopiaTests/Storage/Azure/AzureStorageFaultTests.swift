import Foundation
import Testing
import KopiaTestSupport
@testable import Kopia

/// Retries through a fault-injecting proxy in front of the Azure test server (signatures stay valid: the proxy
/// forwards requests unchanged).
struct AzureStorageFaultTests {
    typealias Fault = FaultInjectingProxy.Fault

    @Test(arguments: [
        [Fault.status(503, code: "ServerBusy"), .dropConnection],
        [.status(500, code: "InternalError"), .status(502, code: "BadGateway"), .status(504, code: "GatewayTimeout")],
        [.status(429, code: "TooManyRequests"), .dropConnection, .status(503, code: "ServiceUnavailable")],
    ])
    func transientFailuresAreRetriedUntilTheyPass(_ faults: [Fault]) async throws {
        let server = try await AzureBlobServer.shared()
        let container = try await AzureStorageServerTests.freshContainer(server, "flaky")
        let direct = try AzureStorageServerTests.storage(server, container: container, prefix: "r/")
        let payload = (0..<5000).map { UInt8(truncatingIfNeeded: $0) }
        try await direct.write("p1", payload)
        try await direct.write("p2", Array("two".utf8))
        let proxy = try FaultInjectingProxy(upstreamPort: server.port) { r in
            r.attempt < faults.count ? faults[r.attempt] : .pass
        }
        defer { proxy.stop() }
        let azure = try AzureStorageServerTests.storage(server, container: container, prefix: "r/", domainPort: proxy.port)
        #expect(try await azure.read("p1") == payload)
        #expect(try await azure.read("p1", offset: 100, length: 50) == Array(payload[100..<150]))
        #expect(Set(try await azure.list(prefix: "p").map(\.id)) == ["p1", "p2"])
        try await azure.write("p3", [7, 7, 7])
        #expect(try await direct.read("p3") == [7, 7, 7])
        #expect(try await azure.metadata("p2").length == 3)
        try await azure.delete("p3")
        #expect(proxy.records.filter { $0.fault != .pass }.count == 6 * faults.count)
    }

    @Test func exhaustedRetriesFailTransientAndNotFoundIsNotRetried() async throws {
        let server = try await AzureBlobServer.shared()
        let container = try await AzureStorageServerTests.freshContainer(server, "down")
        let proxy = try FaultInjectingProxy(upstreamPort: server.port) { r in
            r.target.contains("missing") ? .pass : .status(503, code: "ServerBusy")
        }
        defer { proxy.stop() }
        let policy = S3RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20))
        let azure = try AzureStorageServerTests.storage(server, container: container, domainPort: proxy.port, retry: policy)
        let e = try await S3StorageMotoTests.failure { try await azure.read("p1") }
        #expect(e.retry == .transient && e.message.contains("ServerBusy") && e.message.contains("after retries"), "\(e)")
        #expect(proxy.records.filter { $0.target.contains("/p1") }.count == 3)
        let missing = try await S3StorageMotoTests.failure { try await azure.read("missing") }
        #expect(missing.code == .blobNotFound && missing.retry == .permanent)
        #expect(proxy.records.filter { $0.target.contains("/missing") }.count == 1)
    }
}

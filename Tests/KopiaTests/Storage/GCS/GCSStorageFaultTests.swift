import Foundation
import Testing
import KopiaTestSupport
@testable import Kopia

/// Retries through a fault-injecting proxy in front of the GCS emulator: dropped connections and 429/500/502/503/504
/// are retried with backoff until they pass; 404 is answered at once; exhausted retries fail transient.
struct GCSStorageFaultTests {
    typealias Fault = FaultInjectingProxy.Fault

    @Test(arguments: [
        [Fault.status(503, code: "backendError"), .dropConnection],
        [.status(500, code: "internalError"), .status(502, code: "BadGateway"), .status(504, code: "GatewayTimeout")],
        [.status(429, code: "rateLimitExceeded"), .dropConnection, .status(503, code: "ServiceUnavailable")],
    ])
    func transientFailuresAreRetriedUntilTheyPass(_ faults: [Fault]) async throws {
        let server = try await FakeGCSServer.shared()
        let bucket = try await GCSStorageEmulatorTests.freshBucket(server, "flaky")
        let direct = try GCSStorageEmulatorTests.storage(server, bucket: bucket, prefix: "r/")
        let payload = (0..<5000).map { UInt8(truncatingIfNeeded: $0) }
        try await direct.write("p1", payload)
        try await direct.write("p2", Array("two".utf8))
        let proxy = try FaultInjectingProxy(upstreamPort: server.port) { r in
            r.attempt < faults.count ? faults[r.attempt] : .pass
        }
        defer { proxy.stop() }
        let gcs = try GCSStorageEmulatorTests.storage(server, bucket: bucket, prefix: "r/", endpoint: proxy.endpoint)
        #expect(try await gcs.read("p1") == payload)
        #expect(try await gcs.read("p1", offset: 100, length: 50) == Array(payload[100..<150]))
        #expect(Set(try await gcs.list(prefix: "p").map(\.id)) == ["p1", "p2"])
        try await gcs.write("p3", [7, 7, 7])
        #expect(try await direct.read("p3") == [7, 7, 7])
        #expect(try await gcs.metadata("p2").length == 3)
        try await gcs.delete("p3")
        // Each of the six operations saw every fault once, then passed.
        let injected = proxy.records.filter { $0.fault != .pass }
        #expect(injected.count == 6 * faults.count)
    }

    @Test func exhaustedRetriesFailTransientAndNotFoundIsNotRetried() async throws {
        let server = try await FakeGCSServer.shared()
        let bucket = try await GCSStorageEmulatorTests.freshBucket(server, "down")
        let proxy = try FaultInjectingProxy(upstreamPort: server.port) { r in
            r.target.contains("missing") || r.target.contains("/b/\(bucket)?") ? .pass : .status(503, code: "backendError")
        }
        defer { proxy.stop() }
        let policy = S3RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20))
        let gcs = try GCSStorageEmulatorTests.storage(server, bucket: bucket, endpoint: proxy.endpoint, retry: policy)
        let e = try await S3StorageMotoTests.failure { try await gcs.read("p1") }
        #expect(e.retry == .transient && e.message.contains("503") && e.message.contains("after retries"), "\(e)")
        #expect(proxy.records.filter { $0.target.contains("/o/p1") }.count == 3)
        let missing = try await S3StorageMotoTests.failure { try await gcs.read("missing") }
        #expect(missing.code == .blobNotFound && missing.retry == .permanent)
        #expect(proxy.records.filter { $0.target.contains("/o/missing") }.count == 1)
    }
}

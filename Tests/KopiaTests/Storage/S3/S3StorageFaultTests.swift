import Foundation
import Logging
import Testing
import KopiaTestSupport
@testable import Kopia

/// Retries, region hints and TLS failures, proved through a fault-injecting proxy in front of moto and through
/// moto serving HTTPS with a throw-away certificate.
struct S3StorageFaultTests {
    typealias Fault = FaultInjectingProxy.Fault

    @Test(arguments: [
        [Fault.status(503, code: "SlowDown"), .dropConnection],
        [.status(500, code: "InternalError"), .status(502, code: "BadGateway"), .status(504, code: "GatewayTimeout")],
        [.status(429, code: "TooManyRequests"), .dropConnection, .status(503, code: "ServiceUnavailable")],
    ])
    func transientFailuresAreRetriedUntilTheyPass(_ faults: [Fault]) async throws {
        try await withMotoServer { server in
            try await server.createBucket("flaky")
            let direct = try S3StorageMotoTests.storage(server, bucket: "flaky", prefix: "r/")
            let payload = (0..<5000).map { UInt8(truncatingIfNeeded: $0) }
            try await direct.write("p1", payload)
            try await direct.write("p2", Array("two".utf8))
            let proxy = try FaultInjectingProxy(upstreamPort: server.port) { r in
                r.attempt < faults.count ? faults[r.attempt] : .pass
            }
            defer { proxy.stop() }
            let s3 = try S3StorageMotoTests.storage(server, bucket: "flaky", prefix: "r/", endpoint: proxy.endpoint)
            #expect(try await s3.read("p1") == payload)
            #expect(try await s3.read("p1", offset: 100, length: 50) == Array(payload[100..<150]))
            #expect(Set(try await s3.list(prefix: "p").map(\.id)) == ["p1", "p2"])
            try await s3.write("p3", [7, 7, 7])
            #expect(try await direct.read("p3") == [7, 7, 7])
            // Each of the four operations saw every fault once, then passed.
            let injected = proxy.records.filter { $0.fault != .pass }
            #expect(injected.count == 4 * faults.count)
        }
    }

    @Test func exhaustedRetriesFailTransientAndClientErrorsAreNotRetried() async throws {
        try await withMotoServer { server in
            try await server.createBucket("down")
            let proxy = try FaultInjectingProxy(upstreamPort: server.port) { r in
                r.target.contains("missing") ? .pass : .status(503, code: "SlowDown")
            }
            defer { proxy.stop() }
            let policy = S3RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(5), maxDelay: .milliseconds(20))
            let s3 = try S3StorageMotoTests.storage(server, bucket: "down", endpoint: proxy.endpoint, retry: policy)
            let e = try await S3StorageMotoTests.failure { try await s3.read("p1") }
            #expect(e.retry == .transient && e.message.contains("SlowDown") && e.message.contains("after retries"))
            #expect(proxy.records.filter { $0.target.contains("p1") }.count == 3)
            let missing = try await S3StorageMotoTests.failure { try await s3.read("missing") }
            #expect(missing.code == .blobNotFound)
            #expect(proxy.records.filter { $0.target.contains("missing") }.count == 1)
        }
    }

    @Test func wrongRegionHintIsFollowedOnceAndRemembered() async throws {
        try await withMotoServer { server in
            try await server.createBucket("regional")
            try await S3StorageMotoTests.storage(server, bucket: "regional").write("kopia.repository", [1])
            let proxy = try FaultInjectingProxy(upstreamPort: server.port) { _ in .requireRegion("eu-west-1") }
            defer { proxy.stop() }
            let s3 = try S3StorageMotoTests.storage(server, bucket: "regional", endpoint: proxy.endpoint)
            #expect(try await s3.read("kopia.repository") == [1])
            #expect(s3.currentRegion == "eu-west-1")
            #expect(try await s3.list(prefix: "").count == 1)
            #expect(proxy.records.map(\.fault) == [.requireRegion("eu-west-1"), .pass, .pass])

            // A server that keeps naming a different region is not followed a second time.
            let pingPong = try FaultInjectingProxy(upstreamPort: server.port) { r in
                .requireRegion(r.signedRegion == "us-east-1" ? "eu-west-1" : "us-east-1")
            }
            defer { pingPong.stop() }
            let s3b = try S3StorageMotoTests.storage(server, bucket: "regional", endpoint: pingPong.endpoint)
            let e = try await S3StorageMotoTests.failure { try await s3b.read("kopia.repository") }
            #expect(e.message.contains("wrong region") && e.message.contains("AWS_REGION=us-east-1"))
            #expect(pingPong.records.count == 2)
        }
    }

    @Test func tlsEndpointWorksWithItsCAAndFailuresNameEndpointAndCA() async throws {
        let cert = try TestCertificate.make()
        let other = try TestCertificate.make()
        defer { cert.remove(); other.remove() }
        try await withMotoServer(tls: (cert.certificatePath, cert.keyPath)) { server in
            #expect(server.endpoint.hasPrefix("https://"))
            try await server.createBucket("secure")
            let trusted = try S3StorageMotoTests.storage(server, bucket: "secure", caFile: cert.certificatePath)
            try await trusted.write("kopia.repository", [4, 2])
            #expect(try await trusted.read("kopia.repository") == [4, 2])

            let system = try S3StorageMotoTests.storage(server, bucket: "secure")
            let e1 = try await S3StorageMotoTests.failure { try await system.read("kopia.repository") }
            #expect(e1.message.contains("TLS") && e1.message.contains(server.endpoint)
                && e1.message.contains("system CA bundle"), "\(e1)")
            let wrong = try S3StorageMotoTests.storage(server, bucket: "secure", caFile: other.certificatePath)
            let e2 = try await S3StorageMotoTests.failure { try await wrong.list(prefix: "") }
            #expect(e2.message.contains(other.certificatePath) && e2.message.contains(server.endpoint), "\(e2)")
            #expect(e2.retry == .permanent)
        }
        #expect(throws: KopiaError(.invalidArgument, "")) {
            _ = try S3Storage(configuration: S3Configuration(
                location: S3Location(bucket: "b"), endpoint: try S3Endpoint.parse("https://127.0.0.1:1"),
                credentials: nil, caFile: "/nonexistent/ca.pem"), httpClient: try SharedTestHTTPClient.client(),
                logger: Logger(label: "t"))
        }
    }
}

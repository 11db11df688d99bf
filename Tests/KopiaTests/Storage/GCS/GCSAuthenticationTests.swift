import CurlHTTP
import Foundation
import Logging
import Synchronization
import Testing
import KopiaTestSupport
@testable import Kopia

/// Service-account OAuth against a token endpoint that verifies assertions with google-auth and a gateway that
/// checks every bearer token (in front of the GCS emulator): JWTs equal google-auth's, tokens are cached and
/// refreshed before expiry, rejected tokens are replaced once, and wrong or expired credentials fail clearly.
struct GCSAuthenticationTests {
    /// A settable clock (seconds since the epoch) for token expiry.
    final class Clock: Sendable {
        let value = Mutex<Int64>(Int64(Date().timeIntervalSince1970))
        func advance(_ seconds: Int64) { value.withLock { $0 += seconds } }
        var now: @Sendable () -> Int64 { { [self] in value.withLock { $0 } } }
    }

    static func storage(_ gateway: GCSAuthGateway, bucket: String, key: GCSServiceAccountKey? = nil,
                        clock: Clock = Clock()) throws -> GCSStorage {
        let config = GCSConfiguration(location: GCSLocation(bucket: bucket, prefix: "r/"),
                                      endpoint: try S3Endpoint.parse(gateway.endpoint),
                                      credentials: .serviceAccount(key ?? gateway.key),
                                      retryPolicy: GCSStorageEmulatorTests.fastRetries)
        let logger = Logger(label: "test.gcs.auth")
        return try GCSStorage(configuration: config, client: try GCSStorage.makeHTTPClient(for: config, logger: logger),
                              logger: logger, now: clock.now)
    }

    @Test func assertionsEqualGoogleAuthSignaturesAndClaims() async throws {
        let server = try await FakeGCSServer.shared()
        let gateway = try await GCSAuthGateway.start(upstream: server)
        defer { gateway.stop() }
        let signer = try RSASHA256Signer(pem: gateway.key.privateKeyPEM, source: "test key")
        let now: Int64 = 1_800_000_000
        let jwt = try GCSJSONWebToken.assertion(key: gateway.key, signer: signer,
                                                scopes: [GCSConfiguration.readWriteScope, "openid"], now: now)
        // google-auth signs the same header.claims with the same key: RS256 (PKCS#1 v1.5) is deterministic, so the
        // signatures must be identical; its verifier must accept ours (time checks relaxed via a current `now`).
        let current = Int64(Date().timeIntervalSince1970)
        let live = try GCSJSONWebToken.assertion(key: gateway.key, signer: signer,
                                                 scopes: [GCSConfiguration.readWriteScope, "openid"], now: current)
        for token in [jwt, live] {
            let parts = token.split(separator: ".")
            #expect(parts.count == 3 && !token.contains("=") && !token.contains("+") && !token.contains("/"))
        }
        let out = try await PeerScripts.run("jwt_check.py", [gateway.keyPath, gateway.publicKeyPath, live])
        let result = try #require(try JSONSerialization.jsonObject(with: out) as? [String: Any])
        #expect(result["signatureEqual"] as? Bool == true)
        let claims = try #require(result["claims"] as? [String: Any])
        #expect(claims["iss"] as? String == GCSAuthGateway.clientEmail)
        #expect(claims["aud"] as? String == gateway.key.tokenURI)
        #expect(claims["scope"] as? String == "\(GCSConfiguration.readWriteScope) openid")
        #expect((claims["iat"] as? Int).map(Int64.init) == current - 10)
        #expect((claims["exp"] as? Int).map(Int64.init) == current - 10 + 3600)
        let header = try #require(result["header"] as? [String: Any])
        #expect(header["alg"] as? String == "RS256" && header["kid"] as? String == gateway.key.privateKeyID)
        // The fixed-time token's signature also matches (google-auth only refuses its expired claims).
        let fixed = try await PeerScripts.run("jwt_sign.py", [gateway.keyPath, String(jwt.split(separator: ".").prefix(2).joined(separator: "."))])
        #expect(String(decoding: fixed, as: UTF8.self) == String(jwt.split(separator: ".")[2]))
    }

    /// The gateway's tokens live 100 s and it verifies assertions against real time (60 s of skew allowed), so the
    /// injected clock moves at most 45 s ahead; Ferry refreshes once fewer than 60 s remain.
    @Test func tokensAreCachedRefreshedBeforeExpiryAndReplacedWhenRejected() async throws {
        let server = try await FakeGCSServer.shared()
        let bucket = try await GCSStorageEmulatorTests.freshBucket(server, "auth")
        try await server.peer([["op": "put-many", "bucket": bucket, "prefix": "r/", "count": 1]])
        let gateway = try await GCSAuthGateway.start(upstream: server, tokenLifetime: 100)
        defer { gateway.stop() }
        let clock = Clock()
        let gcs = try Self.storage(gateway, bucket: bucket, clock: clock)
        let id = "p" + String(repeating: "0", count: 32) + "-s0"
        // Concurrent first callers share one exchange.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    let bytes = try await gcs.read(id)
                    #expect(bytes == Array("r/\(id)".utf8))
                }
            }
            try await group.waitForAll()
        }
        try await gcs.write("p1", [1, 2, 3])
        #expect(try await gcs.list(prefix: "p1").map(\.id) == ["p1"])
        #expect(gcs.tokenExchangeCount == 1, "one token serves every request while it is fresh")
        // 30 s later 70 s remain: reused. 15 s later only 55 s remain (< 60 s margin): refreshed before expiry.
        clock.advance(30)
        _ = try await gcs.metadata("p1")
        #expect(gcs.tokenExchangeCount == 1)
        clock.advance(15)
        _ = try await gcs.metadata("p1")
        #expect(gcs.tokenExchangeCount == 2, "refreshed before expiry")
        // A token the server revoked early: 401, dropped, one fresh exchange, the call succeeds.
        try await gateway.revokeAll()
        #expect(try await gcs.read("p1") == [1, 2, 3])
        #expect(gcs.tokenExchangeCount == 3)
        let stats = try await gateway.stats()
        #expect(stats["tokens"] == 3 && stats["rejected"] == 1, "\(stats)")
    }

    @Test func wrongKeyFailsOnceWithAClearPermanentError() async throws {
        let server = try await FakeGCSServer.shared()
        let bucket = try await GCSStorageEmulatorTests.freshBucket(server, "wrongkey")
        let gateway = try await GCSAuthGateway.start(upstream: server)
        defer { gateway.stop() }
        let other = try gateway.otherKey()
        let gcs = try Self.storage(gateway, bucket: bucket, key: other)
        let e = try await S3StorageMotoTests.failure { try await gcs.read("kopia.repository") }
        #expect(e.code == .storageFailure && e.retry == .permanent, "\(e)")
        #expect(e.message.contains("invalid_grant") && e.message.contains(GCSAuthGateway.clientEmail)
            && e.message.contains("GOOGLE_APPLICATION_CREDENTIALS"), "\(e)")
        #expect(e.blobID == "kopia.repository")
        #expect(try await gateway.stats()["rejected"] == 1, "a refused grant is not retried")
        for secret in [other.privateKeyPEM, gateway.key.privateKeyPEM] {
            let body = secret.split(separator: "\n").dropFirst().first.map(String.init) ?? secret
            #expect(!"\(e)".contains(body))
        }
    }

    @Test func expiredTokensThatCannotBeRenewedFailClearly() async throws {
        let server = try await FakeGCSServer.shared()
        let bucket = try await GCSStorageEmulatorTests.freshBucket(server, "expired")
        // Tokens that are already expired when they arrive: the first 401 triggers one refresh, the second is final.
        let gateway = try await GCSAuthGateway.start(upstream: server, tokenLifetime: 0)
        defer { gateway.stop() }
        let gcs = try Self.storage(gateway, bucket: bucket)
        let e = try await S3StorageMotoTests.failure { try await gcs.list(prefix: "") }
        #expect(e.retry == .permanent && e.message.contains("401") && e.message.contains("expired"), "\(e)")
        #expect(e.message.contains("GOOGLE_APPLICATION_CREDENTIALS"))
        #expect(gcs.tokenExchangeCount == 2)
        // No token at all (an emulator configuration pointed at an authenticating server) is not retried either.
        var anonymous = gcs.configuration
        anonymous.credentials = .none
        let logger = Logger(label: "t")
        let plain = try GCSStorage(configuration: anonymous,
                                   client: try GCSStorage.makeHTTPClient(for: anonymous, logger: logger), logger: logger)
        let e2 = try await S3StorageMotoTests.failure { try await plain.read("p") }
        #expect(e2.message.contains("401") && e2.retry == .permanent)
    }
}

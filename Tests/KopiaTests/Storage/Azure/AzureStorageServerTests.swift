import CurlHTTP
import Foundation
import Logging
import Testing
import KopiaTestSupport
@testable import Kopia

/// AzureStorage against the Azure-Blob-compatible test server that checks Shared Key or SAS on every request, with
/// the official SDK as the peer that uploads fixtures and reads Ferry's blobs back.
struct AzureStorageServerTests {
    static let fastRetries = S3RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(10), maxDelay: .milliseconds(80))

    static func storage(_ server: AzureBlobServer, container: String, prefix: String = "",
                        credentials: AzureCredentials? = nil, domainPort: Int? = nil,
                        retry: S3RetryPolicy = fastRetries) throws -> AzureStorage {
        let config = AzureConfiguration(location: AzureLocation(container: container, prefix: prefix),
                                        account: server.account, domain: "localhost:\(domainPort ?? server.port)",
                                        useTLS: false,
                                        credentials: try credentials ?? .sharedKey(base64: server.key, source: "test"),
                                        maxConcurrentRequests: 8, retryPolicy: retry)
        let logger = Logger(label: "test.azure")
        return AzureStorage(configuration: config, client: try AzureStorage.makeHTTPClient(for: config, logger: logger),
                            logger: logger)
    }

    static func freshContainer(_ server: AzureBlobServer, _ label: String) async throws -> String {
        let name = "\(label)-" + UUID().uuidString.lowercased().prefix(13)
        try await server.createContainer(name)
        return name
    }

    @Test func everyFixtureUploadedByTheSDKListsAndReadsByteExactWithKeyAndWithSAS() async throws {
        let server = try await AzureBlobServer.shared()
        let container = try await Self.freshContainer(server, "fixtures")
        let sas = try await server.sas(container: container, permission: "racwdl")
        for name in Fixtures.all {
            let prefix = "volsync/\(name)/"
            let blobs = try S3StorageMotoTests.fixtureBlobs(name)
            #expect(try await server.uploadRepository(at: Fixtures.kopia(name), container: container, prefix: prefix) == blobs.count)
            for credentials in [nil, AzureCredentials.sas(sas)] {
                let azure = try Self.storage(server, container: container, prefix: prefix, credentials: credentials)
                let listed = try await azure.list(prefix: "")
                #expect(Set(listed.map(\.id)) == Set(blobs.keys), "\(name)")
                #expect(listed.allSatisfy { $0.modified != nil })
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (id, file) in blobs {
                        group.addTask {
                            let expected = [UInt8](try Data(contentsOf: file))
                            #expect(try await azure.read(id) == expected, "\(name) \(id)")
                            if expected.count > 10 {
                                let slice = try await azure.read(id, offset: 3, length: expected.count - 7)
                                #expect(slice == Array(expected[3..<(expected.count - 4)]))
                            }
                            #expect(try await azure.metadata(id).length == Int64(expected.count))
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
    }

    @Test func writtenBlobsReadBackByteExactWithTheSDK() async throws {
        let server = try await AzureBlobServer.shared()
        let container = try await Self.freshContainer(server, "written")
        let azure = try Self.storage(server, container: container, prefix: "repo/")
        let blobs: [String: [UInt8]] = [
            "kopia.repository": Array("{\"json\":1}".utf8), "p0123456789abcdef0123456789abcdef-s0123456789abcdef13d": [],
            "xn0_abc-s1-c1": (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) },
            "_log_20260130_ab+c d": Array("odd characters".utf8),
        ]
        for (id, data) in blobs { try await azure.write(id, data) }
        let stored = try await server.blobs(container: container, prefix: "repo/")
        #expect(Set(stored.keys) == Set(blobs.keys.map { "repo/" + $0 }))
        for (id, data) in blobs {
            let o = try #require(stored["repo/" + id])
            #expect(o.size == data.count && o.sha256 == Hex.encode(S3Digest.sha256(data)), "\(id)")
        }
        try await azure.delete("xn0_abc-s1-c1")
        try await azure.delete("xn0_abc-s1-c1")
        #expect(try await azure.list(prefix: "x").isEmpty)
    }

    @Test func listingFollowsMarkersPastAPage() async throws {
        let server = try await AzureBlobServer.shared()
        let container = try await Self.freshContainer(server, "many")
        try await server.putMany(container: container, prefix: "r/", count: 2345)
        let proxy = try FaultInjectingProxy(upstreamPort: server.port) { _ in .pass }
        defer { proxy.stop() }
        let azure = try Self.storage(server, container: container, prefix: "r/", domainPort: proxy.port)
        let all = try await azure.list(prefix: "p")
        #expect(all.count == 2345 && Set(all.map(\.id)).count == 2345)
        let pages = proxy.records.filter { $0.target.contains("comp=list") }
        #expect(pages.count == 3, "2345 blobs at 1000 a page")
        #expect(pages.dropFirst().allSatisfy { $0.target.contains("marker=") })
    }

    /// With both a SAS and a key set, the SAS is used (kopia's order): a wrong key does not matter and the server
    /// counts SAS-authorized requests only.
    @Test func sasIsPreferredOverTheKeyAsKopiaDoes() async throws {
        let server = try await AzureBlobServer.shared()
        let container = try await Self.freshContainer(server, "sas")
        let sas = try await server.sas(container: container, permission: "racwdl")
        let env = ["AZURE_STORAGE_ACCOUNT": server.account, "AZURE_STORAGE_KEY": Data(repeating: 1, count: 64).base64EncodedString(),
                   "AZURE_STORAGE_SAS_TOKEN": sas, "AZURE_STORAGE_DOMAIN": server.domain]
        let before = try await server.stats()
        let storage = try RepositoryLocation(parsing: "azure://\(container)/r")
            .makeStorage(environment: env, httpClient: try SharedTestHTTPClient.client(), logger: Logger(label: "test.azure"))
        try await storage.write("p1", [1, 2])
        #expect(try await storage.read("p1") == [1, 2])
        #expect(try await storage.list(prefix: "").map(\.id) == ["p1"])
        let after = try await server.stats()
        // The key is wrong, so the calls above succeeding already proves it was not used; the server agrees.
        #expect(after["sas", default: 0] - before["sas", default: 0] >= 3)
    }

    @Test func wrongKeyExpiredSASAndMissingPermissionFailClearlyWithoutSecrets() async throws {
        let server = try await AzureBlobServer.shared()
        let container = try await Self.freshContainer(server, "denied")
        let wrongKey = Data(repeating: 9, count: 64).base64EncodedString()
        let e1 = try await S3StorageMotoTests.failure {
            try await Self.storage(server, container: container, credentials: try .sharedKey(base64: wrongKey, source: "t"))
                .read("kopia.repository")
        }
        #expect((e1.cause as? AzureServiceError)?.code == "AuthenticationFailed" && e1.retry == .permanent)
        #expect(e1.message.contains("signature does not match") && e1.message.contains("AZURE_STORAGE_KEY"), "\(e1)")

        let expired = try await server.sas(container: container, permission: "racwdl", minutes: -5)
        let e2 = try await S3StorageMotoTests.failure {
            try await Self.storage(server, container: container, credentials: .sas(expired)).list(prefix: "")
        }
        #expect(e2.message.contains("AZURE_STORAGE_SAS_TOKEN") && e2.message.contains("expired"), "\(e2)")

        let readOnly = try await server.sas(container: container, permission: "rl")
        let e3 = try await S3StorageMotoTests.failure {
            try await Self.storage(server, container: container, credentials: .sas(readOnly)).write("p1", [1])
        }
        #expect((e3.cause as? AzureServiceError)?.code == "AuthorizationPermissionMismatch")
        #expect(e3.message.contains("permission denied") && e3.message.contains("write"), "\(e3)")
        for e in [e1, e2, e3] {
            let sig = { (t: String) in t.components(separatedBy: "sig=").last ?? t }
            for secret in [server.key, wrongKey, sig(expired), sig(readOnly)] { #expect(!"\(e)".contains(secret)) }
        }
    }

    @Test func missingContainerAndMissingBlobAreNamed() async throws {
        let server = try await AzureBlobServer.shared()
        let e1 = try await S3StorageMotoTests.failure {
            try await Self.storage(server, container: "absent-container").read("kopia.repository")
        }
        #expect(e1.code == .storageFailure && e1.message.contains("\"absent-container\" does not exist"), "\(e1)")
        let container = try await Self.freshContainer(server, "present")
        let azure = try Self.storage(server, container: container, prefix: "repo/")
        let e2 = try await S3StorageMotoTests.failure { try await azure.read("p0000-missing") }
        #expect(e2.code == .blobNotFound && e2.blobID == "p0000-missing" && e2.message.contains("repo/p0000-missing"))
        let e3 = try await S3StorageMotoTests.failure { try await azure.metadata("q0000-missing") }
        #expect(e3.code == .blobNotFound && e3.blobID == "q0000-missing")
    }
}

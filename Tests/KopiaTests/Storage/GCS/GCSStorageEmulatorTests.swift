import CurlHTTP
import Foundation
import Logging
import Testing
import KopiaTestSupport
@testable import Kopia

/// GCSStorage against the real GCS emulator (fake-gcs-server, in memory, on loopback), with a Python peer speaking
/// the JSON API independently for uploads and read-backs.
struct GCSStorageEmulatorTests {
    static let fastRetries = S3RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(10), maxDelay: .milliseconds(80))

    /// A storage on `endpoint` (default: the emulator) without credentials.
    static func storage(_ server: FakeGCSServer, bucket: String, prefix: String = "", endpoint: String? = nil,
                        retry: S3RetryPolicy = fastRetries) throws -> GCSStorage {
        var config = GCSConfiguration(location: GCSLocation(bucket: bucket, prefix: prefix),
                                      endpoint: try S3Endpoint.parse(endpoint ?? server.endpoint), credentials: .none,
                                      retryPolicy: retry)
        config.maxConcurrentRequests = 8
        let logger = Logger(label: "test.gcs")
        return try GCSStorage(configuration: config, client: try GCSStorage.makeHTTPClient(for: config, logger: logger),
                              logger: logger)
    }

    static func freshBucket(_ server: FakeGCSServer, _ label: String) async throws -> String {
        let bucket = "\(label)-" + UUID().uuidString.lowercased().prefix(13)
        try await server.createBucket(bucket)
        return bucket
    }

    @Test func everyFixtureUploadedByThePeerListsAndReadsByteExact() async throws {
        let server = try await FakeGCSServer.shared()
        let bucket = try await Self.freshBucket(server, "fixtures")
        for name in Fixtures.all {
            let prefix = "volsync/\(name)/"
            let blobs = try S3StorageMotoTests.fixtureBlobs(name)
            #expect(try await server.uploadRepository(at: Fixtures.kopia(name), bucket: bucket, prefix: prefix) == blobs.count)
            let gcs = try Self.storage(server, bucket: bucket, prefix: prefix)
            let listed = try await gcs.list(prefix: "")
            #expect(Set(listed.map(\.id)) == Set(blobs.keys), "\(name)")
            #expect(listed.allSatisfy { $0.modified != nil })
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (id, file) in blobs {
                    group.addTask {
                        let expected = [UInt8](try Data(contentsOf: file))
                        #expect(try await gcs.read(id) == expected, "\(name) \(id)")
                        if expected.count > 10 {
                            let slice = try await gcs.read(id, offset: 3, length: expected.count - 7)
                            #expect(slice == Array(expected[3..<(expected.count - 4)]))
                        }
                        #expect(try await gcs.metadata(id).length == Int64(expected.count))
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await gcs.list(prefix: "kopia.").count >= 1)
            #expect(try await gcs.list(prefix: "zz").isEmpty)
        }
    }

    @Test func writtenBlobsAreKopiaGCSLayoutAndReadBackWithThePeer() async throws {
        let server = try await FakeGCSServer.shared()
        let bucket = try await Self.freshBucket(server, "written")
        let gcs = try Self.storage(server, bucket: bucket, prefix: "repo/")
        let blobs: [String: [UInt8]] = [
            "kopia.repository": Array("{\"json\":1}".utf8), "p0123456789abcdef0123456789abcdef-s0123456789abcdef13d": [],
            "xn0_abc-s1-c1": (0..<70_000).map { UInt8(truncatingIfNeeded: $0 &* 31) },
            "_log_20260130_ab+c d%2F": Array("odd characters".utf8),
            "q-crlf": Array("\r\n--ferry-\r\n".utf8),
        ]
        for (id, data) in blobs { try await gcs.write(id, data) }
        let objects = try await server.objects(bucket: bucket, prefix: "repo/")
        #expect(Set(objects.keys) == Set(blobs.keys.map { "repo/" + $0 }))
        for (id, data) in blobs {
            let o = try #require(objects["repo/" + id])
            #expect(o.size == data.count && o.contentType == "application/x-kopia", "\(id)")
            #expect(o.sha256 == Hex.encode(S3Digest.sha256(data)), "\(id)")
            #expect(try await gcs.read(id) == data)
        }
        try await gcs.delete("xn0_abc-s1-c1")
        try await gcs.delete("xn0_abc-s1-c1")
        #expect(try await gcs.list(prefix: "x").isEmpty)
    }

    @Test func listingFollowsPageTokensPast1000Blobs() async throws {
        let server = try await FakeGCSServer.shared()
        let bucket = try await Self.freshBucket(server, "many")
        try await server.putMany(bucket: bucket, prefix: "r/", count: 2345)
        // Count the listing requests on the way: more than one page proves the token was followed.
        let proxy = try FaultInjectingProxy(upstreamPort: server.port) { _ in .pass }
        defer { proxy.stop() }
        let gcs = try Self.storage(server, bucket: bucket, prefix: "r/", endpoint: proxy.endpoint)
        let all = try await gcs.list(prefix: "p")
        #expect(all.count == 2345 && Set(all.map(\.id)).count == 2345)
        let pages = proxy.records.filter { $0.target.contains("/o?") }
        #expect(pages.count == 3, "2345 objects at 1000 a page")
        #expect(pages.dropFirst().allSatisfy { $0.target.contains("pageToken=") })
        #expect(try await gcs.list(prefix: "p" + String(repeating: "0", count: 29) + "8").count == 256)
    }

    @Test func missingBucketAndMissingBlobAreNamed() async throws {
        let server = try await FakeGCSServer.shared()
        let absent = try Self.storage(server, bucket: "absent-bucket-\(UUID().uuidString.lowercased().prefix(8))")
        let e1 = try await S3StorageMotoTests.failure { try await absent.read("kopia.repository") }
        #expect(e1.code == .storageFailure && e1.message.contains("does not exist"), "\(e1)")
        let e1b = try await S3StorageMotoTests.failure { try await absent.list(prefix: "") }
        #expect(e1b.message.contains("does not exist"), "\(e1b)")
        let bucket = try await Self.freshBucket(server, "present")
        let gcs = try Self.storage(server, bucket: bucket, prefix: "repo/")
        let e2 = try await S3StorageMotoTests.failure { try await gcs.read("p0000-missing") }
        #expect(e2.code == .blobNotFound && e2.blobID == "p0000-missing" && e2.message.contains("repo/p0000-missing"))
        let e3 = try await S3StorageMotoTests.failure { try await gcs.metadata("q0000-missing") }
        #expect(e3.code == .blobNotFound && e3.blobID == "q0000-missing")
        let e4 = try await S3StorageMotoTests.failure { try await gcs.read("q0000-missing", offset: 0, length: 4) }
        #expect(e4.code == .blobNotFound)
    }

    /// The engine reads a repository in GCS exactly as on disk.
    @Test func fixturesOpenFromGCSAndServeTheSameSnapshotsAsFromDisk() async throws {
        let server = try await FakeGCSServer.shared()
        let bucket = try await Self.freshBucket(server, "e2e")
        let logger = Logger(label: "test.gcs.e2e")
        for name in Fixtures.all {
            try await server.uploadRepository(at: Fixtures.kopia(name), bucket: bucket, prefix: "\(name)/")
            let storage = try RepositoryLocation(parsing: "gcs://\(bucket)/\(name)")
                .makeStorage(environment: ["STORAGE_EMULATOR_HOST": server.emulatorHost],
                             httpClient: try SharedTestHTTPClient.client(), logger: logger)
            let fromGCS = try await KopiaRepository.open(storage: storage, password: Fixtures.password, logger: logger)
            let fromDisk = try await KopiaRepository.open(storage: try FilesystemStorage(root: Fixtures.kopia(name).path),
                                                          password: Fixtures.password, logger: logger)
            #expect(fromGCS.snapshots().map(\.id) == fromDisk.snapshots().map(\.id), "\(name)")
            #expect(!fromGCS.snapshots().isEmpty)
        }
    }
}

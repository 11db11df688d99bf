import Foundation
import Kopia
import KopiaTestSupport
import Testing

/// One implementation of `BlobStorage` under test. The conformance suite runs every case of `all`; a new
/// backend (S3 against moto, a caching decorator…) joins by adding one factory here.
struct StorageUnderTest: Sendable, CustomTestStringConvertible {
    let name: String
    /// Makes a fresh, empty storage and a cleanup action.
    let make: @Sendable () async throws -> (storage: any BlobStorage, cleanup: @Sendable () -> Void)

    var testDescription: String { name }

    static let all: [StorageUnderTest] = [filesystem(ShardingParameters.current, "filesystem [1,3]"),
                                          filesystem(ShardingParameters.legacy, "filesystem [3,3]"),
                                          filesystem(ShardingParameters(defaultShards: [2], overrides: [
                                              .init(prefix: "p", shards: [1, 1, 1]),
                                          ]), "filesystem with overrides"),
                                          inMemory, faultyPassThrough, s3, gcs, azure]

    static func filesystem(_ sharding: ShardingParameters, _ name: String) -> StorageUnderTest {
        StorageUnderTest(name: name) {
            let dir = try TemporaryDirectory.make("conformance")
            return (FilesystemStorage(root: dir.path, sharding: sharding), { dir.remove() })
        }
    }

    static let inMemory = StorageUnderTest(name: "in-memory") { (InMemoryStorage(), {}) }
    static let faultyPassThrough = StorageUnderTest(name: "faulty (no faults)") { (FaultyStorage(InMemoryStorage()), {}) }

    /// S3Storage against the shared authenticated moto server, one fresh bucket per test.
    static let s3 = StorageUnderTest(name: "s3 (moto)") {
        let server = try await MotoServer.shared()
        let bucket = "conformance-" + UUID().uuidString.lowercased().prefix(18)
        try await server.createBucket(bucket)
        let storage = try S3StorageMotoTests.storage(server, bucket: bucket)
        return (storage, {})
    }

    /// GCSStorage against the shared GCS emulator, one fresh bucket per test.
    static let gcs = StorageUnderTest(name: "gcs (fake-gcs-server)") {
        let server = try await FakeGCSServer.shared()
        let bucket = try await GCSStorageEmulatorTests.freshBucket(server, "conformance")
        return (try GCSStorageEmulatorTests.storage(server, bucket: bucket, prefix: "c/"), {})
    }

    /// AzureStorage against the shared Azure test server (Shared Key checked on every request), one container each.
    static let azure = StorageUnderTest(name: "azure (test server)") {
        let server = try await AzureBlobServer.shared()
        let container = try await AzureStorageServerTests.freshContainer(server, "conformance")
        return (try AzureStorageServerTests.storage(server, container: container, prefix: "c/"), {})
    }
}

/// A temporary directory removed by `remove()`.
struct TemporaryDirectory: Sendable {
    let path: String

    static func make(_ label: String) throws -> TemporaryDirectory {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return TemporaryDirectory(path: url.path)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// The `BlobStorage` contract (BlobStorage.swift), checked against every implementation.
struct BlobStorageConformanceTests {
    /// Blob IDs of every shape the repository uses (§1.1), including `_` and `-` (pitfall m).
    static let ids = [
        "kopia.repository", "kopia.blobcfg", "p80bffcc6f99a2b0b7d9d8c1f1e2a620d-sf7bc0123456789813d",
        "q4e54ada559c93439482ed8be56def45d-sc05c6694229ca11e13d",
        "xn0_4505d26f0123456789abcdef01234567-s8769abcdef012345613d-c1", "xe12", "xw1700000000",
        "n072b1e248dc73f11cb1f30610afed0123-sa8c5b132fec1a67c13d",
        "_log_20260130000000_abcd_1_2_1_0123456789abcdef0123456789abcdef", "s0123", "p",
    ]

    static func payload(_ id: String) -> [UInt8] {
        (0..<(id.utf8.count * 37)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ id.utf8.count) }
    }

    @Test(arguments: StorageUnderTest.all)
    func writtenBlobsReadBackWholeAndListWithTheirLengths(_ s: StorageUnderTest) async throws {
        let (storage, cleanup) = try await s.make()
        defer { cleanup() }
        for id in Self.ids { try await storage.write(id, Self.payload(id)) }
        for id in Self.ids {
            #expect(try await storage.read(id) == Self.payload(id))
            let meta = try await storage.metadata(id)
            #expect(meta.id == id && meta.length == Int64(Self.payload(id).count))
        }
        let all = try await storage.list(prefix: "")
        #expect(Set(all.map(\.id)) == Set(Self.ids))
        for meta in all { #expect(meta.length == Int64(Self.payload(meta.id).count)) }
    }

    @Test(arguments: StorageUnderTest.all)
    func listingByPrefixReturnsExactlyTheMatchingBlobs(_ s: StorageUnderTest) async throws {
        let (storage, cleanup) = try await s.make()
        defer { cleanup() }
        for id in Self.ids { try await storage.write(id, [1, 2, 3]) }
        for prefix in ["p", "p8", "q4e54ada", "xn0_", "xe", "xw", "x", "kopia.", "kopia.repository", "_log_2026", "zz", "n0"] {
            let listed = try await storage.list(prefix: prefix).map(\.id).sorted()
            #expect(listed == Self.ids.filter { $0.hasPrefix(prefix) }.sorted(), "prefix \(prefix)")
        }
    }

    @Test(arguments: StorageUnderTest.all)
    func rangedReadsReturnExactlyTheRangeOrThrowTruncatedNamingTheBlob(_ s: StorageUnderTest) async throws {
        let (storage, cleanup) = try await s.make()
        defer { cleanup() }
        let id = Self.ids[2]
        let bytes = Self.payload(id)
        try await storage.write(id, bytes)
        for (offset, length) in [(0, 0), (0, 1), (5, 17), (bytes.count - 1, 1), (0, bytes.count), (bytes.count, 0)] {
            #expect(try await storage.read(id, offset: Int64(offset), length: length) == Array(bytes[offset..<offset + length]))
        }
        for (offset, length) in [(bytes.count - 3, 4), (bytes.count + 10, 1), (0, bytes.count + 1)] {
            let error = await #expect(throws: KopiaError.self) {
                _ = try await storage.read(id, offset: Int64(offset), length: length)
            }
            #expect(error?.code == .truncatedData && error?.blobID == id)
        }
        let negative = await #expect(throws: KopiaError.self) { _ = try await storage.read(id, offset: -1, length: 1) }
        #expect(negative?.code == .invalidArgument)
    }

    @Test(arguments: StorageUnderTest.all)
    func missingBlobsThrowBlobNotFoundNamingTheBlob(_ s: StorageUnderTest) async throws {
        let (storage, cleanup) = try await s.make()
        defer { cleanup() }
        let id = "p0000000000000000000000000000000a-s0"
        let whole = await #expect(throws: KopiaError.self) { _ = try await storage.read(id) }
        #expect(whole?.code == .blobNotFound && whole?.blobID == id)
        let ranged = await #expect(throws: KopiaError.self) { _ = try await storage.read(id, offset: 0, length: 1) }
        #expect(ranged?.code == .blobNotFound && ranged?.blobID == id)
        let meta = await #expect(throws: KopiaError.self) { _ = try await storage.metadata(id) }
        #expect(meta?.code == .blobNotFound && meta?.blobID == id)
        #expect(try await storage.list(prefix: "p").isEmpty)
    }

    @Test(arguments: StorageUnderTest.all)
    func overwriteReplacesAndDeleteIsIdempotent(_ s: StorageUnderTest) async throws {
        let (storage, cleanup) = try await s.make()
        defer { cleanup() }
        let id = Self.ids[4]
        try await storage.write(id, [1, 2, 3, 4])
        try await storage.write(id, [9])
        #expect(try await storage.read(id) == [9])
        try await storage.write(id, [])
        #expect(try await storage.read(id) == [])
        #expect(try await storage.metadata(id).length == 0)
        try await storage.delete(id)
        try await storage.delete(id)
        try await storage.delete("never-existed-0123456789abcdef0123456789")
        #expect(try await storage.list(prefix: "").isEmpty)
        await #expect(throws: KopiaError.self) { _ = try await storage.read(id) }
    }

    @Test(arguments: StorageUnderTest.all)
    func concurrentWritersAndReadersSeeWholeBlobs(_ s: StorageUnderTest) async throws {
        let (storage, cleanup) = try await s.make()
        defer { cleanup() }
        let id = "q0123456789abcdef0123456789abcdef-s0"
        let versions: [[UInt8]] = (0..<4).map { v in [UInt8](repeating: UInt8(v), count: 4096 * (v + 1)) }
        try await storage.write(id, versions[0])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for round in 0..<16 {
                group.addTask { try await storage.write(id, versions[round % versions.count]) }
                group.addTask {
                    let bytes = try await storage.read(id)
                    #expect(versions.contains(bytes), "a reader saw a partial blob of \(bytes.count) bytes")
                }
                group.addTask { try await storage.write("p\(round)0123456789abcdef0123456789abcdef", [UInt8(round)]) }
            }
            try await group.waitForAll()
        }
        #expect(try await storage.list(prefix: "p").count == 16)
    }
}

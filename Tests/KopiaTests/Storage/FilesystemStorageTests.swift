import Foundation
import Kopia
import KopiaTestSupport
import Testing

struct FilesystemStorageTests {
    struct PathCase: Sendable, CustomTestStringConvertible {
        var sharding: ShardingParameters
        var id: String
        var path: String
        var testDescription: String { "\(id) → \(path)" }
    }

    /// kopia-format.md §1.2 examples, plus overrides and the short-ID rule.
    static let pathCases: [PathCase] = [
        PathCase(sharding: .current, id: "p80bffcc6f99a2b0b7d9d8c1f1e2a620d-sf7bc0123456789813d",
                 path: "p/80b/ffcc6f99a2b0b7d9d8c1f1e2a620d-sf7bc0123456789813d.f"),
        PathCase(sharding: .current, id: "xn0_4505d26f0123456789abcdef01234567-s8769abcdef012345613d-c1",
                 path: "x/n0_/4505d26f0123456789abcdef01234567-s8769abcdef012345613d-c1.f"),
        PathCase(sharding: .current, id: "_log_20260130235225_9063_1795218745_1795218745_1_7e2a8d81",
                 path: "_/log/_20260130235225_9063_1795218745_1795218745_1_7e2a8d81.f"),
        PathCase(sharding: .current, id: "kopia.repository", path: "kopia.repository.f"),
        PathCase(sharding: .current, id: "xw1700000000", path: "xw1700000000.f"),
        PathCase(sharding: .current, id: "123456789012345678901", path: "1/234/56789012345678901.f"),
        PathCase(sharding: .legacy, id: "pb286676d4390123456789abcdef0123-s0", path: "pb2/866/76d4390123456789abcdef0123-s0.f"),
        PathCase(sharding: .legacy, id: "_log_20260130235225_9063_17952", path: "_lo/g_2/0260130235225_9063_17952.f"),
        PathCase(sharding: ShardingParameters(defaultShards: [1, 3], maxNonShardedLength: 3,
                                              overrides: [.init(prefix: "q", shards: [2, 2]), .init(prefix: "qq", shards: [1])]),
                 id: "qqabcdef", path: "qq/ab/cdef.f"),
        PathCase(sharding: ShardingParameters(defaultShards: [1, 3], maxNonShardedLength: 3), id: "abcd", path: "a/bcd.f"),
    ]

    @Test(arguments: pathCases)
    func blobIDsMapToShardedPaths(_ c: PathCase) {
        #expect(c.sharding.relativePath(for: c.id).joined(separator: "/") == c.path)
    }

    @Test(arguments: Fixtures.all)
    func fixturesReadTheirShardsFileAndListTheirBlobs(_ name: String) async throws {
        let storage = try FilesystemStorage(root: Fixtures.kopia(name).path)
        #expect(storage.sharding.defaultShards == [1, 3])
        #expect(storage.sharding.maxNonShardedLength == 20)
        let all = try await storage.list(prefix: "")
        // Every *.f file of the fixture is a blob; MANIFEST.md and .shards are not.
        let files = FileManager.default.enumerator(atPath: Fixtures.kopia(name).path)?
            .compactMap { $0 as? String }.filter { $0.hasSuffix(".f") } ?? []
        #expect(all.count == files.count)
        #expect(!all.contains { $0.id.contains("MANIFEST") || $0.id.contains("shards") })
        #expect(all.contains { $0.id == "kopia.repository" })
        let indexes = try await storage.list(prefix: "xn0_")
        #expect(!indexes.isEmpty && indexes.allSatisfy { $0.id.hasPrefix("xn0_") && $0.length > 0 })
        for meta in indexes {
            let bytes = try await storage.read(meta.id)
            #expect(Int64(bytes.count) == meta.length)
            #expect(try await storage.read(meta.id, offset: 3, length: 10) == Array(bytes[3..<13]))
        }
    }

    @Test
    func legacyLayoutIsDetectedWhenShardsIsAbsent() async throws {
        let dir = try TemporaryDirectory.make("legacy")
        defer { dir.remove() }
        let writer = FilesystemStorage(root: dir.path, sharding: .legacy)
        let id = "pb286676d4390123456789abcdef0123-s0"
        try await writer.write(id, [7, 7])
        try await writer.write("kopia.repository", [1])
        let reader = try FilesystemStorage(root: dir.path)
        #expect(reader.sharding == .legacy)
        #expect(try await reader.read(id) == [7, 7])
        #expect(FileManager.default.fileExists(atPath: dir.path + "/pb2/866/76d4390123456789abcdef0123-s0.f"))
    }

    @Test
    func currentLayoutIsDetectedFromOneCharacterDirectoriesWithoutShards() async throws {
        let dir = try TemporaryDirectory.make("current")
        defer { dir.remove() }
        let writer = FilesystemStorage(root: dir.path, sharding: .current)
        try await writer.write("p80bffcc6f99a2b0b7d9d8c1f1e2a620d-s0", [1])
        try await writer.write("kopia.repository", [1])
        #expect(try FilesystemStorage(root: dir.path).sharding == .current)
        // An existing repository with no shard directories at all is assumed legacy; an empty root is new.
        let bare = try TemporaryDirectory.make("bare")
        defer { bare.remove() }
        #expect(try FilesystemStorage(root: bare.path).sharding == .current)
        try await FilesystemStorage(root: bare.path, sharding: .current).write("kopia.repository", [1])
        #expect(try FilesystemStorage(root: bare.path).sharding == .legacy)
    }

    @Test
    func shardsOverridesAreHonoured() async throws {
        let dir = try TemporaryDirectory.make("overrides")
        defer { dir.remove() }
        try Data(#"{"default":[1,3],"maxNonShardedLength":20,"overrides":[{"prefix":"p","shards":[2,2]}]}"#.utf8)
            .write(to: URL(fileURLWithPath: dir.path + "/.shards"))
        let storage = try FilesystemStorage(root: dir.path)
        try await storage.write("p0123456789abcdef0123456789abcdef-s1", [5])
        try await storage.write("q0123456789abcdef0123456789abcdef-s1", [6])
        #expect(FileManager.default.fileExists(atPath: dir.path + "/p0/12/3456789abcdef0123456789abcdef-s1.f"))
        #expect(FileManager.default.fileExists(atPath: dir.path + "/q/012/3456789abcdef0123456789abcdef-s1.f"))
        #expect(try await storage.list(prefix: "p").map(\.id) == ["p0123456789abcdef0123456789abcdef-s1"])
    }

    @Test
    func filesOtherThanDotFAreIgnoredAndWritesLeaveNoTemporaries() async throws {
        let dir = try TemporaryDirectory.make("ignored")
        defer { dir.remove() }
        let storage = FilesystemStorage(root: dir.path, sharding: .current)
        let id = "p0123456789abcdef0123456789abcdef-s1"
        try await storage.write(id, [1, 2])
        let shardDir = dir.path + "/p/012"
        for junk in ["x.f.tmp.0123456789abcdef", "notes.txt", "other.F", "f"] {
            _ = FileManager.default.createFile(atPath: shardDir + "/" + junk, contents: Data([1]))
        }
        _ = FileManager.default.createFile(atPath: dir.path + "/MANIFEST.md", contents: Data([1]))
        #expect(try await storage.list(prefix: "").map(\.id) == [id])
        try await storage.write(id, [3])
        let names = try FileManager.default.contentsOfDirectory(atPath: shardDir)
        #expect(!names.contains { $0.hasPrefix("3456789abcdef0123456789abcdef-s1.f.tmp") })
    }

    @Test
    func corruptShardsFileIsNamed() throws {
        let dir = try TemporaryDirectory.make("badshards")
        defer { dir.remove() }
        for body in ["{not json", #"{"default":[0,3]}"#, #"{"default":[1,3],"overrides":[{"prefix":"p","shards":[-1]}]}"#] {
            try Data(body.utf8).write(to: URL(fileURLWithPath: dir.path + "/.shards"))
            let error = #expect(throws: KopiaError.self) { _ = try FilesystemStorage(root: dir.path) }
            #expect(error?.code == .corruptBlob && error?.blobID == ".shards")
        }
    }

    @Test
    func aPathThatIsNotADirectoryIsNotARepository() throws {
        let error = #expect(throws: KopiaError.self) { _ = try FilesystemStorage(root: "/nonexistent/ferry-repo") }
        #expect(error?.code == .notARepository)
    }

    @Test
    func blobIDsThatWouldLeaveTheRootAreRefused() async throws {
        let dir = try TemporaryDirectory.make("escape")
        defer { dir.remove() }
        let storage = FilesystemStorage(root: dir.path, sharding: .current)
        for id in ["../etc/passwd", "a/b", "", ".."] {
            let error = await #expect(throws: KopiaError.self) { try await storage.write(id, [1]) }
            #expect(error?.code == .invalidArgument)
        }
    }
}

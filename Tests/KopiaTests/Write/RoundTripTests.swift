import Foundation
@testable import Kopia
import KopiaTestSupport
import Testing

/// Random trees written by the snapshot uploader and read back through the reader byte-exact, for every
/// file compression and both encryptions (ferry restore is exercised by its own suites once it exists).
@Suite(.serialized)
struct RoundTripTests {
    static let compressions = ["none", "zstd", "zstd-fastest", "s2-default", "gzip", "pgzip", "deflate-default"]
    static let cases: [(String, String)] =
        compressions.map { ($0, "AES256-GCM-HMAC-SHA256") } + [("zstd", "CHACHA20-POLY1305-HMAC-SHA256"),
                                                                 ("none", "CHACHA20-POLY1305-HMAC-SHA256"),
                                                                 ("s2-default", "CHACHA20-POLY1305-HMAC-SHA256")]

    @Test(arguments: cases.map { "\($0.0)/\($0.1)" })
    func randomTreesRoundTripByteExact(_ c: String) async throws {
        let parts = c.split(separator: "/").map(String.init)
        let dir = try WriteTestSupport.tempDir("rt")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tree = dir + "/tree"
        let seed = UInt64(abs(c.hashValue) % 1000)
        try WriteTestSupport.makeRandomTree(at: tree, seed: seed, files: 40, maxFile: 300_000,
                                            large: parts[0] == "none" ? [9 << 20 + 123] : [])
        var options = RepositoryCreateOptions()
        options.encryption = parts[1]
        options.keyAlgorithm = "pbkdf2-sha256-600000"
        _ = try await RepositoryCreator.createFilesystem(at: dir + "/repo", password: "pw", options: options)
        let writer = try await RepositoryWriter.open(storage: try FilesystemStorage(root: dir + "/repo"), password: "pw",
                                                     logger: WriteTestSupport.logger)
        var upload = SnapshotUploadOptions(description: "round trip", parallelism: 3)
        upload.compression = parts[0] == "none" ? nil : try CompressionAlgorithm(name: parts[0])
        let source = SnapshotSource(userName: "u", host: "h", path: "/tree")
        let result = try await writer.snapshot(path: tree, source: source, options: upload)
        #expect(result.errors.isEmpty)

        let reader = try await WriteTestSupport.read(dir + "/repo", password: "pw")
        let entry = try #require(reader.manifests.entry(id: result.manifestID))
        let snap = try SnapshotManifest(entry: entry)
        #expect(snap.source == source)
        let restored = try await WriteTestSupport.describeSnapshot(reader, root: snap.rootEntry)
        let original = try WriteTestSupport.describeTree(tree)
        #expect(restored == original)

        // And through the restore engine (`ferry restore`): contents, modes and symlinks byte-exact, mtimes to
        // the nanosecond for files and directories.
        let repository = try await KopiaRepository.open(storage: try FilesystemStorage(root: dir + "/repo"), password: "pw",
                                                        logger: WriteTestSupport.logger)
        let target = dir + "/restored"
        let outcome = try await SnapshotRestorer(repository: repository, logger: WriteTestSupport.logger)
            .restore(snap.rootEntry, into: target)
        #expect(outcome.failures.isEmpty, "\(outcome.failures)")
        #expect(try WriteTestSupport.describeTree(target) == original)
        #expect(try WriteTestSupport.mtimes(target) == (try WriteTestSupport.mtimes(tree)))
    }

    @Test func secondSnapshotReusesUnchangedFilesAndDeduplicates() async throws {
        let dir = try WriteTestSupport.tempDir("incr")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tree = dir + "/tree"
        try WriteTestSupport.makeRandomTree(at: tree, seed: 42, files: 30, maxFile: 100_000)
        var options = RepositoryCreateOptions()
        options.keyAlgorithm = "pbkdf2-sha256-600000"
        _ = try await RepositoryCreator.createFilesystem(at: dir + "/repo", password: "pw", options: options)
        let storage = try FilesystemStorage(root: dir + "/repo")
        let source = SnapshotSource(userName: "u", host: "h", path: "/tree")
        let first = try await RepositoryWriter.open(storage: storage, password: "pw", logger: WriteTestSupport.logger)
            .snapshot(path: tree, source: source, options: .init())
        try Data("changed".utf8).write(to: URL(fileURLWithPath: tree + "/new-file"))
        let second = try await RepositoryWriter.open(storage: storage, password: "pw", logger: WriteTestSupport.logger)
            .snapshot(path: tree, source: source, options: .init())
        #expect(second.stats.cachedFiles == first.stats.fileCount)
        #expect(second.stats.nonCachedFiles == 1)
        #expect(second.contents.written <= 3)  // the new file, the root directory, the manifest

        // Deleting the first leaves the second.
        try await RepositoryWriter.open(storage: storage, password: "pw", logger: WriteTestSupport.logger)
            .deleteSnapshot(id: first.manifestID)
        let reader = try await WriteTestSupport.read(dir + "/repo", password: "pw")
        #expect(reader.manifests.entry(id: first.manifestID) == nil)
        #expect(reader.manifests.entry(id: second.manifestID) != nil)
        await #expect(throws: KopiaError(.snapshotNotFound, "")) {
            try await RepositoryWriter.open(storage: storage, password: "pw", logger: WriteTestSupport.logger)
                .deleteSnapshot(id: first.manifestID)
        }
    }

    /// Issue 16: an unchanged directory keeps its previous directory object (nothing re-encoded or written),
    /// and a change deep in the tree rewrites only the directories on its path.
    @Test func unchangedDirectoriesReuseTheirPreviousObjects() async throws {
        let dir = try WriteTestSupport.tempDir("reuse")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tree = dir + "/tree"
        for sub in ["a/x", "a/y", "b"] {
            try FileManager.default.createDirectory(atPath: tree + "/" + sub, withIntermediateDirectories: true)
            for k in 0..<3 { try Data("\(sub) \(k)".utf8).write(to: URL(fileURLWithPath: "\(tree)/\(sub)/f\(k)")) }
        }
        symlink("b/f0", tree + "/link")
        var options = RepositoryCreateOptions()
        options.keyAlgorithm = "pbkdf2-sha256-600000"
        _ = try await RepositoryCreator.createFilesystem(at: dir + "/repo", password: "pw", options: options)
        let storage = try FilesystemStorage(root: dir + "/repo")
        let source = SnapshotSource(userName: "u", host: "h", path: "/tree")
        func snapshot() async throws -> SnapshotUploadResult {
            try await RepositoryWriter.open(storage: storage, password: "pw", logger: WriteTestSupport.logger)
                .snapshot(path: tree, source: source, options: .init())
        }
        let first = try await snapshot()
        let same = try await snapshot()
        #expect(same.rootObjectID == first.rootObjectID)
        #expect(same.contents.written == 1)  // the manifest only
        #expect(same.stats.cachedFiles == 9)

        try Data("changed".utf8).write(to: URL(fileURLWithPath: tree + "/a/y/f1"))
        let changed = try await snapshot()
        #expect(changed.rootObjectID != first.rootObjectID)
        #expect(changed.contents.written == 5)  // the file, a/y, a, the root, the manifest
        let reader = try await WriteTestSupport.read(dir + "/repo", password: "pw")
        let before = try Directory.parse(try await reader.objects.read(first.rootObjectID), objectID: first.rootObjectID)
        let after = try Directory.parse(try await reader.objects.read(changed.rootObjectID),
                                        objectID: changed.rootObjectID)
        #expect(after.entry(named: "b")?.objectID == before.entry(named: "b")?.objectID)
        #expect(after.entry(named: "a")?.objectID != before.entry(named: "a")?.objectID)
        #expect(after.entry(named: "a")?.summary?.fileCount == 6)
        let tree2 = try await WriteTestSupport.describeSnapshot(reader, root: try #require(
            SnapshotManifest(entry: try #require(reader.manifests.entry(id: changed.manifestID))).rootEntry))
        #expect(tree2 == (try WriteTestSupport.describeTree(tree)))
    }

    @Test func unreadableFilesAreReportedAndSkipped() async throws {
        guard getuid() != 0 else { return }  // root reads everything
        let dir = try WriteTestSupport.tempDir("unread")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/tree", withIntermediateDirectories: true)
        try Data("ok".utf8).write(to: URL(fileURLWithPath: dir + "/tree/ok"))
        try Data("secret".utf8).write(to: URL(fileURLWithPath: dir + "/tree/secret"))
        chmod(dir + "/tree/secret", 0)
        var options = RepositoryCreateOptions()
        options.keyAlgorithm = "pbkdf2-sha256-600000"
        _ = try await RepositoryCreator.createFilesystem(at: dir + "/repo", password: "pw", options: options)
        let r = try await RepositoryWriter.open(storage: try FilesystemStorage(root: dir + "/repo"), password: "pw",
                                                logger: WriteTestSupport.logger)
            .snapshot(path: dir + "/tree", source: SnapshotSource(userName: "u", host: "h", path: "/t"), options: .init())
        #expect(r.errors.map(\.path) == [dir + "/tree/secret"])
        #expect(r.stats.fileCount == 1)
    }

    @Test func creatingOverAnExistingRepositoryIsRefused() async throws {
        let dir = try WriteTestSupport.tempDir("twice")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = RepositoryCreateOptions()
        options.keyAlgorithm = "pbkdf2-sha256-600000"
        _ = try await RepositoryCreator.createFilesystem(at: dir, password: "pw", options: options)
        await #expect(throws: KopiaError(.alreadyExists, "")) {
            try await RepositoryCreator.createFilesystem(at: dir, password: "pw", options: options)
        }
    }
}

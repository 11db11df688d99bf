import Foundation
@testable import Kopia
import KopiaTestSupport
import Synchronization
import Testing

/// Interrupted writes leave a readable repository: packs are written before the index blobs that name them,
/// and the manifest last.
struct CrashSafetyTests {
    /// Storage whose writes of blobs starting with `prefix` fail after `allowed` such writes succeeded.
    final class CrashingStorage: ForwardingStorage {
        let base: any BlobStorage
        let prefix: String
        let allowed: Int
        let count = Mutex(0)
        let written = Mutex<[String]>([])
        init(_ base: any BlobStorage, failing prefix: String, after allowed: Int) {
            self.base = base
            self.prefix = prefix
            self.allowed = allowed
        }
        var displayName: String { "crashing+" + base.displayName }
        func write(_ id: String, _ data: [UInt8]) async throws {
            if id.hasPrefix(prefix) {
                let n = count.withLock { c -> Int in c += 1; return c }
                if n > allowed { throw KopiaError(.storageFailure, "simulated crash", blobID: id) }
            }
            try await base.write(id, data)
            written.withLock { $0.append(id) }
        }
    }

    /// (prefix, allowed): no index blob at all; the data index but not the manifest's; no pack at all.
    @Test(arguments: [("xn", 0), ("xn", 1), ("p", 0)])
    func interruptedSnapshotsLeaveTheRepositoryReadable(_ prefix: String, _ allowed: Int) async throws {
        let dir = try WriteTestSupport.tempDir("crash")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tree = dir + "/tree"
        try WriteTestSupport.makeRandomTree(at: tree, seed: 7, files: 20, maxFile: 50_000)
        var options = RepositoryCreateOptions()
        options.keyAlgorithm = "pbkdf2-sha256-600000"
        _ = try await RepositoryCreator.createFilesystem(at: dir + "/repo", password: "pw", options: options)
        let storage = try FilesystemStorage(root: dir + "/repo")
        let source = SnapshotSource(userName: "u", host: "h", path: "/tree")
        let first = try await RepositoryWriter.open(storage: storage, password: "pw", logger: WriteTestSupport.logger)
            .snapshot(path: tree, source: source, options: .init())

        try Data(repeating: 1, count: 70_000).write(to: URL(fileURLWithPath: tree + "/added"))
        let crashing = CrashingStorage(storage, failing: prefix, after: allowed)
        await #expect(throws: KopiaError(.storageFailure, "")) {
            try await RepositoryWriter.open(storage: crashing, password: "pw", logger: WriteTestSupport.logger)
                .snapshot(path: tree, source: source, options: .init())
        }
        // Blobs were written in the safe order: every index blob after the packs of its session.
        let order = crashing.written.withLock { $0 }
        if let firstIndex = order.firstIndex(where: { $0.hasPrefix("xn") }) {
            #expect(order[..<firstIndex].contains { $0.hasPrefix("p") })
        }

        let reader = try await WriteTestSupport.read(dir + "/repo", password: "pw")
        let snapshots = reader.manifests.find(labels: ["type": "snapshot"])
        #expect(snapshots.map(\.id) == [first.manifestID])
        let snap = try SnapshotManifest(entry: try #require(snapshots.first))
        var original = try WriteTestSupport.describeTree(tree)
        original.removeValue(forKey: "added")
        #expect(try await WriteTestSupport.describeSnapshot(reader, root: snap.rootEntry) == original)

        // A later run completes normally on top of the debris.
        let again = try await RepositoryWriter.open(storage: storage, password: "pw", logger: WriteTestSupport.logger)
            .snapshot(path: tree, source: source, options: .init())
        let after = try await WriteTestSupport.read(dir + "/repo", password: "pw")
        let last = try SnapshotManifest(entry: try #require(after.manifests.entry(id: again.manifestID)))
        #expect(try await WriteTestSupport.describeSnapshot(after, root: last.rootEntry)
            == (try WriteTestSupport.describeTree(tree)))
    }
}

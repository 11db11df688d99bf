import Foundation
@testable import Kopia
import Logging
import Testing

/// `KopiaRepository.refreshed`: an unchanged index set is kept as loaded (the listing is the whole cost); a new
/// index blob (a snapshot written since) is loaded, and the new snapshot appears.
struct RefreshTests {
    @Test func aRefreshOfAnUnchangedRepositoryKeepsTheLoadedIndex() async throws {
        let dir = try WriteTestSupport.tempDir("refresh-same")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let storage = try await Self.repository(at: dir)
        let opened = try await KopiaRepository.open(storage: storage, password: "pw", logger: WriteTestSupport.logger)
        let again = try await opened.refreshed(logger: WriteTestSupport.logger)
        let before = try #require(opened.contents as? ContentManager)
        let after = try #require(again.contents as? ContentManager)
        #expect(before === after)
        #expect(again.catalog.snapshots.map(\.id) == opened.catalog.snapshots.map(\.id))
    }

    @Test func aRefreshAfterANewSnapshotLoadsTheNewIndexAndShowsTheSnapshot() async throws {
        let dir = try WriteTestSupport.tempDir("refresh-new")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let storage = try await Self.repository(at: dir)
        let opened = try await KopiaRepository.open(storage: storage, password: "pw", logger: WriteTestSupport.logger)
        #expect(opened.catalog.snapshots.count == 1)
        try Data(repeating: 7, count: 10_000).write(to: URL(fileURLWithPath: dir + "/tree/added"))
        let second = try await RepositoryWriter.open(storage: storage, password: "pw", logger: WriteTestSupport.logger)
            .snapshot(path: dir + "/tree", source: Self.source, options: .init())
        let again = try await opened.refreshed(logger: WriteTestSupport.logger)
        let before = try #require(opened.contents as? ContentManager)
        let after = try #require(again.contents as? ContentManager)
        #expect(before !== after)
        #expect(after.indexBlobs.count > before.indexBlobs.count)
        #expect(again.catalog.snapshots.map(\.id).contains(second.manifestID))
        #expect(again.catalog.snapshots.count == 2)
    }

    static let source = SnapshotSource(userName: "u", host: "h", path: "/tree")

    /// A small repository (fast key derivation) with one snapshot of a random tree at `dir/tree`.
    static func repository(at dir: String) async throws -> FilesystemStorage {
        try WriteTestSupport.makeRandomTree(at: dir + "/tree", seed: 11, files: 5, maxFile: 20_000)
        var options = RepositoryCreateOptions()
        options.keyAlgorithm = "pbkdf2-sha256-600000"
        _ = try await RepositoryCreator.createFilesystem(at: dir + "/repo", password: "pw", options: options)
        let storage = try FilesystemStorage(root: dir + "/repo")
        _ = try await RepositoryWriter.open(storage: storage, password: "pw", logger: WriteTestSupport.logger)
            .snapshot(path: dir + "/tree", source: source, options: .init())
        return storage
    }
}

import Foundation
@testable import Kopia
import KopiaTestSupport
import Testing

/// `KopiaRepository.refreshed` on repositories written by Ferry's writer and on copies of the kopia-made
/// fixtures, through a sequence of changes: new snapshots, deletion markers under and over a new watermark, a
/// content superseded by a newer timestamp, an epoch compaction that replaces every index blob, and a snapshot
/// written after it. After each one the refreshed repository equals one opened afresh (index record for record,
/// manifests, snapshots), and a refresh after a snapshot reads no index blob it had read before.
struct IncrementalRefreshTests {
    static let logger = WriteTestSupport.logger

    @Test func aRepositoryWrittenByFerryRefreshesLikeAFreshOpenThroughEveryChange() async throws {
        let dir = try WriteTestSupport.tempDir("refresh-incremental")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plain = try await RefreshTests.repository(at: dir)
        try await Self.runSequence(storage: plain, password: "pw", tree: dir + "/tree", source: RefreshTests.source)
    }

    @Test(arguments: ["fs-default", "fs-zstd-chacha", "fs-multichunk", "fs-identities"])
    func aKopiaMadeRepositoryRefreshesLikeAFreshOpenThroughEveryChange(_ fixture: String) async throws {
        let copy = try Fixtures.temporaryCopy(of: fixture)
        defer { try? FileManager.default.removeItem(at: copy) }
        let dir = try WriteTestSupport.tempDir("refresh-fixture")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try WriteTestSupport.makeRandomTree(at: dir + "/tree", seed: 5, files: 4, maxFile: 30_000)
        try await Self.runSequence(storage: try FilesystemStorage(root: copy.path), password: Fixtures.password,
                                   tree: dir + "/tree", source: SnapshotSource(userName: "ferry", host: "test", path: "/t"))
    }

    /// The sequence of changes; `storage` holds a repository with at least one snapshot.
    static func runSequence(storage plain: FilesystemStorage, password: String, tree: String,
                            source: SnapshotSource) async throws {
        let storage = ReadRecordingStorage(plain)
        var repository = try await KopiaRepository.open(storage: storage, password: password, logger: logger)
        let format = repository.format
        try #require(format.parameters.epochParameters.enabled)
        func refresh(_ name: String) async throws {
            let before = Set(try await Self.indexBlobs(plain))
            _ = storage.takeReads()
            let refreshed = try await repository.refreshed(logger: logger)
            let reads = Set(storage.takeReads().filter { $0.hasPrefix("x") })
            let opened = try await KopiaRepository.open(storage: plain, password: password, logger: logger)
            try Self.expectSame(refreshed, opened, name)
            let manager = try #require(refreshed.contents as? ContentManager)
            let kept = Set(manager.indexBlobs.map(\.id)).intersection(before)
            let previous = try #require(repository.contents as? ContentManager)
            // Blobs the previous load had read are never read again (a full reload reads them all).
            #expect(reads.isDisjoint(with: Set(previous.indexBlobs.map(\.id)).intersection(kept)), "\(name): \(reads)")
            repository = refreshed
        }
        func snapshot(_ n: Int) async throws {
            try Data(repeating: UInt8(n), count: 5_000 + n).write(to: URL(fileURLWithPath: tree + "/added-\(n)"))
            let result = try await RepositoryWriter.open(storage: plain, password: password, logger: logger)
                .snapshot(path: tree, source: source, options: .init())
            try await refresh("snapshot \(n)")
            #expect(repository.catalog.snapshots.map(\.id).contains(result.manifestID), "snapshot \(n)")
        }
        try await snapshot(1)
        try await snapshot(2)

        // Deletion markers and a superseding entry, as `kopia content delete` and a rewrite would add them.
        let manager = try #require(repository.contents as? ContentManager)
        let rows = manager.infos(prefix: 0).filter { !$0.deleted }
        try #require(rows.count >= 3)
        let newest = (0..<manager.table.count).map { manager.table.info(at: $0).timestampSeconds }.max() ?? 0
        var gone = rows[0]
        gone.deleted = true
        gone.timestampSeconds = newest + 100
        var readable = rows[1]
        readable.deleted = true
        readable.timestampSeconds = newest + 300
        var superseded = rows[2]
        superseded.timestampSeconds = newest + 400
        let epoch = try await RepositoryWriter.open(storage: plain, password: password, logger: logger).epoch
        try await IndexRefreshSupport.writeIndexBlob(try IndexV2Encoder.encode([gone, readable, superseded]),
                                                     prefix: "xn\(epoch)_", suffix: "-sfeedfacefeedface-c1",
                                                     format: format, storage: plain)
        try await plain.write("xw\(newest + 200)", [])
        try await refresh("deletion markers")
        let after = try #require(repository.contents as? ContentManager)
        #expect(after.info(gone.contentID) == nil)
        #expect(after.info(readable.contentID)?.deleted == true)
        #expect(after.info(superseded.contentID)?.timestampSeconds == newest + 400)

        // Epoch compaction: epoch 0 (the only one so far) settled into an xs0 set of its winners, the markers
        // advanced to epoch 2, so that epoch 0 counts as settled and the set replaces every xn0 blob.
        try #require(epoch == 0)
        let winners = (0..<after.table.count).map(after.table.info(at:))
        let active = after.indexBlobs
        try await IndexRefreshSupport.writeIndexBlob(try IndexV2Encoder.encode(winners), prefix: "xs0_",
                                                     suffix: "-s00000000000000c0-c1", format: format, storage: plain)
        for marker in 0...2 { try await plain.write("xe\(marker)", []) }
        try await refresh("compaction")
        let compacted = Set((repository.contents as? ContentManager)?.indexBlobs.map(\.id) ?? [])
        #expect(compacted.isDisjoint(with: active.map(\.id)))
        // Maintenance deletes what the compaction superseded.
        for blob in active { try await plain.delete(blob.id) }
        try await refresh("superseded blobs deleted")
        try await snapshot(3)
    }

    /// Index blobs in storage (`x…`, not markers).
    static func indexBlobs(_ storage: any BlobStorage) async throws -> [String] {
        try await ["xn", "xs", "xr"].asyncFlatMap { try await storage.list(prefix: $0).map(\.id) }
    }

    static func expectSame(_ refreshed: KopiaRepository, _ opened: KopiaRepository, _ name: String) throws {
        let a = try #require(refreshed.contents as? ContentManager)
        let b = try #require(opened.contents as? ContentManager)
        let ca = IndexRefreshSupport.Contents(a.loadedIndex)
        let cb = IndexRefreshSupport.Contents(b.loadedIndex)
        #expect(ca == cb, "\(name): \(IndexRefreshSupport.difference(ca, cb))")
        #expect(refreshed.manifests.entries == opened.manifests.entries, "\(name)")
        #expect(refreshed.catalog.snapshots.map(\.id) == opened.catalog.snapshots.map(\.id), "\(name)")
    }
}

extension Array {
    func asyncFlatMap<T>(_ transform: (Element) async throws -> [T]) async rethrows -> [T] {
        var out: [T] = []
        for e in self { out += try await transform(e) }
        return out
    }
}

import Foundation
@testable import Kopia
import KopiaTestSupport
import Testing

/// The incremental index refresh (`IndexLoader.refresh`, `IndexMerge`) against full loads of the same blobs:
/// after every change — blobs added, blobs removed, compaction, deletion markers, a content superseded by a newer
/// timestamp, the watermark moving either way — the refreshed index equals a full load record for record.
struct IndexRefreshTests {
    typealias Contents = IndexRefreshSupport.Contents

    /// Refreshes `previous` (merging always when `alwaysMerge`), loads the same repository in full, and expects
    /// the same index. Returns the refreshed result (the previous one when nothing changed) and the mode.
    static func refreshAndCompare(_ previous: IndexLoader.Result, storage: any BlobStorage, format: RepositoryFormat,
                                  alwaysMerge: Bool, fullLoadFrom: (any BlobStorage)? = nil, _ comment: String)
        async throws
        -> (IndexLoader.Result, IndexLoader.RefreshMode?)
    {
        let refreshed = try await IndexLoader.refresh(previous, storage: storage, format: format,
                                                      logger: ContentFixtures.logger, alwaysMerge: alwaysMerge)
        let full = try await IndexLoader.load(storage: fullLoadFrom ?? storage, format: format,
                                              logger: ContentFixtures.logger)
        let now = refreshed?.0 ?? previous
        let a = Contents(now)
        let b = Contents(full)
        #expect(a == b, "\(comment): \(IndexRefreshSupport.difference(a, b))")
        return (now, refreshed?.1)
    }

    /// Random sequences over 80 contents in 5 packs: each step adds index blobs (random entries, 1 in 4 deleted,
    /// timestamps within 6 s so that ties are frequent, differing formats and offsets), removes one, compacts
    /// several into one (winners only, as Kopia's compaction writes), or adds or removes a watermark.
    struct RandomCase: Sendable, CustomTestStringConvertible {
        var seed: UInt64
        /// 3: index v2 `xn0_` blobs, epochs, watermarks; 1: index v1 `n` blobs, the legacy manager (no watermark).
        var version: Int
        var testDescription: String { "seed \(seed), format v\(version)" }
    }

    @Test(arguments: [RandomCase(seed: 1, version: 3), RandomCase(seed: 2, version: 3), RandomCase(seed: 3, version: 3),
                      RandomCase(seed: 4, version: 3), RandomCase(seed: 5, version: 1), RandomCase(seed: 6, version: 1)])
    func randomChangesRefreshExactlyLikeAFullLoad(_ c: RandomCase) async throws {
        let seed = c.seed
        let legacy = c.version == 1
        let repo = try await SyntheticRepository(version: c.version)
        let format = try await RepositoryFormat.open(storage: repo.storage, password: SyntheticRepository.password)
        var rng = IndexMergeTests.SplitMix(seed: seed)
        let ids = (0..<80).map { n in
            repo.contentID(SyntheticRepositoryTests.data(n, size: 8), prefix: n % 10 == 0 ? UInt8(ascii: "m") : 0)
        }
        let packs = (0..<5).map { "p" + String(repeating: String($0), count: 32) + "-s1" }
        var written: [String: [ContentInfo]] = [:]
        var serial = 0
        func write(_ entries: [ContentInfo]) async throws {
            serial += 1
            let id = try await IndexRefreshSupport.writeIndexBlob(
                legacy ? IndexV1Bytes.encode(entries) : try IndexV2Encoder.encode(entries), prefix: legacy ? "n" : "xn0_",
                suffix: "-s\(serial)-c1", format: format, storage: repo.storage)
            written[id] = entries
        }
        func randomEntries() -> [ContentInfo] {
            var chosen = Set<Int>()
            for _ in 0..<(1 + Int(rng.next() % 30)) { chosen.insert(Int(rng.next() % UInt64(ids.count))) }
            return chosen.sorted().map { n in
                ContentInfo(contentID: ids[n], packBlobID: packs[Int(rng.next() % 5)],
                            packOffset: UInt32(rng.next() % 3) * 100, packedLength: 50, originalLength: 20,
                            timestampSeconds: 100 + Int64(rng.next() % 6), deleted: rng.next() % 4 == 0,
                            formatVersion: legacy ? 1 : 2,
                            compressionHeaderID: !legacy && rng.next() % 3 == 0 ? 0x1101 : 0)
            }
        }
        try await write(randomEntries())
        var previous = try await IndexLoader.load(storage: repo.storage, format: format, logger: ContentFixtures.logger)
        var merged = 0
        for step in 0..<40 {
            let listed = try await repo.storage.list(prefix: legacy ? "n" : "xn").map(\.id).sorted()
            switch rng.next() % 7 {
            case 0, 1, 2:
                for _ in 0..<(1 + Int(rng.next() % 2)) { try await write(randomEntries()) }
            case 3 where listed.count > 1:
                try await repo.storage.delete(listed[Int(rng.next() % UInt64(listed.count))])
            case 4 where listed.count > 2:
                // Compaction: the winners of some blobs in one new blob, the inputs deleted.
                let inputs = listed.filter { _ in rng.next() % 2 == 0 }
                var best: [ContentID: ContentInfo] = [:]
                for e in inputs.flatMap({ written[$0] ?? [] }) {
                    if let b = best[e.contentID], !Self.beats(e, b) { continue }
                    best[e.contentID] = e
                }
                if !best.isEmpty { try await write(Array(best.values)) }
                for id in inputs { try await repo.storage.delete(id) }
            case 5 where !legacy:
                try await repo.storage.write("xw\(100 + rng.next() % 6)", [])
            default:
                let marks = try await repo.storage.list(prefix: "xw")
                if let mark = marks.randomElement(using: &rng) { try await repo.storage.delete(mark.id) }
            }
            let (now, mode) = try await Self.refreshAndCompare(previous, storage: repo.storage, format: format,
                                                               alwaysMerge: step % 2 == 0, "\(c.testDescription) step \(step)")
            if mode == .incremental { merged += 1 }
            previous = now
        }
        #expect(merged >= 10)
    }

    /// §7.3 with every field (the order `IndexWinnerRule` applies), for the compaction emulation above.
    static func beats(_ a: ContentInfo, _ b: ContentInfo) -> Bool {
        if a.timestampSeconds != b.timestampSeconds { return a.timestampSeconds > b.timestampSeconds }
        if a.deleted != b.deleted { return !a.deleted }
        if a.packBlobID != b.packBlobID { return b.packBlobID.utf8.lexicographicallyPrecedes(a.packBlobID.utf8) }
        if a.packOffset != b.packOffset { return a.packOffset > b.packOffset }
        return a.compressionHeaderID > b.compressionHeaderID
    }

    /// Named steps with what each must show, reading only the blobs it adds: a newer timestamp supersedes, a
    /// deletion marker at or below the watermark hides a content and one above it stays readable, a removed blob
    /// brings back the entry it had superseded, and an epoch compaction (an `xs0_` set with epoch markers) replaces
    /// the `xn0_` blobs without changing what is visible.
    @Test
    func eachKindOfChangeShowsWhatKopiaWouldAndReadsOnlyNewBlobs() async throws {
        let repo = try await SyntheticRepository(version: 3)
        let storage = ReadRecordingStorage(repo.storage)
        let format = try await RepositoryFormat.open(storage: storage, password: SyntheticRepository.password)
        let data = (1...6).map { SyntheticRepositoryTests.data($0) }
        let ids = data.map { repo.contentID($0) }
        let p1 = try await repo.writePack("p" + String(repeating: "1", count: 32) + "-s1", Array(zip(ids, data)),
                                          timestamp: 1000)
        func blob(_ prefix: String, _ suffix: String, _ entries: [ContentInfo]) async throws -> String {
            try await IndexRefreshSupport.writeIndexBlob(try IndexV2Encoder.encode(entries), prefix: prefix,
                                                         suffix: suffix, format: format, storage: storage)
        }
        let a = try await blob("xn0_", "-s1-c1", Array(p1[0..<5]))
        var previous = try await IndexLoader.load(storage: storage, format: format, logger: ContentFixtures.logger)
        _ = storage.takeReads()
        func step(_ name: String, reads expected: Set<String>, unchanged: Bool = false) async throws
            -> IndexLoader.Result
        {
            let (now, mode) = try await Self.refreshAndCompare(previous, storage: storage, format: format,
                                                               alwaysMerge: true, fullLoadFrom: repo.storage, name)
            #expect(mode == (unchanged ? nil : .incremental), "\(name)")
            #expect(Set(storage.takeReads().filter { $0.hasPrefix("x") }) == expected, "\(name)")
            previous = now
            return now
        }
        func info(_ r: IndexLoader.Result, _ n: Int) -> ContentInfo? { r.table.find(ids[n].indexKey).map(r.table.info(at:)) }

        // Content 1 rewritten into another pack, later: the newer timestamp wins. Content 6 is new.
        let p2 = try await repo.writePack("p" + String(repeating: "2", count: 32) + "-s1",
                                          [(ids[1], data[1]), (ids[5], data[5])], timestamp: 2000)
        let b = try await blob("xn0_", "-s2-c1", p2)
        var r = try await step("newer timestamp", reads: [b])
        #expect(info(r, 1)?.packBlobID == p2[0].packBlobID && info(r, 5) != nil)

        // Content 2 deleted at 2500 and content 3 at 4000; watermark 3000: 2 is gone, 3 deleted but readable.
        var del2 = p1[2]
        del2.deleted = true
        del2.timestampSeconds = 2500
        var del3 = p1[3]
        del3.deleted = true
        del3.timestampSeconds = 4000
        let c = try await blob("xn0_", "-s3-c1", [del2, del3])
        try await storage.write("xw3000", [])
        r = try await step("deletion markers and a watermark", reads: [c])
        #expect(info(r, 2) == nil)
        #expect(info(r, 3)?.deleted == true)

        // The watermark moves past content 3's deletion: only the listing changes, nothing is read.
        try await storage.write("xw5000", [])
        r = try await step("watermark advanced", reads: [])
        #expect(info(r, 3) == nil && r.watermark == 5000)
        // ... and back (the newer watermark blob removed): content 3 is readable again.
        try await storage.delete("xw5000")
        r = try await step("watermark withdrawn", reads: [])
        #expect(info(r, 3)?.deleted == true)

        // Blob b removed: content 1 comes back from pack 1, content 6 is gone.
        try await storage.delete(b)
        r = try await step("a removed blob", reads: [])
        #expect(info(r, 1)?.packBlobID == p1[1].packBlobID && info(r, 5) == nil)

        // Epoch compaction: epoch 0's winners in one xs0 set, markers up to epoch 2 (epoch 0 settled); a and c
        // stay in storage but are no longer active.
        let compacted = (0..<r.table.count).map(r.table.info(at:))
        let xs = try await blob("xs0_", "-s00000000000000aa-c1", compacted)
        for marker in ["xe0", "xe1", "xe2"] { try await storage.write(marker, []) }
        r = try await step("epoch compaction", reads: [xs])
        #expect(r.indexBlobs.map(\.id) == [xs])
        #expect((0..<r.table.count).map(r.table.info(at:)) == compacted)
        // Maintenance then deletes the superseded blobs: the active set is unchanged, so is the index.
        try await storage.delete(a)
        try await storage.delete(c)
        r = try await step("superseded blobs deleted", reads: [], unchanged: true)
        // A write into epoch 2 after the compaction.
        let d = try await blob("xn2_", "-s4-c1", [p2[1]])
        r = try await step("a write after compaction", reads: [d])
        #expect(info(r, 5) != nil)
    }
}

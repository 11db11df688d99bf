@testable import Kopia
import Testing

/// Duplicate resolution and the deletion watermark, exactly as kopia-format.md §7.3 states.
struct IndexMergeTests {
    struct Version: Sendable {
        var pack: String
        var timestamp: Int64
        var deleted: Bool
    }

    struct MergeCase: Sendable, CustomTestStringConvertible {
        var name: String
        var versions: [Version]
        var watermark: Int64 = Int64.min
        /// Index into `versions` of the winner, or nil when the content must be absent.
        var winner: Int?
        var testDescription: String { name }
    }

    static let cases: [MergeCase] = [
        MergeCase(name: "the newer timestamp wins, even when deleted",
                  versions: [.init(pack: "pZ", timestamp: 10, deleted: false), .init(pack: "pA", timestamp: 11, deleted: true)],
                  winner: 1),
        MergeCase(name: "the newer timestamp wins over a greater pack",
                  versions: [.init(pack: "pA", timestamp: 20, deleted: false), .init(pack: "pZ", timestamp: 19, deleted: false)],
                  winner: 0),
        MergeCase(name: "equal timestamps: non-deleted wins",
                  versions: [.init(pack: "pZ", timestamp: 10, deleted: true), .init(pack: "pA", timestamp: 10, deleted: false)],
                  winner: 1),
        MergeCase(name: "equal timestamps and flags: the greater pack ID wins",
                  versions: [.init(pack: "pB", timestamp: 10, deleted: false), .init(pack: "pC", timestamp: 10, deleted: false),
                             .init(pack: "pA", timestamp: 10, deleted: false)],
                  winner: 1),
        MergeCase(name: "a deleted winner at the watermark is absent",
                  versions: [.init(pack: "pA", timestamp: 5, deleted: false), .init(pack: "pB", timestamp: 10, deleted: true)],
                  watermark: 10, winner: nil),
        MergeCase(name: "a deleted winner newer than the watermark stays readable",
                  versions: [.init(pack: "pA", timestamp: 5, deleted: false), .init(pack: "pB", timestamp: 10, deleted: true)],
                  watermark: 9, winner: 1),
        MergeCase(name: "a live entry older than the watermark stays",
                  versions: [.init(pack: "pA", timestamp: 5, deleted: false)], watermark: 100, winner: 0),
    ]

    @Test(arguments: cases)
    func duplicatesResolveAsKopiaDoes(_ c: MergeCase) throws {
        let id = IndexDecoderTests.id(42)
        let other = IndexDecoderTests.id(7)
        var builder = IndexTableBuilder(keySize: 17)
        // Each version arrives from its own "index blob", in both orders.
        for order in [Array(c.versions.indices), Array(c.versions.indices.reversed())] {
            builder = IndexTableBuilder(keySize: 17)
            for i in order {
                let v = c.versions[i]
                let e = IndexDecoderTests.entry(42, pack: v.pack, deleted: v.deleted, timestamp: v.timestamp)
                try IndexLoader.decode(try IndexV2Encoder.encode([e, IndexDecoderTests.entry(7)]), blobID: "xn0_\(i)",
                                       into: &builder)
            }
            let table = builder.build(watermark: c.watermark)
            let found = table.find(id.indexKey).map(table.info(at:))
            if let w = c.winner {
                #expect(found?.packBlobID == c.versions[w].pack && found?.deleted == c.versions[w].deleted, "\(order)")
            } else {
                #expect(found == nil, "\(order)")
            }
            #expect(table.find(other.indexKey) != nil)
            #expect(table.count == (c.winner == nil ? 1 : 2))
        }
    }

    /// The in-place build (sort through a permutation, apply its cycles, compact the winners) over many shuffled
    /// entries with duplicates spread across blobs gives exactly what resolving each key on its own gives.
    @Test
    func shuffledBlobsWithDuplicatesMergeLikeOneKeyAtATime() throws {
        var rng = SplitMix(seed: 16)
        let packs = ["pA", "pB", "pC", "pD"]
        var blobs: [[IndexV2Encoder.Entry]] = Array(repeating: [], count: 5)
        var versions: [Int: [IndexV2Encoder.Entry]] = [:]
        for n in 0..<3000 {
            let first = Int(rng.next() % 5)
            for k in 0..<(1 + Int(rng.next() % 3)) {  // each version in another blob
                let e = IndexDecoderTests.entry(n, pack: packs[Int(rng.next() % 4)], deleted: rng.next() % 5 == 0,
                                                timestamp: 100 + Int64(rng.next() % 4))
                versions[n, default: []].append(e)
                blobs[(first + k) % 5].append(e)
            }
        }
        var builder = IndexTableBuilder(keySize: 17)
        for (i, blob) in blobs.enumerated() where !blob.isEmpty {
            // The encoder sorts each blob; shuffling the blobs' order exercises long permutation cycles.
            try IndexLoader.decode(try IndexV2Encoder.encode(blob.shuffled(using: &rng)), blobID: "xn0_\(i)",
                                   into: &builder)
        }
        let watermark: Int64 = 101
        let table = builder.build(watermark: watermark)
        var expected: [ContentID: IndexV2Encoder.Entry] = [:]
        for (_, vs) in versions {
            let best = vs.max { a, b in
                if a.timestampSeconds != b.timestampSeconds { return a.timestampSeconds < b.timestampSeconds }
                if a.deleted != b.deleted { return a.deleted }
                return a.packBlobID < b.packBlobID
            }
            if let best, !(best.deleted && best.timestampSeconds <= watermark) { expected[best.contentID] = best }
        }
        #expect(table.count == expected.count)
        let ids = (0..<table.count).map(table.contentID(at:))
        #expect(ids == expected.keys.sorted())
        for (id, e) in expected {
            let info = table.find(id.indexKey).map(table.info(at:))
            #expect(info?.packBlobID == e.packBlobID && info?.deleted == e.deleted
                    && info?.timestampSeconds == e.timestampSeconds, "\(id)")
        }
    }

    /// A small deterministic generator (the test must not depend on the system RNG).
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test
    func prefixRangesAndLookupsCoverEveryPrefix() throws {
        var entries: [IndexV2Encoder.Entry] = []
        for (i, prefix) in [UInt8(0), UInt8(ascii: "k"), UInt8(ascii: "m"), UInt8(ascii: "x")].enumerated() {
            entries += (0..<25).map { IndexDecoderTests.entry(i * 100 + $0, prefix: prefix) }
        }
        var builder = IndexTableBuilder(keySize: 17)
        try IndexLoader.decode(try IndexV2Encoder.encode(entries), blobID: "xn0_a", into: &builder)
        let table = builder.build(watermark: Int64.min)
        for prefix in [UInt8(0), UInt8(ascii: "k"), UInt8(ascii: "m"), UInt8(ascii: "x"), UInt8(ascii: "z")] {
            let ids = table.range(prefix: prefix).map(table.contentID(at:))
            #expect(ids == entries.map(\.contentID).filter { $0.prefix == prefix }.sorted())
        }
        for e in entries { #expect(table.find(e.contentID.indexKey).map(table.contentID(at:)) == e.contentID) }
    }
}

import Foundation
@testable import Kopia
import KopiaTestSupport
import Testing

/// Large index blobs load piece by piece (ranged reads, AEAD opened incrementally, entries decoded as they
/// arrive): the table must be exactly what the whole-blob path builds, and damage must still be caught and named.
struct IndexStreamingTests {
    typealias Entry = IndexV2Encoder.Entry

    static func infos(_ builder: consuming IndexTableBuilder, watermark: Int64 = Int64.min) -> [ContentInfo] {
        let table = builder.build(watermark: watermark)
        return (0..<table.count).map(table.info(at:))
    }

    /// Feeds `bytes` to a streaming decoder in pieces of `piece` bytes.
    static func feed(_ bytes: [UInt8], piece: Int, blobID: String = "xn0_test",
                     into builder: inout IndexTableBuilder) throws(KopiaError) {
        var decoder = IndexBlobDecoder(blobID: blobID, totalLength: bytes.count)
        var at = 0
        while at < bytes.count {
            let end = min(at + piece, bytes.count)
            let failure = bytes.withUnsafeBytes { b -> KopiaError? in
                do throws(KopiaError) {
                    try decoder.feed(UnsafeRawBufferPointer(rebasing: b[at..<end]), into: &builder)
                } catch { return error }
                return nil
            }
            if let failure { throw failure }
            at = end
        }
        try decoder.finish(into: &builder)
    }

    static let blobs: [(name: String, bytes: [UInt8])] = {
        let e = IndexDecoderTests.entry
        let v2Mixed = (0..<60).map { e($0, "p\($0 % 7)-s", $0 % 2 == 0 ? UInt8(ascii: "k") : 0,
                                        $0 % 3 == 0 ? 0x1101 : 0, 1000, $0 % 5 == 0, 1_795_218_745 + Int64($0)) }
        let big = [e(1, "pA", 0, 0, 200_000_000, false, 1_795_218_745), e(2, "pB", 0, 0, 5, true, 1_795_218_745)]
        let manyPacks = (0..<300).map { e($0, "p\(1000 + $0)-s", 0, 0, 1000, false, 1_795_218_745) }
        let v1 = (0..<40).map { var x = e($0, $0 < 20 ? "pAAAA" : "qBBBB", 0, 0, 1000, $0 % 7 == 0, 0xABCD_1234_56)
                                x.formatVersion = 1; return x }
        return [
            ("v2, several formats, deleted, prefixes, random tail", (try? IndexV2Encoder.encode(v2Mixed, randomTail: Array(1...40))) ?? []),
            ("v2, lengths ≥ 16 MiB (entry size 19)", (try? IndexV2Encoder.encode(big)) ?? []),
            ("v2, 300 packs", (try? IndexV2Encoder.encode(manyPacks)) ?? []),
            ("v2, empty (header only, random tail)", [2, 17, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9]),
            ("v1", IndexV1Bytes.encode(v1)),
            ("v1, empty", IndexV1Bytes.encode([])),
        ]
    }()

    @Test(arguments: 0..<6)
    func piecesOfAnySizeBuildTheSameTableAsTheWholeBlob(_ n: Int) throws {
        let (name, bytes) = Self.blobs[n]
        #expect(!bytes.isEmpty, "\(name)")
        // Another blob first, so this one's records start mid-table and its packs and formats get new numbers.
        let first = try IndexV2Encoder.encode((100..<130).map {
            IndexDecoderTests.entry($0, pack: "pZ\($0 % 3)", compression: 0x1100, timestamp: 1_795_000_000)
        })
        var whole = IndexTableBuilder(keySize: 17)
        try IndexLoader.decode(first, blobID: "xn0_first", into: &whole)
        try IndexLoader.decode(bytes, blobID: "xn0_test", into: &whole)
        let expected = Self.infos(whole)
        for piece in [1, 2, 3, 16, 17, 33, 34, 35, 36, 100, 4096] {
            var builder = IndexTableBuilder(keySize: 17)
            try IndexLoader.decode(first, blobID: "xn0_first", into: &builder)
            try Self.feed(bytes, piece: piece, into: &builder)
            #expect(Self.infos(builder) == expected, "\(name), pieces of \(piece)")
        }
    }

    /// Truncations and bit flips fed in small pieces: never a trap; an error names the blob; a blob that decodes
    /// decodes to what the whole-blob path gives, or fails only because a pack name points into the entries
    /// (which a streaming reader has dropped; Kopia writes names after the tables).
    @Test(arguments: [0, 4])
    func damagedPlaintextInPiecesFailsCleanly(_ n: Int) throws {
        let bytes = Self.blobs[n].bytes
        var outcomes = (same: 0, failed: 0)
        func attempt(_ b: [UInt8]) {
            var whole = IndexTableBuilder(keySize: 17)
            let reference = Result { () throws(KopiaError) in
                try IndexLoader.decode(b, blobID: "xn0_test", into: &whole)
                return Self.infos(whole)
            }
            var streamed = IndexTableBuilder(keySize: 17)
            do {
                try Self.feed(b, piece: 5, into: &streamed)
                #expect(try reference.get() == Self.infos(streamed))
                outcomes.same += 1
            } catch {
                #expect(error.blobID == "xn0_test")
                if case .success = reference {
                    #expect(error.code == .corruptBlob && error.message.contains("inside its entries"), "\(error)")
                }
                outcomes.failed += 1
            }
        }
        for k in 0..<bytes.count { attempt(Array(bytes.prefix(k))) }
        for i in 0..<bytes.count {
            for bit in [0, 3, 7] {
                var b = bytes
                b[i] ^= 1 << UInt8(bit)
                attempt(b)
            }
        }
        #expect(outcomes.failed > bytes.count && outcomes.same > 0)
    }

    /// A synthetic repository with one large blob, a small one and a superseding deletion.
    static func repository(version: Int) async throws -> (SyntheticRepository, [(ContentID, [UInt8])]) {
        let repo = try await SyntheticRepository(version: version)
        let contents = (0..<400).map { n in
            let data = (0..<(50 + n % 13)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ n) }
            return (repo.contentID(data, prefix: n % 9 == 0 ? UInt8(ascii: "k") : 0), data)
        }
        var entries: [Entry] = []
        for p in 0..<8 {
            let name = "p" + String(repeating: String(p), count: 32) + "-s\(p)"
            entries += try await repo.writePack(name, Array(contents[p * 50..<(p + 1) * 50]), timestamp: 1_800_000_000 + Int64(p))
        }
        var gone = entries[7]
        gone.deleted = true
        gone.timestampSeconds += 100
        func encode(_ e: [Entry]) throws -> [UInt8] {
            version >= 2 ? try IndexV2Encoder.encode(e, randomTail: Array(0..<25))
                         : IndexV1Bytes.encode(e.map { var x = $0; x.formatVersion = 1; return x })
        }
        let prefix = version >= 2 ? "xn0_" : "n"
        try await repo.writeBlob(prefix: prefix, suffix: "-s1-c1", try encode(Array(entries[0..<350])))
        try await repo.writeBlob(prefix: prefix, suffix: "-s2-c1", try encode(Array(entries[350...])))
        try await repo.writeBlob(prefix: prefix, suffix: "-s3-c1", try encode([gone]))
        return (repo, contents)
    }

    static func load(_ storage: any BlobStorage, _ format: RepositoryFormat, threshold: Int64, piece: Int) async throws
        -> IndexLoader.Result
    {
        try await IndexLoader.load(storage: storage, format: format, logger: ContentFixtures.logger,
                                   streaming: .init(threshold: threshold, pieceSize: piece))
    }

    @Test(arguments: [1, 2])
    func streamedBlobsLoadTheSameIndexAsWholeOnes(_ version: Int) async throws {
        let (repo, contents) = try await Self.repository(version: version)
        let format = try await RepositoryFormat.open(storage: repo.storage, password: SyntheticRepository.password)
        let whole = try await Self.load(repo.storage, format, threshold: .max, piece: 1 << 20)
        func rows(_ r: IndexLoader.Result) -> [ContentInfo] { (0..<r.table.count).map(r.table.info(at:)) }
        #expect(whole.table.count == 400)
        #expect(rows(whole).filter(\.deleted).map(\.contentID) == [contents[7].0])
        for piece in [64, 100, 999, 4096, 1 << 20] {
            let streamed = try await Self.load(repo.storage, format, threshold: 0, piece: piece)
            #expect(rows(streamed) == rows(whole), "pieces of \(piece)")
            #expect(streamed.rawEntries == whole.rawEntries)
        }
        // And the contents read back through a manager built on the streamed table.
        let streamed = try await Self.load(repo.storage, format, threshold: 0, piece: 100)
        let manager = ContentManager(storage: repo.storage, format: format, loaded: streamed, logger: ContentFixtures.logger)
        for (id, data) in contents.prefix(40) where id != contents[7].0 {
            #expect(try await manager.content(id) == data)
        }
    }

    @Test
    func damageToAStreamedBlobIsCaughtAndNamed() async throws {
        let (repo, _) = try await Self.repository(version: 2)
        let format = try await RepositoryFormat.open(storage: repo.storage, password: SyntheticRepository.password)
        let large = try #require(try await repo.storage.list(prefix: "xn0_").max { $0.length < $1.length })
        let length = Int(large.length)
        // Nonce, first and middle ciphertext bytes, the last ciphertext byte, the tag; then a short blob.
        let faults: [FaultyStorage.Fault] = [
            .flipBit(offset: 3, bit: 1), .flipBit(offset: 12, bit: 0), .flipBit(offset: length / 2, bit: 5),
            .flipBit(offset: length - 17, bit: 7), .flipBit(offset: length - 1, bit: 2), .truncate(length - 1),
            .truncate(20),
        ]
        for fault in faults {
            let faulty = FaultyStorage(repo.storage)
            faulty.inject(fault, into: large.id)
            let error = await #expect(throws: KopiaError.self, "\(fault)") {
                _ = try await Self.load(faulty, format, threshold: 0, piece: 256)
            }
            #expect(error?.code == .corruptBlob && error?.blobID == large.id, "\(fault): \(String(describing: error))")
            #expect(error?.message.contains("authentication") == true, "\(fault): \(String(describing: error))")
        }
        // A listing that claims more bytes than the blob has.
        let lying = LengthLyingStorage(base: repo.storage, extra: 10)
        let error = await #expect(throws: KopiaError.self) { _ = try await Self.load(lying, format, threshold: 0, piece: 256) }
        #expect(error?.code == .corruptBlob && error?.blobID?.hasPrefix("xn0_") == true)
        // A failing read keeps its code and retry class and names the blob.
        let failing = FaultyStorage(repo.storage)
        failing.inject(.fail(KopiaError(.storageFailure, "injected outage", retry: .transient)), into: large.id)
        let outage = await #expect(throws: KopiaError.self) { _ = try await Self.load(failing, format, threshold: 0, piece: 256) }
        #expect(outage?.code == .storageFailure && outage?.retry == .transient && outage?.blobID == large.id)
    }

    /// The loader's builder is captured by its task group's closure; building the table must still sort the
    /// records where they are, not in a copy (the copy was the 1M restore's peak).
    @Test
    func buildingTheTableSortsTheRecordsWhereTheyAre() throws {
        var builder = IndexTableBuilder(keySize: 17)
        try IndexLoader.decode(try IndexV2Encoder.encode((0..<500).map { IndexDecoderTests.entry($0 * 7919 % 500) }),
                               blobID: "xn0_a", into: &builder)
        let address = { (bytes: [UInt8]) in bytes.withUnsafeBytes { UInt(bitPattern: $0.baseAddress) } }
        let before = address(builder.records)
        let captured: () -> Int = { builder.count }  // boxes `builder`, as `withThrowingTaskGroup`'s closure does
        let table = builder.build(watermark: Int64.min)
        #expect(address(table.records) == before)
        #expect(table.count == 500 && captured() == 0)
        #expect((1..<500).allSatisfy { table.contentID(at: $0 - 1) < table.contentID(at: $0) })
    }

    @Test
    func theTableIsReservedOnceFromTheBlobSizes() {
        let blobs = [BlobMetadata(id: "a", length: 34_000_000), BlobMetadata(id: "b", length: 66_000)]
        // keySize 17: an entry of index v2 takes at least 33 bytes.
        #expect(IndexLoader.estimatedEntries(blobs, keySize: 17) == 34_066_000 / 33)
        // A listing is outside input: a huge claimed length does not reserve more than 256 MiB worth.
        #expect(IndexLoader.estimatedEntries([BlobMetadata(id: "c", length: .max)], keySize: 17) == (1 << 28) / 33)
        var builder = IndexTableBuilder(keySize: 17)
        builder.reserve(entries: 1000)
        let capacity = builder.records.capacity
        builder.reserve(entries: 10)
        #expect(builder.records.capacity == capacity)
    }
}

/// Lists every blob `extra` bytes longer than it is.
struct LengthLyingStorage: ForwardingStorage {
    let base: any BlobStorage
    let extra: Int64
    var displayName: String { "lying+" + base.displayName }
    func list(prefix: String) async throws -> [BlobMetadata] {
        try await base.list(prefix: prefix).map { BlobMetadata(id: $0.id, length: $0.length + extra, modified: $0.modified) }
    }
}

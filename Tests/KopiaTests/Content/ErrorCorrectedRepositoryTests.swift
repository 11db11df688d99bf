import Foundation
@testable import Kopia
import KopiaTestSupport
import Testing

/// Repositories with `ecc` = `REED-SOLOMON-CRC32` (kopia-format.md §4.4): every packed content and every whole
/// blob carries the ECC layer after encryption, and readers remove it before decrypting — repairing damage up to
/// the parity count.
struct ErrorCorrectedRepositoryTests {
    static func data(_ n: Int, size: Int) -> [UInt8] { T.bytes(count: size, seed: UInt64(n) &* 7919 &+ 1) }

    struct Built {
        var repo: SyntheticRepository
        var pack: String
        var entries: [IndexV2Encoder.Entry]
        var contents: [(ContentID, [UInt8])]
    }

    /// A format-v3 repository with one pack of contents (small, mid-sized, multi-block, one compressed) and one
    /// epoch index blob.
    static func build(percent: Int) async throws -> Built {
        let repo = try await SyntheticRepository(version: 3, eccOverheadPercent: percent)
        let contents = [1, 40, 3000, 70_000, 200_000].enumerated().map { i, size in
            (repo.contentID(Self.data(i, size: size)), Self.data(i, size: size))
        }
        let pack = "p" + String(repeating: "e", count: 32) + "-s1"
        var entries = try await repo.writePack(pack, Array(contents.prefix(4)))
        // A compressed content in a second pack (decompression happens after ECC and decryption).
        let text = Array(String(repeating: "kopia ferry ecc ", count: 2000).utf8)
        let textID = repo.contentID(text)
        let zpack = "p" + String(repeating: "f", count: 32) + "-s1"
        entries += try await repo.writePack(zpack, [(textID, text)], compression: .zstdFastest)
        let big = try await repo.writePack("q" + String(repeating: "9", count: 32) + "-s1", [contents[4]])
        entries += big
        try await repo.writeBlob(prefix: "xn0_", suffix: "-s1-c1", try IndexV2Encoder.encode(entries))
        try await repo.storage.write("xe0", Array("epoch-marker".utf8))
        return Built(repo: repo, pack: pack, entries: entries, contents: contents + [(textID, text)])
    }

    @Test(arguments: [1, 2, 10, 100])
    func anErrorCorrectedRepositoryOpensListsAndReads(_ percent: Int) async throws {
        let built = try await Self.build(percent: percent)
        let (format, manager) = try await built.repo.open()
        let ecc = try #require(format.errorCorrection)
        #expect(ecc.overheadPercent == percent && ecc.name == "REED-SOLOMON-CRC32")
        #expect(manager.entryCount == built.contents.count)
        #expect(Set(manager.contentIDs(prefix: 0)) == Set(built.contents.map(\.0)))
        for (id, bytes) in built.contents { #expect(try await manager.content(id) == bytes) }
        for (id, bytes) in built.contents.prefix(5) {
            // The index's packed length is the ECC-wrapped length of the sealed (AEAD, 28 bytes more) content.
            #expect(try #require(manager.info(id)).packedLength == UInt32(ecc.encodedLength(bytes.count + 28)))
        }
        // Coalesced pack reads go through the same decode path.
        let infos = built.contents.prefix(4).compactMap { manager.info($0.0) }
        let read = try await manager.read(pack: built.pack, entries: infos)
        for (id, bytes) in built.contents.prefix(4) { #expect(read[id] == bytes) }
    }

    /// The stored range of `id` in its pack, and the ECC sizes of that unit.
    static func storedUnit(_ manager: ContentManager, _ id: ContentID) throws -> (info: ContentInfo, sizes: ErrorCorrection.Sizes) {
        let info = try #require(manager.info(id))
        let ecc = try #require(manager.format.errorCorrection)
        return (info, ecc.sizes(storedLength: Int(info.packedLength)))
    }

    @Test func aDamagedShardInsideAPackStillReads() async throws {
        let built = try await Self.build(percent: 10)  // S₀ 64, (128, 4)
        let (_, before) = try await built.repo.open()
        var pack = try await built.repo.storage.read(built.pack)
        // Damage Pa data shards (bodies and CRCs) of the multi-block content and one byte of each other content.
        for (index, (id, _)) in built.contents.prefix(4).enumerated() {
            let (info, s) = try Self.storedUnit(before, id)
            let unit = 4 + s.shardSize
            let dataStart = Int(info.packOffset) + s.parityShards * s.blocks * unit
            if index == 3 {
                for k in 0..<s.parityShards { pack[dataStart + k * 30 * unit + 4 + k] ^= 0xa5 }
                pack[Int(info.packOffset) + s.parityShards * unit + 2] ^= 0xff  // and a parity CRC of block 2
            } else {
                pack[dataStart + 4] ^= 0x01
            }
        }
        try await built.repo.storage.write(built.pack, pack)
        let (_, manager) = try await built.repo.open()
        for (id, bytes) in built.contents { #expect(try await manager.content(id) == bytes) }
    }

    @Test func damageBeyondTheParityCountIsACorruptContentNamingPackAndContent() async throws {
        let built = try await Self.build(percent: 10)
        let (_, before) = try await built.repo.open()
        let (id, _) = built.contents[3]
        let (info, s) = try Self.storedUnit(before, id)
        var pack = try await built.repo.storage.read(built.pack)
        let unit = 4 + s.shardSize
        let dataStart = Int(info.packOffset) + s.parityShards * s.blocks * unit
        for k in 0...s.parityShards { pack[dataStart + k * unit + 10] ^= 0x10 }
        try await built.repo.storage.write(built.pack, pack)
        let (_, manager) = try await built.repo.open()
        let error = await #expect(throws: KopiaError.self) { try await manager.content(id) }
        #expect(error?.code == .corruptContent)
        #expect(error?.blobID == built.pack && error?.contentID == id.description)
        #expect(error?.message.contains("error correction") == true)
        // The other contents of the pack are unaffected.
        #expect(try await manager.content(built.contents[0].0) == built.contents[0].1)
    }

    @Test func aDamagedIndexBlobIsRepairedAndAnUnrepairableOneIsNamed() async throws {
        let built = try await Self.build(percent: 2)
        let index = try #require(try await built.repo.storage.list(prefix: "xn0_").first?.id)
        let original = try await built.repo.storage.read(index)
        var damaged = original
        damaged[damaged.count - 20] ^= 0x40
        try await built.repo.storage.write(index, damaged)
        let (_, manager) = try await built.repo.open()
        #expect(manager.entryCount == built.contents.count)

        damaged = original
        for i in stride(from: 0, to: damaged.count, by: 7) { damaged[i] ^= 0x80 }
        try await built.repo.storage.write(index, damaged)
        let error = await #expect(throws: KopiaError.self) { try await built.repo.open() }
        #expect(error?.code == .corruptBlob)
        #expect(error?.blobID == index)
    }

    @Test(arguments: ["BLAKE2B-256-128", "BLAKE2B-256", "BLAKE2S-256"])
    func aRepositoryWithoutAnHMACSecretHashesUnkeyed(_ hash: String) async throws {
        let repo = try await SyntheticRepository(version: 2, hash: hash, secretLength: 0)
        let contents = (1...3).map { (repo.contentID(Self.data($0, size: 500)), Self.data($0, size: 500)) }
        let entries = try await repo.writePack("p" + String(repeating: "1", count: 32) + "-s1", contents)
        try await repo.writeBlob(prefix: "xn0_", suffix: "-s1-c1", try IndexV2Encoder.encode(entries))
        let (format, manager) = try await repo.open()
        #expect(format.parameters.secret.isEmpty && format.hasher.algorithm.rawValue == hash)
        let python = hash.hasPrefix("BLAKE2S") ? "blake2s" : "blake2b"
        let expected = try T.python("import hashlib,sys; sys.stdout.write(hashlib.\(python)(sys.stdin.buffer.read(), digest_size=32).hexdigest())",
                                    input: contents[0].1)
        #expect(String(decoding: expected, as: UTF8.self).hasPrefix(Hex.encode(contents[0].0.hash)))
        for (id, bytes) in contents { #expect(try await manager.content(id) == bytes) }
    }

    @Test func eccOffOrUnknownIsDecidedAtOpen() async throws {
        let off = try await SyntheticRepository(version: 3, extraParameters: #","ecc":"REED-SOLOMON-CRC32","eccOverheadPercent":0"#)
        #expect(try await RepositoryFormat.open(storage: off.storage, password: SyntheticRepository.password).errorCorrection == nil)
        let unknown = try await SyntheticRepository(version: 3, extraParameters: #","ecc":"LDPC-9","eccOverheadPercent":3"#)
        let error = await #expect(throws: KopiaError.self) {
            try await RepositoryFormat.open(storage: unknown.storage, password: SyntheticRepository.password)
        }
        #expect(error?.code == .unknownAlgorithm)
        #expect(error?.message.contains("LDPC-9") == true && error?.blobID == "kopia.repository")
    }
}

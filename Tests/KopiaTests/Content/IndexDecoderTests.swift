import Foundation
@testable import Kopia
import Testing

struct IndexDecoderTests {
    static func id(_ n: Int, prefix: UInt8 = 0, hashLength: Int = 16) -> ContentID {
        var hash = [UInt8](repeating: 0, count: hashLength)
        withUnsafeBytes(of: UInt64(n).bigEndian) { b in for i in 0..<8 { hash[hashLength - 8 + i] = b[i] } }
        hash[0] = UInt8(truncatingIfNeeded: n &* 131)
        return ContentID(prefix: prefix, hash: hash)
    }

    static func entry(_ n: Int, pack: String = "p0123456789abcdef0123456789abcdef-s1", prefix: UInt8 = 0,
                      compression: UInt32 = 0, length: UInt32 = 1000, deleted: Bool = false,
                      timestamp: Int64 = 1_795_218_745) -> IndexV2Encoder.Entry {
        IndexV2Encoder.Entry(contentID: id(n, prefix: prefix), packBlobID: pack, packOffset: UInt32(32 + n * 7),
                             packedLength: length + 28, originalLength: length, timestampSeconds: timestamp,
                             deleted: deleted, formatVersion: 2, compressionHeaderID: compression)
    }

    static func decodeAll(_ bytes: [UInt8], keySize: Int = 17) throws -> [ContentInfo] {
        var builder = IndexTableBuilder(keySize: keySize)
        try IndexLoader.decode(bytes, blobID: "xn0_test", into: &builder)
        let table = builder.build(watermark: Int64.min)
        return (0..<table.count).map(table.info(at:))
    }

    static func expected(_ e: IndexV2Encoder.Entry, v1: Bool = false) -> ContentInfo {
        ContentInfo(contentID: e.contentID, packBlobID: e.packBlobID, packOffset: e.packOffset,
                    packedLength: e.packedLength, originalLength: v1 ? e.packedLength - 28 : e.originalLength,
                    timestampSeconds: e.timestampSeconds, deleted: e.deleted, formatVersion: e.formatVersion,
                    compressionHeaderID: e.compressionHeaderID, encryptionKeyID: 0)
    }

    struct V2Case: Sendable, CustomTestStringConvertible {
        var name: String
        var entries: [IndexV2Encoder.Entry]
        var entrySize: UInt16
        var tail: [UInt8] = []
        var testDescription: String { name }
    }

    static let v2Cases: [V2Case] = [
        V2Case(name: "one format (entrySize 16)", entries: (0..<50).map { entry($0) }, entrySize: 16),
        V2Case(name: "several formats (17)", entries: (0..<50).map { entry($0, compression: $0 % 3 == 0 ? 0x1101 : 0) },
               entrySize: 17),
        V2Case(name: "lengths ≥ 16 MiB (19)", entries: [entry(1, length: 200_000_000), entry(2, length: 5),
                                                         entry(3, length: (1 << 28) - 29)], entrySize: 19),
        V2Case(name: "deleted entries, prefixes and a random tail",
               entries: (0..<20).map { entry($0, prefix: $0 % 2 == 0 ? UInt8(ascii: "k") : 0, deleted: $0 % 5 == 0) },
               entrySize: 16, tail: (0..<32).map { UInt8($0 * 7 % 256) }),
        V2Case(name: "many packs", entries: (0..<300).map { entry($0, pack: "p\(String(repeating: "0", count: 28))\(1000 + $0)-s") },
               entrySize: 16),
    ]

    @Test(arguments: v2Cases)
    func indexV2DecodesEveryField(_ c: V2Case) throws {
        let bytes = try IndexV2Encoder.encode(c.entries, randomTail: c.tail)
        #expect(UInt16(bytes[2]) << 8 | UInt16(bytes[3]) == c.entrySize)
        let decoded = try Self.decodeAll(bytes)
        #expect(decoded == c.entries.sorted { $0.contentID < $1.contentID }.map { Self.expected($0) })
    }

    @Test
    func indexV2WithMoreThan65536PacksUsesTheHighPackByte() throws {
        let entries = (0..<65_600).map { Self.entry($0, pack: "p\($0)") }
        let bytes = try IndexV2Encoder.encode(entries)
        #expect(bytes[3] == 18)
        let decoded = try Self.decodeAll(bytes)
        #expect(decoded.count == entries.count)
        let last = try #require(decoded.first { $0.contentID == Self.id(65_599) })
        #expect(last.packBlobID == "p65599")
    }

    @Test
    func indexV1DecodesEveryFieldAndDerivesTheOriginalLength() throws {
        let entries = (0..<40).map { Self.entry($0, pack: $0 < 20 ? "pAAAA" : "qBBBB", deleted: $0 % 7 == 0,
                                                timestamp: 0xABCD_1234_56) }
            .map { var e = $0; e.formatVersion = 1; return e }
        let decoded = try Self.decodeAll(IndexV1Bytes.encode(entries))
        #expect(decoded == entries.sorted { $0.contentID < $1.contentID }.map { Self.expected($0, v1: true) })
        #expect(try Self.decodeAll(IndexV1Bytes.encode([])).isEmpty)
    }

    @Test
    func anOutOfRangePackOrFormatNumberIsCorrupt() throws {
        var bytes = try IndexV2Encoder.encode([Self.entry(1), Self.entry(2, compression: 0x1101)])
        // Entry 0's value starts at 17 + 17; the pack number sits at value offset 14, the format at 16.
        var badPack = bytes
        badPack[17 + 17 + 14] = 0x7f
        let e1 = #expect(throws: KopiaError.self) { _ = try Self.decodeAll(badPack) }
        #expect(e1?.code == .corruptBlob && e1?.blobID == "xn0_test")
        bytes[17 + 17 + 16] = 9
        let e2 = #expect(throws: KopiaError.self) { _ = try Self.decodeAll(bytes) }
        #expect(e2?.code == .corruptBlob && e2?.blobID == "xn0_test")
    }

    @Test
    func keysOfTheWrongSizeAndUnknownVersionsAreCorrupt() throws {
        let bytes = try IndexV2Encoder.encode([Self.entry(1)])
        let wrongKey = #expect(throws: KopiaError.self) { _ = try Self.decodeAll(bytes, keySize: 33) }
        #expect(wrongKey?.code == .corruptBlob && wrongKey?.blobID == "xn0_test")
        for version: UInt8 in [0, 3, 255] {
            var b = bytes
            b[0] = version
            let error = #expect(throws: KopiaError.self) { _ = try Self.decodeAll(b) }
            #expect(error?.code == .corruptBlob && error?.blobID == "xn0_test")
        }
        let empty = #expect(throws: KopiaError.self) { _ = try Self.decodeAll([]) }
        #expect(empty?.blobID == "xn0_test")
    }

    /// Every truncation and every single-bit flip of the header and tables either decodes or throws a
    /// KopiaError naming the blob — never traps (STYLE.md rule 6).
    @Test(arguments: [1, 2])
    func damagedIndexPlaintextNeverCrashes(_ version: Int) throws {
        let entries = (0..<6).map { Self.entry($0, pack: $0 < 3 ? "pA" : "pB", compression: $0 == 0 ? 0x1100 : 0) }
        let bytes = version == 2 ? try IndexV2Encoder.encode(entries, randomTail: [1, 2, 3])
                                 : IndexV1Bytes.encode(entries.map { var e = $0; e.compressionHeaderID = 0; return e })
        var outcomes = (decoded: 0, failed: 0)
        func attempt(_ b: [UInt8]) {
            do {
                _ = try Self.decodeAll(b)
                outcomes.decoded += 1
            } catch let error as KopiaError {
                #expect(error.blobID == "xn0_test")
                outcomes.failed += 1
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        for n in 0..<bytes.count { attempt(Array(bytes.prefix(n))) }
        for i in 0..<bytes.count {
            for bit in 0..<8 {
                var b = bytes
                b[i] ^= 1 << UInt8(bit)
                attempt(b)
            }
        }
        #expect(outcomes.failed > bytes.count && outcomes.decoded > 0)
    }
}

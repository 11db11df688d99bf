import Foundation
@testable import Kopia
import Testing

struct IndexV2EncoderTests {
    static func entry(_ id: String, pack: String, offset: UInt32, length: UInt32, compression: UInt32 = 0)
        -> IndexV2Encoder.Entry
    {
        IndexV2Encoder.Entry(contentID: ContentID(id)!, packBlobID: pack, packOffset: offset,  // swiftlint:disable:this force_unwrapping
                             packedLength: length + 28, originalLength: length, timestampSeconds: 1_795_218_745,
                             formatVersion: 3, compressionHeaderID: compression)
    }

    @Test func singleFormatIndexUsesSixteenByteEntriesAndKopiasLayout() throws {
        let pack = "q389a8ed5e3e8f2934232893359655625-s6d5781c98523171c147"
        let bytes = try IndexV2Encoder.encode([Self.entry("mcb7ca31a1f4edac99e98a4abdc7f88da", pack: pack, offset: 32, length: 586)])
        // Same shape as fs-default's one-entry index xn0_cde792f3…: 115 bytes, entrySize 16, one pack, one format.
        #expect(bytes.count == 115)
        var r = ByteReader(bytes, what: "index")
        #expect(try r.readUInt8() == 2)
        #expect(try r.readUInt8() == 17)
        #expect(try r.readUInt16BE() == 16)
        #expect(try r.readUInt32BE() == 1)
        #expect(try r.readUInt32BE() == 1)
        #expect(try r.readUInt8() == 1)
        #expect(try r.readUInt32BE() == 0)
        #expect(try r.readBytes(17) == ContentID("mcb7ca31a1f4edac99e98a4abdc7f88da")!.indexKey)  // swiftlint:disable:this force_unwrapping
        #expect(try r.readUInt32BE() == 1_795_218_745)
        #expect(try r.readUInt32BE() == 32)
        #expect(try r.readUIntBE(width: 3) == 586)
        #expect(try r.readUIntBE(width: 3) == 614)
        #expect(try r.readUInt16BE() == 0)
        #expect(try r.readUInt8() == UInt8(pack.utf8.count))
        #expect(try r.readUInt32BE() == UInt32(17 + 33 + 5 + 6))
        #expect(try r.readUInt32BE() == 0)
        #expect(try r.readUInt8() == 3)
        #expect(try r.readUInt8() == 0)
        #expect(String(decoding: try r.readBytes(pack.utf8.count), as: UTF8.self) == pack)
        #expect(r.isAtEnd)
    }

    @Test func mixedFormatsAndLargeLengthsWidenTheEntries() throws {
        let two = try IndexV2Encoder.encode([
            Self.entry("0c6a161773ec5724e47b5d78e9e2b3c0", pack: "pA", offset: 32, length: 10),
            Self.entry("k076901b44cc69cef7acd8c7f77c08874", pack: "qB", offset: 32, length: 10, compression: 0x1101),
        ])
        #expect(two[2...3] == [0, 17])
        #expect(two[12] == 2)
        let big = try IndexV2Encoder.encode([Self.entry("0c6a161773ec5724e47b5d78e9e2b3c0", pack: "p", offset: 32, length: 17 << 20)])
        #expect(big[2...3] == [0, 19])
        // high nibbles: original 17 MiB → 0x1, packed (17 MiB + 28) → 0x1
        #expect(big[17 + 17 + 18] == 0x11)
    }

    @Test func entriesAreSortedByIndexKeyWithUnprefixedFirst() throws {
        let bytes = try IndexV2Encoder.encode([
            Self.entry("k076901b44cc69cef7acd8c7f77c08874", pack: "q", offset: 32, length: 1),
            Self.entry("ff0994cd153e4722ad8eaaeb7d3eaf8a", pack: "p", offset: 32, length: 1),
        ])
        #expect(bytes[17] == 0)
        #expect(bytes[17 + 17 + 16] == UInt8(ascii: "k"))
        // packs in order of first use by the sorted entries: p first
        let packTable = 17 + 2 * 33
        #expect(bytes[packTable] == 1)
    }

    @Test func rejectsEmptyDuplicateAndOversizedInput() {
        #expect(throws: KopiaError(.invalidArgument, "")) { try IndexV2Encoder.encode([]) }
        let e = Self.entry("0c6a161773ec5724e47b5d78e9e2b3c0", pack: "p", offset: 32, length: 1)
        #expect(throws: KopiaError(.invalidArgument, "")) { try IndexV2Encoder.encode([e, e]) }
        #expect(throws: KopiaError(.invalidArgument, "")) {
            try IndexV2Encoder.encode([Self.entry("0c6a161773ec5724e47b5d78e9e2b3c0", pack: "p", offset: 1 << 30, length: 1)])
        }
    }
}

struct WriteSupportTests {
    @Test func crc32MatchesTheIEEECheckValue() {
        #expect(CRC32.ieee(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test func sessionIDsCarryTheThirtyDayMonthNumber() {
        // fs-default's sessions end in 147: November 2026.
        let id = SessionID.make(now: Date(timeIntervalSince1970: 1_795_218_745), random: [0x88, 0x1e, 0x3f, 0x58, 0x4e, 0xb1, 0xfd, 0x59])
        #expect(id == "s881e3f584eb1fd59147")
        let pack = SessionID.packBlobID(prefix: "p", session: id)
        #expect(pack.count == 1 + 32 + 1 + id.count && pack.hasPrefix("p") && pack.hasSuffix("-" + id))
    }

    @Test func goJSONEscapesLikeGo() {
        var w = GoJSON()
        w.beginObject()
        w.field("a<b>&", "x\n\"\u{1}\u{2028}")
        w.key("list")
        w.beginArray()
        w.int(1)
        w.null()
        w.beginObject()
        w.endObject()
        w.endArray()
        w.field("t", true)
        w.endObject()
        #expect(w.text == #"{"a\u003cb\u003e\u0026":"x\n\"\u0001\u2028","list":[1,null,{}],"t":true}"#)
    }
}

import Testing
@testable import Kopia

struct S2Tests {
    @Test func crc32cMatchesTheCheckValue() {
        let value = Array("123456789".utf8).withUnsafeBytes { CRC32C.checksum($0) }
        #expect(value == 0xE306_9283)
        // Long input exercises the slicing loop; compare with the bytewise definition.
        let data = T.bytes(count: 1001, seed: 1)
        var crc: UInt32 = 0xFFFF_FFFF
        for b in data {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        #expect(data.withUnsafeBytes { CRC32C.checksum($0) } == ~crc)
    }

    /// Frames `block` (a block body without its length varint) as an S2 stream with a correct CRC.
    static func stream(block: [UInt8], decodedLength: Int, decoded: [UInt8], identifier: String = "S2sTwO") -> [UInt8] {
        var body: [UInt8] = []
        var v = decodedLength
        while v >= 0x80 { body.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        body.append(UInt8(v))
        body += block
        let crc = decoded.withUnsafeBytes { CRC32C.masked($0) }
        let length = body.count + 4
        return [0xff, 6, 0, 0] + Array(identifier.utf8)
            + [0x00, UInt8(length & 0xff), UInt8(length >> 8 & 0xff), UInt8(length >> 16)]
            + [UInt8(crc & 0xff), UInt8(crc >> 8 & 0xff), UInt8(crc >> 16 & 0xff), UInt8(crc >> 24)] + body
    }

    @Test func everyRepeatLengthFormDecodes() throws {
        // literal "abcdefgh", copy1(offset 8, len 8), then repeats of every length form.
        let block: [UInt8] = [7 << 2] + Array("abcdefgh".utf8)
            + [UInt8(8 - 4) << 2 | 0x01, 8]        // copy1: len 8, offset 8
            + [0 << 2 | 0x01, 0]                   // repeat 4
            + [4 << 2 | 0x01, 0]                   // repeat 8
            + [5 << 2 | 0x01, 0, 10]               // repeat 8 + 10 = 18
            + [6 << 2 | 0x01, 0, 0x02, 0x01]       // repeat 260 + 0x0102 = 518
            + [7 << 2 | 0x01, 0, 0x10, 0x00, 0x00] // repeat 65540 + 16 = 65556
        let total = 8 + 8 + 4 + 8 + 18 + 518 + 65556
        let expected = (0..<total).map { Array("abcdefgh".utf8)[$0 % 8] }
        let s = Self.stream(block: block, decodedLength: total, decoded: expected)
        #expect(try Compression.decompress(s, algorithm: .s2Default) == expected)
    }

    @Test func longLiteralsAndWideCopiesDecode() throws {
        let lit = T.bytes(count: 70_000, seed: 2)
        // literal with a 3-byte length (tag 62), copy2 (len 64, offset 70000-? no: offset must fit 16 bits),
        // copy4 with offset 70000 and length 10.
        let n = lit.count - 1
        var block: [UInt8] = [62 << 2, UInt8(n & 0xff), UInt8(n >> 8 & 0xff), UInt8(n >> 16)] + lit
        block += [UInt8(64 - 1) << 2 | 0x02, 0x10, 0x27]                            // copy2 len 64 offset 10000
        block += [UInt8(10 - 1) << 2 | 0x03, 0x70, 0x11, 0x01, 0x00]                // copy4 len 10 offset 70000
        var expected = lit
        for _ in 0..<64 { expected.append(expected[expected.count - 10000]) }
        for _ in 0..<10 { expected.append(expected[expected.count - 70000]) }
        let s = Self.stream(block: block, decodedLength: expected.count, decoded: expected)
        #expect(try Compression.decompress(s, algorithm: .s2Better) == expected)
        // Snappy framing is accepted too.
        let snappy = Self.stream(block: [3 << 2, 1, 2, 3, 4], decodedLength: 4, decoded: [1, 2, 3, 4], identifier: "sNaPpY")
        #expect(try Compression.decompress(snappy, algorithm: .s2Default) == [1, 2, 3, 4])
    }

    @Test func uncompressedSkippableAndPaddingChunksAreHandled() throws {
        let data: [UInt8] = Array("plain".utf8)
        let crc = data.withUnsafeBytes { CRC32C.masked($0) }
        let s: [UInt8] = [0xff, 6, 0, 0] + Array("S2sTwO".utf8)
            + [0xfe, 3, 0, 0, 0, 0, 0]                                    // padding
            + [0x99, 2, 0, 0, 9, 9]                                        // index (skippable)
            + [0x01, 9, 0, 0, UInt8(crc & 0xff), UInt8(crc >> 8 & 0xff), UInt8(crc >> 16 & 0xff), UInt8(crc >> 24)] + data
            + [0xff, 6, 0, 0] + Array("S2sTwO".utf8)                      // a concatenated stream
        #expect(try Compression.decompress(s, algorithm: .s2Default) == data)
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var name: String, bytes: [UInt8]
        var testDescription: String { name }
    }

    static let bad: [Bad] = {
        let good = stream(block: [3 << 2, 1, 2, 3, 4], decodedLength: 4, decoded: [1, 2, 3, 4])
        var badCRC = good; badCRC[14] ^= 1
        return [
            Bad(name: "no stream identifier", bytes: Array(good.dropFirst(10))),
            Bad(name: "unknown identifier", bytes: [0xff, 6, 0, 0] + Array("S2sTwX".utf8)),
            Bad(name: "reserved chunk", bytes: [0xff, 6, 0, 0] + Array("S2sTwO".utf8) + [0x05, 0, 0, 0]),
            Bad(name: "crc mismatch", bytes: badCRC),
            Bad(name: "repeat before any offset", bytes: stream(block: [3 << 2, 1, 2, 3, 4, 0x01, 0], decodedLength: 8, decoded: [1, 2, 3, 4, 1, 2, 3, 4])),
            Bad(name: "copy beyond start", bytes: stream(block: [3 << 2, 1, 2, 3, 4, 0x01, 9], decodedLength: 8, decoded: [])),
            Bad(name: "declared length too long", bytes: stream(block: [3 << 2, 1, 2, 3, 4], decodedLength: 5, decoded: [1, 2, 3, 4])),
            Bad(name: "declared length too short", bytes: stream(block: [3 << 2, 1, 2, 3, 4], decodedLength: 3, decoded: [1, 2, 3])),
            Bad(name: "block over 4 MiB", bytes: stream(block: [0], decodedLength: 5 << 20, decoded: [])),
            Bad(name: "literal length past end", bytes: stream(block: [63 << 2, 0xff, 0xff, 0xff, 0x7f, 1], decodedLength: 4, decoded: [])),
            Bad(name: "truncated chunk", bytes: Array(good.dropLast(2))),
            Bad(name: "truncated chunk header", bytes: Array(good.prefix(12))),
        ]
    }()

    @Test(arguments: bad)
    func malformedStreamsThrowCorruptContent(_ b: Bad) {
        #expect(throws: KopiaError(.corruptContent, "")) { try Compression.decompress(b.bytes, algorithm: .s2Default) }
    }

    // MARK: interop with klauspost/compress (Kopia's own S2 implementation)

    @Test(arguments: ["s2-encode", "s2-encode-better", "s2-encode-best", "snappy-encode"])
    func streamsFromKopiasEncoderDecode(_ mode: String) throws {
        // Text and runs give many repeat codes; the small block size gives many chunks.
        let inputs = [T.text(count: 1_200_000, seed: 20), T.bytes(count: 200_000, seed: 21),
                      [UInt8](repeating: 0xab, count: 500_000) + T.text(count: 1000, seed: 22), [7]]
        for data in inputs {
            for blockSize in [4096, 4 << 20] where !(mode == "snappy-encode" && blockSize > 1 << 16) {
                let s = try GoCodecPeer.run(mode, data, blockSize: blockSize)
                #expect(try Compression.decompress(s, algorithm: .s2Default) == data, "\(mode) block \(blockSize) size \(data.count)")
            }
        }
    }

    @Test(arguments: [CompressionAlgorithm.s2Default, .s2Better])
    func ourStreamsDecodeWithKopiasDecoder(_ algorithm: CompressionAlgorithm) throws {
        let inputs: [[UInt8]] = [T.text(count: 1_200_000, seed: 30), T.bytes(count: 150_000, seed: 31),
                      [UInt8](repeating: 0, count: 2_000_000), Array(repeating: Array("abcdefghij".utf8), count: 20_000).flatMap { $0 },
                      [], [1], T.text(count: 17, seed: 32)]
        for data in inputs {
            let payload = try Compression.compress(data, using: algorithm)
            #expect(try GoCodecPeer.run("s2-decode", Array(payload.dropFirst(4))) == data, "size \(data.count)")
        }
    }

    @Test func ourEncoderUsesRepeatCodesAndCompressesRuns() throws {
        let data = [UInt8](repeating: 0, count: 1 << 20)
        let payload = try Compression.compress(data, using: .s2Default)
        #expect(payload.count < 100)   // a literal, one copy and a long repeat
        #expect(try Compression.decompress(payload) == data)
    }
}

/// Decodes S2 streams (and Snappy framed streams) natively (kopia-format.md §5.1; klauspost/compress
/// `s2/README.md` "Format Extensions", `s2/decode.go`).
///
/// Stream: chunks `[type u8][length u24 LE][body]`; the first chunk must be the stream identifier
/// (0xff, `S2sTwO` or `sNaPpY`).
///
/// | type | body |
/// |---|---|
/// | 0x00 | masked CRC-32C (u32 LE) of the decoded data, then one block |
/// | 0x01 | masked CRC-32C, then the data uncompressed |
/// | 0xff | stream identifier (again allowed: concatenated streams) |
/// | 0x80–0xfe | skippable (padding 0xfe, index 0x99) |
/// | 0x02–0x7f | reserved: error |
///
/// Block: uvarint decoded length, then tags — literal (00), copy1 (01: 3-bit length 4..11, 11-bit offset),
/// copy2 (10: length 1..64, u16 offset), copy4 (11: length 1..64, u32 offset). S2's extension: a copy1 with
/// offset 0 repeats the previous offset of the same block, its length field 0..4 → 4..8, 5 → 8 + u8,
/// 6 → 260 + u16, 7 → 65540 + u24.
///
/// Every read is bounds-checked; malformed input throws `.corruptContent`, never traps.
enum S2Decoder {
    static let maxBlockSize = 4 << 20
    private static let maxSnappyBlockSize = 1 << 16

    static func decompress(_ input: UnsafeRawBufferPointer, limit: Int) throws(KopiaError) -> [UInt8] {
        var out = OutputBuffer(expected: min(decodedSize(input), limit), limit: limit)
        var pos = 0
        var sawIdentifier = false
        var snappyFrame = false
        while pos < input.count {
            guard input.count - pos >= 4 else { throw corrupt("chunk header is truncated") }
            let type = input[pos]
            let length = Int(input[pos + 1]) | Int(input[pos + 2]) << 8 | Int(input[pos + 3]) << 16
            pos += 4
            guard input.count - pos >= length else { throw corrupt("chunk of \(length) bytes is truncated") }
            let body = UnsafeRawBufferPointer(rebasing: input[pos..<pos + length])
            pos += length
            if !sawIdentifier && type != 0xff { throw corrupt("stream does not start with a stream identifier") }
            switch type {
            case 0xff:
                guard length == 6 else { throw corrupt("stream identifier has length \(length)") }
                if body.elementsEqual("S2sTwO".utf8) {
                    snappyFrame = false
                } else if body.elementsEqual("sNaPpY".utf8) {
                    snappyFrame = true
                } else {
                    throw corrupt("unknown stream identifier")
                }
                sawIdentifier = true
            case 0x00, 0x01:
                guard length >= 4 else { throw corrupt("data chunk is shorter than its checksum") }
                let expectedCRC = body.loadUnaligned(as: UInt32.self).littleEndian
                let payload = UnsafeRawBufferPointer(rebasing: body[4...])
                let maxSize = snappyFrame ? maxSnappyBlockSize : maxBlockSize
                let start = out.count
                if type == 0x00 {
                    var reader = payload
                    let decodedLength = try readUVarint(&reader)
                    guard decodedLength <= UInt64(maxSize) else { throw corrupt("block of \(decodedLength) bytes is over the limit") }
                    let n = Int(decodedLength)
                    try out.reserveExactly(n)
                    try out.writeFree { (free) throws(KopiaError) -> Int in
                        try decodeBlock(reader, into: UnsafeMutableRawBufferPointer(rebasing: free[0..<n]))
                        return n
                    }
                } else {
                    guard payload.count <= maxSize else { throw corrupt("uncompressed chunk is over the limit") }
                    try out.reserveExactly(payload.count)
                    out.writeFree { free in
                        UnsafeMutableRawBufferPointer(rebasing: free[0..<payload.count]).copyMemory(from: payload)
                        return payload.count
                    }
                }
                let crc = out.bytes.withUnsafeBytes { CRC32C.masked(UnsafeRawBufferPointer(rebasing: $0[start..<out.count])) }
                guard crc == expectedCRC else { throw corrupt("CRC-32C mismatch") }
            case 0x02...0x7f:
                throw corrupt("reserved chunk type 0x\(String(type, radix: 16))")
            default:
                continue   // skippable, padding, index
            }
        }
        return try out.finish()
    }

    /// The decoded size the chunk headers announce (a cheap pre-pass, so the output is allocated once
    /// and not over-allocated); the input size when the headers do not parse (the real pass then throws).
    private static func decodedSize(_ input: UnsafeRawBufferPointer) -> Int {
        var pos = 0, total = 0
        while input.count - pos >= 4 {
            let type = input[pos]
            let length = Int(input[pos + 1]) | Int(input[pos + 2]) << 8 | Int(input[pos + 3]) << 16
            pos += 4
            guard input.count - pos >= length else { return input.count }
            if type == 0x01 && length >= 4 {
                total += length - 4
            } else if type == 0x00 && length > 4 {
                var body = UnsafeRawBufferPointer(rebasing: input[(pos + 4)..<(pos + length)])
                guard let n = try? readUVarint(&body), n <= UInt64(maxBlockSize) else { return input.count }
                total += Int(n)
            }
            pos += length
        }
        return total
    }

    private static func corrupt(_ what: String) -> KopiaError {
        KopiaError(.corruptContent, "s2 stream is corrupt: \(what)")
    }

    private static func readUVarint(_ buf: inout UnsafeRawBufferPointer) throws(KopiaError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var i = 0
        while i < buf.count && i < 10 {
            let b = buf[i]
            i += 1
            if b < 0x80 {
                if i == 10 && b > 1 { break }
                buf = UnsafeRawBufferPointer(rebasing: buf[i...])
                return value | UInt64(b) << shift
            }
            value |= UInt64(b & 0x7f) << shift
            shift += 7
        }
        throw corrupt("bad block length varint")
    }

    /// Decodes one block body (after the length varint) into exactly `dst.count` bytes.
    static func decodeBlock(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) throws(KopiaError) {
        guard let sBase = src.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            if dst.count == 0 { return }
            throw corrupt("block is empty")
        }
        guard let dBase = dst.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            if src.count == 0 { return }
            throw corrupt("block decodes to more than its declared length")
        }
        let sn = src.count, dn = dst.count
        var s = 0, d = 0, offset = 0
        while s < sn {
            let tag = sBase[s]
            var length: Int
            switch tag & 0x03 {
            case 0:
                var x = Int(tag >> 2)
                if x < 60 {
                    s += 1
                } else {
                    let extra = x - 59   // 1...4 length bytes
                    guard sn - s > extra else { throw corrupt("literal length is truncated") }
                    x = 0
                    for k in 0..<extra { x |= Int(sBase[s + 1 + k]) << (8 * k) }
                    s += 1 + extra
                }
                length = x + 1
                guard length <= sn - s, length <= dn - d else { throw corrupt("literal overruns the block") }
                (dBase + d).update(from: sBase + s, count: length)
                d += length
                s += length
                continue
            case 1:
                guard sn - s >= 2 else { throw corrupt("copy is truncated") }
                let toffset = Int(tag & 0xe0) << 3 | Int(sBase[s + 1])
                length = Int(tag >> 2) & 0x7
                s += 2
                if toffset == 0 {
                    switch length {
                    case 5:
                        guard sn - s >= 1 else { throw corrupt("repeat is truncated") }
                        length = Int(sBase[s]) + 4
                        s += 1
                    case 6:
                        guard sn - s >= 2 else { throw corrupt("repeat is truncated") }
                        length = (Int(sBase[s]) | Int(sBase[s + 1]) << 8) + (1 << 8)
                        s += 2
                    case 7:
                        guard sn - s >= 3 else { throw corrupt("repeat is truncated") }
                        length = (Int(sBase[s]) | Int(sBase[s + 1]) << 8 | Int(sBase[s + 2]) << 16) + (1 << 16)
                        s += 3
                    default:
                        break
                    }
                } else {
                    offset = toffset
                }
                length += 4
            case 2:
                guard sn - s >= 3 else { throw corrupt("copy is truncated") }
                length = 1 + Int(tag >> 2)
                offset = Int(sBase[s + 1]) | Int(sBase[s + 2]) << 8
                s += 3
            default:
                guard sn - s >= 5 else { throw corrupt("copy is truncated") }
                length = 1 + Int(tag >> 2)
                offset = Int(sBase[s + 1]) | Int(sBase[s + 2]) << 8 | Int(sBase[s + 3]) << 16 | Int(sBase[s + 4]) << 24
                s += 5
            }
            guard offset > 0, offset <= d, length <= dn - d else { throw corrupt("copy refers outside the block") }
            if offset >= length {
                (dBase + d).update(from: dBase + d - offset, count: length)
            } else {
                // Overlapping copy: byte by byte forward (the pattern repeats every `offset` bytes).
                var i = 0
                while i < length { dBase[d + i] = dBase[d + i - offset]; i += 1 }
            }
            d += length
        }
        guard d == dn else { throw corrupt("block decodes to \(d) bytes, \(dn) declared") }
    }
}

/// A bounds-checked, big-endian-by-default cursor over bytes. Every read throws `truncatedData` instead of
/// trapping, so repository bytes can never crash the process (STYLE.md rule 6).
///
/// Value type; not shared between tasks. `what` names the structure being parsed for error messages.
public struct ByteReader: Sendable {
    public let bytes: [UInt8]
    public private(set) var offset: Int
    public let what: String

    public init(_ bytes: [UInt8], what: String, offset: Int = 0) {
        self.bytes = bytes
        self.offset = max(0, min(offset, bytes.count))
        self.what = what
    }

    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset >= bytes.count }

    private func need(_ n: Int) throws(KopiaError) {
        guard n >= 0, n <= remaining else {
            throw KopiaError(.truncatedData, "\(what) is truncated: needed \(n) bytes at offset \(offset), \(remaining) left")
        }
    }

    public mutating func seek(to position: Int) throws(KopiaError) {
        guard position >= 0, position <= bytes.count else {
            throw KopiaError(.truncatedData, "\(what): offset \(position) is outside its \(bytes.count) bytes")
        }
        offset = position
    }

    public mutating func skip(_ n: Int) throws(KopiaError) {
        try need(n)
        offset += n
    }

    public mutating func readUInt8() throws(KopiaError) -> UInt8 {
        try need(1)
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func readUInt16BE() throws(KopiaError) -> UInt16 {
        UInt16(try readUIntBE(width: 2))
    }

    public mutating func readUInt16LE() throws(KopiaError) -> UInt16 {
        try need(2)
        defer { offset += 2 }
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    public mutating func readUInt32BE() throws(KopiaError) -> UInt32 {
        UInt32(try readUIntBE(width: 4))
    }

    public mutating func readUInt32LE() throws(KopiaError) -> UInt32 {
        try need(4)
        defer { offset += 4 }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        return v
    }

    public mutating func readUInt64BE() throws(KopiaError) -> UInt64 {
        try readUIntBE(width: 8)
    }

    /// Reads an unsigned big-endian integer of 1...8 bytes (index v1/v2 use 3-, 5- and 6-byte fields).
    public mutating func readUIntBE(width: Int) throws(KopiaError) -> UInt64 {
        guard (1...8).contains(width) else {
            throw KopiaError(.invalidArgument, "\(what): integer width \(width) is not 1...8")
        }
        try need(width)
        var v: UInt64 = 0
        for i in 0..<width { v = v << 8 | UInt64(bytes[offset + i]) }
        offset += width
        return v
    }

    /// Reads a Go-style unsigned LEB128 varint (at most 10 bytes).
    public mutating func readUVarint() throws(KopiaError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for _ in 0..<10 {
            let b = try readUInt8()
            if b < 0x80 {
                if shift == 63 && b > 1 { break }
                return result | UInt64(b) << shift
            }
            result |= UInt64(b & 0x7f) << shift
            shift += 7
        }
        throw KopiaError(.corruptBlob, "\(what): varint overflows 64 bits at offset \(offset)")
    }

    public mutating func readBytes(_ n: Int) throws(KopiaError) -> [UInt8] {
        try need(n)
        defer { offset += n }
        return Array(bytes[offset..<offset + n])
    }

    public mutating func readSlice(_ n: Int) throws(KopiaError) -> ArraySlice<UInt8> {
        try need(n)
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    /// The bytes `range` of the whole buffer, bounds-checked, without moving the cursor.
    public func slice(_ range: Range<Int>) throws(KopiaError) -> ArraySlice<UInt8> {
        guard range.lowerBound >= 0, range.upperBound <= bytes.count else {
            throw KopiaError(.truncatedData, "\(what): range \(range) is outside its \(bytes.count) bytes")
        }
        return bytes[range]
    }
}

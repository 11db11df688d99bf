/// Writes S2 streams (the format `S2Decoder` documents): stream identifier `S2sTwO`, then 1 MiB blocks as
/// compressed chunks (or uncompressed chunks when compression does not help), each with its masked
/// CRC-32C. Blocks are LZ77-compressed greedily with a hash table of 4-byte sequences and emitted as
/// Snappy literals and copies plus S2 repeat codes, which Kopia's klauspost/compress decoder reads.
///
/// Stateless; each call allocates its own table and scratch buffer.
enum S2Encoder {
    /// `fast` = `s2-default` / `s2-parallel-*`; `better` = `s2-better` (bigger table, slower skipping).
    enum Level: Sendable { case fast, better }

    static let blockSize = 1 << 20

    static func compress(_ input: UnsafeRawBufferPointer, level: Level) -> [UInt8] {
        let tableBits = level == .fast ? 14 : 17
        var out: [UInt8] = [0xff, 6, 0, 0]
        out += "S2sTwO".utf8
        out.reserveCapacity(input.count / 2 + 64)
        let table = UnsafeMutablePointer<UInt32>.allocate(capacity: 1 << tableBits)
        defer { table.deallocate() }
        let scratchSize = 2 * min(blockSize, input.count) + 64
        let scratch = UnsafeMutablePointer<UInt8>.allocate(capacity: scratchSize)
        defer { scratch.deallocate() }
        var start = 0
        while start < input.count {
            let end = min(start + blockSize, input.count)
            let block = UnsafeRawBufferPointer(rebasing: input[start..<end])
            let crc = CRC32C.masked(block)
            let encoded = encodeBlock(block, into: scratch, table: table, tableBits: tableBits, skipFast: level == .fast)
            let useCompressed = encoded < block.count
            let bodyLength = 4 + (useCompressed ? encoded : block.count)
            out += [useCompressed ? 0x00 : 0x01, UInt8(truncatingIfNeeded: bodyLength),
                    UInt8(truncatingIfNeeded: bodyLength >> 8), UInt8(truncatingIfNeeded: bodyLength >> 16)]
            out += [UInt8(truncatingIfNeeded: crc), UInt8(truncatingIfNeeded: crc >> 8),
                    UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 24)]
            if useCompressed {
                out.append(contentsOf: UnsafeBufferPointer(start: scratch, count: encoded))
            } else {
                out.append(contentsOf: block)
            }
            start = end
        }
        return out
    }

    /// Encodes one block (uvarint length + tags) into `dst` (capacity ≥ 2·count + 64); returns the size.
    static func encodeBlock(
        _ src: UnsafeRawBufferPointer, into dst: UnsafeMutablePointer<UInt8>,
        table: UnsafeMutablePointer<UInt32>, tableBits: Int, skipFast: Bool
    ) -> Int {
        let n = src.count
        var d = 0
        var v = UInt64(n)
        while v >= 0x80 { dst[d] = UInt8(truncatingIfNeeded: v) | 0x80; v >>= 7; d += 1 }
        dst[d] = UInt8(v); d += 1
        guard n >= 16, let base = src.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            if n > 0, let base = src.baseAddress?.assumingMemoryBound(to: UInt8.self) {
                d += emitLiteral(dst + d, base, count: n)
            }
            return d
        }
        table.initialize(repeating: 0, count: 1 << tableBits)
        let shift = UInt32(32 - tableBits)
        @inline(__always) func load32(_ i: Int) -> UInt32 { UnsafeRawPointer(base + i).loadUnaligned(as: UInt32.self) }
        @inline(__always) func load64(_ i: Int) -> UInt64 { UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self) }
        @inline(__always) func hash(_ x: UInt32) -> Int { Int((x &* 0x1E35_A7BD) >> shift) }

        let sLimit = n - 8
        var nextEmit = 0
        var s = 1
        var lastOffset = 0
        outer: while true {
            var skip = 32
            var candidate = 0
            while true {
                if s > sLimit { break outer }
                let cur = load32(s)
                let h = hash(cur)
                candidate = Int(table[h])
                table[h] = UInt32(s)
                if candidate < s && load32(candidate) == cur { break }
                s += skipFast ? skip >> 5 : 1 + (skip >> 7)
                skip += 1
            }
            while candidate > 0 && s > nextEmit && base[candidate - 1] == base[s - 1] {
                candidate -= 1
                s -= 1
            }
            if s > nextEmit { d += emitLiteral(dst + d, base + nextEmit, count: s - nextEmit) }
            var matchEnd = s + 4
            var c = candidate + 4
            extend: do {
                while matchEnd + 8 <= n {
                    let x = load64(matchEnd) ^ load64(c)
                    if x != 0 {
                        matchEnd += x.littleEndian.trailingZeroBitCount >> 3
                        break extend
                    }
                    matchEnd += 8
                    c += 8
                }
                while matchEnd < n && base[matchEnd] == base[c] { matchEnd += 1; c += 1 }
            }
            let length = matchEnd - s
            let offset = s - candidate
            if offset == lastOffset {
                d += emitRepeat(dst + d, offset: offset, length: length)
            } else {
                d += emitCopy(dst + d, offset: offset, length: length)
                lastOffset = offset
            }
            s = matchEnd
            nextEmit = s
            if s > sLimit { break }
            table[hash(load32(s - 2))] = UInt32(s - 2)
        }
        if nextEmit < n { d += emitLiteral(dst + d, base + nextEmit, count: n - nextEmit) }
        return d
    }

    private static func emitLiteral(_ dst: UnsafeMutablePointer<UInt8>, _ src: UnsafePointer<UInt8>, count: Int) -> Int {
        let n = count - 1
        var d: Int
        if n < 60 {
            dst[0] = UInt8(n) << 2
            d = 1
        } else {
            let width = n < 1 << 8 ? 1 : n < 1 << 16 ? 2 : n < 1 << 24 ? 3 : 4
            dst[0] = UInt8(59 + width) << 2
            for k in 0..<width { dst[1 + k] = UInt8(truncatingIfNeeded: n >> (8 * k)) }
            d = 1 + width
        }
        (dst + d).update(from: src, count: count)
        return d + count
    }

    /// A repeat of the previous offset; `length` ≥ 4.
    private static func emitRepeat(_ dst: UnsafeMutablePointer<UInt8>, offset: Int, length total: Int) -> Int {
        var length = total - 4
        if length <= 4 {
            dst[0] = UInt8(length) << 2 | 0x01
            dst[1] = 0
            return 2
        }
        if length < 8 && offset < 2048 {
            // Lengths 9...11 fit a plain copy1 with the same offset.
            dst[0] = UInt8(offset >> 8) << 5 | UInt8(length) << 2 | 0x01
            dst[1] = UInt8(truncatingIfNeeded: offset)
            return 2
        }
        if length < (1 << 8) + 4 {
            dst[0] = 5 << 2 | 0x01
            dst[1] = 0
            dst[2] = UInt8(length - 4)
            return 3
        }
        if length < (1 << 16) + (1 << 8) {
            length -= 1 << 8
            dst[0] = 6 << 2 | 0x01
            dst[1] = 0
            dst[2] = UInt8(truncatingIfNeeded: length)
            dst[3] = UInt8(truncatingIfNeeded: length >> 8)
            return 4
        }
        let maxRepeat = (1 << 24) - 1
        length -= 1 << 16
        var left = 0
        if length > maxRepeat {
            left = length - maxRepeat + 4
            length = maxRepeat - 4
        }
        dst[0] = 7 << 2 | 0x01
        dst[1] = 0
        dst[2] = UInt8(truncatingIfNeeded: length)
        dst[3] = UInt8(truncatingIfNeeded: length >> 8)
        dst[4] = UInt8(truncatingIfNeeded: length >> 16)
        return left > 0 ? 5 + emitRepeat(dst + 5, offset: offset, length: left) : 5
    }

    /// A copy with a new offset (> 0); `length` ≥ 4. Long copies continue as repeats.
    private static func emitCopy(_ dst: UnsafeMutablePointer<UInt8>, offset: Int, length: Int) -> Int {
        if offset >= 1 << 16 {
            let first = length <= 64 ? length : (length - 64 >= 4 ? 64 : length - 4)
            dst[0] = UInt8(first - 1) << 2 | 0x03
            for k in 0..<4 { dst[1 + k] = UInt8(truncatingIfNeeded: offset >> (8 * k)) }
            return first == length ? 5 : 5 + emitRepeat(dst + 5, offset: offset, length: length - first)
        }
        if length > 64 {
            if offset < 2048 {
                dst[0] = UInt8(offset >> 8) << 5 | (8 - 4) << 2 | 0x01
                dst[1] = UInt8(truncatingIfNeeded: offset)
                return 2 + emitRepeat(dst + 2, offset: offset, length: length - 8)
            }
            dst[0] = 59 << 2 | 0x02
            dst[1] = UInt8(truncatingIfNeeded: offset)
            dst[2] = UInt8(truncatingIfNeeded: offset >> 8)
            return 3 + emitRepeat(dst + 3, offset: offset, length: length - 60)
        }
        if length >= 12 || offset >= 2048 {
            dst[0] = UInt8(length - 1) << 2 | 0x02
            dst[1] = UInt8(truncatingIfNeeded: offset)
            dst[2] = UInt8(truncatingIfNeeded: offset >> 8)
            return 3
        }
        dst[0] = UInt8(offset >> 8) << 5 | UInt8(length - 4) << 2 | 0x01
        dst[1] = UInt8(truncatingIfNeeded: offset)
        return 2
    }
}

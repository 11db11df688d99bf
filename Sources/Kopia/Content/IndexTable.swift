/// The merged content index: one sorted, binary-searchable table of fixed-width records in a flat byte buffer
/// (kopia-format.md §7, §13 "one sorted in-memory merged index"). Built by `IndexTableBuilder`.
///
/// Record layout (stride = keySize + 28; integers little-endian, unaligned):
///
/// | Offset | Size | Field |
/// |---|---|---|
/// | 0 | keySize | index key `[prefix or 0] ‖ hash` (§3.2) |
/// | K+0 | 8 | timestamp, Unix seconds |
/// | K+8 | 4 | pack number (into `packs`) |
/// | K+12 | 4 | pack offset |
/// | K+16 | 4 | packed length |
/// | K+20 | 4 | original length |
/// | K+24 | 2 | format number (into `formats`) |
/// | K+26 | 1 | flags: bit 0 = deleted |
/// | K+27 | 1 | unused |
///
/// Keys are unique and sorted bytewise. Immutable and `Sendable`.
struct IndexTable: Sendable {
    /// `formatVersion`, compression header and encryption key ID shared by many entries.
    struct Format: Hashable, Sendable {
        var formatVersion: UInt8
        var compressionHeaderID: UInt32
        var encryptionKeyID: UInt8
    }

    static let valueSize = 28

    let keySize: Int
    let records: [UInt8]
    let packs: [String]
    let formats: [Format]

    var stride: Int { keySize + IndexTable.valueSize }
    var count: Int { records.count / stride }

    static func empty(keySize: Int) -> IndexTable {
        IndexTable(keySize: keySize, records: [], packs: [], formats: [])
    }

    /// The record number of `key`, or nil.
    func find(_ key: [UInt8]) -> Int? {
        guard key.count == keySize else { return nil }
        let n = count
        let stride = self.stride
        return records.withUnsafeBytes { buf -> Int? in
            key.withUnsafeBytes { k -> Int? in
                var lo = 0
                var hi = n
                while lo < hi {
                    let mid = (lo + hi) >> 1
                    let c = IndexTable.compare(buf, mid * stride, k, keySize)
                    if c == 0 { return mid }
                    if c < 0 { lo = mid + 1 } else { hi = mid }
                }
                return nil
            }
        }
    }

    /// The records whose key starts with `prefix` (0 = un-prefixed contents).
    func range(prefix: UInt8) -> Range<Int> {
        let n = count
        let stride = self.stride
        return records.withUnsafeBytes { buf in
            func lowerBound(_ byte: Int) -> Int {
                var lo = 0
                var hi = n
                while lo < hi {
                    let mid = (lo + hi) >> 1
                    if Int(buf[mid * stride]) < byte { lo = mid + 1 } else { hi = mid }
                }
                return lo
            }
            return lowerBound(Int(prefix))..<lowerBound(Int(prefix) + 1)
        }
    }

    func key(at i: Int) -> [UInt8] {
        Array(records[i * stride..<i * stride + keySize])
    }

    func contentID(at i: Int) -> ContentID {
        let base = i * stride
        return ContentID(prefix: records[base], hash: Array(records[base + 1..<base + keySize]))
    }

    func isDeleted(at i: Int) -> Bool {
        records[i * stride + keySize + 26] & 1 != 0
    }

    func info(at i: Int) -> ContentInfo {
        let v = i * stride + keySize
        return records.withUnsafeBytes { buf in
            let ts = Int64(littleEndian: buf.loadUnaligned(fromByteOffset: v, as: Int64.self))
            let pack = Int(UInt32(littleEndian: buf.loadUnaligned(fromByteOffset: v + 8, as: UInt32.self)))
            let offset = UInt32(littleEndian: buf.loadUnaligned(fromByteOffset: v + 12, as: UInt32.self))
            let packed = UInt32(littleEndian: buf.loadUnaligned(fromByteOffset: v + 16, as: UInt32.self))
            let original = UInt32(littleEndian: buf.loadUnaligned(fromByteOffset: v + 20, as: UInt32.self))
            let format = Int(UInt16(littleEndian: buf.loadUnaligned(fromByteOffset: v + 24, as: UInt16.self)))
            let flags = buf[v + 26]
            // Pack and format numbers were assigned by the builder from these very arrays.
            let f = formats[format]
            return ContentInfo(
                contentID: contentID(at: i), packBlobID: packs[pack], packOffset: offset, packedLength: packed,
                originalLength: original, timestampSeconds: ts, deleted: flags & 1 != 0,
                formatVersion: f.formatVersion, compressionHeaderID: f.compressionHeaderID,
                encryptionKeyID: f.encryptionKeyID)
        }
    }

    /// Bytewise comparison of the key at `offset` in `buf` with `key` (both `size` bytes).
    @inline(__always)
    static func compare(_ buf: UnsafeRawBufferPointer, _ offset: Int, _ key: UnsafeRawBufferPointer, _ size: Int) -> Int {
        for j in 0..<size {
            let a = buf[offset + j]
            let b = key[j]
            if a != b { return a < b ? -1 : 1 }
        }
        return 0
    }
}

/// Encodes pack index v2 — the inverse of the v2 decoder (kopia-format.md §7.2; kopia/kopia
/// `repo/content/index/index_v2.go`, `buildV2`).
///
/// Layout written (all integers big-endian):
///
/// | Part | Bytes |
/// |---|---|
/// | header | `02` ‖ keySize u8 ‖ entrySize u16 ‖ entryCount u32 ‖ packCount u32 ‖ formatCount u8 ‖ baseTimestamp u32 (= 0) |
/// | entries | sorted by index key; key ‖ ts u32 ‖ (deleted<<31 \| packOffset) u32 ‖ origLen u24 ‖ packedLen u24 ‖ pack u16 [‖ format u8 [‖ pack hi u8 [‖ len hi nibbles u8]]] |
/// | pack table | `[nameLength u8][absolute nameOffset u32]` per pack, in order of first use by the sorted entries |
/// | format table | `[compressionHeaderID u32][formatVersion u8][encryptionKeyID u8]`, in order of first use |
/// | extra data | pack blob IDs, concatenated, in order of first use |
/// | random tail | optional (pack-local indexes carry 32 random bytes; global `xn` indexes none) |
///
/// entrySize is 16, grows to 17 when more than one format is present, 18 with more than 65 536 packs, and 19
/// when any length is ≥ 16 MiB — exactly Kopia's choice, so Kopia-written and Ferry-written indexes of the same
/// entries are byte-identical up to the random tail.
public enum IndexV2Encoder {
    /// One index entry: the reader's ``ContentInfo``.
    public typealias Entry = ContentInfo

    private struct Format: Hashable {
        var compression: UInt32
        var version: UInt8
        var keyID: UInt8
    }

    static let maxContentLength: UInt32 = 1 << 28
    static let maxPackOffset: UInt32 = 1 << 30

    /// Encodes `entries` (any order; sorted here; a content ID must appear at most once).
    ///
    /// - Parameter randomTail: bytes appended after the index (32 random bytes for pack-local indexes).
    /// - Throws: `.invalidArgument` for an empty list, mixed key lengths, duplicate IDs, a length ≥ 256 MiB,
    ///   a pack offset ≥ 2³⁰, more than 255 formats or 2²⁴ packs, or a pack blob ID longer than 255 bytes.
    public static func encode(_ entries: [Entry], randomTail: [UInt8] = []) throws(KopiaError) -> [UInt8] {
        let sorted = entries.sorted { $0.contentID < $1.contentID }
        guard let first = sorted.first else {
            throw KopiaError(.invalidArgument, "an index v2 needs at least one entry")
        }
        let keySize = first.contentID.indexKey.count
        var formats: [Format: Int] = [:]
        var formatOrder: [Format] = []
        var packs: [String: Int] = [:]
        var packOrder: [String] = []
        var maxLength: UInt32 = 0
        for (i, e) in sorted.enumerated() {
            guard e.contentID.indexKey.count == keySize else {
                throw KopiaError(.invalidArgument, "index entries mix key lengths", contentID: e.contentID.description)
            }
            if i > 0, sorted[i - 1].contentID == e.contentID {
                throw KopiaError(.invalidArgument, "duplicate index entry", contentID: e.contentID.description)
            }
            guard e.packOffset < maxPackOffset, e.packedLength < maxContentLength, e.originalLength < maxContentLength
            else {
                throw KopiaError(.invalidArgument, "content too large for index v2", contentID: e.contentID.description)
            }
            guard e.packBlobID.utf8.count <= 255 else {
                throw KopiaError(.invalidArgument, "pack blob ID longer than 255 bytes", blobID: e.packBlobID)
            }
            let f = Format(compression: e.compressionHeaderID, version: e.formatVersion, keyID: e.encryptionKeyID)
            if formats[f] == nil {
                formats[f] = formatOrder.count
                formatOrder.append(f)
            }
            if packs[e.packBlobID] == nil {
                packs[e.packBlobID] = packOrder.count
                packOrder.append(e.packBlobID)
            }
            maxLength = max(maxLength, e.packedLength, e.originalLength)
        }
        guard formatOrder.count <= 255, packOrder.count <= 1 << 24 else {
            throw KopiaError(.invalidArgument, "too many formats or packs for one index v2")
        }
        var entrySize = 16
        if formatOrder.count > 1 { entrySize = 17 }
        if packOrder.count > 1 << 16 { entrySize = 18 }
        if maxLength >= 1 << 24 { entrySize = 19 }

        let extraDataOffset = 17 + sorted.count * (keySize + entrySize) + packOrder.count * 5 + formatOrder.count * 6
        var out: [UInt8] = []
        out.reserveCapacity(extraDataOffset + packOrder.count * 60 + randomTail.count)
        out.append(2)
        out.append(UInt8(keySize))
        out.appendBE(UInt64(entrySize), width: 2)
        out.appendBE(UInt64(sorted.count), width: 4)
        out.appendBE(UInt64(packOrder.count), width: 4)
        out.append(UInt8(formatOrder.count))
        out.appendBE(0, width: 4)  // baseTimestamp

        for e in sorted {
            out.append(contentsOf: e.contentID.indexKey)
            let pack = packs[e.packBlobID] ?? 0
            let format = formats[Format(compression: e.compressionHeaderID, version: e.formatVersion, keyID: e.encryptionKeyID)] ?? 0
            out.appendBE(UInt64(UInt32(truncatingIfNeeded: e.timestampSeconds)), width: 4)
            out.appendBE(UInt64(e.packOffset | (e.deleted ? 1 << 31 : 0)), width: 4)
            out.appendBE(UInt64(e.originalLength & 0xff_ffff), width: 3)
            out.appendBE(UInt64(e.packedLength & 0xff_ffff), width: 3)
            out.appendBE(UInt64(pack & 0xffff), width: 2)
            if entrySize > 16 { out.append(UInt8(format)) }
            if entrySize > 17 { out.append(UInt8(truncatingIfNeeded: pack >> 16)) }
            if entrySize > 18 {
                out.append(UInt8(truncatingIfNeeded: (e.originalLength >> 24) << 4 | (e.packedLength >> 24)))
            }
        }
        var nameOffset = extraDataOffset
        for name in packOrder {
            out.append(UInt8(name.utf8.count))
            out.appendBE(UInt64(nameOffset), width: 4)
            nameOffset += name.utf8.count
        }
        for f in formatOrder {
            out.appendBE(UInt64(f.compression), width: 4)
            out.append(f.version)
            out.append(f.keyID)
        }
        for name in packOrder { out.append(contentsOf: name.utf8) }
        out.append(contentsOf: randomTail)
        return out
    }
}

extension Array where Element == UInt8 {
    /// Appends the low `width` bytes of `value`, big-endian.
    mutating func appendBE(_ value: UInt64, width: Int) {
        for i in stride(from: width - 1, through: 0, by: -1) {
            append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))))
        }
    }

    /// Appends a Go-style unsigned LEB128 varint.
    mutating func appendUVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        append(UInt8(v))
    }
}

/// Decoder of index v2 (kopia-format.md §7.2; kopia/kopia `repo/content/index/index_v2.go`).
///
/// Header (17 bytes, big-endian):
///
/// | Offset | Size | Field |
/// |---|---|---|
/// | 0 | 1 | version = 2 |
/// | 1 | 1 | keySize |
/// | 2 | 2 | entrySize, 16...19 |
/// | 4 | 4 | entryCount |
/// | 8 | 4 | packCount |
/// | 12 | 1 | formatCount |
/// | 13 | 4 | baseTimestamp (Unix seconds) |
///
/// Then entries (entryCount × (keySize + entrySize)), the pack table (packCount × `[nameLength u8][nameOffset
/// u32]`, offsets absolute in this index), the format table (formatCount × `[compressionHeaderID u32]
/// [formatVersion u8][encryptionKeyID u8]`), the pack names, and optionally random bytes (ignored, pitfall k).
///
/// Entry value:
///
/// | Offset | Size | Field | Present if |
/// |---|---|---|---|
/// | 0 | 4 | timestamp − baseTimestamp | always |
/// | 4 | 4 | bit 31 deleted; bits 0–30 pack offset | always |
/// | 8 | 3 | original length bits 0–23 | always |
/// | 11 | 3 | packed length bits 0–23 | always |
/// | 14 | 2 | pack number bits 0–15 | always |
/// | 16 | 1 | format number | entrySize ≥ 17 |
/// | 17 | 1 | pack number bits 16–23 | entrySize ≥ 18 |
/// | 18 | 1 | high nibble: original length bits 24–27; low nibble: packed length bits 24–27 | entrySize = 19 |
///
/// An out-of-range pack or format number makes the whole blob corrupt here (Kopia fails the lookup).
enum IndexV2 {
    static let headerSize = 17

    /// The fixed header, checked against the blob's length and the repository's key size.
    struct Header {
        var keySize: Int
        var entrySize: Int
        var entryCount: Int
        var packCount: Int
        var formatCount: Int
        var baseTimestamp: Int64

        var stride: Int { keySize + entrySize }
        /// Absolute offsets: entries end (and the pack table starts) at `packTable`; the tables end at `tablesEnd`.
        var packTable: Int { IndexV2.headerSize + entryCount * stride }
        var formatTable: Int { packTable + packCount * 5 }
        var tablesEnd: Int { formatTable + formatCount * 6 }

        /// Parses the first 17 bytes of a blob of `totalLength` bytes. Nil for an empty index (no entries: the
        /// rest of the blob is not looked at, as before).
        /// - Throws: `.corruptBlob` / `.truncatedData` (without the blob ID; callers add it).
        static func parse(_ bytes: [UInt8], totalLength: Int, keySize expected: Int, blobID: String)
            throws(KopiaError) -> Header?
        {
            var r = ByteReader(bytes, what: "index blob \(blobID)")
            guard try r.readUInt8() == 2 else { throw corrupt("is not an index v2 blob", blobID) }
            let keySize = Int(try r.readUInt8())
            let entrySize = Int(try r.readUInt16BE())
            let entryCount = Int(try r.readUInt32BE())
            let packCount = Int(try r.readUInt32BE())
            let formatCount = Int(try r.readUInt8())
            let baseTimestamp = Int64(try r.readUInt32BE())
            if entryCount == 0 { return nil }
            guard keySize == expected else {
                throw corrupt("has \(keySize)-byte keys but the repository's hash gives \(expected)-byte keys", blobID)
            }
            guard (16...19).contains(entrySize) else { throw corrupt("has an invalid entry size \(entrySize)", blobID) }
            let header = Header(keySize: keySize, entrySize: entrySize, entryCount: entryCount, packCount: packCount,
                                formatCount: formatCount, baseTimestamp: baseTimestamp)
            guard header.tablesEnd <= totalLength else {
                throw KopiaError(.truncatedData,
                                 "index blob is truncated: its tables need \(header.tablesEnd) bytes, it has \(totalLength)",
                                 blobID: blobID)
            }
            return header
        }

        /// Appends entry `i`, whose bytes are `entry` (exactly `stride` of them), with the pack and format
        /// numbers of THIS blob; `IndexTableBuilder.remap` turns them into table numbers once the tables are read.
        /// - Returns: an error for an out-of-range pack or format number (nothing is appended then).
        func append(_ entry: UnsafeRawBufferPointer, number i: Int, blobID: String,
                    into builder: inout IndexTableBuilder) -> KopiaError? {
            let v = keySize
            func be(_ at: Int, _ width: Int) -> UInt32 {
                var x: UInt32 = 0
                for j in 0..<width { x = x << 8 | UInt32(entry[v + at + j]) }
                return x
            }
            let offsetField = be(4, 4)
            var original = be(8, 3)
            var packed = be(11, 3)
            var pack = Int(be(14, 2))
            var format = 0
            if entrySize >= 17 { format = Int(entry[v + 16]) }
            if entrySize >= 18 { pack |= Int(entry[v + 17]) << 16 }
            if entrySize >= 19 {
                original |= UInt32(entry[v + 18] >> 4) << 24
                packed |= UInt32(entry[v + 18] & 0x0f) << 24
            }
            guard pack < packCount else { return corrupt("entry \(i) refers to pack \(pack) of \(packCount)", blobID) }
            guard format < formatCount else {
                return corrupt("entry \(i) refers to format \(format) of \(formatCount)", blobID)
            }
            builder.append(
                key: UnsafeRawBufferPointer(rebasing: entry[0..<v]),
                timestamp: baseTimestamp + Int64(be(0, 4)), pack: UInt32(pack),
                offset: offsetField & 0x7fff_ffff, packedLength: packed, originalLength: original,
                format: UInt16(format), deleted: offsetField & 0x8000_0000 != 0)
            return nil
        }

        /// Reads the pack and format tables from `tail` (the blob from `packTable` on) and registers them with
        /// `builder`. Pack names must lie after the entries (Kopia writes them after the format table).
        /// - Returns: this blob's pack and format numbers → the builder's.
        func readTables(_ tail: [UInt8], blobID: String, into builder: inout IndexTableBuilder)
            throws(KopiaError) -> (packs: [UInt32], formats: [UInt16])
        {
            var r = ByteReader(tail, what: "index blob \(blobID)")
            var packs: [UInt32] = []
            packs.reserveCapacity(packCount)
            for k in 0..<packCount {
                let length = Int(try r.readUInt8())
                let offset = Int(try r.readUInt32BE())
                guard offset >= packTable else {
                    throw corrupt("names pack \(k) at offset \(offset), inside its entries", blobID)
                }
                let name = try r.slice(offset - packTable..<offset - packTable + length)
                packs.append(builder.packNumber(String(decoding: name, as: UTF8.self)))
            }
            var formats: [UInt16] = []
            for _ in 0..<formatCount {
                let compression = try r.readUInt32BE()
                let version = try r.readUInt8()
                let keyID = try r.readUInt8()
                formats.append(try builder.formatNumber(
                    IndexTable.Format(formatVersion: version, compressionHeaderID: compression, encryptionKeyID: keyID)))
            }
            return (packs, formats)
        }
    }

    /// Appends every entry of `bytes` (a decrypted index v2 blob named `blobID`) to `builder`.
    /// - Throws: `.corruptBlob` / `.truncatedData` naming `blobID`.
    static func decode(_ bytes: [UInt8], blobID: String, into builder: inout IndexTableBuilder) throws(KopiaError) {
        guard bytes.first == 2 else { throw corrupt("is not an index v2 blob", blobID) }
        try IndexBlobDecoder.decode(bytes, blobID: blobID, into: &builder)
    }

    static func corrupt(_ what: String, _ blobID: String) -> KopiaError {
        KopiaError(.corruptBlob, "index blob \(what); the repository index is damaged (run kopia maintenance or restore the blob)",
                   blobID: blobID)
    }
}

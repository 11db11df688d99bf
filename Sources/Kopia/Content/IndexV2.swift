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

    /// Appends every entry of `bytes` (a decrypted index blob named `blobID`) to `builder`.
    /// - Throws: `.corruptBlob` / `.truncatedData` naming `blobID`.
    static func decode(_ bytes: [UInt8], blobID: String, into builder: inout IndexTableBuilder) throws(KopiaError) {
        var r = ByteReader(bytes, what: "index blob \(blobID)")
        do throws(KopiaError) {
            guard try r.readUInt8() == 2 else { throw corrupt("is not an index v2 blob", blobID) }
            let keySize = Int(try r.readUInt8())
            let entrySize = Int(try r.readUInt16BE())
            let entryCount = Int(try r.readUInt32BE())
            let packCount = Int(try r.readUInt32BE())
            let formatCount = Int(try r.readUInt8())
            let baseTimestamp = Int64(try r.readUInt32BE())
            if entryCount == 0 { return }
            guard keySize == builder.keySize else {
                throw corrupt("has \(keySize)-byte keys but the repository's hash gives \(builder.keySize)-byte keys", blobID)
            }
            guard (16...19).contains(entrySize) else { throw corrupt("has an invalid entry size \(entrySize)", blobID) }
            let stride = keySize + entrySize
            let packTable = headerSize + entryCount * stride
            let formatTable = packTable + packCount * 5
            let end = formatTable + formatCount * 6
            guard end <= bytes.count else {
                throw KopiaError(.truncatedData,
                                 "index blob is truncated: its tables need \(end) bytes, it has \(bytes.count)", blobID: blobID)
            }
            // Pack table → builder pack numbers.
            var packNumbers: [UInt32] = []
            packNumbers.reserveCapacity(packCount)
            try r.seek(to: packTable)
            for _ in 0..<packCount {
                let length = Int(try r.readUInt8())
                let offset = Int(try r.readUInt32BE())
                let name = try r.slice(offset..<offset + length)
                packNumbers.append(builder.packNumber(String(decoding: name, as: UTF8.self)))
            }
            var formatNumbers: [UInt16] = []
            for _ in 0..<formatCount {
                let compression = try r.readUInt32BE()
                let version = try r.readUInt8()
                let keyID = try r.readUInt8()
                formatNumbers.append(try builder.formatNumber(
                    IndexTable.Format(formatVersion: version, compressionHeaderID: compression, encryptionKeyID: keyID)))
            }
            builder.reserve(entries: entryCount)
            let failure = bytes.withUnsafeBytes { (buf: UnsafeRawBufferPointer) -> KopiaError? in
                // Bounds: every entry lies in headerSize..<packTable ⊆ bytes (checked above).
                for i in 0..<entryCount {
                    let p = headerSize + i * stride
                    let v = p + keySize
                    func be(_ at: Int, _ width: Int) -> UInt32 {
                        var x: UInt32 = 0
                        for j in 0..<width { x = x << 8 | UInt32(buf[v + at + j]) }
                        return x
                    }
                    let offsetField = be(4, 4)
                    var original = be(8, 3)
                    var packed = be(11, 3)
                    var pack = Int(be(14, 2))
                    var format = 0
                    if entrySize >= 17 { format = Int(buf[v + 16]) }
                    if entrySize >= 18 { pack |= Int(buf[v + 17]) << 16 }
                    if entrySize >= 19 {
                        original |= UInt32(buf[v + 18] >> 4) << 24
                        packed |= UInt32(buf[v + 18] & 0x0f) << 24
                    }
                    guard pack < packNumbers.count else {
                        return corrupt("entry \(i) refers to pack \(pack) of \(packNumbers.count)", blobID)
                    }
                    guard format < formatNumbers.count else {
                        return corrupt("entry \(i) refers to format \(format) of \(formatNumbers.count)", blobID)
                    }
                    builder.append(
                        key: UnsafeRawBufferPointer(rebasing: buf[p..<v]),
                        timestamp: baseTimestamp + Int64(be(0, 4)), pack: packNumbers[pack],
                        offset: offsetField & 0x7fff_ffff, packedLength: packed, originalLength: original,
                        format: formatNumbers[format], deleted: offsetField & 0x8000_0000 != 0)
                }
                return nil
            }
            if let failure { throw failure }
        } catch {
            throw error.adding(blobID: blobID)
        }
    }

    static func corrupt(_ what: String, _ blobID: String) -> KopiaError {
        KopiaError(.corruptBlob, "index blob \(what); the repository index is damaged (run kopia maintenance or restore the blob)",
                   blobID: blobID)
    }
}

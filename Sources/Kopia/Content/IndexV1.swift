/// Decoder of index v1 (kopia-format.md §7.1; kopia/kopia `repo/content/index/index_v1.go`).
///
/// Header (8 bytes, big-endian): version = 1 (1), keySize (1; 255 = empty index), entrySize = 20 (2),
/// entryCount (4). Entries start at 8 with stride keySize + 20:
///
/// | Offset | Size | Field |
/// |---|---|---|
/// | 0 | 6 | timestamp, Unix seconds (48-bit) |
/// | 6 | 1 | content format version |
/// | 7 | 1 | length of the pack blob ID |
/// | 8 | 4 | absolute offset of the pack blob ID in this index |
/// | 12 | 4 | bit 31 deleted; bits 0–30 pack offset |
/// | 16 | 4 | packed length |
///
/// The pack blob IDs follow the entries. Original length = packed length − 28 (pitfall d); no compression.
enum IndexV1 {
    static let headerSize = 8
    static let entrySize = 20

    /// Appends every entry of `bytes` (a decrypted index blob named `blobID`) to `builder`.
    /// - Throws: `.corruptBlob` / `.truncatedData` naming `blobID`.
    static func decode(_ bytes: [UInt8], blobID: String, into builder: inout IndexTableBuilder) throws(KopiaError) {
        var r = ByteReader(bytes, what: "index blob \(blobID)")
        do throws(KopiaError) {
            guard try r.readUInt8() == 1 else { throw IndexV2.corrupt("is not an index v1 blob", blobID) }
            let keySize = Int(try r.readUInt8())
            let entrySize = Int(try r.readUInt16BE())
            let entryCount = Int(try r.readUInt32BE())
            if entryCount == 0 { return }
            guard keySize == builder.keySize else {
                throw IndexV2.corrupt("has \(keySize)-byte keys but the repository's hash gives \(builder.keySize)-byte keys", blobID)
            }
            guard entrySize == IndexV1.entrySize else { throw IndexV2.corrupt("has an invalid entry size \(entrySize)", blobID) }
            let stride = keySize + entrySize
            let end = headerSize + entryCount * stride
            guard end <= bytes.count else {
                throw KopiaError(.truncatedData,
                                 "index blob is truncated: its entries need \(end) bytes, it has \(bytes.count)", blobID: blobID)
            }
            let format = try builder.formatNumber(IndexTable.Format(formatVersion: 1, compressionHeaderID: 0, encryptionKeyID: 0))
            var formats: [UInt8: UInt16] = [1: format]
            var packCache: [UInt64: UInt32] = [:]
            builder.reserve(entries: entryCount)
            for i in 0..<entryCount {
                let p = headerSize + i * stride
                try r.seek(to: p + keySize)
                let timestamp = Int64(try r.readUIntBE(width: 6))
                let version = try r.readUInt8()
                let nameLength = Int(try r.readUInt8())
                let nameOffset = Int(try r.readUInt32BE())
                let offsetField = try r.readUInt32BE()
                let packed = try r.readUInt32BE()
                let cacheKey = UInt64(nameOffset) << 8 | UInt64(nameLength)
                let pack: UInt32
                if let cached = packCache[cacheKey] {
                    pack = cached
                } else {
                    let name = try r.slice(nameOffset..<nameOffset + nameLength)
                    pack = builder.packNumber(String(decoding: name, as: UTF8.self))
                    packCache[cacheKey] = pack
                }
                let formatNumber: UInt16
                if let f = formats[version] {
                    formatNumber = f
                } else {
                    formatNumber = try builder.formatNumber(
                        IndexTable.Format(formatVersion: version, compressionHeaderID: 0, encryptionKeyID: 0))
                    formats[version] = formatNumber
                }
                bytes.withUnsafeBytes { buf in
                    builder.append(
                        key: UnsafeRawBufferPointer(rebasing: buf[p..<p + keySize]), timestamp: timestamp, pack: pack,
                        offset: offsetField & 0x7fff_ffff, packedLength: packed,
                        originalLength: packed >= UInt32(ContentCipher.overhead) ? packed - UInt32(ContentCipher.overhead) : 0,
                        format: formatNumber, deleted: offsetField & 0x8000_0000 != 0)
                }
            }
        } catch {
            throw error.adding(blobID: blobID)
        }
    }
}

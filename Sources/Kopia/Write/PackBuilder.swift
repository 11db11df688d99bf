/// Assembles one pack blob (kopia-format.md §6; kopia/kopia `repo/content/content_manager.go`,
/// `writePackFileNotLocked`, and `content_index_recovery.go`).
///
/// | Part | Bytes |
/// |---|---|
/// | preamble | 32 random bytes (format v2/v3: no format-blob replica) |
/// | contents | encrypted units back to back, in append order; each one's offset and length go to the index |
/// | padding | random bytes up to the next multiple of 4096 (a full 4096 when already aligned) |
/// | local index | index v2 of this pack's entries plus a 32-byte random tail, encrypted with IV = the **full** content hash of that plaintext |
/// | postamble | `uvarint 1` ‖ `uvarint len(iv)` ‖ iv ‖ `uvarint offset` ‖ `uvarint length` ‖ CRC-32/IEEE BE of the preceding postamble bytes ‖ one byte = length of everything in the postamble before it |
///
/// Value type used by one writer under its lock; not shared.
struct PackBuilder: Sendable {
    let blobID: String
    private(set) var bytes: [UInt8]
    private(set) var entries: [ContentInfo] = []

    init(blobID: String, reserve: Int = 0) {
        self.blobID = blobID
        bytes = randomBytes(32)
        bytes.reserveCapacity(reserve)
    }

    var isEmpty: Bool { entries.isEmpty }
    var length: Int { bytes.count }

    /// Appends one encrypted unit and records its index entry (the entry's pack and offset are filled in here).
    mutating func append(_ sealed: [UInt8], info: ContentInfo) {
        var info = info
        info.packBlobID = blobID
        info.packOffset = UInt32(bytes.count)
        info.packedLength = UInt32(sealed.count)
        bytes.append(contentsOf: sealed)
        entries.append(info)
    }

    /// Finishes the pack: padding, encrypted local index, postamble.
    /// - Returns: the blob's bytes.
    consuming func finish(format: RepositoryFormat) throws -> [UInt8] {
        var out = bytes
        bytes = []  // hand the buffer over without a copy
        let pad = 4096 - out.count % 4096
        let plain = try IndexV2Encoder.encode(entries, randomTail: randomBytes(32))
        let iv = format.hasher.hash(plain)
        let sealed = try format.seal(plain, iv: iv)
        // At most one exact reallocation (usually none: data packs reserve room for the tail).
        out.reserveCapacity(out.count + pad + sealed.count + 64)
        out.append(contentsOf: randomBytes(pad))
        let indexOffset = out.count
        out.append(contentsOf: sealed)
        var post: [UInt8] = []
        post.appendUVarint(1)
        post.appendUVarint(UInt64(iv.count))
        post.append(contentsOf: iv)
        post.appendUVarint(UInt64(indexOffset))
        post.appendUVarint(UInt64(sealed.count))
        post.appendBE(UInt64(CRC32.ieee(post)), width: 4)
        out.append(contentsOf: post)
        out.append(UInt8(post.count))
        return out
    }
}

/// Cryptographically random bytes (system RNG).
func randomBytes(_ count: Int) -> [UInt8] {
    var g = SystemRandomNumberGenerator()
    var out = [UInt8](repeating: 0, count: count)
    var i = 0
    while i < count {
        let word = g.next()
        for j in 0..<8 where i + j < count { out[i + j] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(j))) }
        i += 8
    }
    return out
}

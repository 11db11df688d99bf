/// Which of two index records for the same content wins (kopia-format.md §7.3; kopia/kopia
/// `repo/content/index/merged.go`, `contentInfoGreaterThanStruct`):
///
/// 1. the larger `timestampSeconds`;
/// 2. if equal, the non-deleted one;
/// 3. if still equal, the lexicographically greater pack blob ID;
/// 4. Ferry's addition, where Kopia keeps the first in its index order: the greater pack offset, packed length,
///    original length, format version, compression header and encryption key ID, in that order.
///
/// Step 4 makes the rule a total order on what a record says, so the winner does not depend on the order the index
/// blobs were read in (a full load reads them in download-completion order) nor on how a refresh combined them:
/// an incremental refresh and a full load pick the same winner. Records equal in every field are the same entry.
///
/// Pure; records are in `IndexTable`'s layout, with pack and format numbers into `packs` and `formats`.
enum IndexWinnerRule {
    /// Whether the record at byte offset `a` of `buf` beats the one at `b`.
    @inline(__always)
    static func wins(_ buf: UnsafeRawBufferPointer, _ a: Int, over b: Int, keySize: Int, packs: [String],
                     formats: [IndexTable.Format]) -> Bool {
        func field<T: FixedWidthInteger>(_ record: Int, _ at: Int, _: T.Type) -> T {
            T(littleEndian: buf.loadUnaligned(fromByteOffset: record + keySize + at, as: T.self))
        }
        let ta = field(a, 0, Int64.self)
        let tb = field(b, 0, Int64.self)
        if ta != tb { return ta > tb }
        let da = isDeleted(buf, a, keySize: keySize)
        let db = isDeleted(buf, b, keySize: keySize)
        if da != db { return !da }
        let pa = field(a, 8, UInt32.self)
        let pb = field(b, 8, UInt32.self)
        if pa != pb {
            // Numbers come from the builder that filled `packs`; a record never names a pack outside it.
            let na = packs[Int(pa)]
            let nb = packs[Int(pb)]
            if na != nb { return nb.utf8.lexicographicallyPrecedes(na.utf8) }
        }
        for at in [12, 16, 20] {
            let va = field(a, at, UInt32.self)
            let vb = field(b, at, UInt32.self)
            if va != vb { return va > vb }
        }
        let fa = formats[Int(field(a, 24, UInt16.self))]
        let fb = formats[Int(field(b, 24, UInt16.self))]
        if fa.formatVersion != fb.formatVersion { return fa.formatVersion > fb.formatVersion }
        if fa.compressionHeaderID != fb.compressionHeaderID { return fa.compressionHeaderID > fb.compressionHeaderID }
        return fa.encryptionKeyID > fb.encryptionKeyID
    }

    @inline(__always)
    static func isDeleted(_ buf: UnsafeRawBufferPointer, _ record: Int, keySize: Int) -> Bool {
        buf[record + keySize + 26] & 1 != 0
    }

    @inline(__always)
    static func timestamp(_ buf: UnsafeRawBufferPointer, _ record: Int, keySize: Int) -> Int64 {
        Int64(littleEndian: buf.loadUnaligned(fromByteOffset: record + keySize, as: Int64.self))
    }

    /// Whether a group's winner is dropped: deleted, and not newer than the deletion watermark (§7.3).
    @inline(__always)
    static func isDropped(_ buf: UnsafeRawBufferPointer, _ record: Int, keySize: Int, watermark: Int64) -> Bool {
        isDeleted(buf, record, keySize: keySize) && timestamp(buf, record, keySize: keySize) <= watermark
    }
}

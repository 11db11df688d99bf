/// What the merged index knows about one content (kopia-format.md §7.3; kopia/kopia `repo/content/index/info.go`).
///
/// `packOffset`/`packedLength` locate the encrypted unit inside `packBlobID` (one ranged read). The plaintext
/// is `originalLength` bytes; `compressionHeaderID` ≠ 0 means the decrypted bytes are `[u32 BE header][stream]`.
/// A `deleted` entry newer than the deletion watermark is still readable (pitfall i).
public struct ContentInfo: Sendable, Hashable, CustomStringConvertible {
    public var contentID: ContentID
    public var packBlobID: String
    public var packOffset: UInt32
    public var packedLength: UInt32
    public var originalLength: UInt32
    /// Unix seconds of the write that produced this entry.
    public var timestampSeconds: Int64
    public var deleted: Bool
    public var formatVersion: UInt8
    public var compressionHeaderID: UInt32
    /// Reserved; Kopia only writes 0.
    public var encryptionKeyID: UInt8

    public init(contentID: ContentID, packBlobID: String, packOffset: UInt32, packedLength: UInt32,
                originalLength: UInt32, timestampSeconds: Int64, deleted: Bool = false, formatVersion: UInt8 = 1,
                compressionHeaderID: UInt32 = 0, encryptionKeyID: UInt8 = 0) {
        self.contentID = contentID
        self.packBlobID = packBlobID
        self.packOffset = packOffset
        self.packedLength = packedLength
        self.originalLength = originalLength
        self.timestampSeconds = timestampSeconds
        self.deleted = deleted
        self.formatVersion = formatVersion
        self.compressionHeaderID = compressionHeaderID
        self.encryptionKeyID = encryptionKeyID
    }

    /// The byte range of the encrypted unit inside its pack.
    public var packRange: Range<Int64> { Int64(packOffset)..<Int64(packOffset) + Int64(packedLength) }

    public var description: String {
        "\(contentID) in \(packBlobID) @\(packOffset)+\(packedLength) (\(originalLength) bytes"
            + (compressionHeaderID == 0 ? "" : ", compression 0x\(String(compressionHeaderID, radix: 16))")
            + (deleted ? ", deleted" : "") + ")"
    }
}

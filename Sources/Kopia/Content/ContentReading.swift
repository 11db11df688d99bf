/// The narrow seam through which Objects/ and everything above read contents (STYLE.md: folders see the
/// layer below only through a protocol, so tests can use in-memory contents).
///
/// `content(_:)` returns the plaintext: pack read, ECC removed, decrypted, decompressed per the index header,
/// and checked against its ID. Throws `KopiaError` `.contentNotFound` (no index entry) or `.corruptContent` /
/// `.blobNotFound` (with `blobID` and `contentID` set). Safe to call concurrently.
public protocol ContentReading: Sendable {
    func content(_ id: ContentID) async throws -> [UInt8]
    /// Whether the index knows this content (deleted entries count as absent).
    func contains(_ id: ContentID) -> Bool
    /// Every live content ID whose prefix byte is `prefix` (0 = un-prefixed), sorted. Used to find manifests (`m`).
    func contentIDs(prefix: UInt8) -> [ContentID]
}

/// What a merged `IndexTable` was built from, kept beside it so that a refresh can rebuild the table from the index
/// blobs still listed without reading them again (`IndexLoader.refresh`).
///
/// The table keeps only §7.3 winners. A later change to the blob set can make a record that lost, or a deleted
/// winner the watermark dropped, matter again (its rival's blob is removed; a newer blob adds an entry that loses
/// to it), so those records are kept too, in `shadow`. Every record of every active blob is therefore in exactly
/// one of the table and the shadow, tagged with the number of its blob: a refresh drops the records of removed
/// blobs, adds those of new blobs, and resolves every key again, which is what a full load of the new set does.
///
/// Memory: 4 bytes per table record (its blob number) plus the shadow, which holds only duplicates and dropped
/// deletions (usually a small fraction of the entries). Immutable and `Sendable`.
struct IndexProvenance: Sendable {
    /// The active index blobs the table was built from; a blob's number is its position here.
    var blobs: [BlobMetadata]
    /// For each table record, the number of the blob it came from.
    var recordBlobs: [UInt32]
    /// Records of active blobs that are not in the table, in the table's layout and with its pack and format
    /// numbers, sorted by key: the §7.3 losers and the deleted winners at or below the watermark.
    var shadow: [UInt8]
    /// For each shadow record, the number of the blob it came from.
    var shadowBlobs: [UInt32]

    static let empty = IndexProvenance(blobs: [], recordBlobs: [], shadow: [], shadowBlobs: [])

    /// Records in the shadow.
    func shadowCount(stride: Int) -> Int { shadow.count / stride }
}

/// One leaf chunk of an object: the object's bytes `[start, start + length)` are the decoded bytes of one content.
///
/// A direct object has one chunk; an indirect object has one per entry of its (flattened) chunk lists. The restore
/// engine can read chunks in any order and in parallel and write them at `start` (kopia-format.md §13).
public struct ObjectChunk: Sendable, Hashable {
    public let start: Int64
    public let length: Int64
    public let contentID: ContentID
    /// The content holds `[u32 BE compression header][stream]` (object-level `Z` compression, §5.2).
    public let isCompressed: Bool

    public init(start: Int64, length: Int64, contentID: ContentID, isCompressed: Bool) {
        self.start = start
        self.length = length
        self.contentID = contentID
        self.isCompressed = isCompressed
    }

    public var end: Int64 { start + length }
}

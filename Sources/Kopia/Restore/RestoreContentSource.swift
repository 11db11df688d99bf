/// The narrow seam the restore reads contents through (STYLE.md: a folder sees the layer below through a
/// protocol): where a content lives, one ranged read of a pack, and the pure decode of one content's bytes.
///
/// `PackedContentSource` is the real source (a `ContentManager`: coalesced pack reads, memory-mapped on a
/// filesystem repository); `SingleContentSource` adapts any other `ContentReading` (in-memory test contents) by
/// treating each content as its own one-content "pack".
protocol RestoreContentSource: Sendable {
    /// Where `id` is stored; nil when the index does not know it.
    func locate(_ id: ContentID) -> ContentInfo?
    /// The raw bytes `[offset, offset + length)` of `pack` (errors name the pack).
    func fetch(pack: String, offset: Int64, length: Int, firstContent: ContentID?) async throws -> PackRange
    /// The same read without suspending, when the source can do that (local pack files); nil otherwise.
    func fetchBlocking(pack: String, offset: Int64, length: Int, firstContent: ContentID?) throws -> PackRange?
    /// The plaintext of `info` (authenticated decrypt, decompress, optional hash re-check) from `range`, the
    /// bytes `fetch` returned for a read starting at `rangeOffset` of its pack.
    func decode(_ info: ContentInfo, range: PackRange, rangeOffset: Int64) throws -> [UInt8]
}

/// Contents of a `ContentManager`, read by pack range.
struct PackedContentSource: RestoreContentSource {
    let manager: ContentManager
    /// Re-hash every plaintext (see `ContentManager.decode(_:bytes:checkHash:)`).
    let checkHashes: Bool
    /// Set when packs are local files: ranges are memory-mapped instead of copied.
    let files: FilesystemStorage?

    init(manager: ContentManager, checkHashes: Bool) {
        self.manager = manager
        self.checkHashes = checkHashes
        files = manager.storage as? FilesystemStorage
    }

    func locate(_ id: ContentID) -> ContentInfo? {
        manager.info(id)
    }

    func fetch(pack: String, offset: Int64, length: Int, firstContent: ContentID?) async throws -> PackRange {
        if files != nil {
            return try await BlockingIO.run {
                try fetchBlocking(pack: pack, offset: offset, length: length, firstContent: firstContent)
                    ?? PackRange([])
            }
        }
        return PackRange(try await manager.readPack(pack, offset: offset, length: length, contentID: firstContent))
    }

    func fetchBlocking(pack: String, offset: Int64, length: Int, firstContent: ContentID?) throws -> PackRange? {
        guard let files else { return nil }
        guard Self.isPlainBlobID(pack) else {
            throw KopiaError(.corruptBlob, "the index names a pack blob ID that is not a plain name",
                             blobID: pack, contentID: firstContent?.description)
        }
        do {
            return try PackRange(mapping: files.path(for: pack), offset: offset, length: length, blobID: pack)
        } catch {
            throw error.adding(contentID: firstContent?.description)
        }
    }

    func decode(_ info: ContentInfo, range: PackRange, rangeOffset: Int64) throws -> [UInt8] {
        let lo = Int64(info.packOffset) - rangeOffset
        let hi = lo + Int64(info.packedLength)
        guard lo >= 0, hi <= Int64(range.count) else {
            throw KopiaError(.corruptBlob, "the pack range read is shorter than the index says",
                             blobID: info.packBlobID, contentID: info.contentID.description)
        }
        return try range.withBytes { bytes in
            try manager.decode(info, bytes: UnsafeRawBufferPointer(rebasing: bytes[Int(lo)..<Int(hi)]),
                               checkHash: checkHashes)
        }
    }

    /// A blob ID from the index that is safe to turn into a path (no separators, no dot names).
    static func isPlainBlobID(_ id: String) -> Bool {
        !id.isEmpty && id != "." && id != ".." && !id.utf8.contains(UInt8(ascii: "/")) && !id.utf8.contains(0)
    }
}

/// Any `ContentReading` as a restore source: each content is its own unit, read whole with `content(_:)`
/// (already decoded and checked), so `decode` returns the bytes unchanged.
struct SingleContentSource: RestoreContentSource {
    let contents: any ContentReading

    func locate(_ id: ContentID) -> ContentInfo? {
        guard contents.contains(id) else { return nil }
        return ContentInfo(contentID: id, packBlobID: "content " + id.description, packOffset: 0, packedLength: 1,
                           originalLength: 0, timestampSeconds: 0)
    }

    func fetch(pack: String, offset: Int64, length: Int, firstContent: ContentID?) async throws -> PackRange {
        guard let firstContent else { return PackRange([]) }
        return PackRange(try await contents.content(firstContent))
    }

    func fetchBlocking(pack: String, offset: Int64, length: Int, firstContent: ContentID?) throws -> PackRange? {
        nil
    }

    func decode(_ info: ContentInfo, range: PackRange, rangeOffset: Int64) throws -> [UInt8] {
        range.withBytes { Array($0) }
    }
}

enum RestoreContentSources {
    /// The best source for `contents`: pack-range reads when it is a `ContentManager`.
    static func make(_ contents: any ContentReading, checkHashes: Bool) -> any RestoreContentSource {
        if let manager = contents as? ContentManager {
            return PackedContentSource(manager: manager, checkHashes: checkHashes)
        }
        return SingleContentSource(contents: contents)
    }
}

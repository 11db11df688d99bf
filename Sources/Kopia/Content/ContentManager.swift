public import Logging

/// Reads contents of an opened repository: the merged index plus pack reads (kopia-format.md §6, §7, §8, §17).
///
/// `open` loads the index once (no refresh: a reader sees the repository as of `open`). Reading a content =
/// one ranged pack read → ECC → AEAD open with IV = the hash's last 16 bytes → decompress per the index header
/// → hash check against the ID. Immutable after `open`; every method is safe to call from many tasks at once.
public final class ContentManager: ContentReading, Sendable {
    public let storage: any BlobStorage
    public let format: RepositoryFormat
    let table: IndexTable
    let logger: Logger
    /// The index blobs the table was built from.
    public let indexBlobs: [BlobMetadata]
    /// The deletion watermark applied (Unix seconds; `Int64.min` for none).
    public let deletionWatermark: Int64
    /// Where the table's records came from, for an incremental `refreshed`.
    let provenance: IndexProvenance
    /// Entries over all active index blobs (the table's plus duplicates and dropped deletions).
    public let rawEntryCount: Int

    init(storage: any BlobStorage, format: RepositoryFormat, loaded: IndexLoader.Result, logger: Logger) {
        self.storage = storage
        self.format = format
        self.table = loaded.table
        self.indexBlobs = loaded.indexBlobs
        self.deletionWatermark = loaded.watermark
        self.provenance = loaded.provenance
        self.rawEntryCount = loaded.rawEntries
        self.logger = logger
    }

    /// Loads the current index set of the repository.
    /// - Throws: `KopiaError` — `.corruptBlob` / `.truncatedData` naming the index blob, storage errors.
    public static func open(storage: any BlobStorage, format: RepositoryFormat, logger: Logger) async throws
        -> ContentManager
    {
        let loaded = try await IndexLoader.load(storage: storage, format: format, logger: logger)
        return ContentManager(storage: storage, format: format, loaded: loaded, logger: logger)
    }

    /// The contents as the repository is now, or nil when its active index set is the one loaded (then the listing
    /// was the whole cost). Only index blobs added since are read; the entries of blobs still listed are reused
    /// and those of blobs gone are dropped, with the same result as `open` (`IndexLoader.refresh`). The receiver
    /// is unchanged and stays usable: callers swap the result in and drop the receiver.
    /// - Throws: `KopiaError` — `.corruptBlob` / `.truncatedData` naming an added index blob, storage errors.
    public func refreshed(logger: Logger) async throws -> ContentManager? {
        guard let (loaded, mode) = try await IndexLoader.refresh(loadedIndex, storage: storage, format: format,
                                                                 logger: logger) else { return nil }
        logger.debug("index refresh", metadata: ["kopia.index.refresh": "\(mode.rawValue)"])
        return ContentManager(storage: storage, format: format, loaded: loaded, logger: logger)
    }

    /// The index as loaded, with its provenance.
    var loadedIndex: IndexLoader.Result {
        IndexLoader.Result(table: table, watermark: deletionWatermark, rawEntries: rawEntryCount, provenance: provenance)
    }

    /// The number of index entries (live and deleted-but-readable).
    public var entryCount: Int { table.count }

    /// What the index says about `id`, deleted entries included (check `deleted`); nil when unknown.
    public func info(_ id: ContentID) -> ContentInfo? {
        table.find(id.indexKey).map(table.info(at:))
    }

    public func contains(_ id: ContentID) -> Bool {
        guard let i = table.find(id.indexKey) else { return false }
        return !table.isDeleted(at: i)
    }

    public func contentIDs(prefix: UInt8) -> [ContentID] {
        table.range(prefix: prefix).compactMap { table.isDeleted(at: $0) ? nil : table.contentID(at: $0) }
    }

    /// Every index entry with `prefix` (0 = un-prefixed), sorted by content ID, deleted ones included.
    public func infos(prefix: UInt8) -> [ContentInfo] {
        table.range(prefix: prefix).map(table.info(at:))
    }

    public func content(_ id: ContentID) async throws -> [UInt8] {
        guard let info = info(id) else {
            throw KopiaError(.contentNotFound, "the repository index has no such content", contentID: id.description)
        }
        let packed = try await readPack(info.packBlobID, offset: Int64(info.packOffset), length: Int(info.packedLength),
                                        contentID: id)
        return try decode(info, packed: packed[...])
    }

    /// Turns a content's stored bytes (exactly its `packedLength` bytes from the pack) into its plaintext:
    /// ECC → decrypt → decompress per the index header → hash check. Pure; safe from any task.
    /// - Throws: `.corruptContent` naming the pack and the content, `.unknownAlgorithm`, `.unsupportedFormat`.
    public func decode(_ info: ContentInfo, packed: ArraySlice<UInt8>) throws -> [UInt8] {
        try packed.withUnsafeBytes { try decode(info, bytes: $0, checkHash: true) }
    }

    /// `decode(_:packed:)` over raw bytes (e.g. a memory-mapped pack range), without copying them.
    /// - Parameter checkHash: re-hash the plaintext and compare it with the content ID. The AEAD tag already
    ///   authenticates the ciphertext under a key derived from the ID (§4.1), so the restore path may skip this
    ///   second check, as Kopia's own reader does; `ferry verify` and `content(_:)` keep it.
    public func decode(_ info: ContentInfo, bytes packed: UnsafeRawBufferPointer, checkHash: Bool) throws -> [UInt8] {
        let id = info.contentID
        func failure(_ message: String, _ cause: (any Error)? = nil) -> KopiaError {
            KopiaError(.corruptContent, message, blobID: info.packBlobID, contentID: id.description, cause: cause)
        }
        guard info.encryptionKeyID == 0 else {
            throw KopiaError(.unsupportedFormat, "content uses encryption key \(info.encryptionKeyID); only 0 exists",
                             blobID: info.packBlobID, contentID: id.description)
        }
        // ECC (§4.4) comes off before decryption; without it the stored bytes are decrypted in place.
        var unwrapped: [UInt8]?
        if let ecc = format.errorCorrection {
            do {
                unwrapped = try ecc.decode(packed)
            } catch {
                throw failure("content is damaged beyond what its error correction can repair; the pack is damaged", error)
            }
        }
        var plain: [UInt8]
        do {
            plain = try unwrapped.map { try format.cipher.decrypt($0, iv: id.iv) }
                ?? format.cipher.decrypt(bytes: packed, iv: id.iv)
        } catch {
            throw failure("content fails authentication; the pack is damaged", error)
        }
        if info.compressionHeaderID != 0 {
            let h = info.compressionHeaderID
            guard let algorithm = CompressionAlgorithm(headerID: h) else {
                throw KopiaError(.unknownAlgorithm,
                                 "content uses compression header 0x\(String(h, radix: 16)), which Ferry does not know",
                                 blobID: info.packBlobID, contentID: id.description)
            }
            do {
                // The stored bytes start with the header; it must match the index entry (§5.2). The index says
                // how long the plaintext is (Kopia records the length before compression), so a stream that
                // expands beyond it is damaged or hostile: stop there instead of at a blanket 1 GiB.
                plain = try Compression.decompress(plain, verifying: algorithm,
                                                   maxOutputSize: Int(info.originalLength))
            } catch let error as KopiaError where error.code == .unknownAlgorithm || error.code == .unsupportedFormat {
                throw error.adding(blobID: info.packBlobID, contentID: id.description)
            } catch {
                throw failure("content does not decompress", error)
            }
        }
        guard !checkHash || format.hasher.hash(plain) == id.hash else {
            throw failure("content does not match its hash")
        }
        return plain
    }

    /// One ranged pack read with errors that name the pack and the content.
    func readPack(_ pack: String, offset: Int64, length: Int, contentID: ContentID?) async throws -> [UInt8] {
        do {
            return try await storage.read(pack, offset: offset, length: length)
        } catch let error as KopiaError {
            switch error.code {
            case .blobNotFound:
                throw KopiaError(.blobNotFound,
                                 "pack blob is missing from the repository; the contents it held cannot be read",
                                 blobID: pack, contentID: contentID?.description, cause: error)
            case .truncatedData:
                throw KopiaError(.corruptBlob, "pack blob is shorter than the index says; it is truncated",
                                 blobID: pack, contentID: contentID?.description, cause: error)
            default:
                throw error.adding(blobID: pack, contentID: contentID?.description)
            }
        }
    }
}

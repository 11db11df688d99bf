import Logging

/// Loads the current index set into one `IndexTable` (kopia-format.md §17 step 4): choose the active index
/// blobs (§8.1 epochs or §8.2 legacy), download them with bounded parallelism, decrypt (§4.3), decode (§7.1,
/// §7.2) and merge (§7.3) with the deletion watermark.
///
/// Maintenance may delete superseded blobs between listing and reading; like Kopia, a missing blob makes the
/// loader list again (up to `attempts` times). Cancellation propagates from the calling task.
enum IndexLoader {
    static let parallelDownloads = 8
    static let attempts = 5

    struct Result: Sendable {
        var table: IndexTable
        var indexBlobs: [BlobMetadata] { provenance.blobs }
        var watermark: Int64
        /// Entries over all active blobs (table and shadow).
        var rawEntries: Int
        /// Where the table's records came from, and the records it does not hold (for `refresh`).
        var provenance: IndexProvenance
    }

    static func load(storage: any BlobStorage, format: RepositoryFormat, logger: Logger,
                     streaming: IndexBlobStream.Options = .default) async throws -> Result {
        var attempt = 1
        while true {
            do {
                return try await loadOnce(storage: storage, format: format, logger: logger, streaming: streaming)
            } catch let error as KopiaError where error.code == .blobNotFound && attempt < attempts {
                logger.debug("index blob vanished during load, listing again",
                             metadata: ["kopia.blob.id": "\(error.blobID ?? "")", "kopia.attempt": "\(attempt)"])
                attempt += 1
            }
        }
    }

    /// Memory: the table (reserved once, from the blobs' sizes) plus, at any time, either one large blob's two
    /// pieces in flight (`IndexBlobStream`) or up to `parallelDownloads` small blobs (< `streaming.threshold`
    /// each, sealed and decrypted). Blobs with an error-correction layer are decoded whole (ECC needs the blob).
    static func loadOnce(storage: any BlobStorage, format: RepositoryFormat, logger: Logger,
                         streaming: IndexBlobStream.Options = .default) async throws -> Result {
        let (blobs, watermark) = try await activeBlobs(storage: storage, format: format)
        return try await load(blobs, watermark: watermark, storage: storage, format: format, logger: logger,
                              streaming: streaming)
    }

    /// Loads exactly `blobs` (the active set just listed) and merges them with `watermark`.
    static func load(_ blobs: [BlobMetadata], watermark: Int64, storage: any BlobStorage, format: RepositoryFormat,
                     logger: Logger, streaming: IndexBlobStream.Options) async throws -> Result {
        var builder = IndexTableBuilder(keySize: 1 + format.hashLength)
        builder.reserve(entries: estimatedEntries(blobs, keySize: builder.keySize))
        try await read(blobs, numbered: 0, storage: storage, format: format, streaming: streaming, into: &builder)
        let raw = builder.count
        let resolved = builder.resolve(watermark: watermark)
        logger.debug("index loaded", metadata: [
            "kopia.index.blobs": "\(blobs.count)", "kopia.index.entries": "\(raw)",
            "kopia.index.contents": "\(resolved.table.count)",
        ])
        return Result(table: resolved.table, watermark: watermark, rawEntries: raw,
                      provenance: IndexProvenance(blobs: blobs, recordBlobs: resolved.recordBlobs,
                                                  shadow: resolved.shadow, shadowBlobs: resolved.shadowBlobs))
    }

    /// Downloads, decrypts and decodes `blobs` into `builder`, marking the records of `blobs[i]` as blob
    /// `first + i`. Blobs are decoded one at a time, so each one's records are contiguous.
    static func read(_ blobs: [BlobMetadata], numbered first: Int, storage: any BlobStorage, format: RepositoryFormat,
                     streaming: IndexBlobStream.Options, into builder: inout IndexTableBuilder) async throws {
        let numbered = blobs.enumerated().map { (number: UInt32(first + $0.offset), blob: $0.element) }
        let streamed = format.errorCorrection == nil ? numbered.filter { $0.blob.length >= streaming.threshold } : []
        let whole = format.errorCorrection == nil ? numbered.filter { $0.blob.length < streaming.threshold } : numbered
        try await withThrowingTaskGroup(of: (UInt32, String, [UInt8]).self) { group in
            var next = 0
            func startNext() {
                guard next < whole.count else { return }
                let (number, blob) = whole[next]
                let id = blob.id
                next += 1
                group.addTask {
                    let sealed: [UInt8]
                    do {
                        sealed = try await storage.read(id)
                    } catch let error as KopiaError {
                        throw error.adding(blobID: id)
                    }
                    return (number, id, try format.decryptBlob(sealed, blobID: id))
                }
            }
            for _ in 0..<parallelDownloads { startNext() }
            // The small blobs download meanwhile; at most `parallelDownloads` of them wait here.
            for (number, blob) in streamed {
                try await IndexBlobStream.load(blob, storage: storage, format: format, pieceSize: streaming.pieceSize,
                                               into: &builder)
                builder.endBlob(number)
            }
            while let (number, id, plaintext) = try await group.next() {
                try decode(plaintext, blobID: id, into: &builder)
                builder.endBlob(number)
                startNext()
            }
        }
    }

    /// At least as many entries as `blobs` can hold (index v2 entries take ≥ keySize + 16 bytes, v1 ones
    /// keySize + 20), so the table is allocated once: growing it while loading would copy it, old and new alive
    /// together. Pages reserved but never written are not resident. Capped at 256 MiB of blobs (~8M entries):
    /// a listing is outside input, and beyond that the table grows by halves.
    static func estimatedEntries(_ blobs: [BlobMetadata], keySize: Int) -> Int {
        let bytes = blobs.reduce(Int64(0)) { $0 + max(0, min($1.length, 1 << 40)) }
        return Int(min(bytes, 1 << 28) / Int64(keySize + 16))
    }

    /// Decodes one decrypted index blob (v1 or v2, by its first byte).
    static func decode(_ plaintext: [UInt8], blobID: String, into builder: inout IndexTableBuilder) throws(KopiaError) {
        try IndexBlobDecoder.decode(plaintext, blobID: blobID, into: &builder)
    }

    static func activeBlobs(storage: any BlobStorage, format: RepositoryFormat) async throws
        -> (blobs: [BlobMetadata], watermark: Int64)
    {
        if format.parameters.epochParameters.enabled {
            async let markers = storage.list(prefix: "xe")
            async let watermarks = storage.list(prefix: "xw")
            async let singles = storage.list(prefix: "xs")
            async let ranges = storage.list(prefix: "xr")
            async let uncompacted = storage.list(prefix: "xn")
            let chosen = try await EpochIndexBlobs.select(
                markers: markers, watermarks: watermarks, singles: singles, ranges: ranges, uncompacted: uncompacted)
            return (chosen.active, chosen.watermark)
        }
        async let indexBlobs = storage.list(prefix: "n")
        let logBlobs = try await storage.list(prefix: "m")
        var logs: [LegacyIndexBlobs.CompactionLog] = []
        for log in logBlobs.sorted(by: { $0.id < $1.id }) {
            let sealed: [UInt8]
            do {
                sealed = try await storage.read(log.id)
            } catch let error as KopiaError where error.code == .blobNotFound {
                continue  // removed by maintenance meanwhile
            }
            logs.append(try LegacyIndexBlobs.CompactionLog.decode(try format.decryptBlob(sealed, blobID: log.id),
                                                                  blobID: log.id))
        }
        return (LegacyIndexBlobs.select(indexBlobs: try await indexBlobs, logs: logs), Int64.min)
    }
}

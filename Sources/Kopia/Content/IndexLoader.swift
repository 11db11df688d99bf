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
        var indexBlobs: [BlobMetadata]
        var watermark: Int64
        var rawEntries: Int
    }

    static func load(storage: any BlobStorage, format: RepositoryFormat, logger: Logger) async throws -> Result {
        var attempt = 1
        while true {
            do {
                return try await loadOnce(storage: storage, format: format, logger: logger)
            } catch let error as KopiaError where error.code == .blobNotFound && attempt < attempts {
                logger.debug("index blob vanished during load, listing again",
                             metadata: ["kopia.blob.id": "\(error.blobID ?? "")", "kopia.attempt": "\(attempt)"])
                attempt += 1
            }
        }
    }

    static func loadOnce(storage: any BlobStorage, format: RepositoryFormat, logger: Logger) async throws -> Result {
        let (blobs, watermark) = try await activeBlobs(storage: storage, format: format)
        var builder = IndexTableBuilder(keySize: 1 + format.hashLength)
        try await withThrowingTaskGroup(of: (String, [UInt8]).self) { group in
            var next = 0
            func startNext() {
                guard next < blobs.count else { return }
                let id = blobs[next].id
                next += 1
                group.addTask {
                    let sealed: [UInt8]
                    do {
                        sealed = try await storage.read(id)
                    } catch let error as KopiaError {
                        throw error.adding(blobID: id)
                    }
                    return (id, try format.decryptBlob(sealed, blobID: id))
                }
            }
            for _ in 0..<parallelDownloads { startNext() }
            while let (id, plaintext) = try await group.next() {
                try decode(plaintext, blobID: id, into: &builder)
                startNext()
            }
        }
        let raw = builder.count
        let table = builder.build(watermark: watermark)
        logger.debug("index loaded", metadata: [
            "kopia.index.blobs": "\(blobs.count)", "kopia.index.entries": "\(raw)", "kopia.index.contents": "\(table.count)",
        ])
        return Result(table: table, indexBlobs: blobs, watermark: watermark, rawEntries: raw)
    }

    /// Decodes one decrypted index blob (v1 or v2, by its first byte).
    static func decode(_ plaintext: [UInt8], blobID: String, into builder: inout IndexTableBuilder) throws(KopiaError) {
        switch plaintext.first {
        case 1: try IndexV1.decode(plaintext, blobID: blobID, into: &builder)
        case 2: try IndexV2.decode(plaintext, blobID: blobID, into: &builder)
        case let v?: throw IndexV2.corrupt("has unknown index version \(v)", blobID)
        case nil: throw IndexV2.corrupt("is empty", blobID)
        }
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

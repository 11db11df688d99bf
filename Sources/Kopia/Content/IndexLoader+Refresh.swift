import Logging

extension IndexLoader {
    /// What a refresh did; `nil` from `refresh` means nothing changed.
    enum RefreshMode: String, Sendable {
        /// Only the added blobs were read; the rest came from the previous load (`IndexMerge`).
        case incremental
        /// Every active blob was read again, because the added ones are at least as large as the kept ones
        /// (compaction rewrote the index): merging would hold the previous table, the added records and the new
        /// table at once, one copy more than a full load.
        case full
    }

    /// The index of the repository as it is now, built from `previous` where possible (kopia-format.md §8).
    ///
    /// Lists the active blobs. The same set (IDs and lengths; index blobs are immutable) with the same watermark
    /// returns nil. Otherwise the blobs still active keep their parsed records (in `previous.table` and its
    /// provenance), only the added blobs are downloaded and decoded, the records of blobs no longer active are
    /// dropped, and every key is resolved again with the new watermark: the result equals a full load of the new
    /// set. When the added blobs are at least as large as the kept ones (a compaction replaced the index), the
    /// new set is loaded in full instead.
    ///
    /// `previous` is not modified and stays valid; the caller drops it when it swaps the result in (until then
    /// both tables are in memory, as with a full reload). Like `load`, a blob that vanishes between listing and
    /// reading makes it list again (up to `attempts` times). Cancellation propagates from the calling task.
    /// - Throws: as `load`.
    /// - Parameter alwaysMerge: merge even when a full load would read about as much (tests use it to drive the
    ///   merge through every kind of change).
    static func refresh(_ previous: Result, storage: any BlobStorage, format: RepositoryFormat, logger: Logger,
                        streaming: IndexBlobStream.Options = .default, alwaysMerge: Bool = false) async throws
        -> (Result, RefreshMode)?
    {
        var attempt = 1
        while true {
            do {
                return try await refreshOnce(previous, storage: storage, format: format, logger: logger,
                                             streaming: streaming, alwaysMerge: alwaysMerge)
            } catch let error as KopiaError where error.code == .blobNotFound && attempt < attempts {
                logger.debug("index blob vanished during refresh, listing again",
                             metadata: ["kopia.blob.id": "\(error.blobID ?? "")", "kopia.attempt": "\(attempt)"])
                attempt += 1
            }
        }
    }

    static func refreshOnce(_ previous: Result, storage: any BlobStorage, format: RepositoryFormat, logger: Logger,
                            streaming: IndexBlobStream.Options = .default, alwaysMerge: Bool = false) async throws
        -> (Result, RefreshMode)?
    {
        let (blobs, watermark) = try await activeBlobs(storage: storage, format: format)
        let plan = RefreshPlan(previous: previous.indexBlobs, current: blobs)
        if plan.unchanged && watermark == previous.watermark { return nil }
        guard plan.isIncremental || alwaysMerge else {
            let result = try await load(blobs, watermark: watermark, storage: storage, format: format, logger: logger,
                                        streaming: streaming)
            return (result, .full)
        }
        let start = ContinuousClock.now
        // The added blobs' records, numbered by their place in `blobs`, sorted; the previous ones are kept as is.
        var builder = IndexTableBuilder(keySize: previous.table.keySize)
        builder.reserve(entries: estimatedEntries(plan.added.map { blobs[$0] }, keySize: builder.keySize))
        let reordered = plan.added.map { blobs[$0] }
        try await read(reordered, numbered: 0, storage: storage, format: format, streaming: streaming, into: &builder)
        var added = builder.sorted()
        // `read` numbered the added blobs 0…; give them their numbers in `blobs`.
        for i in added.blobs.indices where Int(added.blobs[i]) < plan.added.count {
            added.blobs[i] = UInt32(plan.added[Int(added.blobs[i])])
        }
        let addedCount = added.count
        let resolved = try IndexMerge.merge(previous: previous.table, provenance: previous.provenance,
                                            blobNumbers: plan.renumber, added: added, watermark: watermark)
        added = IndexTableBuilder.Sorted(keySize: added.keySize, records: [], blobs: [], packs: [], formats: [])
        let shadowCount = resolved.shadow.count / resolved.table.stride
        logger.debug("index refreshed", metadata: [
            "kopia.index.blobs": "\(blobs.count)", "kopia.index.blobs.added": "\(plan.added.count)",
            "kopia.index.blobs.removed": "\(plan.removed)", "kopia.index.entries.read": "\(addedCount)",
            "kopia.index.contents": "\(resolved.table.count)",
            "kopia.index.seconds": "\(ContinuousClock.now - start)",
        ])
        let result = Result(table: resolved.table, watermark: watermark, rawEntries: resolved.table.count + shadowCount,
                            provenance: IndexProvenance(blobs: blobs, recordBlobs: resolved.recordBlobs,
                                                        shadow: resolved.shadow, shadowBlobs: resolved.shadowBlobs))
        return (result, .incremental)
    }
}

/// How a listed index-blob set differs from the one loaded before (pure). A blob is the same when its ID and
/// length are (index blobs are immutable; a different length under the same ID is treated as removed and added).
struct RefreshPlan: Equatable, Sendable {
    /// For each previous blob number, its position in the current listing, or `UInt32.max` when it is gone.
    var renumber: [UInt32]
    /// Positions in the current listing of blobs not loaded before.
    var added: [Int]
    /// How many previous blobs are gone.
    var removed: Int
    /// Stored bytes of the blobs kept and of the blobs added.
    var keptBytes: Int64
    var addedBytes: Int64

    init(previous: [BlobMetadata], current: [BlobMetadata]) {
        var position: [String: (Int, Int64)] = [:]
        for (i, blob) in current.enumerated() { position[blob.id] = (i, blob.length) }
        var renumber = [UInt32](repeating: .max, count: previous.count)
        var seen = Set<Int>()
        var keptBytes: Int64 = 0
        for (i, blob) in previous.enumerated() {
            guard let (p, length) = position[blob.id], length == blob.length, !seen.contains(p) else { continue }
            renumber[i] = UInt32(p)
            seen.insert(p)
            keptBytes += max(0, length)
        }
        self.renumber = renumber
        added = current.indices.filter { !seen.contains($0) }
        removed = renumber.count(where: { $0 == .max })
        self.keptBytes = keptBytes
        addedBytes = added.reduce(Int64(0)) { $0 + max(0, current[$1].length) }
    }

    var unchanged: Bool { added.isEmpty && removed == 0 }

    /// Merge when the added blobs are smaller than the kept ones; otherwise a full load reads about as much and
    /// holds one copy less.
    var isIncremental: Bool { keptBytes > 0 && addedBytes < keptBytes }
}

public import Foundation
import Synchronization

/// Writes contents into pack blobs and publishes them with index blobs — one writer session
/// (kopia-format.md §3, §4.2, §5.2, §6, §7.2, §8.1; kopia/kopia `repo/content/content_manager.go`).
///
/// `write(_:prefix:compression:)` hashes the plaintext (the content ID), skips it when the repository or this
/// session already has it, compresses it (kept raw unless that makes it smaller, as Kopia does), encrypts it
/// with IV = the last 16 hash bytes, and appends it to the open `p` pack (un-prefixed contents) or `q` pack
/// (prefixed: `k`, `x`, `m`). A pack that reaches the repository's `maxPackSize` is written at once.
///
/// Ordering, and so crash safety: a pack blob is always written before any index blob that names it, and
/// `flush()` writes the open packs first and then one `xn<epoch>_<hash>-<session>-c1` index blob covering every
/// content written since the last index blob. Contents become visible to readers only through index blobs, so
/// an interrupted session leaves unreferenced packs (garbage that Kopia's maintenance removes), never a
/// dangling index entry. Between flushes, once `indexFlushEntries` entries of written packs have accumulated,
/// the writer of a pack also writes an index blob for them (Kopia flushes its pack index periodically too;
/// several `xn` blobs of one session are what Kopia writes as well), so the entries of a long session do not
/// pile up in memory (issue 16: 1M new files peaked at 311–384 MiB).
///
/// Memory: at most `packWriters + 1` data packs exist at once (two by default) — the one being filled and the
/// full ones being written. A full pack is written (and `fsync`ed, by the storage) by the task whose content
/// filled it, while the other tasks go on filling the next pack; a task whose content would go into yet another
/// pack waits until a writer takes the full one. Without that bound every task that filled a pack while slow
/// storage wrote another one held a whole pack (issue 16: 294 MiB peak on the 1 GiB mixed tree with four upload
/// tasks, restic's + 150 MiB). Each pack buffer is reserved for a full pack plus one maximal chunk, so appending
/// never reallocates (and copies) it; pages not written are not resident. The session's content IDs are kept
/// as flat index keys (`ContentKeySet`), not as a set of IDs with one heap array each.
///
/// Thread safety: `write` may be called from many tasks at once (hashing, compression and encryption run in the
/// caller's task; only the pack append is serialized). `flush` must not overlap with `write` calls.
public final class ContentWriter: Sendable {
    public let format: RepositoryFormat
    public let storage: any BlobStorage
    /// The `s…` session ID carried by every blob this writer creates.
    public let sessionID: String
    /// The epoch whose `xn<E>_` index blobs this writer adds to (the current write epoch).
    public let epoch: Int
    private let existing: (any ContentReading)?
    private let clock: @Sendable () -> Date
    /// Full packs written at once (each by the task whose content filled it). One by default: on this
    /// benchmark machine's disk two `fsync`ed 20 MiB writes at a time were slower than one after the other, and
    /// each writer holds a whole pack.
    let packWriters: Int
    /// Entries of written packs that make the pack's writer write an index blob before `flush`.
    let indexFlushEntries: Int
    private let state = Mutex(State())

    private struct State {
        var known = ContentKeySet()
        var dataPack: PackBuilder?
        var metadataPack: PackBuilder?
        /// Full packs waiting for the pack writer (at most one of each kind).
        var fullData: PackBuilder?
        var fullMetadata: PackBuilder?
        /// Tasks writing full packs (``drain()``), at most `packWriters`.
        var writers = 0
        /// Tasks waiting for a full pack of their kind to be taken by the writer.
        var waiters: [CheckedContinuation<Void, Never>] = []

        mutating func takeWaiters() -> [CheckedContinuation<Void, Never>] {
            defer { waiters = [] }
            return waiters
        }
        /// Entries whose pack blob is already written, waiting for the next index blob.
        var committedEntries: [ContentInfo] = []
        var stats = ContentWriterStats()
    }

    /// - Parameters:
    ///   - existing: the repository's current index, for deduplication; nil for a new repository.
    ///   - epoch: the write epoch (max `xe<E>` marker; 0 when there is none).
    ///   - packWriters: full packs written at once; memory holds at most `packWriters + 1` data packs.
    ///   - indexFlushEntries: entries of written packs that trigger an index blob before `flush` (≈ 34 bytes
    ///     each in the blob, ≈ 100 in memory until written).
    public init(
        format: RepositoryFormat, storage: any BlobStorage, existing: (any ContentReading)?, epoch: Int,
        sessionID: String? = nil, clock: @escaping @Sendable () -> Date = { Date() }, packWriters: Int = 1,
        indexFlushEntries: Int = 100_000
    ) {
        self.format = format
        self.storage = storage
        self.existing = existing
        self.epoch = epoch
        self.clock = clock
        self.packWriters = max(1, packWriters)
        self.indexFlushEntries = max(1, indexFlushEntries)
        self.sessionID = sessionID ?? SessionID.make(now: clock())
    }

    /// Counters of what this writer did so far.
    public var stats: ContentWriterStats { state.withLock { $0.stats } }

    /// The content ID `data` would get with `prefix` (no write).
    public func contentID(of data: some Collection<UInt8>, prefix: UInt8 = 0) -> ContentID {
        ContentID(prefix: prefix, hash: format.hasher.hash(data))
    }

    /// Whether the repository (as opened) or this session already holds `id`.
    public func contains(_ id: ContentID) -> Bool {
        if state.withLock({ $0.known.contains(id) }) { return true }
        return existing?.contains(id) ?? false
    }

    /// Stores `data` as one content and returns its ID. Idempotent: a content already present is not written
    /// again.
    ///
    /// - Parameters:
    ///   - prefix: 0 for file data (`p` packs), or `k`/`x`/`m` (ASCII) for metadata (`q` packs).
    ///   - compression: the content-level compressor, or nil for none. Kept only if it shrinks the data.
    /// - Throws: codec errors; storage errors when a full pack is written.
    @discardableResult
    public func write(_ data: [UInt8], prefix: UInt8 = 0, compression: CompressionAlgorithm? = nil) async throws
        -> ContentID
    {
        let id = contentID(of: data, prefix: prefix)
        if contains(id) {
            state.withLock { $0.stats.deduplicated += 1 }
            return id
        }
        var payload = data
        var header: UInt32 = 0
        if let compression, compression.headerID != 0 {
            let compressed = try Compression.compress(data, using: compression)
            if compressed.count < data.count {
                payload = compressed
                header = compression.headerID
            }
        }
        let sealed = try format.seal(payload, iv: id.iv)
        let info = ContentInfo(
            contentID: id, packBlobID: "", packOffset: 0, packedLength: 0, originalLength: UInt32(data.count),
            timestampSeconds: Int64(clock().timeIntervalSince1970), deleted: false,
            formatVersion: UInt8(clamping: format.version), compressionHeaderID: header)
        let maxPack = format.parameters.maxPackSize > 0 ? format.parameters.maxPackSize : 20 << 20
        let metadata = prefix != 0
        while true {
            let step: AppendStep = state.withLock { s in
                if s.known.contains(id) {
                    s.stats.deduplicated += 1
                    return .done
                }
                // Backpressure: a full pack of this kind still waits for the writer.
                if (metadata ? s.fullMetadata : s.fullData) != nil {
                    guard s.writers < packWriters else { return .wait }
                    s.writers += 1  // a writer is free (or the previous one failed): write it
                    return .write
                }
                s.known.insert(id)
                s.stats.written += 1
                s.stats.writtenBytes += Int64(data.count)
                s.stats.packedBytes += Int64(sealed.count)
                // take() leaves the state without a reference, so the append below mutates the buffer in place
                // instead of copying the whole pack (copy-on-write).
                var pack = (metadata ? s.metadataPack.take() : s.dataPack.take())
                    ?? PackBuilder(blobID: SessionID.packBlobID(prefix: metadata ? "q" : "p", session: sessionID),
                                   reserve: metadata ? 0 : maxPack + Self.packSlack)
                pack.append(sealed, info: info)
                guard pack.length >= maxPack else {
                    if metadata { s.metadataPack = pack } else { s.dataPack = pack }
                    return .done
                }
                if metadata { s.fullMetadata = pack } else { s.fullData = pack }
                guard s.writers < packWriters else { return .done }
                s.writers += 1
                return .write
            }
            switch step {
            case .done:
                return id
            case .write:
                try await drain()
                if state.withLock({ $0.known.contains(id) }) { return id }
            case .wait:
                await waitForWriter(metadata: metadata)
            }
        }
    }

    /// Headroom over `maxPackSize` reserved in every data pack: the last content may overshoot (a chunk is at
    /// most 8 MiB for Kopia's splitters) and the padding and local index follow.
    static let packSlack = 9 << 20

    private enum AppendStep {
        case done, write, wait
    }

    /// Writes full packs until none is waiting. The caller counted itself in `writers`; it counts itself out on
    /// return and on error (the failed pack stays queued, so another writer retries it or `flush` reports the
    /// failure again). Tasks waiting for the full slot resume as soon as a pack is taken out of it, so they fill
    /// the next pack while this one is written.
    private func drain() async throws {
        while true {
            let (next, waiters) = state.withLock { s -> (PackBuilder?, [CheckedContinuation<Void, Never>]) in
                if let p = s.fullData.take() ?? s.fullMetadata.take() { return (p, s.takeWaiters()) }
                s.writers -= 1
                return (nil, s.takeWaiters())
            }
            for w in waiters { w.resume() }
            guard let pack = next else { return }
            let due: [ContentInfo]
            do {
                due = try await writePack(pack)
            } catch {
                let waiters = state.withLock { s in
                    if pack.blobID.hasPrefix("q") { s.fullMetadata = pack } else { s.fullData = pack }
                    s.writers -= 1
                    return s.takeWaiters()
                }
                for w in waiters { w.resume() }
                throw error
            }
            guard !due.isEmpty else { continue }
            do {
                try await writeIndex(due)
            } catch {
                // The pack is written; its entries are back in `committedEntries` for the next index blob.
                let waiters = state.withLock { s in
                    s.writers -= 1
                    return s.takeWaiters()
                }
                for w in waiters { w.resume() }
                throw error
            }
        }
    }

    /// Suspends until the full pack of this kind has been taken by a writer (or a writer is free to take it).
    private func waitForWriter(metadata: Bool) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if (metadata ? s.fullMetadata : s.fullData) == nil || s.writers < packWriters { return true }
                s.waiters.append(c)
                return false
            }
            if ready { c.resume() }
        }
    }

    /// Writes the open packs, then one index blob for every content written since the last flush.
    ///
    /// After it returns, everything written so far is durable and visible to readers. A flush with nothing new
    /// writes nothing. Must not overlap with `write` calls.
    /// - Returns: the index blob ID written, if any.
    @discardableResult
    public func flush() async throws -> String? {
        let open = state.withLock { s -> [PackBuilder] in
            let packs = [s.fullData, s.fullMetadata, s.dataPack, s.metadataPack].compactMap { $0 }
                .filter { !$0.isEmpty }
            s.fullData = nil
            s.fullMetadata = nil
            s.dataPack = nil
            s.metadataPack = nil
            return packs
        }
        for pack in open {
            let due = try await writePack(pack)
            if !due.isEmpty { try await writeIndex(due) }
        }
        let entries = state.withLock { s -> [ContentInfo] in
            defer { s.committedEntries = [] }
            return s.committedEntries
        }
        guard !entries.isEmpty else { return nil }
        return try await writeIndex(entries)
    }

    /// Writes one index blob for `entries` (all in written packs). On failure they go back to the committed
    /// entries, so the next index blob (or `flush`) covers them.
    @discardableResult
    private func writeIndex(_ entries: [ContentInfo]) async throws -> String {
        do {
            let plain = try IndexV2Encoder.encode(entries)
            let hash = format.hasher.hash(plain)
            let blobID = "xn\(epoch)_" + Hex.encode(hash) + "-" + sessionID + "-c1"
            try await storage.write(blobID, try sealBlob(plain, blobID: blobID))
            state.withLock { $0.stats.indexBlobs += 1 }
            return blobID
        } catch {
            state.withLock { $0.committedEntries.append(contentsOf: entries) }
            throw error
        }
    }

    /// Whole-blob encryption (§4.3): IV from the blob name, then ECC if the repository uses it.
    func sealBlob(_ plain: [UInt8], blobID: String) throws -> [UInt8] {
        let sealed = try format.seal(plain, iv: try ContentCipher.blobIV(forBlobID: blobID))
        return sealed
    }

    /// Writes a pack and commits its entries.
    /// - Returns: the committed entries due for an index blob now (`indexFlushEntries` reached), else none.
    ///   The caller writes them with `writeIndex` — outside any retry of the pack, which is written already.
    private func writePack(_ pack: PackBuilder) async throws -> [ContentInfo] {
        let blobID = pack.blobID
        let entries = pack.entries
        let bytes = try pack.finish(format: format)
        try await storage.write(blobID, bytes)
        let due = state.withLock { s -> [ContentInfo] in
            s.committedEntries.append(contentsOf: entries)
            s.stats.packBlobs += 1
            guard s.committedEntries.count >= indexFlushEntries else { return [] }
            defer { s.committedEntries = [] }
            return s.committedEntries
        }
        return due
    }
}

/// What a ``ContentWriter`` did.
public struct ContentWriterStats: Sendable, Hashable {
    /// Contents stored by this writer.
    public var written = 0
    /// Writes skipped because the content already existed.
    public var deduplicated = 0
    /// Plaintext bytes of the stored contents.
    public var writtenBytes: Int64 = 0
    /// Encrypted (and possibly compressed) bytes of the stored contents.
    public var packedBytes: Int64 = 0
    public var packBlobs = 0
    public var indexBlobs = 0
}

/// Coalesced reads of many contents of one pack (kopia-format.md §13 "coalescing adjacent ranges of the same
/// pack"): the restore planner groups contents by pack and reads each group with as few ranged reads as the
/// gaps allow.
extension ContentManager {
    /// Reads and decodes `entries` (all in `pack`) with one ranged read per run of entries whose gaps are at most
    /// `maxGap` bytes (`Int.max`: exactly one read spanning them all).
    ///
    /// Yields `(info, plaintext)` per entry in pack order as each range arrives; memory is bounded by one range
    /// plus its plaintexts. Cancelling the consuming task cancels the reads.
    /// - Throws (from the stream): the errors of `content(_:)`; an entry naming another pack → `.invalidArgument`.
    public func contents(inPack pack: String, entries: [ContentInfo], maxGap: Int = 1 << 20)
        -> AsyncThrowingStream<(ContentInfo, [UInt8]), any Error>
    {
        let (stream, continuation) = AsyncThrowingStream<(ContentInfo, [UInt8]), any Error>.makeStream()
        let task = Task {
            do {
                for run in try Self.coalesce(pack: pack, entries: entries, maxGap: maxGap) {
                    let start = run.first?.packRange.lowerBound ?? 0
                    let end = run.map(\.packRange.upperBound).max() ?? start
                    let bytes = try await readPack(pack, offset: start, length: Int(end - start),
                                                   contentID: run.first?.contentID)
                    for info in run {
                        let lo = Int(info.packRange.lowerBound - start)
                        let plain = try decode(info, packed: bytes[lo..<lo + Int(info.packedLength)])
                        continuation.yield((info, plain))
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// Reads and decodes `entries` of `pack` with coalesced ranged reads; see `contents(inPack:entries:maxGap:)`.
    public func read(pack: String, entries: [ContentInfo], maxGap: Int = 1 << 20) async throws -> [ContentID: [UInt8]] {
        var out: [ContentID: [UInt8]] = [:]
        for try await (info, plain) in contents(inPack: pack, entries: entries, maxGap: maxGap) {
            out[info.contentID] = plain
        }
        return out
    }

    /// Sorts `entries` by offset, drops duplicates, and cuts them into runs whose gaps are ≤ `maxGap`.
    static func coalesce(pack: String, entries: [ContentInfo], maxGap: Int) throws(KopiaError) -> [[ContentInfo]] {
        var seen = Set<ContentID>()
        var sorted: [ContentInfo] = []
        for info in entries.sorted(by: { $0.packOffset < $1.packOffset }) where seen.insert(info.contentID).inserted {
            guard info.packBlobID == pack else {
                throw KopiaError(.invalidArgument, "content is in pack \(info.packBlobID), not in the pack being read",
                                 blobID: pack, contentID: info.contentID.description)
            }
            sorted.append(info)
        }
        var runs: [[ContentInfo]] = []
        var current: [ContentInfo] = []
        var end: Int64 = 0
        for info in sorted {
            if let _ = current.first, info.packRange.lowerBound - end > Int64(max(maxGap, 0)) {
                runs.append(current)
                current = []
            }
            end = current.isEmpty ? info.packRange.upperBound : max(end, info.packRange.upperBound)
            current.append(info)
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }
}

/// Chooses the active index blobs of an epoch-managed repository, format v2/v3 (kopia-format.md §8.1;
/// kopia/kopia `internal/epoch/epoch_manager.go`, `epoch_utils.go`, `epoch_range.go`).
///
/// Blob names: `xe<E>` epoch marker, `xw<unixSeconds>` deletion watermark, `xn<E>_…` uncompacted index,
/// `xs<E>_…-s<set>-c<N>` single-epoch compaction, `xr<E1>_<E2>_…-s<set>-c<N>` range checkpoint. Names that do
/// not parse are ignored, as Kopia does. Pure: the listings come in, the choice goes out.
struct EpochIndexBlobs: Sendable, Equatable {
    /// The blobs to load, in a stable order.
    var active: [BlobMetadata]
    /// Deletion watermark in Unix seconds; `Int64.min` when there is none.
    var watermark: Int64
    /// The current write epoch W.
    var writeEpoch: Int

    /// The listing prefixes a reader needs.
    static let prefixes = ["xe", "xw", "xs", "xr", "xn"]

    /// Applies the algorithm of §8.1 to the listings of `xe`, `xw`, `xs`, `xr` and `xn`.
    static func select(markers: [BlobMetadata], watermarks: [BlobMetadata], singles: [BlobMetadata],
                       ranges: [BlobMetadata], uncompacted: [BlobMetadata]) -> EpochIndexBlobs {
        // 1. W = max E over xe<E>.
        let w = markers.compactMap { epochNumber($0.id, letters: 2, wholeRest: true) }.max() ?? 0
        // 2. Watermark = max T over xw<T>.
        let watermark = watermarks.compactMap { epochNumber($0.id, letters: 2, wholeRest: true) }.map(Int64.init).max()
            ?? Int64.min
        // 3. First complete single-epoch set per epoch.
        var singleSets: [Int: [BlobMetadata]] = [:]
        for (epoch, blobs) in Dictionary(grouping: singles, by: { epochNumber($0.id, letters: 2, wholeRest: false) ?? -1 })
            where epoch >= 0 {
            let set = CompleteSet.findFirst(blobs)
            if !set.isEmpty { singleSets[epoch] = set }
        }
        // 4. First complete set per range, then the longest contiguous chain from epoch 0.
        var rangeSets: [RangeSet] = []
        for (bounds, blobs) in Dictionary(grouping: ranges, by: { rangeBounds($0.id) ?? RangeKey(min: -1, max: -1) })
            where bounds.min >= 0 && bounds.min <= bounds.max {
            let set = CompleteSet.findFirst(blobs)
            if !set.isEmpty { rangeSets.append(RangeSet(min: bounds.min, max: bounds.max, blobs: set)) }
        }
        let chain = longestChain(rangeSets)
        // 5. Active list.
        var active: [BlobMetadata] = []
        var start = 0
        for range in chain where range.max > start {
            active += range.blobs
            start = range.max + 1
        }
        let byEpoch = Dictionary(grouping: uncompacted, by: { epochNumber($0.id, letters: 2, wholeRest: false) ?? -1 })
        // Epochs start...W+1 in order, but only those with blobs: W comes from a blob name anyone with write
        // access can choose (`xe999999999999999999`), so walking every epoch number could take forever.
        let epochs = Set(byEpoch.keys).union(singleSets.keys).filter { $0 >= start && $0 <= w + 1 }.sorted()
        for epoch in epochs {
            if epoch <= w - 2, let set = singleSets[epoch] {
                active += set
            } else {
                active += (byEpoch[epoch] ?? []).sorted { $0.id < $1.id }
            }
        }
        return EpochIndexBlobs(active: active, watermark: watermark, writeEpoch: w)
    }

    struct RangeKey: Hashable {
        var min: Int
        var max: Int
    }

    struct RangeSet {
        var min: Int
        var max: Int
        var blobs: [BlobMetadata]
    }

    /// The chain of contiguous ranges from epoch 0 reaching the highest max epoch; ties → fewer ranges.
    static func longestChain(_ ranges: [RangeSet]) -> [RangeSet] {
        let byMin = Dictionary(grouping: ranges.sorted { ($0.min, $0.max) < ($1.min, $1.max) }, by: \.min)
        var memo: [Int: [RangeSet]] = [:]
        func chain(from start: Int) -> [RangeSet] {
            if let known = memo[start] { return known }
            var best: [RangeSet] = []
            var bestMax = -1
            for r in byMin[start] ?? [] {
                let combined = [r] + chain(from: r.max + 1)
                let reach = combined.last?.max ?? -1
                if reach > bestMax || (reach == bestMax && combined.count < best.count) {
                    bestMax = reach
                    best = combined
                }
            }
            memo[start] = best
            return best
        }
        return chain(from: 0)
    }

    /// The decimal number after the first `letters` characters: up to the first `_` (or the whole rest).
    static func epochNumber(_ id: String, letters: Int, wholeRest: Bool) -> Int? {
        let rest = id.utf8.dropFirst(letters)
        let digits = wholeRest ? rest[...] : rest.prefix(while: { $0 != UInt8(ascii: "_") })
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        if !wholeRest && digits.count == rest.count { return nil }  // no `_`: not an index blob name
        return Int(String(decoding: digits, as: UTF8.self))
    }

    /// `xr<E1>_<E2>_…` → (E1, E2); each bound has at most 18 decimal digits, like every epoch number, so
    /// `max + 1` cannot overflow.
    static func rangeBounds(_ id: String) -> RangeKey? {
        let parts = id.dropFirst(2).split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        func bound(_ text: Substring) -> Int? {
            guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            return Int(text)
        }
        guard let lo = bound(parts[0]), let hi = bound(parts[1]) else { return nil }
        return RangeKey(min: lo, max: hi)
    }
}

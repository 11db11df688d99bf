/// Kopia's DYNAMIC-*-BUZHASH content-defined splitter (kopia/kopia `repo/splitter/splitter_buzhash32.go`
/// over chmduquesne/rollinghash v4.0.0 `buzhash32`; kopia-format.md §9.3).
///
/// | Parameter | Value |
/// |---|---|
/// | window | 64 bytes, initially 64 zero bytes (a fresh window per object) |
/// | hash | buzhash32 with ``Buzhash32Table``: `sum = rotl(sum, 1) ^ rotl(T[out], 64 % 32 = 0) ^ T[in]` |
/// | mask | `average − 1` (average is a power of two) |
/// | cut | after the first byte at chunk length ≥ `average / 2` where `sum & mask == 0`, else at `2 · average` |
///
/// The rolling state carries over a cut (only the length counter restarts), exactly as in Kopia. Because the
/// hash depends only on the last 64 bytes, the bytes below `minSize − 64` of each chunk need not be hashed.
struct BuzhashSplitter: Sendable {
    static let windowSize = 64

    let mask: UInt32
    let minSize: Int
    let maxSize: Int
    private var count = 0
    private var sum: UInt32 = 0
    private var window = [UInt8](repeating: 0, count: BuzhashSplitter.windowSize)
    private var oldest = 0

    init(averageSize: Int) {
        mask = UInt32(truncatingIfNeeded: averageSize - 1)
        minSize = averageSize / 2
        maxSize = averageSize * 2
        // A window of 64 equal bytes hashes to 0 (rotations by 32 cancel in pairs), so the initial sum is 0.
    }

    /// See ``Splitter/nextSplitPoint(_:)``.
    mutating func nextSplitPoint(_ input: UnsafeRawBufferPointer) -> Int? {
        var ring = window
        window = []  // keep `ring` uniquely referenced: no copy-on-write below
        defer { window = ring }
        var state = RollState(sum: sum, oldest: oldest, count: count)
        let result = Buzhash32Table.values.withUnsafeBufferPointer { table in
            ring.withUnsafeMutableBufferPointer { w in
                state.advance(input, table: table, window: w, mask: mask, minSize: minSize, maxSize: maxSize)
            }
        }
        sum = state.sum
        oldest = state.oldest
        count = state.count
        return result
    }
}

/// The scalar state of one buzhash pass, kept in locals so the hot loop touches no stored properties.
private struct RollState {
    var sum: UInt32
    var oldest: Int
    var count: Int

    mutating func advance(
        _ input: UnsafeRawBufferPointer, table t: UnsafeBufferPointer<UInt32>, window w: UnsafeMutableBufferPointer<UInt8>,
        mask: UInt32, minSize: Int, maxSize: Int
    ) -> Int? {
        let total = input.count
        var consumed = 0
        // Fast path up to minSize − 1: only the last 64 of those bytes influence the hash.
        let left = minSize - count - 1
        if left > 0 {
            let fast = min(left, total)
            var i = max(fast - BuzhashSplitter.windowSize, 0)
            while i < fast {
                roll(input[i], t, w)
                i += 1
            }
            count += fast
            consumed = fast
        }
        let room = maxSize - count
        if room > 0 {
            let end = consumed + min(room, total - consumed)
            var i = consumed
            while i < end {
                roll(input[i], t, w)
                i += 1
                if sum & mask == 0 {
                    count = 0
                    return i
                }
            }
            count += end - consumed
            consumed = end
        }
        if count >= maxSize {
            count = 0
            return consumed
        }
        return nil
    }

    @inline(__always)
    private mutating func roll(_ c: UInt8, _ t: UnsafeBufferPointer<UInt32>, _ w: UnsafeMutableBufferPointer<UInt8>) {
        let outgoing = t[Int(w[oldest])]
        w[oldest] = c
        oldest = (oldest + 1) & (BuzhashSplitter.windowSize - 1)
        sum = (sum << 1 | sum >> 31) ^ outgoing ^ t[Int(c)]
    }
}

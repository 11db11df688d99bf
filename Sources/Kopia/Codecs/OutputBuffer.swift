/// A growable output for stream decoders: C decoders write straight into its free tail, so the result is
/// built without an intermediate copy. Enforces a size limit so a hostile stream cannot exhaust memory.
struct OutputBuffer {
    private(set) var bytes: [UInt8]
    private(set) var count = 0
    let limit: Int
    /// One byte beyond the limit may be allocated, so a streaming decoder can prove it has more output.
    private var hardCap: Int { limit < Int.max ? limit + 1 : limit }

    init(expected: Int, limit: Int) {
        self.limit = max(0, limit)
        bytes = [UInt8](repeating: 0, count: max(0, min(expected, self.limit)))
    }

    var freeCount: Int { bytes.count - count }

    /// Makes exactly `needed` more bytes writable (block decoders that know their size).
    /// - Throws: `.corruptContent` when that would exceed `limit`.
    mutating func reserveExactly(_ needed: Int) throws(KopiaError) {
        guard needed >= 0, needed <= limit - count else { throw exceeded() }
        try grow(toFree: needed)
    }

    /// Makes at least one, preferably `preferred`, bytes writable (streaming decoders).
    /// - Throws: `.corruptContent` when the output already exceeds `limit`.
    mutating func reserveSome(_ preferred: Int) throws(KopiaError) {
        guard count <= limit else { throw exceeded() }
        if freeCount > 0 && (freeCount >= preferred || bytes.count >= hardCap) { return }
        try grow(toFree: max(1, min(preferred, hardCap - count)))
    }

    private mutating func grow(toFree needed: Int) throws(KopiaError) {
        if freeCount >= needed { return }
        let target = min(max(count + needed, bytes.count * 2, 64 << 10), hardCap)
        guard target - count >= needed else { throw exceeded() }
        bytes.append(contentsOf: repeatElement(0, count: target - bytes.count))
    }

    private func exceeded() -> KopiaError {
        KopiaError(.corruptContent, "decompressed data exceeds the \(limit)-byte limit")
    }

    /// Lets `body` write into the free tail; `body` returns the number of bytes it wrote (≤ the tail).
    mutating func writeFree<E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> Int) throws(E) {
        let start = count
        var result: Result<Int, E> = .success(0)
        bytes.withUnsafeMutableBytes { all in
            result = Result { () throws(E) -> Int in try body(UnsafeMutableRawBufferPointer(rebasing: all[start...])) }
        }
        count += min(try result.get(), bytes.count - start)
    }

    /// The written bytes.
    /// - Throws: `.corruptContent` when they exceed `limit`.
    consuming func finish() throws(KopiaError) -> [UInt8] {
        guard count <= limit else { throw exceeded() }
        if bytes.count > count { bytes.removeLast(bytes.count - count) }
        return bytes
    }
}

import Synchronization

/// GF(2⁸) arithmetic and a systematic Reed–Solomon erasure code with exactly the encoding matrix of
/// klauspost/reedsolomon's default (`reedsolomon.New(d, p)`), which Kopia's ECC layer uses (kopia-format.md §4.4).
///
/// Field: GF(2⁸) with the reducing polynomial x⁸+x⁴+x³+x²+1 (0x11d; klauspost's "generating polynomial 29"),
/// generator 2. Encoding matrix (klauspost `buildMatrix`): the (d+p)×d Vandermonde matrix V[r][c] = r^c (with
/// 0⁰ = 1), multiplied on the right by the inverse of its top d×d square, so the top d rows are the identity and
/// the bottom p rows produce the parity shards. Reconstruction (klauspost `ReconstructData`): take the first d
/// intact shards in index order, invert the matching rows of the encoding matrix, and recompute the missing data
/// shards from them.
///
/// Immutable and `Sendable`; every method is pure.
struct ReedSolomon: Sendable {
    let dataShards: Int
    let parityShards: Int
    /// (d+p) rows × d columns, row-major.
    private let matrix: [UInt8]

    var totalShards: Int { dataShards + parityShards }

    /// Codes already built, by (d, p): building one inverts a d×d matrix, so each repository and test shares them.
    private static let cache = Mutex<[Int: ReedSolomon]>([:])

    /// The code for (d, p), built once per process.
    static func shared(dataShards: Int, parityShards: Int) throws(KopiaError) -> ReedSolomon {
        let key = dataShards << 16 | parityShards
        if let code = cache.withLock({ $0[key] }) { return code }
        let code = try ReedSolomon(dataShards: dataShards, parityShards: parityShards)
        cache.withLock { $0[key] = code }
        return code
    }

    /// - Throws: `.invalidArgument` unless 1 ≤ d, 1 ≤ p and d + p ≤ 256.
    init(dataShards: Int, parityShards: Int) throws(KopiaError) {
        guard dataShards >= 1, parityShards >= 1, dataShards + parityShards <= 256 else {
            throw KopiaError(.invalidArgument, "Reed-Solomon needs 1 or more data and parity shards, 256 at most in all (got \(dataShards)+\(parityShards))")
        }
        self.dataShards = dataShards
        self.parityShards = parityShards
        let total = dataShards + parityShards
        var vandermonde = [UInt8](repeating: 0, count: total * dataShards)
        for r in 0..<total {
            for c in 0..<dataShards { vandermonde[r * dataShards + c] = GF256.power(UInt8(r), c) }
        }
        // The top square has distinct rows 0..<d, so it is invertible.
        let topInverse = try GF256.invert(Array(vandermonde[0..<dataShards * dataShards]), size: dataShards)
        matrix = GF256.multiply(vandermonde, rows: total, topInverse, inner: dataShards, columns: dataShards)
    }

    /// The encoding-matrix row of shard `row` (d coefficients).
    func row(_ row: Int) -> ArraySlice<UInt8> {
        matrix[row * dataShards..<(row + 1) * dataShards]
    }

    /// Computes the parity shards of one block.
    /// - Parameters:
    ///   - data: d × `shardSize` bytes, the data shards back to back.
    ///   - parity: receives p × `shardSize` bytes, the parity shards back to back.
    func encode(data: UnsafeRawBufferPointer, shardSize: Int, parity: UnsafeMutableRawBufferPointer) {
        precondition(data.count >= dataShards * shardSize && parity.count >= parityShards * shardSize)
        for p in 0..<parityShards {
            let out = UnsafeMutableRawBufferPointer(rebasing: parity[p * shardSize..<(p + 1) * shardSize])
            out.initializeMemory(as: UInt8.self, repeating: 0)
            let coefficients = row(dataShards + p)
            for (c, k) in coefficients.enumerated() {
                GF256.multiplyAdd(k, UnsafeRawBufferPointer(rebasing: data[c * shardSize..<(c + 1) * shardSize]), into: out)
            }
        }
    }

    /// Rebuilds the missing data shards of one block in place (parity shards are not rebuilt).
    /// - Parameters:
    ///   - shards: d + p shards of equal length, data first; the content of a missing one is ignored.
    ///   - intact: which shards are intact.
    /// - Throws: `.corruptContent` when fewer than d shards are intact.
    func reconstructData(_ shards: inout [[UInt8]], intact: [Bool]) throws(KopiaError) {
        precondition(shards.count == totalShards && intact.count == totalShards)
        guard intact[0..<dataShards].contains(false) else { return }
        let used = intact.indices.filter { intact[$0] }.prefix(dataShards)
        guard used.count == dataShards else {
            throw KopiaError(.corruptContent,
                             "only \(intact.filter { $0 }.count) of \(totalShards) Reed-Solomon shards are intact; \(dataShards) are needed")
        }
        var sub = [UInt8]()
        sub.reserveCapacity(dataShards * dataShards)
        for i in used { sub += row(i) }
        let decode = try GF256.invert(sub, size: dataShards)
        let shardSize = shards[0].count
        let sources = used.map { shards[$0] }
        for missing in 0..<dataShards where !intact[missing] {
            var out = [UInt8](repeating: 0, count: shardSize)
            out.withUnsafeMutableBytes { out in
                for (j, source) in sources.enumerated() {
                    source.withUnsafeBytes { GF256.multiplyAdd(decode[missing * dataShards + j], $0, into: out) }
                }
            }
            shards[missing] = out
        }
    }
}

/// GF(2⁸) with polynomial 0x11d and generator 2 (klauspost/reedsolomon `galois.go`).
enum GF256 {
    /// exp[i] = 2^i for i in 0..<510 (doubled so that log a + log b needs no reduction).
    static let exp: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 510)
        var x = 1
        for i in 0..<255 {
            t[i] = UInt8(x)
            t[i + 255] = UInt8(x)
            x <<= 1
            if x & 0x100 != 0 { x ^= 0x11d }
        }
        return t
    }()

    /// log[a] for a ≠ 0 (log[0] is unused).
    static let log: [Int] = {
        var t = [Int](repeating: 0, count: 256)
        for i in 0..<255 { t[Int(exp[i])] = i }
        return t
    }()

    /// 256 × 256 product table: mulTable[a << 8 | b] = a·b.
    static let mulTable: [UInt8] = {
        var t = [UInt8](repeating: 0, count: 65_536)
        for a in 1..<256 {
            for b in 1..<256 { t[a << 8 | b] = exp[log[a] + log[b]] }
        }
        return t
    }()

    @inline(__always) static func mul(_ a: UInt8, _ b: UInt8) -> UInt8 { mulTable[Int(a) << 8 | Int(b)] }

    /// a^n, with 0⁰ = 1 (klauspost `galExp`).
    static func power(_ a: UInt8, _ n: Int) -> UInt8 {
        if n == 0 { return 1 }
        if a == 0 { return 0 }
        return exp[(log[Int(a)] * n) % 255]
    }

    /// out[i] ^= k · input[i].
    static func multiplyAdd(_ k: UInt8, _ input: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        let n = min(input.count, out.count)
        guard k != 0, n > 0, let src = input.baseAddress?.assumingMemoryBound(to: UInt8.self),
              let dst = out.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        if k == 1 {
            for i in 0..<n { dst[i] ^= src[i] }
            return
        }
        mulTable.withUnsafeBufferPointer { table in
            guard let row = table.baseAddress?.advanced(by: Int(k) << 8) else { return }
            for i in 0..<n { dst[i] ^= row[Int(src[i])] }
        }
    }

    /// (rows × inner) · (inner × columns), row-major.
    static func multiply(_ a: [UInt8], rows: Int, _ b: [UInt8], inner: Int, columns: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: rows * columns)
        out.withUnsafeMutableBufferPointer { out in
            b.withUnsafeBytes { b in
                for r in 0..<rows {
                    let row = UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(out)[r * columns..<(r + 1) * columns])
                    for k in 0..<inner {
                        multiplyAdd(a[r * inner + k], UnsafeRawBufferPointer(rebasing: b[k * columns..<(k + 1) * columns]), into: row)
                    }
                }
            }
        }
        return out
    }

    /// The inverse of a square matrix by Gauss–Jordan elimination (row operations on [m | I]).
    /// - Throws: `.corruptContent` when the matrix is singular (no submatrix of a valid code matrix is).
    static func invert(_ m: [UInt8], size n: Int) throws(KopiaError) -> [UInt8] {
        // Augmented rows of 2n bytes: the matrix on the left, the identity on the right.
        var work = [UInt8](repeating: 0, count: n * 2 * n)
        for r in 0..<n {
            for c in 0..<n { work[r * 2 * n + c] = m[r * n + c] }
            work[r * 2 * n + n + r] = 1
        }
        let w = 2 * n
        let singular = work.withUnsafeMutableBytes { work -> Bool in
            func row(_ r: Int) -> UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(rebasing: work[r * w..<(r + 1) * w]) }
            for col in 0..<n {
                guard let pivot = (col..<n).first(where: { work[$0 * w + col] != 0 }) else { return true }
                if pivot != col {
                    for k in 0..<w { work.swapAt(pivot * w + k, col * w + k) }
                }
                let scale = exp[255 - log[Int(work[col * w + col])]]  // 1 / pivot
                let pivotRow = row(col)
                scaleInPlace(scale, pivotRow)
                for r in 0..<n where r != col {
                    let f = work[r * w + col]
                    if f != 0 { multiplyAdd(f, UnsafeRawBufferPointer(pivotRow), into: row(r)) }
                }
            }
            return false
        }
        if singular { throw KopiaError(.corruptContent, "Reed-Solomon decoding matrix is singular") }
        var inverse = [UInt8](repeating: 0, count: n * n)
        for r in 0..<n {
            for c in 0..<n { inverse[r * n + c] = work[r * w + n + c] }
        }
        return inverse
    }

    /// buffer[i] = k · buffer[i].
    static func scaleInPlace(_ k: UInt8, _ buffer: UnsafeMutableRawBufferPointer) {
        mulTable.withUnsafeBufferPointer { table in
            let base = Int(k) << 8
            for i in 0..<buffer.count { buffer[i] = table[base | Int(buffer[i])] }
        }
    }
}

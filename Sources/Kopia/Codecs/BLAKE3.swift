/// BLAKE3 (hash, keyed_hash, derive_key; 32-byte output), natively: OpenSSL 3.0 has no BLAKE3.
///
/// Follows the BLAKE3 specification and its reference implementation: 1024-byte chunks of 64-byte blocks,
/// a 7-round compression function, chunk chaining values merged into a binary tree with a stack, the ROOT
/// flag on the final compression. One-shot over a contiguous buffer (content hashes need nothing else).
/// Pure and thread-safe.
struct BLAKE3: Sendable {
    private static let iv: SIMD8<UInt32> = [0x6A09_E667, 0xBB67_AE85, 0x3C6E_F372, 0xA54F_F53A,
                                            0x510E_527F, 0x9B05_688C, 0x1F83_D9AB, 0x5BE0_CD19]
    private static let chunkStart: UInt32 = 1, chunkEnd: UInt32 = 2, parent: UInt32 = 4, root: UInt32 = 8
    private static let keyedHash: UInt32 = 16, deriveKeyContext: UInt32 = 32, deriveKeyMaterial: UInt32 = 64

    private let key: SIMD8<UInt32>
    private let flags: UInt32

    /// Plain BLAKE3.
    init() { key = Self.iv; flags = 0 }

    /// Keyed BLAKE3 with a 32-byte key.
    init(key bytes: [UInt8]) {
        precondition(bytes.count == 32, "BLAKE3 keys are 32 bytes")
        var k = SIMD8<UInt32>()
        for i in 0..<8 {
            k[i] = UInt32(bytes[4 * i]) | UInt32(bytes[4 * i + 1]) << 8 | UInt32(bytes[4 * i + 2]) << 16 | UInt32(bytes[4 * i + 3]) << 24
        }
        key = k
        flags = Self.keyedHash
    }

    private init(key: SIMD8<UInt32>, flags: UInt32) { self.key = key; self.flags = flags }

    /// BLAKE3 derive_key(context, material), 32 bytes.
    static func deriveKey(context: String, material: [UInt8]) -> [UInt8] {
        let contextKey = Array(context.utf8).withUnsafeBytes { BLAKE3(key: iv, flags: deriveKeyContext).hashWords($0) }
        return material.withUnsafeBytes { bytes(BLAKE3(key: contextKey, flags: deriveKeyMaterial).hashWords($0)) }
    }

    /// The 32-byte hash of `input`.
    func hash(_ input: UnsafeRawBufferPointer) -> [UInt8] { Self.bytes(hashWords(input)) }

    /// Writes the 32-byte hash to `out`.
    func hash(_ input: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        let words = hashWords(input)
        for i in 0..<8 { out.storeBytes(of: words[i].littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
    }

    private static func bytes(_ words: SIMD8<UInt32>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { buf, n in
            for i in 0..<8 {
                let w = words[i]
                buf[4 * i] = UInt8(truncatingIfNeeded: w); buf[4 * i + 1] = UInt8(truncatingIfNeeded: w >> 8)
                buf[4 * i + 2] = UInt8(truncatingIfNeeded: w >> 16); buf[4 * i + 3] = UInt8(truncatingIfNeeded: w >> 24)
            }
            n = 32
        }
    }

    /// The pending root candidate: the inputs of a compression not yet run.
    private struct Output {
        var cv: SIMD8<UInt32>
        var block: SIMD16<UInt32>
        var counter: UInt64
        var blockLength: UInt32
        var flags: UInt32
    }

    private func hashWords(_ input: UnsafeRawBufferPointer) -> SIMD8<UInt32> {
        let n = input.count
        let chunks = max(1, (n + 1023) / 1024)
        var stack: [SIMD8<UInt32>] = []
        stack.reserveCapacity(54)
        for c in 0..<(chunks - 1) {
            let o = chunkOutput(UnsafeRawBufferPointer(rebasing: input[c * 1024..<(c + 1) * 1024]), counter: UInt64(c))
            var cv = Self.chainingValue(o)
            var total = UInt64(c + 1)
            while total & 1 == 0, let left = stack.popLast() {
                cv = Self.chainingValue(parentOutput(left, cv))
                total >>= 1
            }
            stack.append(cv)
        }
        let lastStart = (chunks - 1) * 1024
        var output = chunkOutput(UnsafeRawBufferPointer(rebasing: input[lastStart..<n]), counter: UInt64(chunks - 1))
        while let left = stack.popLast() {
            output = parentOutput(left, Self.chainingValue(output))
        }
        let state = Self.compress(output.cv, output.block, counter: 0, blockLength: output.blockLength, flags: output.flags | Self.root)
        return state.lowHalf ^ state.highHalf
    }

    private func parentOutput(_ left: SIMD8<UInt32>, _ right: SIMD8<UInt32>) -> Output {
        Output(cv: key, block: SIMD16(lowHalf: left, highHalf: right), counter: 0, blockLength: 64, flags: flags | Self.parent)
    }

    private static func chainingValue(_ o: Output) -> SIMD8<UInt32> {
        let s = compress(o.cv, o.block, counter: o.counter, blockLength: o.blockLength, flags: o.flags)
        return s.lowHalf ^ s.highHalf
    }

    /// Runs every block of a chunk (≤ 1024 bytes) but the last, and returns the last as an `Output`.
    private func chunkOutput(_ chunk: UnsafeRawBufferPointer, counter: UInt64) -> Output {
        var cv = key
        let blocks = max(1, (chunk.count + 63) / 64)
        for b in 0..<(blocks - 1) {
            let words = Self.loadBlock(chunk, from: b * 64)
            let s = Self.compress(cv, words, counter: counter, blockLength: 64, flags: flags | (b == 0 ? Self.chunkStart : 0))
            cv = s.lowHalf ^ s.highHalf
        }
        let lastOffset = (blocks - 1) * 64
        return Output(cv: cv, block: Self.loadBlock(chunk, from: lastOffset), counter: counter,
                      blockLength: UInt32(chunk.count - lastOffset),
                      flags: flags | Self.chunkEnd | (blocks == 1 ? Self.chunkStart : 0))
    }

    @inline(__always)
    private static func loadBlock(_ data: UnsafeRawBufferPointer, from offset: Int) -> SIMD16<UInt32> {
        var words = SIMD16<UInt32>()
        let available = data.count - offset
        if available >= 64 {
            for i in 0..<16 { words[i] = UInt32(littleEndian: data.loadUnaligned(fromByteOffset: offset + 4 * i, as: UInt32.self)) }
        } else {
            for i in 0..<max(0, available) { words[i / 4] |= UInt32(data[offset + i]) << (8 * UInt32(i % 4)) }
        }
        return words
    }

    @inline(__always)
    private static func g(_ a: inout UInt32, _ b: inout UInt32, _ c: inout UInt32, _ d: inout UInt32, _ x: UInt32, _ y: UInt32) {
        a = a &+ b &+ x; d = (d ^ a).rotr(16)
        c = c &+ d; b = (b ^ c).rotr(12)
        a = a &+ b &+ y; d = (d ^ a).rotr(8)
        c = c &+ d; b = (b ^ c).rotr(7)
    }

    /// The compression function. Returns the raw 16-word state; callers take `low ^ high` (the chaining
    /// value, and the first 32 output bytes of a ROOT compression).
    private static func compress(
        _ cv: SIMD8<UInt32>, _ m: SIMD16<UInt32>, counter: UInt64, blockLength: UInt32, flags: UInt32
    ) -> SIMD16<UInt32> {
        var v0 = cv[0], v1 = cv[1], v2 = cv[2], v3 = cv[3], v4 = cv[4], v5 = cv[5], v6 = cv[6], v7 = cv[7]
        var v8 = iv[0], v9 = iv[1], v10 = iv[2], v11 = iv[3]
        var v12 = UInt32(truncatingIfNeeded: counter), v13 = UInt32(truncatingIfNeeded: counter >> 32)
        var v14 = blockLength, v15 = flags
        var m0 = m[0], m1 = m[1], m2 = m[2], m3 = m[3], m4 = m[4], m5 = m[5], m6 = m[6], m7 = m[7]
        var m8 = m[8], m9 = m[9], m10 = m[10], m11 = m[11], m12 = m[12], m13 = m[13], m14 = m[14], m15 = m[15]
        for round in 0..<7 {
            g(&v0, &v4, &v8, &v12, m0, m1)
            g(&v1, &v5, &v9, &v13, m2, m3)
            g(&v2, &v6, &v10, &v14, m4, m5)
            g(&v3, &v7, &v11, &v15, m6, m7)
            g(&v0, &v5, &v10, &v15, m8, m9)
            g(&v1, &v6, &v11, &v12, m10, m11)
            g(&v2, &v7, &v8, &v13, m12, m13)
            g(&v3, &v4, &v9, &v14, m14, m15)
            if round == 6 { break }
            // Message permutation [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8].
            (m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15) =
                (m2, m6, m3, m10, m7, m0, m4, m13, m1, m11, m12, m5, m9, m14, m15, m8)
        }
        return SIMD16(v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15)
    }
}

extension UInt32 {
    @inline(__always) fileprivate func rotr(_ n: UInt32) -> UInt32 { self >> n | self << (32 - n) }
}

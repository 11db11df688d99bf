/// BLAKE2b (RFC 7693) in Swift, for the unkeyed case of Kopia's `BLAKE2B-256` and `BLAKE2B-256-128`
/// (kopia-format.md §3.1: an empty HMAC secret means unkeyed BLAKE2b with digest length 32).
///
/// Why not OpenSSL: `BLAKE2BMAC` refuses an empty key, and OpenSSL 3.0's `BLAKE2B-512` digest cannot be asked
/// for a 32-byte digest — and BLAKE2b with digest length 32 is not a truncation of BLAKE2b-512 (the length is
/// mixed into the parameter block). Keyed hashing still goes through OpenSSL's `BLAKE2BMAC`.
///
/// A one-shot function over contiguous bytes; pure and thread-safe.
enum BLAKE2b {
    private static let iv: [UInt64] = [
        0x6a09_e667_f3bc_c908, 0xbb67_ae85_84ca_a73b, 0x3c6e_f372_fe94_f82b, 0xa54f_f53a_5f1d_36f1,
        0x510e_527f_ade6_82d1, 0x9b05_688c_2b3e_6c1f, 0x1f83_d9ab_fb41_bd6b, 0x5be0_cd19_137e_2179,
    ]

    /// The message schedule σ (RFC 7693 §2.7); rounds 10 and 11 reuse rows 0 and 1.
    private static let sigma: [UInt8] = [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3,
        11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4,
        7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8,
        9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13,
        2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9,
        12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11,
        13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10,
        6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5,
        10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0,
    ]

    /// BLAKE2b of `data` with `digestLength` (1...64) output bytes, keyed when `key` (0...64 bytes) is non-empty.
    /// Callers validate the lengths; out-of-range values are clamped, never trapped on.
    static func hash(_ data: UnsafeRawBufferPointer, digestLength: Int, key: [UInt8] = []) -> [UInt8] {
        let outLength = min(max(digestLength, 1), 64)
        let key = Array(key.prefix(64))
        var h = iv
        h[0] ^= 0x0101_0000 ^ (UInt64(key.count) << 8) ^ UInt64(outLength)
        var counter: UInt64 = 0  // messages never exceed 2^64 bytes here, so the high counter word stays 0
        var block = [UInt64](repeating: 0, count: 16)

        // The key, zero-padded to a block, is the first block; it is the last one only for an empty message.
        var keyBlock = [UInt8](repeating: 0, count: 128)
        keyBlock.replaceSubrange(0..<key.count, with: key)
        let keyBlocks = key.isEmpty ? 0 : 1
        let blocks = max(keyBlocks + (data.count + 127) / 128, 1)
        return keyBlock.withUnsafeBytes { keyBytes in
            for index in 0..<blocks {
                let bytes: UnsafeRawBufferPointer
                if index < keyBlocks {
                    bytes = keyBytes
                } else {
                    let offset = (index - keyBlocks) * 128
                    bytes = UnsafeRawBufferPointer(rebasing: data[offset..<min(offset + 128, data.count)])
                }
                for i in 0..<16 { block[i] = 0 }
                for i in 0..<bytes.count { block[i >> 3] |= UInt64(bytes[i]) << (8 * UInt64(i & 7)) }
                counter &+= UInt64(bytes.count)
                compress(&h, block, counter: counter, last: index == blocks - 1)
            }
            var out = [UInt8](repeating: 0, count: outLength)
            for i in 0..<outLength { out[i] = UInt8(truncatingIfNeeded: h[i >> 3] >> (8 * UInt64(i & 7))) }
            return out
        }
    }

    private static func compress(_ h: inout [UInt64], _ m: [UInt64], counter: UInt64, last: Bool) {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 16) { v in
            m.withUnsafeBufferPointer { m in
                sigma.withUnsafeBufferPointer { sigma in
                    for i in 0..<8 {
                        v[i] = h[i]
                        v[i + 8] = iv[i]
                    }
                    v[12] ^= counter
                    if last { v[14] = ~v[14] }
                    @inline(__always) func g(_ a: Int, _ b: Int, _ c: Int, _ d: Int, _ x: UInt64, _ y: UInt64) {
                        v[a] = v[a] &+ v[b] &+ x
                        v[d] = (v[d] ^ v[a]).rotatedRight(32)
                        v[c] = v[c] &+ v[d]
                        v[b] = (v[b] ^ v[c]).rotatedRight(24)
                        v[a] = v[a] &+ v[b] &+ y
                        v[d] = (v[d] ^ v[a]).rotatedRight(16)
                        v[c] = v[c] &+ v[d]
                        v[b] = (v[b] ^ v[c]).rotatedRight(63)
                    }
                    for round in 0..<12 {
                        let s = (round % 10) * 16
                        @inline(__always) func w(_ i: Int) -> UInt64 { m[Int(sigma[s + i])] }
                        g(0, 4, 8, 12, w(0), w(1))
                        g(1, 5, 9, 13, w(2), w(3))
                        g(2, 6, 10, 14, w(4), w(5))
                        g(3, 7, 11, 15, w(6), w(7))
                        g(0, 5, 10, 15, w(8), w(9))
                        g(1, 6, 11, 12, w(10), w(11))
                        g(2, 7, 8, 13, w(12), w(13))
                        g(3, 4, 9, 14, w(14), w(15))
                    }
                    for i in 0..<8 { h[i] ^= v[i] ^ v[i + 8] }
                }
            }
        }
    }
}

extension UInt64 {
    @inline(__always) fileprivate func rotatedRight(_ n: UInt64) -> UInt64 { (self >> n) | (self << (64 - n)) }
}

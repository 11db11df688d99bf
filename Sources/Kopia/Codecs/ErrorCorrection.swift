internal import CZlib

/// Kopia's optional error-correction layer `REED-SOLOMON-CRC32` (kopia-format.md §4.4; kopia/kopia
/// `repo/ecc/ecc_rs_crc.go`, `ecc_utils.go`, `repo/format/format_provider.go`): Reed–Solomon over GF(2⁸)
/// (klauspost/reedsolomon, see `ReedSolomon`) plus a CRC-32/IEEE per shard. It wraps every encrypted unit —
/// each packed content and each whole blob — after encryption; readers remove it before decrypting.
///
/// Parameters from P = `eccOverheadPercent`: MaxShardSize S₀ = 1024 (P = 1), 512 (2), 256 (3), 128 (4–6),
/// 64 (≥ 7); f = max(P − 400/S₀, 0.01) (float32); (D, Pa) = `computeShards(f)`. Sizes depend on the length:
///
/// | Encoded length L (decode) / input N + 4 (encode) | Blocks | Shards | Shard size | Padding stored |
/// |---|---|---|---|---|
/// | L ≤ ThresholdParityOutput / N+4 ≤ 8·(D+Pa) | 1 | 6 + 2 | max(⌈L/8⌉, 5) − 4 / ⌈(N+4)/6⌉ | yes |
/// | L ≤ ThresholdBlocksOutput / N+4 ≤ D·S₀ | 1 | D + Pa | max(⌈L/(D+Pa)⌉, 5) − 4 / ⌈(N+4)/D⌉ | yes |
/// | larger | ⌈L/((D+Pa)(4+S₀))⌉ / ⌈(N+4)/(D·S₀)⌉ | D + Pa | S₀ | no |
///
/// Layout: every block's parity shards first, each `CRC32-BE(4) ‖ shard`; then the data stream
/// `u32 BE N ‖ input ‖ zero padding` cut into shards, each `CRC32-BE(4) ‖ shard`. Without stored padding the last
/// stored shard is cut short and shards wholly in the padding are absent; a CRC always covers the whole
/// zero-padded shard.
///
/// Immutable and `Sendable`: one value serves every task of a repository.
public struct ErrorCorrection: Sendable {
    /// The only algorithm Kopia implements.
    public static let reedSolomonCRC32 = "REED-SOLOMON-CRC32"

    public let name: String
    public let overheadPercent: Int
    /// S₀: the shard size of inputs that need more than one block.
    let maxShardSize: Int
    /// (D, Pa) for all but small inputs.
    let dataShards: Int
    let parityShards: Int
    let thresholdParityInput: Int
    let thresholdParityOutput: Int
    let thresholdBlocksInput: Int
    let thresholdBlocksOutput: Int
    let big: ReedSolomon
    let small: ReedSolomon

    private static let crcSize = 4
    private static let lengthSize = 4

    /// - Parameters:
    ///   - name: the repository's `ecc` value; only `REED-SOLOMON-CRC32` exists.
    ///   - overheadPercent: the repository's `eccOverheadPercent`, 1 or more (0 means ECC is off: don't build one).
    /// - Throws: `.unknownAlgorithm` naming an unknown `name`; `.unsupportedFormat` for a percentage below 1.
    public init(name: String, overheadPercent: Int) throws {
        try self.init(name: name, overheadPercent: overheadPercent, maxShardSize: nil)
    }

    /// `maxShardSize` overrides S₀, as Kopia's tests do (`Options.MaxShardSize`).
    init(name: String, overheadPercent: Int, maxShardSize: Int?) throws(KopiaError) {
        guard name == Self.reedSolomonCRC32 else {
            throw KopiaError(.unknownAlgorithm, "unknown error-correction algorithm \"\(name)\" (known: \(Self.reedSolomonCRC32))")
        }
        guard overheadPercent >= 1 else {
            throw KopiaError(.unsupportedFormat, "error-correction overhead \(overheadPercent)% is not valid (1 to 100)")
        }
        self.name = name
        self.overheadPercent = overheadPercent
        let s0 = maxShardSize ?? (overheadPercent == 1 ? 1024 : overheadPercent == 2 ? 512 : overheadPercent == 3 ? 256
                                  : overheadPercent <= 6 ? 128 : 64)
        guard s0 >= 1 else { throw KopiaError(.invalidArgument, "maximum shard size must be positive") }
        self.maxShardSize = s0
        // Kopia computes in float32: float32(P) - 100*crcSize/float32(MaxShardSize), at least 0.01.
        let free = max(Float(overheadPercent) - Float(100 * Self.crcSize) / Float(s0), Float(0.01))
        (dataShards, parityShards) = Self.computeShards(free)
        thresholdParityInput = 2 * Self.crcSize * (dataShards + parityShards)
        thresholdParityOutput = (6 + 2) * (Self.crcSize + Self.ceil(thresholdParityInput, 6))
        thresholdBlocksInput = dataShards * s0
        thresholdBlocksOutput = (dataShards + parityShards) * (Self.crcSize + s0)
        big = try ReedSolomon.shared(dataShards: dataShards, parityShards: parityShards)
        small = try ReedSolomon.shared(dataShards: 6, parityShards: 2)
    }

    /// kopia `computeShards`: 128 data shards and as many parity shards as the overhead allows; when that is
    /// only one, 2 parity shards and as many data shards (128...254) as keep the overhead.
    static func computeShards(_ overhead: Float) -> (data: Int, parity: Int) {
        func applyPercent(_ value: Int, _ percent: Float) -> Int {
            let product = (Double(value) * Double(percent)).rounded(.down)
            return product.isFinite ? Int(min(max(product, -1), 1_000_000)) : 1_000_000
        }
        var data = 128
        var parity = min(max(applyPercent(data, overhead / 100), 1), 128)
        if parity == 1 {
            parity = 2
            data = min(max(applyPercent(parity, 100 / overhead), 128), 254)
        }
        return (data, parity)
    }

    struct Sizes: Equatable {
        var blocks: Int
        var dataShards: Int
        var parityShards: Int
        var shardSize: Int
        var storePadding: Bool
    }

    func sizes(originalLength n: Int) -> Sizes {
        let length = n + Self.lengthSize
        if length <= thresholdParityInput {
            return Sizes(blocks: 1, dataShards: 6, parityShards: 2, shardSize: Self.ceil(length, 6), storePadding: true)
        }
        if length <= thresholdBlocksInput {
            return Sizes(blocks: 1, dataShards: dataShards, parityShards: parityShards,
                         shardSize: Self.ceil(length, dataShards), storePadding: true)
        }
        return Sizes(blocks: Self.ceil(length, dataShards * maxShardSize), dataShards: dataShards,
                     parityShards: parityShards, shardSize: maxShardSize, storePadding: false)
    }

    func sizes(storedLength l: Int) -> Sizes {
        let c = Self.crcSize
        if l <= thresholdParityOutput {
            return Sizes(blocks: 1, dataShards: 6, parityShards: 2, shardSize: max(Self.ceil(l, 8), 1 + c) - c,
                         storePadding: true)
        }
        let total = dataShards + parityShards
        if l <= thresholdBlocksOutput {
            return Sizes(blocks: 1, dataShards: dataShards, parityShards: parityShards,
                         shardSize: max(Self.ceil(l, total), 1 + c) - c, storePadding: true)
        }
        return Sizes(blocks: Self.ceil(l, total * (c + maxShardSize)), dataShards: dataShards, parityShards: parityShards,
                     shardSize: maxShardSize, storePadding: false)
    }

    /// The encoded length of an input of `n` bytes.
    public func encodedLength(_ n: Int) -> Int {
        let s = sizes(originalLength: n)
        let parity = s.parityShards * (Self.crcSize + s.shardSize) * s.blocks
        if s.storePadding { return parity + s.dataShards * (Self.crcSize + s.shardSize) * s.blocks }
        let stream = Self.lengthSize + n
        return parity + stream + Self.ceil(stream, s.shardSize) * Self.crcSize
    }

    /// The code for a size class: (6, 2) for small units, (D, Pa) otherwise.
    func coder(_ s: Sizes) -> ReedSolomon { s.dataShards == dataShards && s.parityShards == parityShards ? big : small }

    @inline(__always) static func ceil(_ a: Int, _ b: Int) -> Int { a <= 0 ? 0 : (a + b - 1) / b }

    static func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return 0 }
        var crc = CZlib.crc32(0, nil, 0)
        var offset = 0
        while offset < bytes.count {
            let n = min(bytes.count - offset, 1 << 30)
            crc = CZlib.crc32(crc, base.advanced(by: offset).assumingMemoryBound(to: UInt8.self), UInt32(n))
            offset += n
        }
        return UInt32(truncatingIfNeeded: crc)
    }
}

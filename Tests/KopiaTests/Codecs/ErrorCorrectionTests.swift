import Testing
@testable import Kopia

struct ErrorCorrectionTests {
    static let name = ErrorCorrection.reedSolomonCRC32

    /// Kopia's test input: byte i is i % 255 + 1.
    static func kopiaInput(_ n: Int) -> [UInt8] { (0..<n).map { UInt8($0 % 255 + 1) } }

    @Test func shardCountsMatchKopiasComputeShards() {
        // kopia-format.md §16.4 (repo/ecc/ecc_utils_test.go).
        #expect(ErrorCorrection.computeShards(0.1) == (254, 2))
        #expect(ErrorCorrection.computeShards(1) == (200, 2))
        #expect(ErrorCorrection.computeShards(2) == (128, 2))
        #expect(ErrorCorrection.computeShards(10) == (128, 12))
    }

    struct SizeCase: Sendable, CustomTestStringConvertible {
        var percent: Int, input: Int, encoded: Int
        var testDescription: String { "\(percent)%: \(input) B → \(encoded) B" }
    }

    @Test(arguments: [SizeCase(percent: 2, input: 1, encoded: 40), SizeCase(percent: 2, input: 10_240, encoded: 11_050),
                      SizeCase(percent: 10, input: 1_048_576, encoded: 1_163_704)])
    func encodedSizesMatchKopiasTests(_ c: SizeCase) throws {
        // kopia-format.md §16.4 (repo/ecc/ecc_rs_crc_test.go, MaxShardSize forced to 1024).
        let ecc = try ErrorCorrection(name: Self.name, overheadPercent: c.percent, maxShardSize: 1024)
        let input = Self.kopiaInput(c.input)
        let encoded = try ecc.encode(input)
        #expect(encoded.count == c.encoded)
        #expect(ecc.encodedLength(c.input) == c.encoded)
        #expect(try ecc.decode(encoded) == input)
    }

    @Test(arguments: [(1, 1024), (2, 512), (3, 256), (4, 128), (6, 128), (7, 64), (100, 64)])
    func maxShardSizeFollowsTheOverhead(_ percent: Int, _ shardSize: Int) throws {
        #expect(try ErrorCorrection(name: Self.name, overheadPercent: percent).maxShardSize == shardSize)
    }

    @Test func unknownNamesAndAZeroOverheadAreRefused() {
        let unknown = #expect(throws: KopiaError.self) { try ErrorCorrection(name: "REED-SOLOMON-CRC64", overheadPercent: 2) }
        #expect(unknown?.code == .unknownAlgorithm)
        #expect(unknown?.message.contains("REED-SOLOMON-CRC64") == true)
        let zero = #expect(throws: KopiaError.self) { try ErrorCorrection(name: Self.name, overheadPercent: 0) }
        #expect(zero?.code == .unsupportedFormat)
    }

    @Test(arguments: [1, 2, 3, 5, 10, 33, 100])
    func roundTripsEveryLengthClass(_ percent: Int) throws {
        let ecc = try ErrorCorrection(name: Self.name, overheadPercent: percent)
        var lengths = [0, 1, 2, 3, 4, 5, 7, 8, 100, 4095, 65_536, 300_001]
        for t in [ecc.thresholdParityInput, ecc.thresholdBlocksInput, 2 * ecc.thresholdBlocksInput] {
            lengths += [t - 5, t - 4, t - 3, t + 1]
        }
        for n in lengths where n >= 0 {
            let data = T.bytes(count: n, seed: UInt64(n * 31 + percent))
            let encoded = try ecc.encode(data)
            #expect(encoded.count == ecc.encodedLength(n), "length \(n)")
            #expect(try ecc.decode(encoded) == data, "length \(n)")
            #expect(try ecc.decode(encoded[...]) == data, "length \(n) from a slice")
        }
    }

    /// The offsets of one stored shard (its CRC) in an encoding of `n` bytes.
    static func shardOffsets(_ ecc: ErrorCorrection, _ n: Int) -> (parity: [Int], data: [Int], unit: Int) {
        let s = ecc.sizes(originalLength: n)
        let unit = 4 + s.shardSize
        let parityCount = s.parityShards * s.blocks
        let stored = ecc.encodedLength(n) - parityCount * unit
        let dataCount = (stored + unit - 1) / unit
        return ((0..<parityCount).map { $0 * unit }, (0..<dataCount).map { parityCount * unit + $0 * unit }, unit)
    }

    struct Damage: Sendable, CustomTestStringConvertible {
        var percent: Int, input: Int, shards: Int, inParity: Bool, inCRC: Bool, repairable: Bool
        var testDescription: String {
            "\(percent)% \(input) B: \(shards) \(inParity ? "parity" : "data") shard(s), \(inCRC ? "CRC" : "body") → \(repairable ? "repaired" : "error")"
        }
    }

    // Kopia's repo/ecc/ecc_rs_crc_test.go cases, with MaxShardSize 1024.
    static let damages: [Damage] = [
        Damage(percent: 2, input: 1, shards: 1, inParity: false, inCRC: false, repairable: true),
        Damage(percent: 2, input: 1, shards: 1, inParity: false, inCRC: true, repairable: true),
        Damage(percent: 2, input: 1, shards: 2, inParity: true, inCRC: false, repairable: true),
        Damage(percent: 2, input: 10_240, shards: 2, inParity: false, inCRC: false, repairable: true),
        Damage(percent: 2, input: 10_240, shards: 3, inParity: false, inCRC: false, repairable: false),
        Damage(percent: 2, input: 10_240, shards: 2, inParity: false, inCRC: true, repairable: true),
        Damage(percent: 2, input: 10_240, shards: 3, inParity: false, inCRC: true, repairable: false),
        Damage(percent: 2, input: 10_240, shards: 2, inParity: true, inCRC: true, repairable: true),
        Damage(percent: 10, input: 1_048_576, shards: 12, inParity: false, inCRC: false, repairable: true),
        Damage(percent: 10, input: 1_048_576, shards: 13, inParity: false, inCRC: false, repairable: false),
        Damage(percent: 10, input: 1_048_576, shards: 12, inParity: true, inCRC: false, repairable: true),
        Damage(percent: 10, input: 1_048_576, shards: 13, inParity: false, inCRC: true, repairable: false),
    ]

    @Test(arguments: damages)
    func damagedShardsAreRepairedUpToTheParityCount(_ d: Damage) throws {
        let ecc = try ErrorCorrection(name: Self.name, overheadPercent: d.percent, maxShardSize: 1024)
        let input = Self.kopiaInput(d.input)
        var encoded = try ecc.encode(input)
        let offsets = Self.shardOffsets(ecc, d.input)
        let targets = d.inParity ? offsets.parity : offsets.data
        for i in 0..<d.shards { encoded[targets[i] + (d.inCRC ? 0 : 4)] ^= 0xff }
        if d.repairable {
            #expect(try ecc.decode(encoded) == input)
        } else {
            let error = #expect(throws: KopiaError.self) { try ecc.decode(encoded) }
            #expect(error?.code == .corruptContent)
            #expect(error?.message.contains("cannot repair") == true)
        }
    }

    @Test func everyBlockOfAMultiBlockUnitIsRepairedOnItsOwn() throws {
        let ecc = try ErrorCorrection(name: Self.name, overheadPercent: 5)  // S₀ 128, (128, 2)
        let n = 100_000
        let input = T.bytes(count: n, seed: 7)
        var encoded = try ecc.encode(input)
        let s = ecc.sizes(originalLength: n)
        #expect(s.blocks > 3)
        let offsets = Self.shardOffsets(ecc, n)
        for b in 0..<s.blocks {
            for k in 0..<s.parityShards {  // Pa damaged data shards in every block, spread over it
                let shard = b * s.dataShards + k * 37
                if shard < offsets.data.count { encoded[offsets.data[shard] + 4 + k] ^= 0x5a }
            }
        }
        #expect(try ecc.decode(encoded) == input)
        encoded[offsets.data[s.dataShards + 100] + 9] ^= 1  // a third damaged shard in block 2
        let error = #expect(throws: KopiaError.self) { try ecc.decode(encoded) }
        #expect(error?.message.contains("block 2 of") == true)
    }

    @Test func aShortTruncationOfTheLastShardIsRepaired() throws {
        let ecc = try ErrorCorrection(name: Self.name, overheadPercent: 2)
        let input = T.bytes(count: 50_000, seed: 8)
        let encoded = try ecc.encode(input)
        #expect(try ecc.decode(encoded.dropLast(3)) == input)
    }

    @Test func truncationsAndBitFlipsNeverTrap() throws {
        for percent in [2, 10] {
            let ecc = try ErrorCorrection(name: Self.name, overheadPercent: percent)
            for n in [0, 1, 37, 5000, 40_000] {
                let input = T.bytes(count: n, seed: UInt64(n + percent))
                let encoded = try ecc.encode(input)
                let noise = T.bytes(count: 400, seed: UInt64(n) &+ 99)
                for i in 0..<30 {
                    var damaged = encoded
                    let cut = Int(noise[i]) * encoded.count / 256
                    damaged = Array(damaged.prefix(i % 3 == 0 ? cut : encoded.count))
                    for j in 0..<(i % 7) where !damaged.isEmpty {
                        let at = (Int(noise[4 * j + 1]) << 8 | Int(noise[4 * j + 2])) % damaged.count
                        damaged[at] ^= noise[4 * j + 3] | 1
                    }
                    do {
                        _ = try ecc.decode(damaged)
                    } catch let error as KopiaError {
                        #expect(error.code == .corruptContent)
                    }
                }
                for cut in [0, 1, 4, 5, encoded.count / 2, encoded.count - 1] where cut <= encoded.count {
                    do { _ = try ecc.decode(encoded.prefix(cut)) } catch let error as KopiaError {
                        #expect(error.code == .corruptContent)
                    }
                }
            }
        }
    }

    @Test(arguments: [(6, 2, 7), (128, 2, 64), (128, 12, 33), (200, 2, 9), (254, 2, 5), (128, 128, 3)])
    func parityMatchesKlauspostReedSolomon(_ d: Int, _ p: Int, _ s: Int) throws {
        let rs = try ReedSolomon(dataShards: d, parityShards: p)
        let blocks = T.bytes(count: 3 * d * s, seed: UInt64(d * 1000 + p))
        var ours: [UInt8] = []
        for b in 0..<3 {
            var parity = [UInt8](repeating: 0, count: p * s)
            blocks[b * d * s..<(b + 1) * d * s].withUnsafeBytes { data in
                parity.withUnsafeMutableBytes { rs.encode(data: data, shardSize: s, parity: $0) }
            }
            ours += parity
        }
        #expect(ours == (try GoECCPeer.parity(d: d, p: p, s: s, blocks: blocks)))
    }

    @Test(arguments: [(6, 2, [0, 5]), (128, 12, [1, 2, 3, 50, 127, 128, 139]), (254, 2, [253, 0])])
    func reconstructionMatchesKlauspostReedSolomon(_ d: Int, _ p: Int, _ missing: [Int]) throws {
        let s = 11
        let rs = try ReedSolomon(dataShards: d, parityShards: p)
        let data = T.bytes(count: d * s, seed: UInt64(d + p))
        var parity = [UInt8](repeating: 0, count: p * s)
        data.withUnsafeBytes { data in parity.withUnsafeMutableBytes { rs.encode(data: data, shardSize: s, parity: $0) } }
        let all = data + parity
        var shards = (0..<d + p).map { Array(all[$0 * s..<($0 + 1) * s]) }
        var intact = [Bool](repeating: true, count: d + p)
        for m in missing {
            intact[m] = false
            shards[m] = [UInt8](repeating: 0xee, count: s)
        }
        try rs.reconstructData(&shards, intact: intact)
        #expect(Array(shards.prefix(d).joined()) == data)
        #expect(Array(shards.prefix(d).joined()) == (try GoECCPeer.reconstruct(d: d, p: p, s: s, shards: all, missing: missing)))
    }

    @Test(arguments: [1, 2, 10, 100])
    func encodedParityIsKlauspostsParityOfTheDataStream(_ percent: Int) throws {
        // Whole-layout check: the stored parity shards are klauspost's parity of the stored (length-prefixed,
        // zero-padded) data stream, and every CRC is CRC-32/IEEE (python zlib) of its full shard.
        let ecc = try ErrorCorrection(name: Self.name, overheadPercent: percent)
        for n in [1, 3000, 40_000] {
            let input = T.bytes(count: n, seed: UInt64(n + 3 * percent))
            let encoded = try ecc.encode(input)
            let s = ecc.sizes(originalLength: n)
            let unit = 4 + s.shardSize
            var stream = [UInt8(truncatingIfNeeded: n >> 24), UInt8(truncatingIfNeeded: n >> 16),
                          UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)] + input
            stream += [UInt8](repeating: 0, count: s.blocks * s.dataShards * s.shardSize - stream.count)
            let parity = try GoECCPeer.parity(d: s.dataShards, p: s.parityShards, s: s.shardSize, blocks: stream)
            let storedParity = (0..<s.parityShards * s.blocks).flatMap { encoded[$0 * unit + 4..<($0 + 1) * unit] }
            #expect(storedParity == parity, "\(n) bytes")
            let dataStart = s.parityShards * s.blocks * unit
            let storedData = stride(from: dataStart, to: encoded.count, by: unit)
                .flatMap { encoded[min($0 + 4, encoded.count)..<min($0 + unit, encoded.count)] }
            #expect(Array(storedData) == Array(stream.prefix(storedData.count)))
            let crcs = try T.python("""
                import sys, zlib
                buf = sys.stdin.buffer.read(); s = \(s.shardSize)
                print(' '.join('%08x' % zlib.crc32(buf[i:i+s]) for i in range(0, len(buf), s)))
                """, input: parity + stream)
            let storedCRCs = (stride(from: 0, to: dataStart, by: unit).map { $0 } + stride(from: dataStart, to: encoded.count, by: unit).map { $0 })
                .map { Hex.encode(Array(encoded[$0..<$0 + 4])) }
            let expected = String(decoding: crcs, as: UTF8.self).split(whereSeparator: \.isWhitespace).map(String.init)
            #expect(storedCRCs == Array(expected.prefix(storedCRCs.count)), "\(n) bytes")
        }
    }
}

import Kopia
import Testing

/// The splitter must cut exactly where Kopia cuts. Golden chunk lengths below were produced by the real
/// `github.com/chmduquesne/rollinghash` v4.0.0 `buzhash32` (Debian `golang-github-chmduquesne-rollinghash-dev`)
/// driven by Kopia's split rule, over the same generated input; the fixture test in
/// `WriterFixtureComparisonTests` checks boundaries against chunks Kopia 0.12.1 itself wrote.
struct SplitterTests {
    /// 12 MiB xorshift64 bytes, 3 MiB zeros, 9 MiB xorshift64 bytes (the oracle's input).
    static let oracleInput: [UInt8] = {
        var out = [UInt8]()
        out.reserveCapacity(24 << 20)
        var s: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random(_ n: Int) {
            for _ in stride(from: 0, to: n, by: 8) {
                s ^= s << 13
                s ^= s >> 7
                s ^= s << 17
                for j in 0..<8 { out.append(UInt8(truncatingIfNeeded: s >> (8 * UInt64(j)))) }
            }
        }
        random(12 << 20)
        out.append(contentsOf: [UInt8](repeating: 0, count: 3 << 20))
        random(9 << 20)
        return out
    }()

    static let oracle: [(String, [Int])] = [
        ("DYNAMIC-1M-BUZHASH", [674347, 1529475, 2097152, 549145, 1517060, 1088554, 2097152, 1245389, 599392, 917153,
                                524288, 524288, 524288, 524288, 524288, 524288, 852122, 2097152, 752863, 2093889,
                                961415, 1322033, 1322877, 302926]),
        ("DYNAMIC-4M-BUZHASH", [8388608, 4194368, 2097152, 8388608, 2097088]),
    ]

    @Test(arguments: oracle.map(\.0))
    func buzhashCutsWhereTheRollinghashLibraryCuts(_ name: String) throws {
        let expected = try #require(Self.oracle.first { $0.0 == name }).1
        let lengths = Splitter.chunkLengths(of: Self.oracleInput, algorithm: try SplitterAlgorithm(name: name))
        #expect(lengths == expected)
    }

    @Test func feedingInSmallPiecesCutsAtTheSamePlaces() throws {
        let input = Array(Self.oracleInput.prefix(6 << 20))
        let algorithm = try SplitterAlgorithm(name: "DYNAMIC-1M-BUZHASH")
        let whole = Splitter.chunkLengths(of: input, algorithm: algorithm)
        var splitter = algorithm.makeSplitter()
        var lengths: [Int] = []
        var current = 0
        var offset = 0
        let pieces = [1, 7, 63, 64, 65, 4096, 100_003]
        var k = 0
        input.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = min(pieces[k % pieces.count], raw.count - offset)
                k += 1
                var piece = UnsafeRawBufferPointer(rebasing: raw[offset..<offset + n])
                while let cut = splitter.nextSplitPoint(piece) {
                    lengths.append(current + cut)
                    current = 0
                    piece = UnsafeRawBufferPointer(rebasing: piece[cut...])
                }
                current += piece.count
                offset += n
            }
        }
        if current > 0 { lengths.append(current) }
        #expect(lengths == whole)
    }

    @Test func zeroRunsCutAtTheMinimumLikeKopiasNineMebibyteZeroFile() throws {
        // fs-multichunk big/zeros-9mib.bin: Kopia cut it into 4 × 2 MiB + 1 MiB.
        let lengths = Splitter.chunkLengths(of: [UInt8](repeating: 0, count: 9 << 20), algorithm: .default)
        #expect(lengths == [2 << 20, 2 << 20, 2 << 20, 2 << 20, 1 << 20])
    }

    @Test(arguments: [("FIXED-1M", 1 << 20), ("FIXED", 4 << 20), ("FIXED-8M", 8 << 20)])
    func fixedSplittersCutEveryN(_ name: String, _ size: Int) throws {
        let data = [UInt8](repeating: 7, count: 2 * size + 5)
        #expect(Splitter.chunkLengths(of: data, algorithm: try SplitterAlgorithm(name: name)) == [size, size, 5])
    }

    @Test func emptyInputIsOneEmptyChunk() {
        #expect(Splitter.chunkLengths(of: [], algorithm: .default) == [0])
    }

    @Test(arguments: ["DYNAMIC-4M-RABINKARP", "FIXED-3M", "nonsense"])
    func unknownSplitterNamesAreRefused(_ name: String) {
        #expect(throws: KopiaError(.unknownAlgorithm, "")) { try SplitterAlgorithm(name: name) }
    }
}

import Foundation
import Testing
@testable import Kopia

struct CompressionTests {
    // kopia-format.md §5 table.
    static let table: [(String, UInt32)] = [
        ("none", 0), ("gzip", 0x1000), ("gzip-best-speed", 0x1001), ("gzip-best-compression", 0x1002),
        ("zstd", 0x1100), ("zstd-fastest", 0x1101), ("zstd-better-compression", 0x1102), ("zstd-best-compression", 0x1103),
        ("s2-default", 0x1200), ("s2-better", 0x1201), ("s2-parallel-4", 0x1202), ("s2-parallel-8", 0x1203),
        ("pgzip", 0x1300), ("pgzip-best-speed", 0x1301), ("pgzip-best-compression", 0x1302), ("lz4", 0x1400),
        ("deflate-default", 0x1500), ("deflate-best-speed", 0x1501), ("deflate-best-compression", 0x1502),
    ]

    @Test func everyNameAndHeaderOfTheFormatTableMaps() throws {
        #expect(CompressionAlgorithm.allCases.count == Self.table.count)
        for (name, id) in Self.table {
            let byName = try CompressionAlgorithm(name: name)
            #expect(byName.headerID == id)
            #expect(CompressionAlgorithm(headerID: id) == byName)
            #expect(byName.name == name)
        }
        #expect(CompressionAlgorithm(headerID: 0x1600) == nil)
        let error = #expect(throws: KopiaError.self) { try CompressionAlgorithm(name: "brotli") }
        #expect(error?.code == .unknownAlgorithm)
        #expect(error?.message.contains("brotli") == true)
    }

    static let writable = CompressionAlgorithm.allCases.filter { $0 != .lz4 }
    static let inputs: [[UInt8]] = [
        [], [42], T.text(count: 1000, seed: 1), T.bytes(count: 70_000, seed: 2),
        T.text(count: 1_100_000, seed: 3), [UInt8](repeating: 0, count: 300_000),
    ]

    @Test(arguments: writable)
    func compressedPayloadsRoundTripAndCarryTheirHeader(_ algorithm: CompressionAlgorithm) throws {
        for input in Self.inputs {
            let payload = try Compression.compress(input, using: algorithm)
            let id = algorithm.headerID
            #expect(Array(payload.prefix(4)) == [UInt8(id >> 24), UInt8(id >> 16 & 0xff), UInt8(id >> 8 & 0xff), UInt8(id & 0xff)])
            #expect(try Compression.decompress(payload) == input)
            #expect(try Compression.decompress(payload, verifying: algorithm) == input)
            #expect(try Compression.decompress(payload.dropFirst(4), algorithm: algorithm) == input)
            if algorithm != .uncompressed && input.count > 1000 && input != Self.inputs[3] {
                #expect(payload.count < input.count / 2, "\(algorithm.name) does not compress text")
            }
        }
    }

    @Test func aMismatchedHeaderIsRefused() throws {
        let payload = try Compression.compress(T.text(count: 100, seed: 4), using: .zstd)
        #expect(throws: KopiaError(.corruptContent, "")) { try Compression.decompress(payload, verifying: .zstdFastest) }
        var unknown = payload
        unknown[2] = 0x77
        let error = #expect(throws: KopiaError.self) { try Compression.decompress(unknown) }
        #expect(error?.code == .unknownAlgorithm)
        #expect(throws: KopiaError(.corruptContent, "")) { try Compression.decompress([0x11, 0x00]) }
    }

    @Test func lz4IsReadOnly() {
        #expect(throws: KopiaError(.unsupportedFormat, "")) { try Compression.compress([1, 2, 3], using: .lz4) }
    }

    @Test func outputLimitStopsDecompressionBombs() throws {
        let bomb = try Compression.compress([UInt8](repeating: 0, count: 5_000_000), using: .zstd)
        #expect(throws: KopiaError(.corruptContent, "")) { try Compression.decompress(bomb, maxOutputSize: 1_000_000) }
        for algorithm in [CompressionAlgorithm.gzip, .deflateDefault, .s2Default] {
            let payload = try Compression.compress([UInt8](repeating: 7, count: 3_000_000), using: algorithm)
            #expect(throws: KopiaError(.corruptContent, "")) { try Compression.decompress(payload, maxOutputSize: 2_000_000) }
        }
    }

    // MARK: gzip family

    @Test func gunzipReadsEveryMemberOfAMultiMemberStream() throws {
        let a = T.text(count: 5000, seed: 5), b = T.bytes(count: 3000, seed: 6), c = T.text(count: 10, seed: 7)
        let members = try Compression.gzip(a) + GoCodecPeer.run("gzip-encode", b) + Compression.gzip(c)
        #expect(try Compression.gunzip(members) == a + b + c)
        #expect(try Compression.decompress([0, 0, 0x13, 0] + members) == a + b + c)   // pgzip header
    }

    @Test func gzipOutputIsReadByPythonAndGo() throws {
        let data = T.text(count: 200_000, seed: 8)
        let gz = try Compression.gzip(data)
        #expect(try T.python("import gzip,sys; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))", input: gz) == data)
        #expect(try GoCodecPeer.run("gzip-decode", gz) == data)
    }

    @Test func rawDeflateInteroperatesWithGo() throws {
        let data = T.text(count: 150_000, seed: 9)
        let ours = try Compression.compress(data, using: .deflateBestCompression)
        #expect(try GoCodecPeer.run("flate-decode", Array(ours.dropFirst(4))) == data)
        let theirs = try GoCodecPeer.run("flate-encode", data)
        #expect(try Compression.decompress(theirs, algorithm: .deflateDefault) == data)
    }

    // MARK: zstd

    @Test(arguments: ["fastest", "default", "better", "best"])
    func zstdFramesFromKopiasEncoderDecode(_ level: String) throws {
        // klauspost's streaming encoder leaves the frame content size out, as Kopia's frames may.
        for data in [T.text(count: 1_200_000, seed: 10), T.bytes(count: 100_000, seed: 11), [9]] {
            let frame = try GoCodecPeer.run("zstd-encode-\(level)", data)
            #expect(try Compression.decompress(frame, algorithm: .zstd) == data)
        }
    }

    @Test func zstdOutputIsReadByKlauspostAndConcatenatedFramesDecode() throws {
        let a = T.text(count: 400_000, seed: 12), b = T.bytes(count: 5000, seed: 13)
        let fa = Array(try Compression.compress(a, using: .zstdBetterCompression).dropFirst(4))
        let fb = Array(try Compression.compress(b, using: .zstdFastest).dropFirst(4))
        #expect(try GoCodecPeer.run("zstd-decode", fa) == a)
        // A skippable frame between two frames is ignored.
        let skippable: [UInt8] = [0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]
        #expect(try Compression.decompress(fa + skippable + fb, algorithm: .zstd) == a + b)
    }

    // MARK: lz4

    @Test func lz4FramesFromTheReferenceToolDecode() throws {
        for data in [T.text(count: 500_000, seed: 14), T.bytes(count: 10_000, seed: 15), []] {
            let frame = try T.run("/usr/bin/env", ["lz4", "-q", "-c", "-"], input: data)
            #expect(Array(frame.prefix(4)) == [0x04, 0x22, 0x4d, 0x18])
            #expect(try Compression.decompress([0, 0, 0x14, 0] + frame) == data)
            if frame.count > 8 {
                #expect(throws: KopiaError(.corruptContent, "")) { try Compression.decompress(frame.dropLast(3), algorithm: .lz4) }
            }
        }
    }
}

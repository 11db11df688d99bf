import Testing
@testable import Kopia

/// Random bytes, truncations and bit flips into every decoder: each either returns or throws a
/// `KopiaError`; none may trap (a trap fails the whole test process).
struct CodecFuzzTests {
    static let decodable = CompressionAlgorithm.allCases.filter { $0 != .uncompressed }

    private func sample(_ algorithm: CompressionAlgorithm) throws -> [UInt8] {
        let data = T.text(count: 6000, seed: 77) + T.bytes(count: 600, seed: 78)
        if algorithm == .lz4 {
            return [0, 0, 0x14, 0] + (try T.run("/usr/bin/env", ["lz4", "-q", "-c", "-"], input: data))
        }
        return try Compression.compress(data, using: algorithm)
    }

    private func decodeNeverTraps(_ bytes: [UInt8], _ algorithm: CompressionAlgorithm) -> Bool {
        do {
            _ = try Compression.decompress(bytes, verifying: algorithm, maxOutputSize: 10 << 20)
            return true
        } catch let error as KopiaError {
            // A damaged stream is damaged content, whichever decoder saw it.
            #expect(error.code == .corruptContent, "\(algorithm.name): \(error)")
            return false
        } catch {
            Issue.record("non-Kopia error \(error)")
            return false
        }
    }

    @Test(arguments: decodable)
    func truncationsAlwaysThrow(_ algorithm: CompressionAlgorithm) throws {
        let payload = try sample(algorithm)
        for length in Array(0..<min(48, payload.count)) + Array(stride(from: 48, to: payload.count, by: 131)) {
            // A raw DEFLATE stream cut after its final block could decode; everything else must throw.
            let decoded = decodeNeverTraps(Array(payload.prefix(length)), algorithm)
            // An S2 stream cut at a chunk boundary is a valid (shorter) stream: empty, or the identifier alone.
            let validPrefix = algorithm.family == .s2 && (length == 4 || length == 14)
            if algorithm.family != .deflate && !validPrefix { #expect(!decoded, "\(algorithm.name) accepted a \(length)-byte prefix") }
        }
    }

    @Test(arguments: decodable)
    func bitFlipsNeverTrap(_ algorithm: CompressionAlgorithm) throws {
        let payload = try sample(algorithm)
        var accepted = 0
        // gzip's 10-byte member header (mtime, flags, OS) is not checksummed, in Go or zlib: start after it.
        let firstBit = algorithm.family == .gzip ? (4 + 10) * 8 : 32
        let step = max(13, payload.count * 8 / 300) | 1
        var flips = 0
        for bit in stride(from: firstBit, to: payload.count * 8, by: step) {
            flips += 1
            var damaged = payload
            damaged[bit / 8] ^= 1 << UInt8(bit % 8)
            if decodeNeverTraps(damaged, algorithm) { accepted += 1 }
        }
        // Checksummed formats reject most flips; some land in unchecked framing (an S2 chunk type turned
        // skippable, a zstd header field) and still decode, as they do in Kopia's decoders.
        if algorithm.family != .deflate && algorithm.family != .lz4 { #expect(accepted * 4 < flips) }
    }

    @Test(arguments: decodable)
    func randomBytesNeverTrap(_ algorithm: CompressionAlgorithm) {
        let id = algorithm.headerID
        let header: [UInt8] = [UInt8(id >> 24), UInt8(id >> 16 & 0xff), UInt8(id >> 8 & 0xff), UInt8(id & 0xff)]
        for seed in 0..<100 {
            var body = T.bytes(count: Int(seed % 50) * 7 + 1, seed: UInt64(seed) + 1000)
            if algorithm.family == .s2 && seed % 2 == 0 {
                body = [0xff, 6, 0, 0] + Array("S2sTwO".utf8) + [UInt8(seed % 2), UInt8(body.count & 0xff), UInt8(body.count >> 8), 0] + body
            }
            _ = decodeNeverTraps(header + body, algorithm)
        }
    }

    @Test func randomBlocksNeverTrapTheS2BlockDecoder() throws {
        // Straight into the block decoder (no CRC shielding it), with many declared lengths.
        for seed in 0..<1500 {
            let src = T.bytes(count: Int(seed % 40) + 1, seed: UInt64(seed) + 5000)
            var dst = [UInt8](repeating: 0, count: Int(seed % 97))
            src.withUnsafeBytes { s in
                dst.withUnsafeMutableBytes { d in
                    do throws(KopiaError) { try S2Decoder.decodeBlock(s, into: d) } catch { #expect(error.code == .corruptContent) }
                }
            }
        }
    }

    @Test func cipherAndHasherAcceptAnyInput() throws {
        let cipher = try ContentCipher(algorithm: .aes256GCMHMACSHA256, masterKey: T.bytes(count: 32, seed: 1))
        let hasher = try ContentHasher(algorithm: .blake2b256_128, secret: T.bytes(count: 32, seed: 2))
        for seed in 0..<300 {
            let junk = T.bytes(count: Int(seed), seed: UInt64(seed) + 9)
            #expect(throws: KopiaError.self) { try cipher.decrypt(junk, iv: Array(junk.prefix(16))) }
            #expect(hasher.hash(junk).count == 16)
        }
    }
}

import Foundation
@testable import Kopia
import KopiaTestSupport
import Testing

/// Decompression stops at the length the index records, not at a blanket 1 GiB per content per worker
/// (issue 17 item 4): a small stored content cannot make a reader allocate far more than the index promised.
struct DecompressionLimitTests {
    @Test(arguments: ["zstd-fastest", "gzip", "s2-default", "deflate-default", "pgzip"])
    func contentExpandingPastItsIndexedLengthIsCorrupt(_ name: String) async throws {
        let repo = try await SyntheticRepository(version: 3)
        let algorithm = try CompressionAlgorithm(name: name)
        let bomb = [UInt8](repeating: 0, count: 4 << 20)  // 4 MiB of zeros compresses to a few KiB
        let honest = Array(String(repeating: "listing ", count: 400).utf8)
        let bombID = repo.contentID(bomb, prefix: UInt8(ascii: "k"))
        let honestID = repo.contentID(honest, prefix: UInt8(ascii: "k"))
        let packName = "p" + String(repeating: "e", count: 32) + "-s1"
        var entries = try await repo.writePack(packName, [(bombID, bomb), (honestID, honest)], compression: algorithm)
        entries[0].originalLength = 4096  // the index understates what the stream expands to
        try await repo.writeBlob(prefix: "xn0_", suffix: "-s1-c1", try IndexV2Encoder.encode(entries))
        let (_, manager) = try await repo.open()
        #expect(try await manager.content(honestID) == honest)
        let error = await #expect(throws: KopiaError.self) { _ = try await manager.content(bombID) }
        #expect(error?.code == .corruptContent && error?.contentID == bombID.description)
    }

    /// `Z` objects: a chunk's decoded length is known from its chunk list, and decoding stops there.
    @Test func objectLevelDecompressionStopsAtTheExpectedLength() throws {
        let payload = try Compression.compress([UInt8](repeating: 7, count: 1 << 20), using: .zstdFastest)
        let id = ContentID(prefix: 0, hash: [UInt8](repeating: 1, count: 16))
        #expect(try ObjectDecompression.decompress(payload, contentID: id, expectedLength: 1 << 20).count == 1 << 20)
        #expect { _ = try ObjectDecompression.decompress(payload, contentID: id, expectedLength: 1000) } throws: {
            ($0 as? KopiaError)?.code == .corruptContent
        }
    }
}

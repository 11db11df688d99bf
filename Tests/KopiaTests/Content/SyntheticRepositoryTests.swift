import Foundation
@testable import Kopia
import KopiaTestSupport
import Testing

/// End-to-end index loading for layouts the fixtures lack: format v1 (index v1, legacy `n`/`m` blobs) and
/// compacted epoch sets with a deletion watermark.
struct SyntheticRepositoryTests {
    static func data(_ n: Int, size: Int = 300) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: $0 &* n &+ n) } }

    @Test
    func aFormatVersionOneRepositoryReadsThroughIndexV1AndCompactionLogs() async throws {
        let repo = try await SyntheticRepository(version: 1)
        let contents = (1...6).map { (repo.contentID(Self.data($0)), Self.data($0)) }
        let manifest = (repo.contentID(Self.data(99), prefix: UInt8(ascii: "m")), Self.data(99))
        let packA = try await repo.writePack("p" + String(repeating: "a", count: 32) + "-s1", Array(contents[0..<3]))
        let packB = try await repo.writePack("p" + String(repeating: "b", count: 32) + "-s1", Array(contents[3...]))
        let packQ = try await repo.writePack("q" + String(repeating: "c", count: 32) + "-s1", [manifest])
        func v1(_ e: [IndexV2Encoder.Entry]) -> [UInt8] { IndexV1Bytes.encode(e.map { var x = $0; x.formatVersion = 1; return x }) }
        // Two small indexes, compacted into a third by a log whose outputs all exist; a log with a missing output
        // must not retire its input; a deleted entry (no watermark in v1) makes content 6 absent.
        let n1 = try await repo.writeBlob(prefix: "n", suffix: "-s1", v1(packA))
        let n2 = try await repo.writeBlob(prefix: "n", suffix: "-s2", v1(Array(packB[0..<2])))
        let n3 = try await repo.writeBlob(prefix: "n", v1(packA + Array(packB[0..<2]) + packQ))
        var gone = packB[2]
        gone.deleted = true
        gone.timestampSeconds += 10
        let n4 = try await repo.writeBlob(prefix: "n", suffix: "-s4", v1([packB[2], gone]))
        let log1 = #"{"inputMetadata":[{"id":"\#(n1)","length":1},{"id":"\#(n2)"}],"outputMetadata":[{"id":"\#(n3)"}]}"#
        let log2 = #"{"inputMetadata":[{"id":"\#(n3)"}],"outputMetadata":[{"id":"n-never-written"}]}"#
        try await repo.writeBlob(prefix: "m", Array(log1.utf8))
        try await repo.writeBlob(prefix: "m", Array(log2.utf8))
        try await repo.storage.write(
            "n00000000000000000000000000000000-repository_unreadable_by_this_kopia_version_upgrade_required", [1])

        let (format, manager) = try await repo.open()
        #expect(format.version == 1 && format.parameters.indexVersion == 1 && !format.parameters.epochParameters.enabled)
        #expect(Set(manager.indexBlobs.map(\.id)) == [n3, n4])
        for (id, bytes) in contents.prefix(5) + [manifest] {
            #expect(try await manager.content(id) == bytes)
            #expect(manager.info(id)?.originalLength == UInt32(bytes.count))
        }
        #expect(!manager.contains(contents[5].0))
        #expect(manager.contentIDs(prefix: UInt8(ascii: "m")) == [manifest.0])
        // DeriveKey uses the format key on v1 (§2.8).
        #expect(try format.deriveKey(purpose: "x", length: 16)
            != KeyDerivation.hkdfSHA256(key: format.parameters.masterKey, salt: format.uniqueID, info: Array("x".utf8), length: 16))
    }

    @Test
    func compactedEpochsAndTheWatermarkDecideWhatIsLive() async throws {
        let repo = try await SyntheticRepository(version: 3)
        let contents = (1...5).map { (repo.contentID(Self.data($0)), Self.data($0)) }
        let pack = try await repo.writePack("p" + String(repeating: "d", count: 32) + "-s1", contents, timestamp: 1000)
        // Epoch 0 compacted into a complete 2-blob set; its xn blobs are superseded (and one is garbage).
        try await repo.writeBlob(prefix: "xs0_", suffix: "-s00000000000000aa-c2", try IndexV2Encoder.encode(Array(pack[0..<2])))
        try await repo.writeBlob(prefix: "xs0_", suffix: "-s00000000000000aa-c2", try IndexV2Encoder.encode([pack[2]]))
        try await repo.storage.write("xn0_" + String(repeating: "e", count: 32) + "-s1-c1", [1, 2, 3])
        // Epoch 3 (current) holds content 4, and content 1 deleted at t=2000 (≤ watermark: absent),
        // content 2 deleted at t=4000 (> watermark: still readable).
        var del1 = pack[0]
        del1.deleted = true
        del1.timestampSeconds = 2000
        var del2 = pack[1]
        del2.deleted = true
        del2.timestampSeconds = 4000
        try await repo.writeBlob(prefix: "xn3_", suffix: "-s2-c1", try IndexV2Encoder.encode([pack[3], del1, del2]))
        try await repo.writeBlob(prefix: "xn4_", suffix: "-s3-c1", try IndexV2Encoder.encode([pack[4]]))
        for marker in ["xe0", "xe1", "xe2", "xe3"] { try await repo.storage.write(marker, Array("epoch-marker".utf8)) }
        try await repo.storage.write("xw3000", Array("deletion-watermark".utf8))

        let (_, manager) = try await repo.open()
        #expect(manager.deletionWatermark == 3000)
        #expect(manager.indexBlobs.filter { $0.id.hasPrefix("xs0_") }.count == 2)
        #expect(manager.info(contents[0].0) == nil)
        let deleted = try #require(manager.info(contents[1].0))
        #expect(deleted.deleted && !manager.contains(contents[1].0))
        #expect(try await manager.content(contents[1].0) == contents[1].1)
        for (id, bytes) in contents[2...] { #expect(try await manager.content(id) == bytes) }
        #expect(manager.contentIDs(prefix: 0) == contents[2...].map(\.0).sorted())
    }

    @Test
    func anUnknownHashAlgorithmIsNamed() async throws {
        let repo = try await SyntheticRepository(version: 3, hash: "SHA1-FANCY")
        let error = await #expect(throws: KopiaError.self) {
            _ = try await RepositoryFormat.open(storage: repo.storage, password: SyntheticRepository.password)
        }
        #expect(error?.code == .unknownAlgorithm && error?.blobID == "kopia.repository")
        #expect(error?.description.contains("SHA1-FANCY") == true)
    }

    @Test(arguments: ["zstd-fastest", "gzip", "s2-default", "deflate-default", "pgzip"])
    func compressedContentsFollowTheirIndexHeader(_ name: String) async throws {
        let repo = try await SyntheticRepository(version: 3)
        let algorithm = try CompressionAlgorithm(name: name)
        let text = Array(String(repeating: "directory listing ", count: 500).utf8)
        let id = repo.contentID(text, prefix: UInt8(ascii: "k"))
        let entries = try await repo.writePack("q" + String(repeating: "f", count: 32) + "-s1", [(id, text)],
                                               compression: algorithm)
        // A second index entry claims another compressor for a content stored with `algorithm`.
        let other = Self.data(5)
        let otherID = repo.contentID(other)
        var lying = try await repo.writePack("p" + String(repeating: "f", count: 32) + "-s1", [(otherID, other)],
                                             compression: algorithm)
        lying[0].compressionHeaderID = algorithm.headerID == 0x1100 ? 0x1000 : 0x1100
        try await repo.writeBlob(prefix: "xn0_", suffix: "-s1-c1", try IndexV2Encoder.encode(entries + lying))
        let (_, manager) = try await repo.open()
        #expect(manager.info(id)?.compressionHeaderID == algorithm.headerID)
        #expect(try await manager.content(id) == text)
        let error = await #expect(throws: KopiaError.self) { _ = try await manager.content(otherID) }
        #expect(error?.code == .corruptContent && error?.contentID == otherID.description && error?.blobID == lying[0].packBlobID)
    }
}

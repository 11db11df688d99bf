import Foundation
@testable import Kopia
import KopiaTestSupport
import Testing

struct PackBuilderTests {
    @Test func packsHaveKopiasPreamblePaddingLocalIndexAndPostamble() async throws {
        let storage = try FilesystemStorage(root: Fixtures.kopia("fs-default").path)
        let format = try await RepositoryFormat.open(storage: storage, password: Fixtures.password)
        var pack = PackBuilder(blobID: SessionID.packBlobID(prefix: "p", session: SessionID.make()))
        let payloads: [[UInt8]] = [Array("hello".utf8), [UInt8](repeating: 9, count: 5000), []]
        for p in payloads {
            let id = ContentID(hash: format.hasher.hash(p))
            pack.append(try format.cipher.encrypt(p, iv: id.iv),
                        info: ContentInfo(contentID: id, packBlobID: "", packOffset: 0, packedLength: 0,
                                          originalLength: UInt32(p.count), timestampSeconds: 1, formatVersion: 3))
        }
        let expectedOffsets: [UInt32] = [32, 65, 5093]  // 32, +5+28, +5000+28
        #expect(pack.entries.map(\.packOffset) == expectedOffsets)
        let blobID = pack.blobID
        let bytes = try pack.finish(format: format)

        let post = Int(try #require(bytes.last))
        let payload = Array(bytes[(bytes.count - 1 - post)..<(bytes.count - 1)])
        var r = ByteReader(payload, what: "postamble")
        #expect(try r.readUVarint() == 1)
        let iv = try r.readBytes(Int(try r.readUVarint()))
        let offset = Int(try r.readUVarint())
        let length = Int(try r.readUVarint())
        #expect(offset == 8192)
        #expect(offset + length == bytes.count - 1 - post)
        #expect(try r.readUInt32BE() == CRC32.ieee(Array(payload.dropLast(4))))
        let local = try format.cipher.decrypt(bytes[offset..<offset + length], iv: iv)
        #expect(format.hasher.hash(local) == iv)
        var builder = IndexTableBuilder(keySize: 17)
        try IndexV2.decode(local, blobID: blobID, into: &builder)
        let table = builder.build(watermark: 0)
        #expect(table.count == 3)
        for i in 0..<table.count {
            let info = table.info(at: i)
            let sealed = bytes[Int(info.packOffset)..<Int(info.packOffset + info.packedLength)]
            let plain = try format.cipher.decrypt(sealed, iv: info.contentID.iv)
            #expect(format.hasher.hash(plain) == info.contentID.hash)
        }
    }
}

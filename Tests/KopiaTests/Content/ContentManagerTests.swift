import Foundation
@testable import Kopia
import KopiaTestSupport
import Testing

struct ContentManagerTests {
    @Test(arguments: Fixtures.all)
    func everyFixtureLoadsItsIndexAndKnowsItsSnapshotRoots(_ name: String) async throws {
        let (_, format, manager) = try await ContentFixtures.open(name)
        #expect(manager.entryCount > 0)
        #expect(!manager.indexBlobs.isEmpty && manager.indexBlobs.allSatisfy { $0.id.hasPrefix("xn0_") })
        let roots = try ContentFixtures.manifestRootObjects(name)
        #expect(!roots.isEmpty)
        for root in roots {
            #expect(manager.contains(root), "\(root)")
            let info = try #require(manager.info(root))
            #expect(info.packBlobID.hasPrefix("q") && info.packedLength > UInt32(ContentCipher.overhead))
            #expect(info.contentID == root && info.contentID.hash.count == format.hashLength)
        }
        // Manifests are `m` contents in q packs; file data is un-prefixed in p packs (§3.2).
        #expect(!manager.contentIDs(prefix: UInt8(ascii: "m")).isEmpty)
        for info in manager.infos(prefix: 0) { #expect(info.packBlobID.hasPrefix("p")) }
        for info in manager.infos(prefix: UInt8(ascii: "k")) { #expect(info.packBlobID.hasPrefix("q")) }
        // Sorted, unique IDs.
        let all = (0..<manager.entryCount).map(manager.table.contentID(at:))
        #expect(zip(all, all.dropFirst()).allSatisfy { $0 < $1 })
    }

    @Test(arguments: Fixtures.all)
    func everyContentReadsBackAndMatchesItsHash(_ name: String) async throws {
        let (_, _, manager) = try await ContentFixtures.open(name)
        var compressed = 0
        for prefix in [UInt8(0), UInt8(ascii: "k"), UInt8(ascii: "m"), UInt8(ascii: "x")] {
            for info in manager.infos(prefix: prefix) where !info.deleted {
                let plain = try await manager.content(info.contentID)  // decode() re-checks the hash
                #expect(plain.count == Int(info.originalLength), "\(info)")
                if info.compressionHeaderID != 0 { compressed += 1 }
            }
        }
        #expect(compressed > 0)
    }

    @Test(arguments: Fixtures.all)
    func manifestRootObjectsAreDirectoryListings(_ name: String) async throws {
        let (_, _, manager) = try await ContentFixtures.open(name)
        for root in try ContentFixtures.manifestRootObjects(name) {
            let json = try JSONSerialization.jsonObject(with: Data(try await manager.content(root)))
            let entries = (json as? [String: Any])?["entries"] as? [[String: Any]]
            #expect(entries?.isEmpty == false && entries?.allSatisfy { $0["name"] is String } == true, "\(root)")
        }
    }

    @Test
    func anUnknownContentIsNotFound() async throws {
        let (_, _, manager) = try await ContentFixtures.open("fs-default")
        let id = try #require(ContentID("k00000000000000000000000000000000"))
        #expect(!manager.contains(id) && manager.info(id) == nil)
        let error = await #expect(throws: KopiaError.self) { _ = try await manager.content(id) }
        #expect(error?.code == .contentNotFound && error?.contentID == id.description)
        // A 32-byte hash in a 16-byte repository is simply unknown.
        #expect(manager.info(ContentID(hash: [UInt8](repeating: 1, count: 32))) == nil)
    }

    @Test(arguments: Fixtures.all)
    func coalescedPackReadsEqualSingleReads(_ name: String) async throws {
        let (_, _, manager) = try await ContentFixtures.open(name)
        let uncompressed = (manager.infos(prefix: 0) + manager.infos(prefix: UInt8(ascii: "k"))).filter { !$0.deleted }
        for (pack, entries) in Dictionary(grouping: uncompressed, by: \.packBlobID) {
            for gap in [0, 1 << 20, Int.max] {
                let batch = try await manager.read(pack: pack, entries: entries + entries.prefix(1), maxGap: gap)
                #expect(batch.count == entries.count)
                for info in entries.prefix(3) {
                    #expect(try await batch[info.contentID] == manager.content(info.contentID))
                }
            }
        }
    }
}

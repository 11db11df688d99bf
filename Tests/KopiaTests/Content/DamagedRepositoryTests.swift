import Foundation
@testable import Kopia
import KopiaTestSupport
import Testing

/// Truncations and bit flips of every blob kind, made on temporary copies of a fixture: never a crash, always a
/// `KopiaError` that names the damaged blob (issue 2 item 8).
struct DamagedRepositoryTests {
    enum Damage: Sendable, CustomStringConvertible {
        case truncate(Int)
        case flip(Int)
        var description: String {
            switch self {
            case .truncate(let n): "truncated to \(n) bytes"
            case .flip(let at): "bit flipped at \(at)"
            }
        }
    }

    /// A temporary copy of a fixture, with helpers to damage and restore one blob file.
    struct Copy {
        let root: URL
        let storage: FilesystemStorage

        init(_ fixture: String) throws {
            root = try Fixtures.temporaryCopy(of: fixture)
            storage = try FilesystemStorage(root: root.path)
        }

        func remove() { try? FileManager.default.removeItem(at: root) }

        func bytes(_ id: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: storage.path(for: id)))) }

        func put(_ id: String, _ bytes: [UInt8]) throws {
            try Data(bytes).write(to: URL(fileURLWithPath: storage.path(for: id)))
        }

        func damage(_ id: String, _ damage: Damage, original: [UInt8]) throws {
            switch damage {
            case .truncate(let n): try put(id, Array(original.prefix(n)))
            case .flip(let at):
                var b = original
                b[at] ^= 0x10
                try put(id, b)
            }
        }
    }

    static func spread(_ count: Int) -> [Damage] {
        let cuts = Set([0, 1, 12, 28, count / 2, count - 16, count - 1].filter { $0 >= 0 && $0 < count }).sorted()
        let flips = Set([0, 5, 12, 13, 40, count / 3, count / 2, count - 17, count - 1].filter { $0 >= 0 && $0 < count }).sorted()
        return cuts.map(Damage.truncate) + flips.map(Damage.flip)
    }

    @Test
    func aDamagedFormatBlobIsNamed() async throws {
        let copy = try Copy("fs-default")
        defer { copy.remove() }
        let original = try copy.bytes("kopia.repository")
        let text = String(decoding: original, as: UTF8.self)
        func offset(after marker: String) -> Int {
            text.range(of: marker).map { text.utf8.distance(from: text.startIndex, to: $0.upperBound) } ?? 0
        }
        let unique = offset(after: #""uniqueID": ""#)
        let block = offset(after: #""encryptedBlockFormat": ""#)
        let damages: [Damage] = [.truncate(0), .truncate(1), .truncate(original.count / 2), .truncate(original.count - 3),
                                 .flip(0), .flip(unique + 4), .flip(block + 2), .flip(block + 300), .flip(original.count - 5)]
        for damage in damages {
            try copy.damage("kopia.repository", damage, original: original)
            do {
                _ = try await RepositoryFormat.open(storage: copy.storage, password: Fixtures.password)
                Issue.record("opened a format blob \(damage)")
            } catch let error as KopiaError {
                #expect(error.blobID == "kopia.repository", "\(damage): \(error)")
                #expect([.notARepository, .wrongPassword, .corruptBlob].contains(error.code), "\(damage): \(error)")
            }
        }
    }

    @Test
    func aDamagedBlobConfigIsNamed() async throws {
        let copy = try Copy("fs-default")
        defer { copy.remove() }
        let original = try copy.bytes("kopia.blobcfg")
        for damage in Self.spread(original.count) {
            try copy.damage("kopia.blobcfg", damage, original: original)
            let error = await #expect(throws: KopiaError.self, "\(damage)") {
                _ = try await RepositoryFormat.open(storage: copy.storage, password: Fixtures.password)
            }
            #expect(error?.code == .corruptBlob && error?.blobID == "kopia.blobcfg", "\(damage)")
        }
    }

    @Test(arguments: ["fs-default", "fs-zstd-chacha"])
    func aDamagedIndexBlobIsNamed(_ fixture: String) async throws {
        let copy = try Copy(fixture)
        defer { copy.remove() }
        let format = try await RepositoryFormat.open(storage: copy.storage, password: Fixtures.password)
        for blob in try await copy.storage.list(prefix: "xn") {
            let original = try copy.bytes(blob.id)
            for damage in Self.spread(original.count) {
                try copy.damage(blob.id, damage, original: original)
                let error = await #expect(throws: KopiaError.self, "\(blob.id) \(damage)") {
                    _ = try await ContentManager.open(storage: copy.storage, format: format, logger: ContentFixtures.logger)
                }
                #expect(error?.blobID == blob.id, "\(damage): \(String(describing: error))")
                #expect([.corruptBlob, .truncatedData].contains(error?.code), "\(damage): \(String(describing: error))")
            }
            try copy.put(blob.id, original)
        }
        _ = try await ContentManager.open(storage: copy.storage, format: format, logger: ContentFixtures.logger)
    }

    @Test
    func aMissingPackIsNamedWithTheContent() async throws {
        let copy = try Copy("fs-default")
        defer { copy.remove() }
        let format = try await RepositoryFormat.open(storage: copy.storage, password: Fixtures.password)
        let manager = try await ContentManager.open(storage: copy.storage, format: format, logger: ContentFixtures.logger)
        let root = try #require(ContentID("k775264b8fc7e19ceeed7b791c9750a69"))
        let pack = try #require(manager.info(root)).packBlobID
        try await copy.storage.delete(pack)
        let error = await #expect(throws: KopiaError.self) { _ = try await manager.content(root) }
        #expect(error?.code == .blobNotFound && error?.blobID == pack && error?.contentID == root.description)
        let batch = await #expect(throws: KopiaError.self) {
            _ = try await manager.read(pack: pack, entries: manager.infos(prefix: UInt8(ascii: "k")).filter { $0.packBlobID == pack })
        }
        #expect(batch?.code == .blobNotFound && batch?.blobID == pack)
    }

    @Test(arguments: ["fs-default", "fs-zstd-chacha"])
    func aDamagedPackIsNamedWithTheContent(_ fixture: String) async throws {
        let copy = try Copy(fixture)
        defer { copy.remove() }
        let format = try await RepositoryFormat.open(storage: copy.storage, password: Fixtures.password)
        let manager = try await ContentManager.open(storage: copy.storage, format: format, logger: ContentFixtures.logger)
        let all = [UInt8(0), UInt8(ascii: "k"), UInt8(ascii: "m"), UInt8(ascii: "x")].flatMap(manager.infos(prefix:))
        for (pack, infos) in Dictionary(grouping: all, by: \.packBlobID) {
            let original = try copy.bytes(pack)
            // A flipped bit inside each content (first, middle and last byte) fails authentication.
            for info in infos.prefix(4) {
                for at in [Int(info.packOffset), Int(info.packOffset) + Int(info.packedLength) / 2,
                           Int(info.packOffset) + Int(info.packedLength) - 1] {
                    try copy.damage(pack, .flip(at), original: original)
                    let error = await #expect(throws: KopiaError.self) { _ = try await manager.content(info.contentID) }
                    #expect(error?.code == .corruptContent && error?.blobID == pack
                                && error?.contentID == info.contentID.description, "\(String(describing: error))")
                }
            }
            // Truncated in the middle of its last content: that content names the pack, earlier ones still decrypt.
            let last = try #require(infos.max { $0.packOffset < $1.packOffset })
            try copy.damage(pack, .truncate(Int(last.packOffset) + 3), original: original)
            let error = await #expect(throws: KopiaError.self) { _ = try await manager.content(last.contentID) }
            #expect(error?.code == .corruptBlob && error?.blobID == pack && error?.contentID == last.contentID.description)
            for info in infos where info.contentID != last.contentID {
                _ = try await manager.content(info.contentID)
            }
            try copy.put(pack, original)
        }
    }

    @Test
    func storageFailuresWhileLoadingTheIndexNameTheBlobAndKeepTheirRetryClass() async throws {
        let base = try ContentFixtures.storage("fs-default")
        let faulty = FaultyStorage(base)
        let format = try await RepositoryFormat.open(storage: base, password: Fixtures.password)
        let blob = try #require(try await base.list(prefix: "xn").first).id
        faulty.inject(.fail(KopiaError(.storageFailure, "disk on fire", retry: .transient)), into: blob)
        let failure = await #expect(throws: KopiaError.self) {
            _ = try await ContentManager.open(storage: faulty, format: format, logger: ContentFixtures.logger)
        }
        #expect(failure?.code == .storageFailure && failure?.retry == .transient && failure?.blobID == blob)
        // Listed but unreadable: re-listed a few times, then reported.
        faulty.inject(.fail(KopiaError(.blobNotFound, "gone", blobID: blob)), into: blob)
        let missing = await #expect(throws: KopiaError.self) {
            _ = try await ContentManager.open(storage: faulty, format: format, logger: ContentFixtures.logger)
        }
        #expect(missing?.code == .blobNotFound && missing?.blobID == blob)
        // Deleted between listings (maintenance): the next listing no longer shows it, and the load succeeds.
        faulty.inject(.missing, into: blob)
        let manager = try await ContentManager.open(storage: faulty, format: format, logger: ContentFixtures.logger)
        #expect(!manager.indexBlobs.contains { $0.id == blob })
    }
}

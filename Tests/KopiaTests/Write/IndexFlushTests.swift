import Foundation
@testable import Kopia
import KopiaTestSupport
import Synchronization
import Testing

/// A long writer session publishes index blobs as its packs are written (not all at the end), keeps every
/// content exactly once across them, and still deduplicates against what it flushed (issue 16).
struct IndexFlushTests {
    /// Storage whose first `failures` writes of `xn` blobs fail.
    final class FlakyIndexStorage: ForwardingStorage {
        let base: any BlobStorage
        let failures = Mutex(0)
        let indexWrites = Mutex<[String]>([])
        init(_ base: any BlobStorage, failing: Int) {
            self.base = base
            failures.withLock { $0 = failing }
        }
        var displayName: String { "flaky+" + base.displayName }
        func write(_ id: String, _ data: [UInt8]) async throws {
            if id.hasPrefix("xn") {
                let fail = failures.withLock { f -> Bool in
                    if f > 0 { f -= 1; return true }
                    return false
                }
                if fail { throw KopiaError(.storageFailure, "index write refused (test)", retry: .transient, blobID: id) }
                indexWrites.withLock { $0.append(id) }
            }
            try await base.write(id, data)
        }
    }

    static func data(_ k: Int, size: Int = 64 << 10) -> [UInt8] {
        var x = UInt64(k) &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<size).map { _ in
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            return UInt8(truncatingIfNeeded: x)
        }
    }

    static func repository(_ tag: String) async throws -> (dir: String, storage: FilesystemStorage, format: RepositoryFormat) {
        let dir = try WriteTestSupport.tempDir(tag)
        var options = RepositoryCreateOptions()
        options.keyAlgorithm = "pbkdf2-sha256-600000"
        options.maxPackSize = 10 << 20
        _ = try await RepositoryCreator.createFilesystem(at: dir + "/repo", password: "pw", options: options)
        let storage = try FilesystemStorage(root: dir + "/repo")
        return (dir, storage, try await RepositoryFormat.open(storage: storage, password: "pw"))
    }

    /// Decodes every `xn` blob on its own: content ID → number of blobs naming it.
    static func entriesPerBlob(_ storage: any BlobStorage, _ format: RepositoryFormat) async throws -> [ContentID: Int] {
        var seen: [ContentID: Int] = [:]
        for blob in try await storage.list(prefix: "xn") {
            var builder = IndexTableBuilder(keySize: 1 + format.hashLength)
            try IndexLoader.decode(try format.decryptBlob(try await storage.read(blob.id), blobID: blob.id),
                                   blobID: blob.id, into: &builder)
            let table = builder.build(watermark: Int64.min)
            for i in 0..<table.count { seen[table.contentID(at: i), default: 0] += 1 }
        }
        return seen
    }

    @Test
    func indexBlobsAreWrittenAsPacksFillAndNameEveryContentOnce() async throws {
        let (dir, storage, format) = try await Self.repository("index-flush")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // 400 × 64 KiB into 10 MiB packs: a pack every ~160 contents, an index blob after every pack.
        // The new repository holds its own few contents already.
        let baseline = try await Self.entriesPerBlob(storage, format)
        let baselineBlobs = try await storage.list(prefix: "xn").count
        let writer = ContentWriter(format: format, storage: storage, existing: nil, epoch: 0, indexFlushEntries: 60)
        var ids: [ContentID] = []
        for k in 0..<400 { ids.append(try await writer.write(Self.data(k))) }

        // Mid-session: index blobs exist, each naming only contents of packs already written (all readable).
        let early = try await storage.list(prefix: "xn")
        #expect(early.count - baselineBlobs >= 2, "\(early.count - baselineBlobs) index blobs before flush")
        let mid = try await ContentManager.open(storage: storage, format: format, logger: WriteTestSupport.logger)
        let visible = mid.entryCount - baseline.count
        #expect(visible >= 120 && visible < 400, "\(visible) contents visible mid-session")
        for (k, id) in ids.enumerated() where mid.contains(id) && k % 7 == 0 {
            #expect(try await mid.content(id) == Self.data(k))
        }
        // A content whose index blob is written already is still known to the session.
        #expect(try await writer.write(Self.data(0)) == ids[0])
        #expect(writer.stats.deduplicated == 1)

        try await writer.flush()
        let perBlob = try await Self.entriesPerBlob(storage, format)
        #expect(perBlob.count == baseline.count + 400 && perBlob.values.allSatisfy { $0 == 1 })
        #expect(Set(ids).allSatisfy { perBlob[$0] == 1 })
        #expect(writer.stats.indexBlobs == (try await storage.list(prefix: "xn")).count - baselineBlobs)
        let all = try await ContentManager.open(storage: storage, format: format, logger: WriteTestSupport.logger)
        #expect(all.entryCount == baseline.count + 400)
        for (k, id) in ids.enumerated() where k % 13 == 0 { #expect(try await all.content(id) == Self.data(k)) }
    }

    @Test
    func aRefusedIndexWriteIsCoveredByTheNextIndexBlob() async throws {
        let (dir, base, format) = try await Self.repository("index-flush-fail")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let baseline = try await Self.entriesPerBlob(base, format)
        let storage = FlakyIndexStorage(base, failing: 1)
        let writer = ContentWriter(format: format, storage: storage, existing: nil, epoch: 0, indexFlushEntries: 60)
        var ids: [Int: ContentID] = [:]
        var refused = 0
        for k in 0..<400 {
            do {
                ids[k] = try await writer.write(Self.data(k))
            } catch let error as KopiaError {
                // The task whose pack triggered the index blob sees the failure; its own content is stored.
                #expect(error.code == .storageFailure && error.retry == .transient)
                refused += 1
                ids[k] = writer.contentID(of: Self.data(k))
            }
        }
        #expect(refused == 1)
        try await writer.flush()
        let perBlob = try await Self.entriesPerBlob(storage, format)
        #expect(perBlob.count == baseline.count + 400 && perBlob.values.allSatisfy { $0 == 1 })
        #expect(ids.values.allSatisfy { perBlob[$0] == 1 })
        let all = try await ContentManager.open(storage: storage, format: format, logger: WriteTestSupport.logger)
        for (k, id) in ids where k % 11 == 0 { #expect(try await all.content(id) == Self.data(k)) }
    }

    @Test
    func theSessionKeySetAgreesWithASetOfIDs() {
        var rng = SystemRandomNumberGenerator()
        var keys = ContentKeySet()
        var reference = Set<ContentID>()
        func random(_ hashLength: Int, prefix: UInt8) -> ContentID {
            ContentID(prefix: prefix, hash: (0..<hashLength).map { _ in UInt8.random(in: 0...255, using: &rng) })
        }
        var pool: [ContentID] = []
        for n in 0..<30_000 {
            // Mostly 16-byte hashes, some prefixed, a few 32-byte ones (kept aside), IDs differing in one byte.
            var id = random(n % 97 == 1 ? 32 : 16, prefix: n % 5 == 0 ? UInt8(ascii: "k") : 0)
            if n % 11 == 0, let other = pool.last {
                var hash = other.hash
                hash[hash.count - 1] ^= 1
                id = ContentID(prefix: other.prefix, hash: hash)
            }
            if n % 3 == 0, let again = pool.randomElement(using: &rng) { id = again }
            #expect(keys.insert(id) == reference.insert(id).inserted)
            pool.append(id)
        }
        #expect(keys.count == reference.count)
        for id in pool { #expect(keys.contains(id)) }
        for _ in 0..<5_000 {
            let id = random(16, prefix: 0)
            #expect(keys.contains(id) == reference.contains(id))
        }
        let flipped = pool.prefix(2_000).map { id -> ContentID in
            ContentID(prefix: id.prefix == 0 ? UInt8(ascii: "x") : 0, hash: id.hash)
        }
        for id in flipped { #expect(keys.contains(id) == reference.contains(id)) }
    }
}

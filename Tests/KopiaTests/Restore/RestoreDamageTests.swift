import Foundation
@testable import Kopia
import KopiaTestSupport
import Testing

/// Damaged contents: the files that use them fail (named, with the pack blob), everything else is restored,
/// and no partly written file ever appears under its real name. Also `ferry verify`'s engine.
struct RestoreDamageTests {
    typealias S = RestoreTestSupport

    /// Deterministic incompressible bytes.
    static func noise(_ count: Int, seed: UInt64) -> [UInt8] {
        var x = seed &+ 0x9E37_79B9_7F4A_7C15
        var out = [UInt8](repeating: 0, count: count)
        for i in stride(from: 0, to: count, by: 8) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17
            withUnsafeBytes(of: x) { b in for j in 0..<min(8, count - i) { out[i + j] = b[j] } }
        }
        return out
    }

    /// A repository with `good.txt`, `same.txt` and a multi-chunk `big.bin` (20 MiB of noise), plus the chunk of
    /// `big.bin` to damage: (repository path, pack blob ID, content ID).
    static func repositoryWithBigFile() async throws -> (String, ContentInfo) {
        let big = noise(20 << 20, seed: 7)
        let path = try await S.makeRepository { s in
            [try await S.file(s, "big.bin", big),
             try await S.file(s, "good.txt", Array("good\n".utf8)),
             try await S.file(s, "same.txt", Array("good\n".utf8))]
        }
        let repo = try await S.open(path)
        let snapshot = try repo.select(SnapshotSelection(target: .only))
        let entry = try #require(try await repo.directory(snapshot.rootEntry).entry(named: "big.bin"))
        #expect(entry.objectID.indirection == 1)
        let reader = try await repo.openObject(entry.objectID)
        #expect(reader.chunks.count >= 3)
        let manager = try #require(repo.contents as? ContentManager)
        // Damage the last chunk: the earlier ones are written first, so a half-written file exists for a moment.
        let last = try #require(reader.chunks.last)
        let info = try #require(manager.info(last.contentID))
        return (path, info)
    }

    /// Flips one byte inside a content's ciphertext in its pack file.
    static func damage(_ info: ContentInfo, in repoPath: String) throws {
        let fm = FileManager.default
        let enumerator = try #require(fm.enumerator(atPath: repoPath))
        var packFile: String?
        while let rel = enumerator.nextObject() as? String {
            guard rel.hasSuffix(".f") else { continue }
            if rel.dropLast(2).replacingOccurrences(of: "/", with: "") == info.packBlobID { packFile = rel }
        }
        let packPath = try #require(packFile)
        let file = try FileHandle(forUpdating: URL(fileURLWithPath: repoPath + "/" + packPath))
        defer { try? file.close() }
        let offset = UInt64(info.packOffset) + UInt64(info.packedLength / 2)
        try file.seek(toOffset: offset)
        let read = try file.read(upToCount: 1)
        let byte = try #require(read).first ?? 0
        try file.seek(toOffset: offset)
        try file.write(contentsOf: Data([byte ^ 0xFF]))
    }

    @Test func damagedContentFailsOnlyItsFileNamesThePackAndLeavesNoPartialFile() async throws {
        let (repo, info) = try await Self.repositoryWithBigFile()
        defer { S.remove(repo) }
        try Self.damage(info, in: repo)
        let target = try S.tempDir("damaged")
        defer { S.remove(target) }

        let result = try await S.restore(repo, into: target)
        #expect(!result.succeeded)
        #expect(result.failures.count == 1)
        let failure = try #require(result.failures.first)
        #expect(failure.path == "big.bin")
        #expect(failure.error.blobID == info.packBlobID)
        #expect(failure.error.contentID == info.contentID.description)
        #expect(failure.isDamage)
        #expect(failure.description.contains(info.packBlobID))
        // Everything else is restored; the damaged file exists under no name at all.
        #expect(try S.describe(target).keys.sorted() == ["good.txt", "same.txt"])
        #expect(result.files == 2)
    }

    @Test func failFastStopsAtTheFirstDamagedFile() async throws {
        let (repo, info) = try await Self.repositoryWithBigFile()
        defer { S.remove(repo) }
        try Self.damage(info, in: repo)
        let target = try S.tempDir("failfast")
        defer { S.remove(target) }
        let result = try await S.restore(repo, into: target, options: RestoreOptions(parallelism: 1, failFast: true))
        #expect(result.stoppedEarly)
        #expect(!result.succeeded)
        #expect(result.failures.contains { $0.path == "big.bin" })
        #expect(S.lstatOf(target + "/big.bin") == nil)
    }

    @Test func verifyFindsNoDamageInAnIntactSnapshotAndNamesTheDamagedFileOtherwise() async throws {
        let (repo, info) = try await Self.repositoryWithBigFile()
        defer { S.remove(repo) }
        let opened = try await S.open(repo)
        let root = try opened.select(SnapshotSelection(target: .only)).rootEntry
        let clean = try await SnapshotVerifier(repository: opened, logger: S.logger).verify(root)
        #expect(clean.succeeded)
        #expect(clean.filesChecked == 3)
        #expect(clean.contentsRead >= 4)

        let none = try await SnapshotVerifier(repository: opened, logger: S.logger).verify(root, percent: 0)
        #expect(none.filesChecked == 0)
        #expect(none.filesInSnapshot == 3)
        #expect(none.contentsRead == 0)

        try Self.damage(info, in: repo)
        let reopened = try await S.open(repo)
        let damaged = try await SnapshotVerifier(repository: reopened, logger: S.logger).verify(root)
        #expect(!damaged.succeeded)
        #expect(damaged.damaged.map(\.path) == ["big.bin"])
        #expect(damaged.damaged.first?.error.blobID == info.packBlobID)
    }

    @Test func missingPackBlobFailsTheFilesItHeld() async throws {
        let (repo, info) = try await Self.repositoryWithBigFile()
        defer { S.remove(repo) }
        let storage = FaultyStorage(try FilesystemStorage(root: repo))
        let opened = try await KopiaRepository.open(storage: storage, password: S.password, logger: S.logger)
        storage.inject(.missing, into: info.packBlobID)
        let target = try S.tempDir("missing")
        defer { S.remove(target) }
        let result = try await SnapshotRestorer(repository: opened, logger: S.logger)
            .restore(try opened.select(SnapshotSelection(target: .only)).rootEntry, into: target)
        #expect(result.failures.contains { $0.path == "big.bin" && $0.error.blobID == info.packBlobID })
        #expect(S.lstatOf(target + "/big.bin") == nil)
    }
}

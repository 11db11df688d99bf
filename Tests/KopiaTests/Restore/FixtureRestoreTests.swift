import Foundation
@testable import Kopia
import KopiaTestSupport
import Testing

/// Restores every snapshot of every fixture repository (real Kopia 0.12.1 output) and compares the tree with
/// the fixture's MANIFEST.md (sha256, mode, size, symlink target, empty directories) and with the repository's
/// own entries (mtime to the nanosecond).
struct FixtureRestoreTests {
    struct Case: CustomStringConvertible, Sendable {
        let fixture: String
        let snapshotID: String
        let index: Int
        var description: String { "\(fixture) #\(index + 1)" }
    }

    static var cases: [Case] {
        Fixtures.all.flatMap { name -> [Case] in
            guard let manifest = try? FixtureManifest.load(name) else { return [] }
            return manifest.snapshots.enumerated().map { Case(fixture: name, snapshotID: $1.id, index: $0) }
        }
    }

    @Test func everyFixtureHasSnapshotsToRestore() {
        #expect(Set(Self.cases.map(\.fixture)) == Set(Fixtures.all))
        #expect(Self.cases.count >= 8)
    }

    @Test(arguments: cases)
    func restoredTreeMatchesTheManifest(_ c: Case) async throws {
        let manifest = try FixtureManifest.load(c.fixture)
        let expected = manifest.snapshots[c.index]
        let repo = try await RestoreTestSupport.openFixture(c.fixture)
        let snapshot = try repo.select(.id(c.snapshotID))
        let target = try RestoreTestSupport.tempDir("fixture")
        defer { RestoreTestSupport.remove(target) }

        let result = try await SnapshotRestorer(repository: repo, logger: RestoreTestSupport.logger)
            .restore(snapshot.rootEntry, into: target)
        #expect(result.failures.isEmpty, "\(result.failures)")
        #expect(result.succeeded)

        let restored = try RestoreTestSupport.describe(target)
        #expect(Set(restored.keys) == Set(expected.entries.map(\.path)))
        for entry in expected.entries {
            let node = try #require(restored[entry.path], "missing \(entry.path)")
            #expect(node.type == entry.type, "\(entry.path)")
            if entry.type != "l" { #expect(node.mode == entry.mode, "\(entry.path) mode") }
            switch entry.type {
            case "f":
                #expect(node.size == entry.size, "\(entry.path) size")
                #expect(entry.sha256 != nil && node.sha256 == entry.sha256, "\(entry.path) sha256")
            case "l":
                #expect(node.target == entry.target, "\(entry.path) target")
            default: break
            }
        }
        try await Self.expectTimes(repo, snapshot.rootEntry, under: target, relative: "")
    }

    /// Every restored path carries its entry's mtime exactly (directories too: metadata after children).
    static func expectTimes(_ repo: KopiaRepository, _ dir: DirectoryEntry, under root: String, relative: String)
        async throws
    {
        let st = try #require(RestoreTestSupport.lstatOf(root + (relative.isEmpty ? "" : "/" + relative)))
        #expect(Int64(st.st_mtim.tv_sec) == dir.modified.seconds && Int(st.st_mtim.tv_nsec) == Int(dir.modified.nanoseconds),
                "mtime of \(relative.isEmpty ? "." : relative)")
        for e in try await repo.directory(dir).entries {
            let rel = relative.isEmpty ? e.name : relative + "/" + e.name
            if e.type == .directory {
                try await expectTimes(repo, e, under: root, relative: rel)
                continue
            }
            let est = try #require(RestoreTestSupport.lstatOf(root + "/" + rel))
            #expect(Int64(est.st_mtim.tv_sec) == e.modified.seconds && Int(est.st_mtim.tv_nsec) == Int(e.modified.nanoseconds),
                    "mtime of \(rel)")
        }
    }
}

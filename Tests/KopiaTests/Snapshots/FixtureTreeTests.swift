import Foundation
import Kopia
import KopiaTestSupport
import Logging
import Testing

/// Every directory, file and symlink of every fixture snapshot reads back as MANIFEST.md records (needs the
/// zstd-fastest directory listings decoded, i.e. Codecs/Compression).
struct FixtureTreeTests {
    static func open(_ name: String) async throws -> KopiaRepository {
        try await FixtureSnapshotTests.open(name)
    }

    @Test(arguments: Fixtures.all)
    func everyTreeEntryHasTheRecordedModeSizeAndTarget(_ fixture: String) async throws {
        let manifest = try FixtureManifest.load(fixture)
        let repo = try await Self.open(fixture)
        for want in manifest.snapshots {
            let snapshot = try repo.select(.id(want.id))
            var found: [String: (DirectoryEntry, String?)] = [:]
            try await Self.walk(repo, snapshot.rootEntry, prefix: "", into: &found)
            #expect(Set(found.keys) == Set(want.entries.map(\.path)), "snapshot \(want.id)")
            for e in want.entries {
                guard let (entry, target) = found[e.path] else { continue }
                let type: Character = switch entry.type {
                case .file: "f"
                case .directory: "d"
                case .symlink: "l"
                case .other: "?"
                }
                #expect(type == e.type, "\(want.id) \(e.path)")
                #expect(entry.permissions.rawValue == e.mode, "\(want.id) \(e.path)")
                if e.type != "d", let size = e.size { #expect(entry.size == size, "\(want.id) \(e.path)") }
                #expect(target == e.target, "\(want.id) \(e.path)")
            }
        }
    }

    static func walk(_ repo: KopiaRepository, _ dir: DirectoryEntry, prefix: String,
                     into found: inout [String: (DirectoryEntry, String?)]) async throws {
        for e in try await repo.directory(dir).entries {
            let path = prefix + e.name
            found[path] = (e, e.type == .symlink ? try await repo.symlinkTarget(e) : nil)
            if e.type == .directory { try await walk(repo, e, prefix: path + "/", into: &found) }
        }
    }

    @Test func fileObjectsReadBackWithTheirRecordedLength() async throws {
        // fs-multichunk holds multi-chunk Ix… objects whose chunks are zstd, s2, gzip or uncompressed.
        let repo = try await Self.open("fs-multichunk")
        let snapshot = try repo.select(SnapshotSelection(target: .only))
        let entry = try await repo.entry(at: "zstd/text-12mib.txt", in: snapshot)
        let reader = try await repo.openObject(entry.objectID)
        #expect(entry.objectID.indirection == 1)
        #expect(reader.length == entry.size)
        #expect(reader.chunks.count == 3)
        var total: Int64 = 0
        for try await chunk in reader.chunkSequence() { total += Int64(chunk.count) }
        #expect(total == entry.size)
    }

    @Test func pathLookupFindsEntriesAndNamesMissingOnes() async throws {
        let repo = try await Self.open("fs-default")
        let snapshot = try repo.select(SnapshotSelection(target: .only))
        #expect(try await repo.entry(at: "/docs/notes/2024/mar.txt", in: snapshot).size == 30720)
        #expect(try await repo.entry(at: "", in: snapshot) == snapshot.rootEntry)
        await #expect {
            _ = try await repo.entry(at: "docs/nope/x", in: snapshot)
        } throws: { ($0 as? KopiaError)?.code == .pathNotFound && "\($0)".contains("docs/nope") }
        await #expect {
            _ = try await repo.entry(at: "README.txt/x", in: snapshot)
        } throws: { ($0 as? KopiaError)?.code == .pathNotFound }
        await #expect {
            _ = try await repo.entry(at: "docs/../..", in: snapshot)
        } throws: { ($0 as? KopiaError)?.code == .unsafePath }
    }

}

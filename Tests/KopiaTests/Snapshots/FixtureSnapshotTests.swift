import Foundation
import Kopia
import KopiaTestSupport
import Logging
import Testing

/// Every snapshot of every fixture repository reads back as its MANIFEST.md records (issue 2, "Done when").
struct FixtureSnapshotTests {
    static func open(_ name: String) async throws -> KopiaRepository {
        let storage = try FilesystemStorage(root: Fixtures.kopia(name).path)
        return try await KopiaRepository.open(storage: storage, password: Fixtures.password, logger: Logger(label: "test"))
    }

    @Test(arguments: Fixtures.all)
    func snapshotsListExactlyAsTheManifestSays(_ fixture: String) async throws {
        let manifest = try FixtureManifest.load(fixture)
        let repo = try await Self.open(fixture)
        let snapshots = repo.snapshots()
        #expect(snapshots.map(\.id) == manifest.snapshots.map(\.id))
        for (got, want) in zip(snapshots, manifest.snapshots) {
            #expect(got.source.description == want.identity)
            #expect(got.startTime.description == want.startTime)
            if let end = want.endTime { #expect(got.endTime.description == end) }
            #expect(got.description == want.description)
            #expect(got.rootEntry.objectID.description == want.rootObject)
            #expect(got.totals.files == Int64(want.files))
            #expect(got.totals.dirs == Int64(want.dirs))
            #expect(got.totals.size == want.totalSize)
            #expect(!got.isIncomplete)
        }
        for deleted in manifest.deletedIDs {
            #expect(!snapshots.contains { $0.id == deleted }, "deleted snapshot \(deleted) is still listed")
        }
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

    struct IdentityCase: Sendable, CustomStringConvertible {
        let identity: String
        let asOf: String?
        let previous: Int
        let expected: String
        var description: String { "\(identity) asOf \(asOf ?? "-") previous \(previous)" }
    }

    /// The expected answers fs-identities/MANIFEST.md states (the deleted v2 must be skipped).
    static let identityCases: [IdentityCase] = [
        IdentityCase(identity: "webapp-backup-production@production:/data", asOf: nil, previous: 0,
                     expected: "8acd6104b18c10046f4878a3f3284e18"),
        IdentityCase(identity: "webapp-backup-production@production:/data", asOf: nil, previous: 1,
                     expected: "56da71c2371673cee3cdac99392b741d"),
        IdentityCase(identity: "webapp-backup-production@production:/data", asOf: nil, previous: 2,
                     expected: "e89466437067fceda9767a7212f8c974"),
        IdentityCase(identity: "webapp-backup-production@production:/data", asOf: "2026-11-21T00:01:00Z", previous: 0,
                     expected: "e89466437067fceda9767a7212f8c974"),
        IdentityCase(identity: "db-backup-production@production:/data", asOf: "2026-11-21T00:01:05Z", previous: 0,
                     expected: "32dbcc423500507044598ca3bea4a3a1"),
    ]

    @Test(arguments: identityCases)
    func identitySelectionMatchesTheManifestAnswers(_ c: IdentityCase) async throws {
        let repo = try await Self.open("fs-identities")
        let selection = SnapshotSelection(target: .identity(try IdentityPattern(parsing: c.identity)),
                                          asOf: try c.asOf.map { try KopiaTime(rfc3339: $0) }, previous: c.previous)
        #expect(try repo.select(selection).id == c.expected)
    }

    @Test func volSyncSourceIdentityFindsTheOlderUserNameForm() async throws {
        let repo = try await Self.open("fs-identities")
        let s = try repo.select(SnapshotSelection(target: .volSync(VolSyncSource(sourceName: "db-backup",
                                                                                 sourceNamespace: "production"))))
        #expect(s.id == "c23031f5b76d94d058437d36a3b98f08")
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

    @Test(arguments: ["/data/repo", "filesystem:///data/repo", " filesystem:///data/repo\n"])
    func filesystemLocationsParse(_ text: String) throws {
        #expect(try RepositoryLocation(parsing: text) == .filesystem(path: "/data/repo"))
    }

    @Test func s3LocationsParseButAreNotSupportedYet() throws {
        let location = try RepositoryLocation(parsing: "s3://bucket//volsync/app")
        #expect(location == .s3(bucket: "bucket", prefix: "volsync/app/"))
        #expect { _ = try location.makeStorage() } throws: {
            ($0 as? KopiaError)?.code == .unsupportedFormat && "\($0)".contains("not supported yet")
        }
        #expect { _ = try RepositoryLocation(parsing: "azure://c/p") } throws: {
            ($0 as? KopiaError)?.code == .unsupportedFormat
        }
        #expect(throws: KopiaError.self) { _ = try RepositoryLocation(parsing: "") }
    }
}

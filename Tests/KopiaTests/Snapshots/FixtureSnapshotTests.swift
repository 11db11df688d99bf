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

    @Test(arguments: ["/data/repo", "filesystem:///data/repo", " filesystem:///data/repo\n"])
    func filesystemLocationsParse(_ text: String) throws {
        #expect(try RepositoryLocation(parsing: text) == .filesystem(path: "/data/repo"))
    }

    @Test func s3LocationsParseAndNeedCompleteCredentials() throws {
        let location = try RepositoryLocation(parsing: "s3://bucket//volsync/app")
        #expect(location == .s3(bucket: "bucket", prefix: "volsync/app/"))
        #expect(try location.makeStorage(environment: [:], httpClient: try SharedTestHTTPClient.client(), logger: Logger(label: "test")).displayName.hasPrefix("s3://bucket/volsync/app"))
        #expect { _ = try location.makeStorage(environment: ["AWS_ACCESS_KEY_ID": "AKIDONLY"],
                                            httpClient: try SharedTestHTTPClient.client(), logger: Logger(label: "test")) } throws: {
            ($0 as? KopiaError)?.code == .invalidArgument
        }
        #expect { _ = try RepositoryLocation(parsing: "b2://bucket/p") } throws: {
            ($0 as? KopiaError)?.code == .unsupportedFormat
        }
        #expect(throws: KopiaError.self) { _ = try RepositoryLocation(parsing: "") }
    }
}

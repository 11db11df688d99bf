import Foundation
import FerryControllers
import Kopia
import KopiaTestSupport
import Kube
import Logging
import Testing

/// spec → selection → resolution and status, against the real fs-identities repository (its MANIFEST.md answers).
struct KopiaSourceSelectionTests {
    static func spec(_ fields: JSONObject) -> KopiaSnapshotSpec { KopiaSnapshotSpec(object: fields) }

    struct SelectionCase: Sendable, CustomTestStringConvertible {
        let name: String
        let spec: JSONObject
        let expected: String
        var testDescription: String { name }
    }

    static let fixtureAnswers: [SelectionCase] = [
        .init(name: "VolSync sourceIdentity finds the older user-name form, newest first",
              spec: ["sourceIdentity": ["sourceName": "webapp-backup", "sourceNamespace": "production"]],
              expected: "8acd6104b18c10046f4878a3f3284e18"),
        .init(name: "sourceNamespace defaults to the KopiaSnapshot's namespace",
              spec: ["sourceIdentity": ["sourceName": "db-backup"]], expected: "c23031f5b76d94d058437d36a3b98f08"),
        .init(name: "previous 1 gives v3",
              spec: ["sourceIdentity": ["sourceName": "webapp-backup"], "previous": 1],
              expected: "56da71c2371673cee3cdac99392b741d"),
        .init(name: "previous 2 skips the deleted v2",
              spec: ["sourceIdentity": ["sourceName": "webapp-backup"], "previous": 2],
              expected: "e89466437067fceda9767a7212f8c974"),
        .init(name: "restoreAsOf between v2 (deleted) and v3 gives v1",
              spec: ["sourceIdentity": ["sourceName": "webapp-backup"], "restoreAsOf": "2026-11-21T00:01:00Z"],
              expected: "e89466437067fceda9767a7212f8c974"),
        .init(name: "restoreAsOf before db v2 gives db v1",
              spec: ["username": "db-backup-production", "hostname": "production", "restoreAsOf": "2026-11-21T00:01:05Z"],
              expected: "32dbcc423500507044598ca3bea4a3a1"),
        .init(name: "username + hostname + path",
              spec: ["username": "webapp-backup-staging", "hostname": "staging", "path": "/data"],
              expected: "b42349b168570fe590532de0c2d7d2e1"),
        .init(name: "a pinned snapshotID prefix", spec: ["snapshotID": "ee7c06eb"], expected: "ee7c06eb36aa17a0c9a9779a6da11d7b"),
    ]

    @Test(arguments: fixtureAnswers)
    func specsPickTheSnapshotsTheFixtureManifestNames(_ c: SelectionCase) async throws {
        let selection = try KopiaSourceSelection(spec: Self.spec(c.spec), namespace: "production")
        let resolution = KopiaSnapshotResolution(selection: selection, catalog: try await FixtureCatalogs.shared.fsIdentities())
        #expect(resolution.snapshot?.id == c.expected)
    }

    @Test(arguments: [
        (["repository": "x"], "names no source"),
        (["sourceIdentity": ["sourceName": "a"], "snapshotID": "abc"], "more than one source"),
        (["snapshotID": "abc", "previous": 1], "cannot be combined"),
        (["username": "a"], "go together"),
        (["username": "a", "hostname": "b", "path": "data"], "absolute path"),
        (["sourceIdentity": ["sourceName": "a"], "restoreAsOf": "yesterday"], "RFC 3339"),
        (["sourceIdentity": ["sourceName": "a"], "previous": -1], "0 or more"),
        (["snapshotID": "not-hex!"], "hexadecimal"),
    ] as [(JSONObject, String)])
    func contradictorySpecsAreRefusedWithAMessageSayingWhatToWrite(_ spec: JSONObject, _ phrase: String) {
        #expect {
            _ = try KopiaSourceSelection(spec: Self.spec(spec), namespace: "production")
        } throws: { error in
            guard let e = error as? PopulatingError else { return false }
            return e.code == .invalidSpec && e.message.contains(phrase)
        }
    }

    @Test func nothingMatchingListsTheAvailableIdentitiesInStatus() async throws {
        let selection = try KopiaSourceSelection(spec: Self.spec(["sourceIdentity": ["sourceName": "missing"]]),
                                                 namespace: "production")
        let r = KopiaSnapshotResolution(selection: selection, catalog: try await FixtureCatalogs.shared.fsIdentities())
        let status = r.status(repository: .filesystem(path: "/r"), generation: 3, now: "2026-12-01T00:00:00Z",
                              listIdentities: false, previous: [])
        #expect(status.conditions.first?.reason == "NoMatchingSnapshot")
        #expect(status.conditions.first?.status == "False")
        #expect(status.requestedIdentity == "missing-production@production:/data or missing@production:/data")
        #expect(status.snapshotsFound == 0)
        #expect(status.availableIdentities.map { $0.identity ?? "" } == [
            "db-backup-production@production:/data", "webapp-backup-production@production:/data",
            "webapp-backup-staging@staging:/data",
        ])
        #expect(status.availableIdentities.map { $0.snapshots ?? 0 } == [2, 3, 2])
        #expect(status.availableIdentities.first?.newest == "2026-11-21T00:01:06.793097615Z")
        #expect(status.snapshot == nil)
    }

    @Test func aResolvedSnapshotFillsStatusAndReady() async throws {
        let selection = try KopiaSourceSelection(spec: Self.spec(["sourceIdentity": ["sourceName": "webapp-backup"]]),
                                                 namespace: "production")
        let r = KopiaSnapshotResolution(selection: selection, catalog: try await FixtureCatalogs.shared.fsIdentities())
        let status = r.status(repository: .s3(bucket: "b", prefix: "p/"), generation: 1, now: "2026-12-01T00:00:00Z",
                              listIdentities: true, previous: [])
        #expect(status.snapshot?.id == "8acd6104b18c10046f4878a3f3284e18")
        #expect(status.snapshot?.identity == "webapp-backup-production@production:/data")
        #expect(status.snapshot?.startTime == "2026-11-21T00:01:10.179566179Z")
        #expect(status.snapshot?.files == 6)
        #expect(status.snapshotsFound == 3)
        #expect(status.repository == "s3://b/p/")
        #expect(status.availableIdentities.count == 3)
        let ready = try #require(status.conditions.first)
        #expect(ready.status == "True")
        #expect(ready.reason == "Ready")
        #expect(ready.message?.contains("newest complete snapshot") == true)
        // lastTransitionTime stays while the status does not change.
        let again = r.status(repository: nil, generation: 1, now: "2026-12-02T00:00:00Z", listIdentities: false,
                             previous: status.conditions)
        #expect(again.conditions.first?.lastTransitionTime == "2026-12-01T00:00:00Z")
    }

    @Test func bothVolSyncUserNameFormsHoldingSnapshotsIsAmbiguousAndNamesBoth() throws {
        let catalog = SnapshotCatalog(snapshots: [
            Self.manifest("aa01", user: "webapp-backup-production", start: 10),
            Self.manifest("aa02", user: "webapp-backup", start: 20),
        ])
        let selection = try KopiaSourceSelection(spec: Self.spec(["sourceIdentity": ["sourceName": "webapp-backup"]]),
                                                 namespace: "production")
        let r = KopiaSnapshotResolution(selection: selection, catalog: catalog)
        guard case .failed(let e) = r.outcome else { Issue.record("expected ambiguity"); return }
        #expect(e.code == .ambiguousIdentity)
        #expect(e.message.contains("webapp-backup-production@production:/data"))
        #expect(e.message.contains("webapp-backup@production:/data"))
        #expect(r.snapshotsFound == 2)
    }

    @Test func theCurrentVolSyncUserNameFormAloneResolves() throws {
        let catalog = SnapshotCatalog(snapshots: [Self.manifest("bb01", user: "webapp-backup", start: 10)])
        let selection = try KopiaSourceSelection(spec: Self.spec(["sourceIdentity": ["sourceName": "webapp-backup"]]),
                                                 namespace: "production")
        #expect(KopiaSnapshotResolution(selection: selection, catalog: catalog).snapshot?.id == "bb01")
    }

    @Test(arguments: [
        (KopiaError(.wrongPassword, "x"), "WrongPassword"),
        (KopiaError(.storageFailure, "x"), "RepositoryUnreachable"),
        (KopiaError(.notARepository, "x"), "RepositoryUnreachable"),
        (KopiaError(.corruptBlob, "x"), "DamagedRepository"),
        (KopiaError(.snapshotNotFound, "x"), "NoMatchingSnapshot"),
        (KopiaError(.ambiguousSelection, "x"), "AmbiguousIdentity"),
    ])
    func engineErrorsBecomeConditionReasonsAPersonCanActOn(_ error: KopiaError, _ reason: String) {
        #expect(KopiaSnapshotResolution.classify(error).code.reason == reason)
    }

    static func manifest(_ id: String, user: String, start: Int64) -> SnapshotManifest {
        let t = KopiaTime(seconds: 1_700_000_000 + start)
        let root = DirectoryEntry(name: "data", type: .directory, permissions: FilePermissions(rawValue: 0o755),
                                  modified: t, objectID: ObjectID(contentID: ContentID(prefix: 0x6b, hash: [UInt8](repeating: 7, count: 16))))
        return SnapshotManifest(id: id, source: SnapshotSource(userName: user, host: "production", path: "/data"),
                                startTime: t, endTime: t, rootEntry: root)
    }
}

/// fs-identities opened once for the suite (scrypt is slow on purpose).
actor FixtureCatalogs {
    static let shared = FixtureCatalogs()
    private var identities: Task<SnapshotCatalog, any Error>?

    func fsIdentities() async throws -> SnapshotCatalog {
        let task = identities ?? Task {
            let storage = try FilesystemStorage(root: Fixtures.kopia("fs-identities").path)
            return try await KopiaRepository.open(storage: storage, password: Fixtures.password,
                                                  logger: Logger(label: "test")).catalog
        }
        identities = task
        return try await task.value
    }
}

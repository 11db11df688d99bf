import Kopia
import KopiaTestSupport
import Logging
import Testing

struct SnapshotCatalogTests {
    static let web = SnapshotSource(userName: "webapp-backup-production", host: "production", path: "/data")
    static let db = SnapshotSource(userName: "db-backup-production", host: "production", path: "/data")
    static let staging = SnapshotSource(userName: "webapp-backup-staging", host: "staging", path: "/data")

    static func snap(_ id: String, _ source: SnapshotSource, _ start: String, incomplete: String? = nil) throws
        -> SnapshotManifest
    {
        let t = try KopiaTime(rfc3339: start)
        let root = DirectoryEntry(name: "data", type: .directory, permissions: FilePermissions(rawValue: 0o755),
                                  modified: t, objectID: try ObjectID(parsing: "k775264b8fc7e19ceeed7b791c9750a69"))
        return SnapshotManifest(id: id, source: source, startTime: t, endTime: t, incompleteReason: incomplete,
                                rootEntry: root)
    }

    /// Shaped like fs-identities: interleaved identities, one incomplete checkpoint.
    static func catalog() throws -> SnapshotCatalog {
        SnapshotCatalog(snapshots: [
            try snap("e89466437067fceda9767a7212f8c974", web, "2026-11-21T00:00:49.840950734Z"),
            try snap("32dbcc423500507044598ca3bea4a3a1", db, "2026-11-21T00:00:53.231036402Z"),
            try snap("ee7c06eb36aa17a0c9a9779a6da11d7b", staging, "2026-11-21T00:00:59.958252383Z"),
            try snap("56da71c2371673cee3cdac99392b741d", web, "2026-11-21T00:01:03.397568164Z"),
            try snap("c23031f5b76d94d058437d36a3b98f08", db, "2026-11-21T00:01:06.793097615Z"),
            try snap("8acd6104b18c10046f4878a3f3284e18", web, "2026-11-21T00:01:10.179566179Z"),
            try snap("8ac0000000000000000000000000ffff", web, "2026-11-21T00:01:12Z", incomplete: "checkpoint"),
        ])
    }

    struct Case: Sendable, CustomStringConvertible {
        let selection: SnapshotSelection
        let expected: String
        var description: String { "\(selection) → \(expected)" }
    }

    static let cases: [Case] = [
        Case(selection: .latest(of: IdentityPattern(web)), expected: "8acd6104b18c10046f4878a3f3284e18"),
        Case(selection: .latest(of: IdentityPattern(web), previous: 1), expected: "56da71c2371673cee3cdac99392b741d"),
        Case(selection: .latest(of: IdentityPattern(web), previous: 2), expected: "e89466437067fceda9767a7212f8c974"),
        Case(selection: .latest(of: IdentityPattern(userName: "webapp-backup-production", host: "production")),
             expected: "8acd6104b18c10046f4878a3f3284e18"),
        Case(selection: .latest(of: IdentityPattern(web), asOf: try! KopiaTime(rfc3339: "2026-11-21T00:01:00Z")),
             expected: "e89466437067fceda9767a7212f8c974"),
        Case(selection: .latest(of: IdentityPattern(db), asOf: try! KopiaTime(rfc3339: "2026-11-21T00:01:05Z")),
             expected: "32dbcc423500507044598ca3bea4a3a1"),
        Case(selection: .latest(of: IdentityPattern(db), asOf: try! KopiaTime(rfc3339: "2026-11-21T00:01:06.793097615Z")),
             expected: "c23031f5b76d94d058437d36a3b98f08"),
        Case(selection: .id("ee7c"), expected: "ee7c06eb36aa17a0c9a9779a6da11d7b"),
        Case(selection: .id("8ACD"), expected: "8acd6104b18c10046f4878a3f3284e18"),
        Case(selection: .id("8ac0000000000000000000000000ffff"), expected: "8ac0000000000000000000000000ffff"),
        Case(selection: SnapshotSelection(target: .volSync(VolSyncSource(sourceName: "webapp-backup",
                                                                          sourceNamespace: "production"))),
             expected: "8acd6104b18c10046f4878a3f3284e18"),
    ]

    @Test(arguments: cases)
    func selectionPicksTheExpectedSnapshot(_ c: Case) throws {
        #expect(try Self.catalog().select(c.selection).id == c.expected)
    }

    @Test func listingIsNewestFirstAndIncludesIncomplete() throws {
        let list = try Self.catalog().list(matching: IdentityPattern(Self.web))
        let prefixes = list.map { String($0.id.prefix(4)) }
        #expect(prefixes == ["8ac0", "8acd", "56da", "e894"])
        #expect(list.first?.isIncomplete == true)
        #expect(try Self.catalog().list().count == 7)
    }

    @Test func ambiguousIDPrefixListsTheCandidates() throws {
        #expect {
            _ = try Self.catalog().select(.id("8ac"))
        } throws: { error in
            guard let e = error as? KopiaError else { return false }
            return e.code == .ambiguousSelection && e.message.contains("8acd6104b18c10046f4878a3f3284e18")
                && e.message.contains("8ac0000000000000000000000000ffff")
        }
    }

    @Test(arguments: [
        SnapshotSelection.id("ffff"),
        .latest(of: IdentityPattern(userName: "nobody", host: "production", path: "/data")),
        .latest(of: IdentityPattern(web), previous: 3),
        .latest(of: IdentityPattern(web), asOf: try! KopiaTime(rfc3339: "2026-01-01T00:00:00Z")),
        SnapshotSelection(target: .volSync(VolSyncSource(sourceName: "other", sourceNamespace: "production"))),
    ])
    func noMatchSaysWhichIdentitiesExist(_ selection: SnapshotSelection) throws {
        #expect {
            _ = try Self.catalog().select(selection)
        } throws: { error in
            guard let e = error as? KopiaError, e.code == .snapshotNotFound else { return false }
            if case .identity(let p) = selection.target, p.userName == Self.web.userName { return true }
            return e.message.contains("webapp-backup-production@production:/data (4 snapshots)")
                && e.message.contains("db-backup-production@production:/data (2 snapshots)")
                && e.message.contains("webapp-backup-staging@staging:/data (1 snapshot)")
        }
    }

    @Test func incompleteSnapshotsAreNeverChosenImplicitly() throws {
        let only = SnapshotCatalog(snapshots: [try Self.snap("aa", Self.web, "2026-01-01T00:00:00Z", incomplete: "canceled")])
        #expect { _ = try only.select(SnapshotSelection(target: .only)) } throws: {
            ($0 as? KopiaError)?.code == .snapshotNotFound && "\($0)".contains("incomplete")
        }
        #expect(try only.select(.id("aa")).id == "aa")
    }

    @Test func noIdentityIsAmbiguousWhenSeveralExist() throws {
        #expect { _ = try Self.catalog().select(SnapshotSelection(target: .only)) } throws: {
            ($0 as? KopiaError)?.code == .ambiguousSelection && "\($0)".contains("webapp-backup-staging@staging:/data")
        }
    }

    @Test func bothVolSyncUserNameFormsPresentIsAmbiguous() throws {
        let current = SnapshotSource(userName: "webapp-backup", host: "production", path: "/data")
        let catalog = SnapshotCatalog(snapshots: try Self.catalog().snapshots
                                      + [try Self.snap("bb", current, "2026-11-22T00:00:00Z")])
        let sel = SnapshotSelection(target: .volSync(VolSyncSource(sourceName: "webapp-backup", sourceNamespace: "production")))
        #expect { _ = try catalog.select(sel) } throws: { error in
            guard let e = error as? KopiaError else { return false }
            return e.code == .ambiguousSelection && e.message.contains("webapp-backup-production@production:/data")
                && e.message.contains("webapp-backup@production:/data")
        }
        let onlyCurrent = SnapshotCatalog(snapshots: [try Self.snap("bb", current, "2026-11-22T00:00:00Z")])
        #expect(try onlyCurrent.select(sel).id == "bb")
    }

    @Test func asOfOrPreviousWithAnIDIsAUsageError() throws {
        #expect { _ = try Self.catalog().select(SnapshotSelection(target: .id("ee7c"), previous: 1)) } throws: {
            ($0 as? KopiaError)?.code == .invalidArgument
        }
    }

    @Test func snapshotManifestsDecodeFromManifestEntries() async throws {
        var contents = InMemoryContents()
        contents.add(try ManifestBuilder.content([
            ManifestBuilder.snapshot(id: "a60041a147b8a8e60378dd83a857aa35", source: Self.web,
                                     start: "2026-11-21T00:00:56.64141777Z", end: "2026-11-21T00:00:56.643187201Z",
                                     description: "webapp production v2"),
            ManifestBuilder.snapshot(id: "e89466437067fceda9767a7212f8c974", source: Self.web,
                                     start: "2026-11-21T00:00:49.840950734Z", end: "2026-11-21T00:00:49.843428707Z",
                                     description: "webapp production v1", incomplete: "checkpoint"),
            ManifestBuilder.entry(id: "3fe3b04a55a792d48ba0e955819ad0e9", labels: ["type": "policy"],
                                  modified: "2026-11-21T00:00:49Z", data: "{}"),
        ]), prefix: UInt8(ascii: "m"))
        contents.add(try ManifestBuilder.content([
            ManifestBuilder.entry(id: "a60041a147b8a8e60378dd83a857aa35", labels: [:],
                                  modified: "2026-11-21T00:01:14.848029871Z", deleted: true),
        ]), prefix: UInt8(ascii: "m"))
        let store = try await ManifestStore.load(from: contents, logger: Logger(label: "test"))
        let catalog = try SnapshotCatalog(manifests: store)
        let s = try #require(catalog.snapshots.first)
        #expect(catalog.snapshots.count == 1)
        #expect(s.id == "e89466437067fceda9767a7212f8c974")
        #expect(s.source == Self.web)
        #expect(s.description == "webapp production v1")
        #expect(s.startTime.description == "2026-11-21T00:00:49.840950734Z")
        #expect(s.endTime.description == "2026-11-21T00:00:49.843428707Z")
        #expect(s.incompleteReason == "checkpoint")
        #expect(s.stats.totalSize == 123 && s.stats.fileCount == 4 && s.stats.dirCount == 2)
        #expect(s.rootEntry.objectID.description == "k775264b8fc7e19ceeed7b791c9750a69")
        #expect(s.rootEntry.summary?.dirCount == 2)
    }
}

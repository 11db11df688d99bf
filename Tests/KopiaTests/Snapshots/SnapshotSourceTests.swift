import Kopia
import Testing

struct SnapshotSourceTests {
    @Test func identitiesParseAndPrintBack() throws {
        let s = try SnapshotSource(parsing: "webapp-backup-production@production:/data")
        #expect(s.userName == "webapp-backup-production" && s.host == "production" && s.path == "/data")
        #expect(s.description == "webapp-backup-production@production:/data")
        let windows = try SnapshotSource(parsing: "u@h:C:\\data")
        #expect(windows.path == "C:\\data")
        let pattern = try IdentityPattern(parsing: "u@h")
        #expect(pattern.path == nil)
        #expect(pattern.matches(SnapshotSource(userName: "u", host: "h", path: "/any")))
        #expect(!pattern.matches(SnapshotSource(userName: "u", host: "h2", path: "/any")))
    }

    @Test(arguments: ["", "user", "@host:/p", "user@:/p", "user@host:", "userhost:/data"])
    func incompleteIdentitiesAreRejected(_ text: String) {
        #expect(throws: KopiaError.self) { _ = try IdentityPattern(parsing: text) }
    }

    @Test func sourcesWithoutPathAreRejected() {
        #expect(throws: KopiaError.self) { _ = try SnapshotSource(parsing: "user@host") }
    }

    @Test(arguments: [
        // (name, namespace, legacy user, current user, host)
        ("webapp-backup", "production", "webapp-backup-production", "webapp-backup", "production"),
        ("my.app_backup", "team_a.prod", "myapp_backup-team_aprod", "myapp_backup", "team-a.prod"),
        ("-x-", "_ns_", "x-ns", "x", "ns"),
        ("!!!", "", nil, "volsync-default", "volsync-default"),
        (String(repeating: "a", count: 45), "production", nil, String(repeating: "a", count: 45), "production"),
        (String(repeating: "b", count: 60), "ns", nil, String(repeating: "b", count: 50), "ns"),
    ] as [(String, String, String?, String, String)])
    func volSyncIdentitiesFollowTheMoverSanitizing(_ name: String, _ ns: String, _ legacy: String?,
                                                   _ current: String, _ host: String) {
        let v = VolSyncSource(sourceName: name, sourceNamespace: ns)
        #expect(v.legacyUserName == legacy)
        #expect(v.currentUserName == current)
        #expect(v.host == host)
        #expect(v.candidateSources.last?.path == "/data")
        #expect(VolSyncSource(sourceName: name, sourceNamespace: ns, pathOverride: "/srv").path == "/srv")
    }
}

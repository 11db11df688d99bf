import FerryControllers
import Foundation
import Kopia
import Kube
import KopiaTestSupport
import Testing

/// Issue 13's Done-when on the local control plane with the real `ferry controller` (one cluster for the suite,
/// each test in its own namespaces), every user object applied with kubectl: snapshot selection as
/// `fs-identities`' MANIFEST.md answers it, VolSync's two user-name forms, `availableIdentities`, a grant that keeps
/// the credentials out of the requesting namespace, and a repository on S3 (moto).
@Suite(.serialized, .kopiaCluster)
struct KopiaSourcesEndToEndTests {
    var cluster: KopiaCluster { get throws { try #require(KopiaCluster.current) } }
    static let identities = "filesystem://" + Fixtures.kopia("fs-identities").path

    @Test func restoreAsOfAndPreviousPickTheSnapshotsTheFixtureManifestNames() async throws {
        let c = try cluster
        try await c.namespaces("sel")
        try await c.repositorySecret("sel", ["KOPIA_REPOSITORY": Self.identities, "KOPIA_PASSWORD": Fixtures.password])
        // MANIFEST.md: as of 00:01:00 webapp gives v1 (v2 is deleted, v3 starts 00:01:03); as of 00:01:05 db gives
        // v1 (its v2 starts 00:01:06.79); previous=1 gives webapp v3; previous=2 webapp v1.
        let cases: [(name: String, spec: String, id: String)] = [
            ("webapp-asof", "sourceIdentity: {sourceName: webapp-backup, sourceNamespace: production}, restoreAsOf: '2026-11-21T00:01:00Z'",
             "e89466437067fceda9767a7212f8c974"),
            ("db-asof", "sourceIdentity: {sourceName: db-backup, sourceNamespace: production}, restoreAsOf: '2026-11-21T00:01:05Z'",
             "32dbcc423500507044598ca3bea4a3a1"),
            ("webapp-previous", "sourceIdentity: {sourceName: webapp-backup, sourceNamespace: production}, previous: 1",
             "56da71c2371673cee3cdac99392b741d"),
        ]
        for k in cases {
            try await c.kopiaSnapshot("sel", k.name, k.spec)
            try await c.claim("sel", k.name, source: k.name)
        }
        for k in cases {
            let bound = try await c.waitBound("sel", k.name)
            #expect(bound.metadata.annotations[PopulatingNames.pinnedSnapshotAnnotation] == k.id, "\(k.name)")
            try KopiaPopulateEndToEndTests.expectExact(try await c.volumeDirectory(bound), fixture: "fs-identities", snapshot: k.id)
            let status = try await c.kopiaSnapshotStatus("sel", k.name).status
            #expect(status.snapshot?.id == k.id, "\(k.name)")
            #expect(status.conditions.first?.reason == "Ready", "\(k.name)")
            // `Populated` is posted right after the claimRef move, so it may trail the bind by a moment.
            let populated = await c.waitForEvent("sel", k.name, reason: "Populated", timeout: .seconds(10))
            let reasons = try await c.events("sel", k.name).compactMap(\.reason)
            #expect(populated && reasons.contains("SnapshotChosen"), "\(k.name): \(reasons)")
        }
    }

    @Test func nothingMatchingKeepsTheClaimPendingAndListsTheAvailableIdentities() async throws {
        let c = try cluster
        try await c.namespaces("nomatch")
        try await c.repositorySecret("nomatch", ["KOPIA_REPOSITORY": Self.identities, "KOPIA_PASSWORD": Fixtures.password])
        try await c.kopiaSnapshot("nomatch", "billing", "sourceIdentity: {sourceName: billing, sourceNamespace: production}")
        try await c.claim("nomatch", "billing-data", source: "billing")
        #expect(await poll(.seconds(20)) {
            try await c.events("nomatch", "billing-data").contains { $0.type == "Warning" && $0.reason == "NoMatchingSnapshot" }
        })
        let ks = try await c.kopiaSnapshotStatus("nomatch", "billing")
        #expect(ks.status.conditions.first?.status == "False")
        #expect(ks.status.conditions.first?.reason == "NoMatchingSnapshot")
        let requested = ks.status.requestedIdentity ?? ""
        #expect(requested.contains("billing-production@production:/data") && requested.contains("billing@production:/data"), "\(requested)")
        let available = Dictionary(uniqueKeysWithValues: ks.status.availableIdentities.map { ($0.identity ?? "", $0.snapshots ?? -1) })
        #expect(available == ["webapp-backup-production@production:/data": 3, "db-backup-production@production:/data": 2,
                              "webapp-backup-staging@staging:/data": 2], "\(available)")
        #expect(ks.status.availableIdentities.first { $0.identity == "webapp-backup-production@production:/data" }?.newest
                    == "2026-11-21T00:01:10.179566179Z")
        let claim = try await c.pvc("nomatch", "billing-data")
        #expect(claim.status.phase == "Pending")
        #expect(try await c.temporaryObjects(forUID: claim.metadata.uid ?? "").isEmpty)
    }

    @Test func bothVolSyncUserNameFormsResolveAloneAndTogetherAreAmbiguous() async throws {
        let c = try cluster
        try await c.namespaces("forms")
        let repo = c.scratch.appendingPathComponent("forms-repo")
        let env = ["KOPIA_REPOSITORY": "filesystem://" + repo.path, "KOPIA_PASSWORD": "forms-password"]
        let (created, createOutput) = try KopiaCluster.ferry(["repo", "create"], environment: env)
        try #require(created == 0, "\(createOutput)")
        // The current VolSync form only: <sourceName>@<namespace>:/data.
        let current = try Self.tree(c.scratch.appendingPathComponent("forms-current"), marker: "current form")
        let (s1, o1) = try KopiaCluster.ferry(["snapshot", "create", current.path, "--identity", "webapp@forms:/data"], environment: env)
        try #require(s1 == 0, "\(o1)")
        try await c.repositorySecret("forms", env)
        try await c.kopiaSnapshot("forms", "webapp-current", "sourceIdentity: {sourceName: webapp}")
        try await c.claim("forms", "current", source: "webapp-current")
        let bound = try await c.waitBound("forms", "current")
        #expect(try String(contentsOf: try await c.volumeDirectory(bound).appendingPathComponent("marker.txt"), encoding: .utf8) == "current form")
        #expect(try await c.kopiaSnapshotStatus("forms", "webapp-current").status.snapshot?.identity == "webapp@forms:/data")

        // Now the older form too (<sourceName>-<namespace>): a new KopiaSnapshot with the same source is ambiguous.
        let older = try Self.tree(c.scratch.appendingPathComponent("forms-older"), marker: "older form")
        let (s2, o2) = try KopiaCluster.ferry(["snapshot", "create", older.path, "--identity", "webapp-forms@forms:/data"], environment: env)
        try #require(s2 == 0, "\(o2)")
        try await c.kopiaSnapshot("forms", "webapp-both", "sourceIdentity: {sourceName: webapp}")
        try await c.claim("forms", "both", source: "webapp-both")
        #expect(await poll(.seconds(20)) {
            try await c.events("forms", "both").contains { $0.type == "Warning" && $0.reason == "AmbiguousIdentity" }
        })
        let ambiguous = try await c.kopiaSnapshotStatus("forms", "webapp-both").status.conditions.first
        #expect(ambiguous?.reason == "AmbiguousIdentity")
        #expect((ambiguous?.message ?? "").contains("webapp@forms:/data") && (ambiguous?.message ?? "").contains("webapp-forms@forms:/data"),
                "\(ambiguous?.message ?? "")")
        #expect(try await c.pvc("forms", "both").status.phase == "Pending")
        // Naming the user explicitly resolves it: the older form's data.
        try await c.kopiaSnapshot("forms", "webapp-older", "username: webapp-forms, hostname: forms")
        try await c.claim("forms", "older", source: "webapp-older")
        let olderBound = try await c.waitBound("forms", "older")
        #expect(try String(contentsOf: try await c.volumeDirectory(olderBound).appendingPathComponent("marker.txt"), encoding: .utf8) == "older form")
        #expect(try await c.pvc("forms", "both").status.phase == "Pending")
    }

    @Test func aCrossNamespaceRestoreNeverPutsTheCredentialsOutsideTheOwnersAndTheWorkNamespace() async throws {
        let c = try cluster
        // Earlier tests' owner namespaces hold their own kopia-config Secrets (one cluster per suite).
        let before = try await c.namespacesHoldingSecretKeys(["KOPIA_PASSWORD"])
        try await c.namespaces("owner", "tenant")
        try await c.repositorySecret("owner", ["KOPIA_REPOSITORY": Self.identities, "KOPIA_PASSWORD": Fixtures.password])
        try await c.kopiaSnapshot("owner", "webapp", "sourceIdentity: {sourceName: webapp-backup, sourceNamespace: production}")
        try await c.grant(in: "owner", from: "tenant")
        try await c.claim("tenant", "webapp-data", source: "webapp", sourceNamespace: "owner")
        // Sample the whole API store until the claim binds: Secrets, pod specs and events.
        var holders: Set<String> = []
        var leaks: [String] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            holders.formUnion(try await c.namespacesHoldingSecretKeys(["KOPIA_PASSWORD"]))
            for pod in try await c.client.list(Pod.self, namespace: nil).items {
                let spec = String(decoding: JSONCoding.serialize(.object(pod.spec.object)), as: UTF8.self)
                if spec.contains(Fixtures.password) { leaks.append("pod \(pod.namespace ?? "")/\(pod.name) spec") }
            }
            if try await c.pvc("tenant", "webapp-data").status.phase == "Bound" { break }
            try await Task.sleep(for: .milliseconds(30))
        }
        let bound = try await c.waitBound("tenant", "webapp-data", timeout: .seconds(1))
        try KopiaPopulateEndToEndTests.expectExact(try await c.volumeDirectory(bound), fixture: "fs-identities",
                                                   snapshot: "8acd6104b18c10046f4878a3f3284e18")
        #expect(holders.subtracting(before).isSubset(of: ["owner", "ferry-system"]), "\(holders)")
        #expect(holders.contains("owner") && !holders.contains("tenant"))
        #expect(leaks.isEmpty, "\(leaks)")
        for e in try await c.client.list(CoreEvent.self, namespace: nil).items {
            #expect(!(e.message ?? "").contains(Fixtures.password), "event \(e.reason ?? "") leaks the password")
        }
        // The short-lived Secret is gone once the pod ended: only the owner holds the password again.
        #expect(await poll(.seconds(20)) { try await c.namespacesHoldingSecretKeys(["KOPIA_PASSWORD"]).subtracting(before) == ["owner"] })
        // The controller cleans up after it sees the bind (PopulateDecider.handedOver), so this is a wait too.
        let uid = bound.metadata.uid ?? ""
        let cleaned = await poll(.seconds(20)) { try await c.temporaryObjects(forUID: uid).isEmpty }
        let leftOver = cleaned ? [] : ((try? await c.temporaryObjects(forUID: uid)) ?? [])
        #expect(cleaned, "left over: \(leftOver)")
    }

    @Test func aRepositoryOnS3IsRestoredByteExactAndItsKeysStayWithTheOwner() async throws {
        let c = try cluster
        // moto with IAM authentication on: the populator pod's SigV4 signatures (LIST with a "/" prefix included)
        // are checked, and only the owner's access key can read the bucket.
        try await withMotoServer { server in
            try await server.createBucket("backups")
            _ = try await server.uploadRepository(at: Fixtures.kopia("fs-identities"), bucket: "backups", prefix: "volsync/")
            try await c.namespaces("s3owner", "s3tenant")
            try await c.repositorySecret("s3owner", [
                "KOPIA_REPOSITORY": "s3://backups/volsync/", "KOPIA_PASSWORD": Fixtures.password,
                "AWS_ACCESS_KEY_ID": server.admin.accessKeyID, "AWS_SECRET_ACCESS_KEY": server.admin.secretAccessKey,
                "AWS_S3_ENDPOINT": server.endpoint,
            ])
            try await c.kopiaSnapshot("s3owner", "db", "sourceIdentity: {sourceName: db-backup, sourceNamespace: production}")
            try await c.grant(in: "s3owner", from: "s3tenant")
            try await c.claim("s3tenant", "db-data", source: "db", sourceNamespace: "s3owner")
            let bound = try await c.waitBound("s3tenant", "db-data")
            #expect(bound.metadata.annotations[PopulatingNames.pinnedSnapshotAnnotation] == "c23031f5b76d94d058437d36a3b98f08")
            try KopiaPopulateEndToEndTests.expectExact(try await c.volumeDirectory(bound), fixture: "fs-identities",
                                                       snapshot: "c23031f5b76d94d058437d36a3b98f08")
            let pv = try await c.client.get(PersistentVolume.self, name: bound.spec.volumeName ?? "")
            #expect(pv.metadata.annotations[PopulatingNames.provenanceRepository] == "s3://backups/volsync/")
            #expect(try await c.kopiaSnapshotStatus("s3owner", "db").status.repository == "s3://backups/volsync/")
            #expect(await poll(.seconds(20)) { try await c.namespacesHoldingSecretKeys(["AWS_SECRET_ACCESS_KEY"]) == ["s3owner"] })
        }
    }

    /// A small tree with `marker.txt` holding `marker`.
    static func tree(_ root: URL, marker: String) throws -> URL {
        try FileManager.default.createDirectory(at: root.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data(marker.utf8).write(to: root.appendingPathComponent("marker.txt"))
        try Data(repeating: 7, count: 70_000).write(to: root.appendingPathComponent("sub/blob.bin"))
        return root
    }
}

import CurlHTTP
import FerryControllers
import Foundation
import Kopia
import KopiaTestSupport
import Kube
import KubeTestSupport
import LocalCluster
import Logging
import Testing

/// Issue 13 end to end: the API server, the simulated provisioner, PV binder, scheduler and kubelet (pods are local
/// processes running the built `ferry` binary), and Ferry's controller runtime with the Kopia populator, in-process.
/// The user's objects are written through the API as kubectl would; the data is checked on the volume's directory.
@Suite(.serialized)
struct KopiaPopulateEndToEndTests {
    static let token = "admin-token"
    static let http: HTTPClient = {
        do { return try HTTPClient(logger: Logger(label: "e2e")) } catch { fatalError("libcurl: \(error)") }
    }()

    final class Cluster: Sendable {
        let server: KubeAPIServer
        let client: KubeClient
        let directory: URL
        let run: Task<Void, Never>

        init(crossNamespace: Bool = true) async throws {
            server = try KubeAPIServer(installCRDs: true, bookmarkInterval: .milliseconds(200),
                                   crossNamespaceVolumeDataSource: crossNamespace)
            server.addToken(KopiaPopulateEndToEndTests.token, for: .init(name: "admin", groups: ["system:masters"]))
            let config = KubeConfig(server: server.baseURL,
                                    tls: TLSOptions(certificateAuthority: .file(server.certificates.caCertificate)),
                                    credentials: .bearerToken(KopiaPopulateEndToEndTests.token), requestTimeout: .seconds(20))
            var logger = Logger(label: "e2e")
            logger.logLevel = .warning
            client = try KubeClient(config: config, logger: logger)
            directory = URL(fileURLWithPath: "/tmp/ferry-e2e-\(UInt32.random(in: 0...UInt32.max))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for ns in ["production", "staging", "ferry-system"] { _ = try await client.create(Namespace(name: ns)) }
            var sc = StorageClass(name: "local")
            sc.provisioner = LocalCSIDriver.driverName
            sc.volumeBindingMode = "Immediate"
            sc.reclaimPolicy = "Delete"
            _ = try await client.create(sc)

            let options = LocalClusterOptions(directory: directory, nodes: 1, crossNamespaceVolumeDataSource: crossNamespace,
                                              images: ["ferry": E2EPaths.ferryBinary])
            let components: [any ClusterComponent] = [CSIDriverComponent(), PVBinder(resyncPeriod: .seconds(2)),
                                                      ExternalProvisioner(), Scheduler(), Kubelet(nodeName: "node-1"),
                                                      ProtectionController()]
            let componentContext = ComponentContext(client: client, options: options, logger: logger)

            let cache = InformerCache(client: client, served: .init(links: true, grantVersion: "v1beta1", snapshots: false),
                                      populatorNamespace: "ferry-system", logger: logger)
            let context = ReconcileContext(
                kube: LiveKube(client: client), cache: cache, csi: nil,
                feedback: Feedback(sink: EventRecorder(client: client, component: "ferry", logger: logger)),
                metrics: ControllerMetrics(),
                configuration: ControllerConfiguration(driver: nil, featureGates: FeatureGates(crossNamespaceVolumeDataSource: crossNamespace),
                                                       retryIntervalStart: .milliseconds(100), retryIntervalMax: .seconds(2),
                                                       workers: 4, resyncInterval: .seconds(5)),
                logger: logger)
            var decider = PopulateDecider()
            decider.progressInterval = .milliseconds(100)
            decider.baseBackoff = .milliseconds(200)
            decider.maximumBackoff = .seconds(1)
            let populator = KopiaPopulator(
                settings: .init(workNamespace: "ferry-system", image: "ferry:e2e", progressInterval: 0.5),
                repositories: RepositoryCache(refreshInterval: .seconds(1), httpClient: KopiaPopulateEndToEndTests.http, logger: logger),
                decider: decider)
            let controller = Controller(context: context, kopia: populator)
            controller.register(cache)
            // The owner's side, as `ferry controller` runs it: KopiaSnapshot status and a warm repository.
            let kopiaSnapshots = KopiaSnapshotController(
                client: client, reconciler: KopiaSnapshotStatusReconciler(populator: populator, recheckInterval: .seconds(1)),
                context: context, logger: logger)
            run = Task {
                await withTaskGroup(of: Void.self) { group in
                    for component in components {
                        group.addTask {
                            do { try await component.run(context: componentContext) } catch {
                                if !Task.isCancelled { print("e2e: component \(component.name) failed: \(error)") }
                            }
                        }
                    }
                    group.addTask { await cache.run() }
                    group.addTask { await cache.waitForSync(); await controller.run() }
                    group.addTask { await kopiaSnapshots.run() }
                }
            }
        }

        func stop() async {
            run.cancel()
            await run.value
            server.stop()
            try? FileManager.default.removeItem(at: directory)
        }

        /// Runs `body` with a started cluster and stops it afterwards, also when `body` throws.
        static func with(_ body: (Cluster) async throws -> Void) async throws {
            let c = try await Cluster()
            do { try await body(c) } catch {
                await c.stop()
                throw error
            }
            await c.stop()
        }

        func repositorySecret(_ namespace: String = "production", repository: String) async throws {
            var s = Secret(name: "kopia-config", namespace: namespace)
            s.stringData = ["KOPIA_REPOSITORY": repository, "KOPIA_PASSWORD": Fixtures.password]
            _ = try await client.create(s)
        }

        func kopiaSnapshot(_ name: String, _ fields: JSONObject) async throws {
            var ks = KopiaSnapshot(name: name, namespace: "production")
            ks.spec = KopiaSnapshotSpec(object: ["repository": "kopia-config"].merging(fields) { $1 })
            _ = try await client.create(ks)
        }

        func claim(_ name: String, in namespace: String, source: String, sourceNamespace: String?, size: String = "1Gi") async throws {
            var c = PersistentVolumeClaim(name: name, namespace: namespace)
            c.spec.accessModes = ["ReadWriteOnce"]
            c.spec.storageClassName = "local"
            c.spec.resources.requests = ["storage": size]
            var ref = TypedObjectReference()
            ref.apiGroup = "ferry.io"; ref.kind = "KopiaSnapshot"; ref.name = source; ref.namespace = sourceNamespace
            c.spec.dataSourceRef = ref
            _ = try await client.create(c)
        }

        func grant() async throws {
            var g = ReferenceGrant(name: "staging-may-restore", namespace: "production")
            var from = ReferenceGrantFrom(); from.group = ""; from.kind = "PersistentVolumeClaim"; from.namespace = "staging"
            var to = ReferenceGrantTo(); to.group = "ferry.io"; to.kind = "KopiaSnapshot"
            g.spec.from = [from]; g.spec.to = [to]
            _ = try await client.create(g)
        }

        func phase(_ name: String, _ namespace: String) async -> String? {
            try? await client.get(PersistentVolumeClaim.self, name: name, namespace: namespace).status.phase
        }

        /// Waits for Bound; on timeout the claim's events are in the failure message.
        func waitBound(_ name: String, _ namespace: String, timeout: Duration = .seconds(90)) async throws -> PersistentVolumeClaim {
            let ok = await eventually(timeout) { await self.phase(name, namespace) == "Bound" }
            if !ok {
                let events = (try? await client.list(CoreEvent.self, namespace: namespace).items) ?? []
                let text = events.map { e -> String in "\(e.reason ?? ""): \(e.message ?? "")" }.joined(separator: " | ")
                var pods = ""
                for ns in ["ferry-system", "production"] {
                    for p in (try? await client.list(Pod.self, namespace: ns).items) ?? [] {
                        pods += " | pod \(ns)/\(p.name) \(p.status.phase ?? "?") node=\(p.spec.nodeName ?? "-") \(p.status.object)"
                        for e in (try? await client.list(CoreEvent.self, namespace: ns).items) ?? [] {
                            pods += " [\(e.reason ?? ""): \(e.message ?? "")]"
                        }
                        let log = directory.appendingPathComponent("logs/\(ns)/\(p.name)/populate.log")
                        pods += " log: " + ((try? String(contentsOf: log, encoding: .utf8)) ?? "(none)").suffix(800)
                    }
                    for c in (try? await client.list(PersistentVolumeClaim.self, namespace: ns).items) ?? [] {
                        pods += " | pvc \(ns)/\(c.name) \(c.status.phase ?? "?") \(c.spec.volumeName ?? "")"
                    }
                }
                Issue.record(Comment(rawValue: "\(namespace)/\(name) not Bound: \(text)\(pods)"))
            }
            return try await client.get(PersistentVolumeClaim.self, name: name, namespace: namespace)
        }

        func events(_ name: String, _ namespace: String) async throws -> [CoreEvent] {
            try await client.list(CoreEvent.self, namespace: namespace).items.filter { $0.involvedObject.name == name }
        }

        /// The directory holding a bound claim's volume.
        func volumeDirectory(_ claim: PersistentVolumeClaim) async throws -> (PersistentVolume, URL) {
            let pv = try await client.get(PersistentVolume.self, name: claim.spec.volumeName ?? "")
            return (pv, directory.appendingPathComponent("volumes/\(pv.spec.csi?.volumeHandle ?? "")"))
        }

        /// No temporary object (pod, credentials Secret, prime PVC — all carry Ferry's owner label) is left in the
        /// work namespace.
        func workNamespaceIsClean(_ namespace: String = "ferry-system") async throws -> Bool {
            let ours: (ObjectMeta) -> Bool = { $0.labels[PopulatingNames.ownerUIDLabel] != nil }
            let pods = try await client.list(Pod.self, namespace: namespace).items.filter { ours($0.metadata) }
            let secrets = try await client.list(Secret.self, namespace: namespace).items.filter { ours($0.metadata) }
            let claims = try await client.list(PersistentVolumeClaim.self, namespace: namespace).items
            return pods.isEmpty && secrets.isEmpty && claims.filter { $0.name.hasPrefix("ferry-prime-") || ours($0.metadata) }.isEmpty
        }
    }

    /// The restored tree against the fixture's MANIFEST.md: type, mode, size, sha256 (sha256sum), symlink target.
    static func expectExact(_ root: URL, fixture: String, snapshot id: String) throws {
        let manifest = try FixtureManifest.load(fixture)
        let expected = try #require(manifest.snapshots.first { $0.id == id })
        var want: [String] = []
        for e in expected.entries {
            let mode = String(e.mode, radix: 8)
            switch e.type {
            case "d": want.append("d \(mode) \(e.path)")
            case "l": want.append("l \(e.path) -> \(e.target ?? "")")
            default: want.append("f \(mode) \(e.size ?? -1) \(e.sha256 ?? "") \(e.path)")
            }
        }
        let got = try listing(root)
        let missing = Set(want).subtracting(got).sorted()
        let extra = Set(got).subtracting(want).sorted()
        #expect(got == want.sorted(), "\(root.path) vs snapshot \(id): missing \(missing); unexpected \(extra)")
    }

    static func listing(_ root: URL) throws -> [String] {
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: root.path) else { return [] }
        var lines: [String] = []
        for case let rel as String in walker {
            let path = root.appendingPathComponent(rel).path
            let attrs = try fm.attributesOfItem(atPath: path)
            let mode = String((attrs[.posixPermissions] as? Int) ?? -1, radix: 8)
            switch attrs[.type] as? FileAttributeType {
            case .typeSymbolicLink?: lines.append("l \(rel) -> \(try fm.destinationOfSymbolicLink(atPath: path))")
            case .typeDirectory?: lines.append("d \(mode) \(rel)")
            default: lines.append("f \(mode) \((attrs[.size] as? Int) ?? -1) \(try sha256(path)) \(rel)")
            }
        }
        return lines.sorted()
    }

    static func sha256(_ path: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        p.arguments = [path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: out, as: UTF8.self).split(separator: " ").first.map(String.init) ?? "?"
    }

    static let identities = "filesystem://" + Fixtures.kopia("fs-identities").path

    @Test func aSameNamespaceClaimIsPopulatedByteExactAndEverythingTemporaryGoes() async throws {
        try await Cluster.with { c in
            try await c.repositorySecret(repository: Self.identities)
            try await c.kopiaSnapshot("webapp", ["sourceIdentity": ["sourceName": "webapp-backup"]])
            try await c.claim("webapp-data", in: "production", source: "webapp", sourceNamespace: nil)
            let bound = try await c.waitBound("webapp-data", "production")
            #expect(bound.metadata.annotations[PopulatingNames.pinnedSnapshotAnnotation] == "8acd6104b18c10046f4878a3f3284e18")
            let (pv, dir) = try await c.volumeDirectory(bound)
            try Self.expectExact(dir, fixture: "fs-identities", snapshot: "8acd6104b18c10046f4878a3f3284e18")
            #expect(pv.metadata.annotations[PopulatingNames.provenanceSource] == "production/webapp")
            #expect(pv.metadata.annotations[PopulatingNames.provenanceIdentity] == "webapp-backup-production@production:/data")
            #expect(await eventually(.seconds(20)) { (try? await c.workNamespaceIsClean()) == true })
            #expect(await eventually(.seconds(10)) {
                (try? await c.client.get(PersistentVolume.self, name: pv.name).spec.persistentVolumeReclaimPolicy) == "Delete"
            })
            // PopulatorFinished is posted after the clean-up it reports, so it may trail what was just checked.
            let wanted = ["SnapshotChosen", "PopulatorCreated", "Populated", "PopulatorFinished"]
            _ = await eventually(.seconds(10)) {
                let seen = ((try? await c.events("webapp-data", "production")) ?? []).compactMap(\.reason)
                return wanted.allSatisfy(seen.contains)
            }
            let reasons = try await c.events("webapp-data", "production").compactMap(\.reason)
            for r in wanted { #expect(reasons.contains(r), "\(reasons)") }
            let ks = try await c.client.get(KopiaSnapshot.self, name: "webapp", namespace: "production")
            #expect(ks.status.conditions.first?.reason == "Ready")
            #expect(ks.status.snapshotsFound == 3)
        }
    }

    @Test func aCrossNamespaceClaimWaitsForTheGrantThenBindsAndTheSecretNeverReachesItsNamespace() async throws {
        try await Cluster.with { c in
            try await c.repositorySecret(repository: Self.identities)
            try await c.kopiaSnapshot("webapp", ["sourceIdentity": ["sourceName": "webapp-backup"], "previous": 2])
            try await c.claim("webapp-data", in: "staging", source: "webapp", sourceNamespace: "production")
            #expect(await eventually(.seconds(10)) {
                ((try? await c.events("webapp-data", "staging")) ?? []).contains { $0.type == "Warning" && ($0.message ?? "").contains("isn't allowed") }
            })
            #expect(await c.phase("webapp-data", "staging") == "Pending")
            #expect(try await c.client.list(Pod.self, namespace: "ferry-system").items.isEmpty)
            let granted = ContinuousClock.now
            try await c.grant()
            let bound = try await c.waitBound("webapp-data", "staging")
            let grantToBound = ContinuousClock.now - granted
            print("e2e: grant → Bound in \(grantToBound)")
            #expect(grantToBound < .seconds(30))
            // previous: 2 skips v4 and v3 (v2 is deleted): v1.
            #expect(bound.metadata.annotations[PopulatingNames.pinnedSnapshotAnnotation] == "e89466437067fceda9767a7212f8c974")
            let (pv, dir) = try await c.volumeDirectory(bound)
            try Self.expectExact(dir, fixture: "fs-identities", snapshot: "e89466437067fceda9767a7212f8c974")
            #expect(pv.metadata.annotations[PopulatingNames.provenanceGrant] == "production/staging-may-restore")
            // The whole API store: the repository credentials exist only in the owner's and the work namespace.
            #expect(await eventually(.seconds(20)) { (try? await c.workNamespaceIsClean()) == true })
            let secrets = try await c.client.list(Secret.self, namespace: nil).items
            let holders = Set(secrets.filter { s in
                (s.stringData["KOPIA_PASSWORD"] ?? s.decodedData["KOPIA_PASSWORD"].map { String(decoding: $0, as: UTF8.self) }) != nil
            }.compactMap(\.namespace))
            #expect(holders == ["production"])
        }
    }

    @Test func aRepositoryOnAPVCIsReadByThePodInTheOwnersNamespace() async throws {
        try await Cluster.with { c in
            // The repository PVC: provisioned by the local driver, then filled with the fixture (as a CephFS volume would be).
            var repoClaim = PersistentVolumeClaim(name: "kopia-repository", namespace: "production")
            repoClaim.spec.accessModes = ["ReadWriteMany"]
            repoClaim.spec.storageClassName = "local"
            repoClaim.spec.resources.requests = ["storage": "1Gi"]
            _ = try await c.client.create(repoClaim)
            let repoBound = try await c.waitBound("kopia-repository", "production")
            let (_, repoDir) = try await c.volumeDirectory(repoBound)
            for item in try FileManager.default.contentsOfDirectory(atPath: Fixtures.kopia("fs-identities").path) {
                try FileManager.default.copyItem(at: Fixtures.kopia("fs-identities").appendingPathComponent(item),
                                                 to: repoDir.appendingPathComponent(item))
            }
            var s = Secret(name: "kopia-config", namespace: "production")
            s.stringData = ["KOPIA_PASSWORD": Fixtures.password]
            _ = try await c.client.create(s)
            try await c.kopiaSnapshot("webapp", ["repositoryPVC": "kopia-repository",
                                                  "sourceIdentity": ["sourceName": "db-backup"],
                                                  "restoreAsOf": "2026-11-21T00:01:05Z"])
            try await c.grant()
            try await c.claim("db-data", in: "staging", source: "webapp", sourceNamespace: "production")
            let bound = try await c.waitBound("db-data", "staging")
            #expect(bound.metadata.annotations[PopulatingNames.pinnedSnapshotAnnotation] == "32dbcc423500507044598ca3bea4a3a1")
            let (_, dir) = try await c.volumeDirectory(bound)
            try Self.expectExact(dir, fixture: "fs-identities", snapshot: "32dbcc423500507044598ca3bea4a3a1")
            #expect(await eventually(.seconds(20)) { (try? await c.workNamespaceIsClean("production")) == true })
        }
    }

    @Test func aWrongPasswordKeepsTheClaimPendingWithAWarningAndNoPod() async throws {
        try await Cluster.with { c in
            var s = Secret(name: "kopia-config", namespace: "production")
            s.stringData = ["KOPIA_REPOSITORY": Self.identities, "KOPIA_PASSWORD": "wrong"]
            _ = try await c.client.create(s)
            try await c.kopiaSnapshot("webapp", ["sourceIdentity": ["sourceName": "webapp-backup"]])
            try await c.claim("webapp-data", in: "production", source: "webapp", sourceNamespace: nil)
            #expect(await eventually(.seconds(20)) {
                ((try? await c.events("webapp-data", "production")) ?? []).contains { $0.reason == "WrongPassword" }
            })
            #expect(await c.phase("webapp-data", "production") == "Pending")
            #expect(try await c.workNamespaceIsClean())
            let ks = try await c.client.get(KopiaSnapshot.self, name: "webapp", namespace: "production")
            #expect(ks.status.conditions.first?.reason == "WrongPassword")
        }
    }
}

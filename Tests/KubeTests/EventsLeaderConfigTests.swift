import CurlHTTP
import Foundation
import HTTPTestSupport
import Kube
import KubeTestSupport
import Logging
import Testing

struct EventRecorderTests {
    @Test func repeatedEventsAreFoldedWithCounts() async throws {
        let f = try Fixture()
        let pvc = try await f.client.create(Fixture.pvc("e", "default"))
        let recorder = EventRecorder(client: f.client, component: "ferry", logger: Logger(label: "t"))
        for _ in 0..<3 {
            await recorder.record(pvc, type: .warning, reason: "GrantMissing", message: "no ReferenceGrant in production")
        }
        await recorder.record(pvc, type: .normal, reason: "Provisioning", message: "started")
        let events = try await f.client.list(CoreEvent.self, namespace: "default",
                                             options: ListOptions(fieldSelector: "involvedObject.name=e"))
        #expect(events.items.count == 2)
        let warning = events.items.first { $0.reason == "GrantMissing" }
        #expect(warning?.count == 3)
        #expect(warning?.type == "Warning")
        #expect(warning?.involvedObject.uid == pvc.metadata.uid)
        #expect(warning?.source.component == "ferry")
    }
}

struct LeaderElectorTests {
    func elector(_ f: Fixture, _ id: String, client: KubeClient? = nil) -> LeaderElector {
        LeaderElector(client: client ?? f.client, configuration: .init(
            leaseName: "ferry", leaseNamespace: "default", identity: id, leaseDuration: .seconds(6),
            renewDeadline: .seconds(4), retryPeriod: .milliseconds(200)), logger: Logger(label: id))
        // Generous durations: under a loaded CI machine a 1.2 s renew deadline was missed during acquisition,
        // which is a test-environment artefact, not the behaviour under test.

    }

    @Test func leadershipHandsOverOnRelease() async throws {
        let f = try Fixture()
        let leading = LockedBox<[String]>([])
        let a = Task { try await elector(f, "a").run { leading.withLock { $0.append("a") }; try await Task.sleep(for: .seconds(60)) } }
        #expect(await eventually { leading.withLock { $0 } == ["a"] })
        let b = Task { try await elector(f, "b").run { leading.withLock { $0.append("b") }; try await Task.sleep(for: .seconds(60)) } }
        try await Task.sleep(for: .milliseconds(600))
        #expect(leading.withLock { $0 } == ["a"])  // b waits while a renews
        a.cancel()
        #expect(await eventually { leading.withLock { $0 } == ["a", "b"] })
        let lease = try await f.client.get(Lease.self, name: "ferry", namespace: "default")
        #expect(lease.spec.holderIdentity == "b")
        b.cancel()
        _ = await b.result
    }

    @Test func leaderThatCannotRenewLosesAndAnotherTakesOver() async throws {
        let f = try Fixture()
        f.server.addToken("a-token", for: .init(name: "a"))
        let aClient = try Fixture.client(for: f.server, credentials: .bearerToken("a-token"))
        let a = Task { try await elector(f, "a", client: aClient).run { try await Task.sleep(for: .seconds(60)) } }
        #expect(await eventually { (try? await f.client.get(Lease.self, name: "ferry", namespace: "default"))?.spec.holderIdentity == "a" })
        f.server.deny(.init(user: "a", verb: "update", resource: "leases"))
        let result = await a.result
        guard case .failure(let error as KubeError) = result else { Issue.record("expected lost leadership, got \(result)"); return }
        #expect(error.code == .leaderElection)
        let b = Task { try await elector(f, "b").run { try await Task.sleep(for: .seconds(60)) } }
        #expect(await eventually { (try? await f.client.get(Lease.self, name: "ferry", namespace: "default"))?.spec.holderIdentity == "b" })
        b.cancel()
        _ = await b.result
    }
}

struct KubeConfigTests {
    func tempDir() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("kubecfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    enum Variant: String, CaseIterable { case tokenInline, tokenFile, certFiles, certData, caDataAndToken, insecure }

    @Test(arguments: Variant.allCases)
    func kubeconfigVariantsReachTheServer(_ v: Variant) async throws {
        let server = try KubeAPIServer()
        server.addToken("t0k3n", for: .init(name: "dev"))
        let certs = server.certificates
        let dir = try tempDir()
        try "t0k3n\n".write(to: dir.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        func b64(_ name: String) throws -> String { Data(try certs.bytes(name)).base64EncodedString() }
        let cluster: String
        let user: String
        switch v {
        case .tokenInline: cluster = "certificate-authority: \(certs.caCertificate)"; user = "token: t0k3n"
        case .tokenFile: cluster = "certificate-authority: \(certs.caCertificate)"; user = "tokenFile: token"
        case .certFiles:
            cluster = "certificate-authority: \(certs.caCertificate)"
            user = "client-certificate: \(certs.aliceCertificate)\n    client-key: \(certs.aliceKey)"
        case .certData:
            cluster = "certificate-authority-data: \(try b64("ca.crt"))"
            user = "client-certificate-data: \(try b64("alice.crt"))\n    client-key-data: \(try b64("alice.key"))"
        case .caDataAndToken: cluster = "certificate-authority-data: \(try b64("ca.crt"))"; user = "token: t0k3n"
        case .insecure: cluster = "insecure-skip-tls-verify: true"; user = "token: t0k3n"
        }
        let yaml = """
            apiVersion: v1
            kind: Config
            current-context: dev
            clusters:
            - name: test
              cluster:
                server: \(server.baseURL)
                \(cluster)
            users:
            - name: dev
              user:
                \(user)
            contexts:
            - name: other
              context: {cluster: test, user: nobody}
            - name: dev
              context: {cluster: test, user: dev, namespace: team-a}
            """
        let path = dir.appendingPathComponent("config").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let config = try KubeConfig.fromKubeconfig(path: path, environment: [:])
        #expect(config.namespace == "team-a")
        let client = try KubeClient(config: config, logger: Logger(label: "t"))
        let version = try await client.serverVersion()
        #expect(version["gitVersion"]?.string?.hasPrefix("v1.36") == true)
        // KUBECONFIG is honoured when no path is given.
        let viaEnv = try KubeConfig.fromKubeconfig(environment: ["KUBECONFIG": "/nonexistent:\(path)"])
        #expect(viaEnv.server == server.baseURL)
    }

    @Test func missingContextIsAConfigurationError() throws {
        let dir = try tempDir()
        let path = dir.appendingPathComponent("config").path
        try "apiVersion: v1\nkind: Config\ncurrent-context: nope\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: KubeError.self) { _ = try KubeConfig.fromKubeconfig(path: path, environment: [:]) }
    }

    @Test func inClusterConfigRereadsARotatedToken() async throws {
        let server = try KubeAPIServer()
        server.addToken("first", for: .init(name: "system:serviceaccount:ferry:ferry"))
        let sa = try tempDir()
        try "first".write(to: sa.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        try "ferry".write(to: sa.appendingPathComponent("namespace"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: server.certificates.caCertificate, toPath: sa.appendingPathComponent("ca.crt").path)
        let config = try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "127.0.0.1",
                                                            "KUBERNETES_SERVICE_PORT": "\(server.port)"],
                                              serviceAccountDirectory: sa.path)
        #expect(config.namespace == "ferry")
        let client = try KubeClient(config: config, logger: Logger(label: "t"))
        _ = try await client.serverVersion()
        // Rotation: the old token stops working, the file gets the new one.
        server.addToken("second", for: .init(name: "system:serviceaccount:ferry:ferry"))
        server.removeToken("first")
        try "second".write(to: sa.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        _ = try await client.serverVersion()
        _ = try await client.list(Pod.self, namespace: "default")
        #expect(throws: KubeError.self) { _ = try KubeConfig.inCluster(environment: [:]) }
    }
}

struct AccessReviewTests {
    @Test func canIReflectsTheServersRules() async throws {
        let f = try Fixture()
        f.server.deny(.init(user: "admin", verb: "create", resource: "pods", namespace: "ferry"))
        #expect(try await f.client.canI("create", group: "", resource: "pods", namespace: "default").allowed)
        let denied = try await f.client.canI("create", group: "", resource: "pods", namespace: "ferry")
        #expect(!denied.allowed)
        #expect(denied.reason != nil)
    }
}

import CSI
import CSITestSupport
import FerryControllers
import Foundation
import Kube
import KubeTestSupport
import HTTPTestSupport
import Testing

/// `ferry controller` as a process: flags, startup, provisioning, /metrics /healthz /readyz, graceful SIGTERM,
/// leader election between two replicas.
@Suite(.serialized)
struct ControllerProcessTests {
    static var binary: URL {
        if let override = ProcessInfo.processInfo.environment["FERRY_BINARY"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        var dir = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("ferry")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/ferry")
    }

    final class Replica: @unchecked Sendable {  // @unchecked: Process is used from the test task only
        let process = Process()
        let log: URL
        init(args: [String], log: URL) throws {
            self.log = log
            process.executableURL = ControllerProcessTests.binary
            process.arguments = ["controller"] + args
            FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            var env = ProcessInfo.processInfo.environment
            env["FERRY_LOG_LEVEL"] = "info"
            process.environment = env
            try process.run()
        }
        var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
        func terminate() { if process.isRunning { kill(process.processIdentifier, SIGTERM) } }
        func killHard() { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        func wait(_ timeout: Duration = .seconds(10)) async -> Int32? {
            let end = ContinuousClock.now + timeout
            while process.isRunning, ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(20)) }
            return process.isRunning ? nil : process.terminationStatus
        }
    }

    static func kubeconfig(_ server: KubeAPIServer, dir: URL, token: String = ControllerIntegrationTests.token) throws -> String {
        let path = dir.appendingPathComponent("kubeconfig").path
        let text = """
            apiVersion: v1
            kind: Config
            clusters: [{name: test, cluster: {server: "\(server.baseURL)", certificate-authority: "\(server.certificates.caCertificate)"}}]
            users: [{name: admin, user: {token: \(token)}}]
            contexts: [{name: test, context: {cluster: test, user: admin, namespace: ferry-system}}]
            current-context: test
            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func httpGet(_ url: String) -> (Int, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        p.arguments = ["-s", "-m", "2", "-w", "\n%{http_code}", url]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return (0, "") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    /// A port nothing listens on: the kernel picks it (bind to port 0), the socket is closed and the port handed to
    /// the replica. A random port in 20000-40000 overlapped the ephemeral range (32768-60999) and was taken by
    /// another suite's connection under load ("cannot listen on 127.0.0.1:38694: Address already in use").
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return Int.random(in: 20_000...30_000) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { return Int.random(in: 20_000...30_000) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test func theControllerProcessProvisionsServesHealthAndStopsOnSIGTERM() async throws {
        let h = try await ControllerIntegrationTests.Harness()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-ctl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try await h.client.create(Namespace(name: "ferry-system"))
        var sc = StorageClass(name: "fast")
        sc.provisioner = h.driver.configuration.name
        sc.volumeBindingMode = "Immediate"
        _ = try await h.client.create(sc)
        try await h.snapshot("snap", handle: "snap-handle-1")
        try await h.link("link", to: "snap")
        try await h.grant()
        let claim = try await h.claim("claim", link: "link")

        let port = Self.freePort()
        let replica = try Replica(args: ["--csi-address", "unix://" + h.served.socketPath, "--kubeconfig", try Self.kubeconfig(h.server, dir: dir),
                                         "--http-endpoint", "127.0.0.1:\(port)", "--retry-interval-start", "100ms",
                                         "--feature-gates", "CrossNamespaceVolumeDataSource=true"],
                                  log: dir.appendingPathComponent("log"))
        defer { replica.killHard() }
        #expect(await eventually(.seconds(20)) { await h.volume(for: claim) != nil }, "\(replica.output)")
        #expect(Self.httpGet("http://127.0.0.1:\(port)/healthz").0 == 200)
        #expect(await eventually { Self.httpGet("http://127.0.0.1:\(port)/readyz").0 == 200 })
        let metrics = Self.httpGet("http://127.0.0.1:\(port)/metrics")
        #expect(metrics.0 == 200)
        #expect(metrics.1.contains("ferry_volumes_provisioned_total{source=\"VolumeSnapshot\"} 1"))
        #expect(metrics.1.contains("cross_namespace_persistentvolumeclaim_provision_total 1"))
        #expect(Self.httpGet("http://127.0.0.1:\(port)/nope").0 == 404)
        // The test API server runs with CrossNamespaceVolumeDataSource off (the upstream default), so it drops a
        // namespaced dataSourceRef: the startup probe must say so, with the way out.
        #expect(replica.output.contains("API server DROPS a namespaced dataSourceRef"))
        #expect(replica.output.contains("use a ferry.io/DataSourceLink"))
        replica.terminate()
        #expect(await replica.wait() == 0, "\(replica.output)")
        await h.stop()
    }

    @Test func badFlagsAreUsageErrorsWithOneClearLine() async throws {
        let replica = try Replica(args: ["--timeout", "ten seconds"], log: FileManager.default.temporaryDirectory.appendingPathComponent("ferry-badflag-\(UUID().uuidString)"))
        #expect(await replica.wait() == 2)
        #expect(replica.output.contains("--timeout: invalid duration ten seconds"))
    }

    @Test func twoReplicasElectOneLeaderAndTheStandbyTakesOverAfterAKill() async throws {
        let h = try await ControllerIntegrationTests.Harness()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-ctl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try await h.client.create(Namespace(name: "ferry-system"))
        let config = try Self.kubeconfig(h.server, dir: dir)
        // Lease 4 s, renew deadline 3 s: with a 2 s lease a holder starved of CPU for 2 s on a loaded machine (load
        // 12-18) legitimately lost its lease to the standby, which is leader election working, not the behaviour
        // under test.
        func start(_ name: String) throws -> Replica {
            try Replica(args: ["--csi-address", "unix://" + h.served.socketPath, "--kubeconfig", config, "--leader-election",
                               "--identity", name, "--leader-election-lease-duration", "4s", "--leader-election-renew-deadline", "3s",
                               "--leader-election-retry-period", "200ms"],
                        log: dir.appendingPathComponent(name))
        }
        func holder() async -> String? {
            (try? await h.client.get(Lease.self, name: "ferry-ferry-test-csi", namespace: "ferry-system"))?.spec.holderIdentity
        }
        let a = try start("replica-a")
        defer { a.killHard() }
        // The standby starts once replica-a holds the lease (a fixed 500 ms head start was not enough for a slow
        // start-up under load: replica-b then took the lease first).
        #expect(await eventually(.seconds(30)) { await holder() == "replica-a" }, "\(a.output)")
        let b = try start("replica-b")
        defer { b.killHard() }
        // replica-b has found the driver (its start-up checks end moments later and it campaigns, every 200 ms):
        // two seconds on, it has not taken the held lease.
        #expect(await eventually(.seconds(30)) { b.output.contains("CSI driver ready") }, "\(b.output)")
        try await Task.sleep(for: .seconds(2))
        let stillA = await holder()
        #expect(stillA == "replica-a")  // the standby does not take a held lease
        let killed = ContinuousClock.now
        a.killHard()
        #expect(await eventually(.seconds(30)) { await holder() == "replica-b" }, "\(b.output)")
        print("hand-over after SIGKILL: \(ContinuousClock.now - killed) (lease duration 4 s)")
        b.terminate()
        #expect(await b.wait() == 0)
        // A graceful stop releases the lease.
        let released = await holder()
        #expect(released == nil || released == "")
        await h.stop()
    }
}

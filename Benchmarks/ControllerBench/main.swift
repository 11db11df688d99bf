// controller-bench: Ferry's controller runtime against the in-process test API server (HTTPS) and the test CSI
// driver (Unix socket). Run with Benchmarks/bench-controller.sh; figures go in the controller note.
//
// 1. N claims (default 1,000) through DataSourceLinks to snapshots in other namespaces (grants in place): time from
//    controller start until every claim's PV exists (pre-bound; binding is the PV binder's job), with Ferry's
//    defaults (200 QPS / burst 400), tuned (2,000 / 4,000), and with external-provisioner's client defaults (5 QPS / burst 10) measured on a
//    sample and extrapolated.
// 2. Grant-to-provisioning-start latency: claims wait for a grant; each grant is created alone and the time until
//    the driver receives that claim's CreateVolume is measured (p50, p99).
// 3. RSS of a `ferry controller --standalone` process with M claims (default 10,000) cached.
// 4. A burst of B claims (default 1,000) created while the controller runs (caches synced, grants in place): time
//    from the first claim's create to the last PV, and per-claim latency (claim POST → its PV seen by a watch).
//    `--paced-only --burst 200 --rate 20`: claims trickle in; prints reconciles per kind and work-queue adds by cause.
// 5. The compact cache against the decoded one (`InformerStorage`), same run: --ab-runs pairs of throughput runs.
import CSI
import CurlHTTP
import CSITestSupport
import FerryControllers
import Foundation
import Kube
import KubeTestSupport
import HTTPTestSupport
import Logging

@main
struct ControllerBench {
    static let token = "bench-token"

    static func main() async throws {
        let args = CommandLine.arguments
        if args.contains("--help") || args.contains("-h") {
            print("""
                usage: controller-bench [--claims N] [--latency-samples N] [--cached N] [--slow-sample N] [--burst N]
                                        [--ab-runs N] [--rate R] [--paced-only]
                  --claims N           claims created before the controller starts (throughput runs; default 1000)
                  --latency-samples N  grants created one by one, grant → CreateVolume latency (default 100)
                  --cached N           claims cached by a `ferry controller --standalone` for the RSS run (default 10000)
                  --slow-sample N      claims measured at external-provisioner's 5 QPS / burst 10 (default 40)
                  --burst N            claims created while the controller runs: as fast as 8 clients can (default and
                                       tuned QPS), then min(N, 200) paced at --rate claims/s (default 1000; 0 = none)
                  --rate R             arrival rate of the paced run, claims per second (default 20)
                  --paced-only         only the paced run (N = --burst), e.g. `--paced-only --burst 200 --rate 20`
                  --ab-runs N          pairs of throughput runs, compact vs decoded informer cache (default 0)
                Every burst/paced run prints reconciles per kind and outcome and the work-queue adds by cause.
                """)
            return
        }
        func value(_ flag: String, _ fallback: Int) -> Int {
            guard let i = args.firstIndex(of: flag), i + 1 < args.count, let v = Int(args[i + 1]) else { return fallback }
            return v
        }
        let claims = value("--claims", 1000)
        let latencySamples = value("--latency-samples", 100)
        let cached = value("--cached", 10_000)
        let slowSample = value("--slow-sample", 40)
        let burst = value("--burst", 1000)
        let abRuns = value("--ab-runs", 0)
        let rate = Double(value("--rate", 20))
        if args.contains("--paced-only") {
            try await burstWhileRunning(claims: burst, qps: 200, burst: 400, label: "ferry defaults, \(Int(rate)) claims/s",
                                        perSecond: rate)
            return
        }
        try await provisioningThroughput(claims: claims, qps: 200, burst: 400, label: "ferry defaults (200 QPS, burst 400)")
        try await provisioningThroughput(claims: claims, qps: 2000, burst: 4000, label: "tuned (2000 QPS, burst 4000)")
        try await provisioningThroughput(claims: slowSample, qps: 5, burst: 10, label: "external-provisioner client defaults (5 QPS, burst 10)",
                                         extrapolateTo: claims)
        if latencySamples > 0 { try await grantLatency(samples: latencySamples) }
        if cached > 0 { try await residentMemory(claims: cached) }
        if burst > 0 {
            try await burstWhileRunning(claims: burst, qps: 200, burst: 400, label: "ferry defaults (200 QPS, burst 400)")
            try await burstWhileRunning(claims: burst, qps: 2000, burst: 4000, label: "tuned (2000 QPS, burst 4000)")
            // Paced arrivals (no backlog): the latency one claim sees when the controller is not busy.
            try await burstWhileRunning(claims: min(burst, 200), qps: 200, burst: 400, label: "ferry defaults, \(Int(rate)) claims/s",
                                        perSecond: rate)
        }
        for _ in 0..<abRuns {
            for storage in [InformerStorage.compact, .decoded] {
                try await provisioningThroughput(claims: claims, qps: 200, burst: 400, label: "ferry defaults, \(storage) cache",
                                                 storage: storage)
            }
        }
    }

    // MARK: Fixture

    struct World {
        let server: KubeAPIServer
        let client: KubeClient
        let driver: TestCSIDriver
        let served: ServedTestDriver
        let logger: Logger

        init() async throws {
            server = try KubeAPIServer(installCRDs: true, bookmarkInterval: .seconds(5))
            server.addToken(ControllerBench.token, for: .init(name: "admin"))
            let config = KubeConfig(server: server.baseURL,
                                    tls: TLSOptions(certificateAuthority: .file(server.certificates.caCertificate)),
                                    credentials: .bearerToken(ControllerBench.token), requestTimeout: .seconds(60))
            var logger = Logger(label: "bench")
            logger.logLevel = .error
            self.logger = logger
            client = try KubeClient(config: config, logger: logger)
            driver = TestCSIDriver()
            served = try driver.serve(node: false)
            var sc = StorageClass(name: "fast")
            sc.provisioner = driver.configuration.name
            sc.volumeBindingMode = "Immediate"
            _ = try await client.create(sc)
        }

        func stop() async { await served.stop(); server.stop() }

        func snapshot(_ name: String, ns: String) async throws {
            let handle = "h-\(ns)-\(name)"
            driver.addSnapshot(Snapshot(sizeBytes: 1 << 30, snapshotId: handle, sourceVolumeId: "src", readyToUse: true))
            var vs = VolumeSnapshot(name: name, namespace: ns)
            vs.spec.source.persistentVolumeClaimName = "data"
            vs = try await client.create(vs)
            var vsc = VolumeSnapshotContent(name: "c-\(ns)-\(name)")
            vsc.spec.driver = driver.configuration.name
            vsc.spec.deletionPolicy = "Delete"
            vsc.spec.source = JSONMap(object: ["snapshotHandle": .string(handle)])
            vsc.spec.volumeSnapshotRef = ObjectReference(kind: "VolumeSnapshot", namespace: ns, name: name, uid: vs.metadata.uid)
            vsc = try await client.create(vsc)
            vsc.status.snapshotHandle = handle
            vsc.status.readyToUse = true
            _ = try await client.updateStatus(vsc)
            vs.status.boundVolumeSnapshotContentName = vsc.name
            vs.status.readyToUse = true
            vs.status.restoreSize = "1Gi"
            _ = try await client.updateStatus(vs)
        }

        func grant(in ns: String, from: String, name: String = "allow") async throws {
            var g = ReferenceGrant(name: name, namespace: ns)
            var f = ReferenceGrantFrom(); f.group = ""; f.kind = "PersistentVolumeClaim"; f.namespace = from
            var t = ReferenceGrantTo(); t.group = "snapshot.storage.k8s.io"; t.kind = "VolumeSnapshot"
            g.spec.from = [f]; g.spec.to = [t]
            _ = try await client.create(g)
        }

        func linkedClaim(_ name: String, ns: String, snapshot: String, snapshotNamespace: String) async throws -> PersistentVolumeClaim {
            var l = DataSourceLink(name: name, namespace: ns)
            var ref = TypedObjectReference()
            ref.apiGroup = "snapshot.storage.k8s.io"; ref.kind = "VolumeSnapshot"; ref.name = snapshot; ref.namespace = snapshotNamespace
            l.spec.sourceRef = ref
            _ = try await client.create(l)
            var c = PersistentVolumeClaim(name: name, namespace: ns)
            c.spec.accessModes = ["ReadWriteOnce"]
            c.spec.storageClassName = "fast"
            c.spec.resources.requests = ["storage": "1Gi"]
            var r = TypedObjectReference(); r.apiGroup = "ferry.io"; r.kind = "DataSourceLink"; r.name = name
            c.spec.dataSourceRef = r
            return try await client.create(c)
        }

        func controller(qps: Double, burst: Int, workers: Int = 10, storage: InformerStorage = .compact) -> (InformerCache, Controller) {
            let cache = InformerCache(client: client, served: .init(links: true, grantVersion: "v1beta1", snapshots: true),
                                      storage: storage, logger: logger)
            let context = ReconcileContext(
                kube: RateLimitedKube(LiveKube(client: client), qps: qps, burst: burst), cache: cache, csi: served.controller,
                feedback: Feedback(sink: EventRecorder(client: client, component: "ferry", logger: logger)),
                metrics: ControllerMetrics(),
                configuration: ControllerConfiguration(driver: DriverCapabilities(name: driver.configuration.name),
                                                       retryIntervalStart: .milliseconds(100), retryIntervalMax: .seconds(5),
                                                       workers: workers),
                logger: logger)
            let controller = Controller(context: context)
            controller.register(cache)
            return (cache, controller)
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// `sources` production namespaces, each with a ready snapshot "snap" and a grant to every team namespace
    /// team-0…team-9, and those team namespaces.
    static func seedSourcesAndTeams(_ w: World, sources: Int) async throws {
        for s in 0..<sources {
            let ns = "prod-\(s)"
            _ = try await w.client.create(Namespace(name: ns))
            try await w.snapshot("snap", ns: ns)
            for t in 0..<10 { try await w.grant(in: ns, from: "team-\(t)", name: "allow-team-\(t)") }
        }
        for t in 0..<10 { _ = try await w.client.create(Namespace(name: "team-\(t)")) }
    }

    // MARK: 1. Throughput

    static func provisioningThroughput(claims n: Int, qps: Double, burst: Int, label: String, extrapolateTo: Int? = nil,
                                       storage: InformerStorage = .compact) async throws {
        let w = try await World()
        let sources = 10
        try await seedSourcesAndTeams(w, sources: sources)
        for i in 0..<n {
            _ = try await w.linkedClaim("claim-\(i)", ns: "team-\(i % 10)", snapshot: "snap", snapshotNamespace: "prod-\(i % sources)")
        }
        let (cache, controller) = w.controller(qps: qps, burst: burst, storage: storage)
        let requestsBefore = w.server.requests.count
        let clock = ContinuousClock()
        let start = clock.now
        let run = Task { await withTaskGroup(of: Void.self) { g in
            g.addTask { await cache.run() }
            g.addTask { await cache.waitForSync(); await controller.run() }
        } }
        var done = 0
        while done < n {
            try await Task.sleep(for: .milliseconds(50))
            done = w.server.count(PersistentVolume.resourceType)
            if clock.now - start > .seconds(1800) { break }
        }
        let elapsed = clock.now - start
        run.cancel()
        let volumes = w.driver.volumes.count
        var line = "throughput [\(label)]: \(done)/\(n) claims provisioned (PV created) in \(String(format: "%.2f", seconds(elapsed))) s"
            + " = \(String(format: "%.0f", Double(done) / seconds(elapsed))) claims/s; driver volumes \(volumes)"
        if let total = extrapolateTo, done > 0 {
            line += "; \(total) claims would take ≈ \(String(format: "%.0f", seconds(elapsed) * Double(total) / Double(done))) s"
        }
        print(line)
        print("  API requests per claim during the run: " + requestBreakdown(Array(w.server.requests.dropFirst(requestsBefore)), claims: max(done, 1)))
        await w.stop()
    }

    /// "1.00 POST persistentvolumes, 1.00 PUT datasourcelinks/status, …" (requests per claim, largest first).
    static func requestBreakdown(_ requests: [String], claims: Int) -> String {
        var counts: [String: Int] = [:]
        for r in requests {
            let parts = r.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let method = String(parts[0])
            let full = String(parts[1])
            let watch = full.contains("watch=")
            let path = full.split(separator: "?").first.map(String.init) ?? full
            let c = path.split(separator: "/").map(String.init)
            var resource = "?"
            if let i = c.firstIndex(of: "namespaces"), i + 2 < c.count {
                resource = c[i + 2]
                if c.last == "status" { resource += "/status" }
            } else if c.first == "api", c.count >= 3 {
                resource = c[2]
            } else if c.first == "apis", c.count >= 4 {
                resource = c[3]
                if c.last == "status" { resource += "/status" }
            }
            counts["\(watch ? "WATCH" : method) \(resource)", default: 0] += 1
        }
        return counts.sorted { $0.value > $1.value }.prefix(10)
            .map { String(format: "%.2f", Double($0.value) / Double(claims)) + " " + $0.key }.joined(separator: ", ")
    }

    // MARK: 2. Grant latency

    static func grantLatency(samples: Int) async throws {
        let w = try await World()
        _ = try await w.client.create(Namespace(name: "staging"))
        var claimUIDs: [String] = []
        for i in 0..<samples {
            let ns = "src-\(i)"
            _ = try await w.client.create(Namespace(name: ns))
            try await w.snapshot("snap", ns: ns)
            let c = try await w.linkedClaim("claim-\(i)", ns: "staging", snapshot: "snap", snapshotNamespace: ns)
            claimUIDs.append(c.metadata.uid ?? "")
        }
        let (cache, controller) = w.controller(qps: 200, burst: 400)
        let run = Task { await withTaskGroup(of: Void.self) { g in
            g.addTask { await cache.run() }
            g.addTask { await cache.waitForSync(); await controller.run() }
        } }
        // Let every claim reach its waiting state (one denial event each).
        try await Task.sleep(for: .seconds(2))
        let requestsBefore = w.server.requests.count
        let clock = ContinuousClock()
        var latencies: [Double] = []
        for i in 0..<samples {
            let name = "pvc-\(claimUIDs[i])"
            let start = clock.now
            try await w.grant(in: "src-\(i)", from: "staging")
            while !w.driver.requests("CreateVolume", as: CreateVolumeRequest.self).contains(where: { $0.name == name }) {
                try await Task.sleep(for: .microseconds(200))
                if clock.now - start > .seconds(60) { break }
            }
            latencies.append(seconds(clock.now - start) * 1000)
        }
        run.cancel()
        latencies.sort()
        func pct(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        print("grant-to-CreateVolume latency over \(samples) grants: p50 \(String(format: "%.1f", pct(0.5))) ms, "
              + "p99 \(String(format: "%.1f", pct(0.99))) ms, max \(String(format: "%.1f", latencies.last ?? 0)) ms "
              + "(external-provisioner: next backoff retry, up to 300 s with --retry-interval-max=5m)")
        print("  API requests per grant while measuring: "
              + requestBreakdown(Array(w.server.requests.dropFirst(requestsBefore)), claims: max(samples, 1)))
        printWakeCounts(controller, claims: samples)
        await w.stop()
    }

    // MARK: 3. Memory

    static func residentMemory(claims n: Int) async throws {
        let w = try await World()
        _ = try await w.client.create(Namespace(name: "ferry-system"))
        for t in 0..<10 { _ = try await w.client.create(Namespace(name: "app-\(t)")) }
        for i in 0..<n {
            var c = PersistentVolumeClaim(name: "claim-\(i)", namespace: "app-\(i % 10)")
            c.metadata.labels = ["app": "bench", "index": "\(i)"]
            c.spec.accessModes = ["ReadWriteOnce"]
            c.spec.storageClassName = "fast"
            c.spec.resources.requests = ["storage": "1Gi"]
            c.spec.volumeName = "pv-\(i)"
            _ = try await w.client.create(c)
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let kubeconfig = dir.appendingPathComponent("kubeconfig").path
        try """
            apiVersion: v1
            kind: Config
            clusters: [{name: b, cluster: {server: "\(w.server.baseURL)", certificate-authority: "\(w.server.certificates.caCertificate)"}}]
            users: [{name: a, user: {token: \(token)}}]
            contexts: [{name: b, context: {cluster: b, user: a, namespace: ferry-system}}]
            current-context: b
            """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        let ferry = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("ferry")
        let port = Int.random(in: 20_000...40_000)
        let p = Process()
        p.executableURL = ferry
        p.arguments = ["controller", "--standalone", "--kubeconfig", kubeconfig, "--http-endpoint", "127.0.0.1:\(port)"]
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        // Ready = caches synced.
        let clock = ContinuousClock()
        let start = clock.now
        var ready = false
        while !ready, clock.now - start < .seconds(120) {
            try await Task.sleep(for: .milliseconds(100))
            let curl = Process()
            curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            curl.arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/readyz"]
            let pipe = Pipe()
            curl.standardOutput = pipe
            try curl.run()
            curl.waitUntilExit()
            ready = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "200"
        }
        try await Task.sleep(for: .seconds(2))
        let status = (try? String(contentsOfFile: "/proc/\(p.processIdentifier)/status", encoding: .utf8)) ?? ""
        let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }.map(String.init) ?? "VmRSS: unknown"
        let hwm = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }.map(String.init) ?? ""
        let split = status.split(separator: "\n").filter { $0.hasPrefix("RssAnon:") || $0.hasPrefix("RssFile:") }
            .map { $0.replacingOccurrences(of: "\t", with: " ").split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
            .joined(separator: ", ")
        print("ferry controller --standalone with \(n) claims cached: ready after \(String(format: "%.1f", seconds(clock.now - start))) s; \(rss.replacingOccurrences(of: "\t", with: " ")); peak \(hwm.replacingOccurrences(of: "\t", with: " ")); \(split)")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        await w.stop()
    }

    // MARK: 4. Burst while running

    /// - Parameter perSecond: arrival rate (claim POSTs started per second); nil = as fast as 8 clients can.
    static func burstWhileRunning(claims n: Int, qps: Double, burst: Int, label: String, perSecond: Double? = nil) async throws {
        let w = try await World()
        let sources = 10
        try await seedSourcesAndTeams(w, sources: sources)
        let (cache, controller) = w.controller(qps: qps, burst: burst)
        let run = Task { await withTaskGroup(of: Void.self) { g in
            g.addTask { await cache.run() }
            g.addTask { await cache.waitForSync(); await controller.run() }
        } }
        await cache.waitForSync()
        try await Task.sleep(for: .seconds(1))
        let clock = ContinuousClock()
        // PVs as a watch sees them: claim "ns/name" → when.
        let seen = LockedBox<[String: ContinuousClock.Instant]>([:])
        let pvs = try await w.client.list(PersistentVolume.self, namespace: nil)
        let stream = try await w.client.watch(PersistentVolume.self, namespace: nil,
                                              options: WatchOptions(resourceVersion: pvs.resourceVersion, timeoutSeconds: 600))
        let watcher = Task {
            for try await e in stream {
                if case .added(let pv) = e, let ref = pv.spec.claimRef {
                    let now = clock.now
                    seen.withLock { $0["\(ref.namespace ?? "")/\(ref.name ?? "")"] = now }
                }
            }
        }
        // Create the claims (each with its link) from 8 tasks, as fast as the API server takes them.
        let created = LockedBox<[String: ContinuousClock.Instant]>([:])
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for i in stride(from: worker, to: n, by: 8) {
                        if let perSecond { try await Task.sleep(until: start + .seconds(Double(i) / perSecond), clock: clock) }
                        let ns = "team-\(i % 10)"
                        var l = DataSourceLink(name: "burst-\(i)", namespace: ns)
                        var ref = TypedObjectReference()
                        ref.apiGroup = "snapshot.storage.k8s.io"; ref.kind = "VolumeSnapshot"; ref.name = "snap"
                        ref.namespace = "prod-\(i % sources)"
                        l.spec.sourceRef = ref
                        _ = try await w.client.create(l)
                        var c = PersistentVolumeClaim(name: "burst-\(i)", namespace: ns)
                        c.spec.accessModes = ["ReadWriteOnce"]
                        c.spec.storageClassName = "fast"
                        c.spec.resources.requests = ["storage": "1Gi"]
                        var r = TypedObjectReference(); r.apiGroup = "ferry.io"; r.kind = "DataSourceLink"; r.name = l.name
                        c.spec.dataSourceRef = r
                        let t = clock.now
                        _ = try await w.client.create(c)
                        created.withLock { $0["\(ns)/\(c.name)"] = t }
                    }
                }
            }
            try await group.waitForAll()
        }
        let allCreated = clock.now
        while seen.withLock({ $0.count }) < n, clock.now - start < .seconds(600) { try await Task.sleep(for: .milliseconds(5)) }
        let end = clock.now
        watcher.cancel()
        run.cancel()
        let c = created.withLock { $0 }
        let s = seen.withLock { $0 }
        var latencies = c.compactMap { key, t in s[key].map { seconds($0 - t) * 1000 } }.sorted()
        if latencies.isEmpty { latencies = [0] }
        func pct(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        let last = s.values.max().map { seconds($0 - start) } ?? 0
        print("burst while running [\(label)]: \(n) claims created in \(String(format: "%.2f", seconds(allCreated - start))) s by 8 clients; "
              + "\(s.count)/\(n) PVs, the last \(String(format: "%.2f", last)) s after the first create "
              + "(waited \(String(format: "%.2f", seconds(end - start))) s); claim POST → PV: p50 \(String(format: "%.1f", pct(0.5))) ms, "
              + "p99 \(String(format: "%.1f", pct(0.99))) ms, max \(String(format: "%.1f", latencies.last ?? 0)) ms")
        printWakeCounts(controller, claims: n)
        await w.stop()
    }

    /// Reconciles per kind and outcome, work-queue adds by cause, and updates the WakeFilter dropped.
    static func printWakeCounts(_ controller: Controller, claims n: Int) {
        let metrics = controller.context.metrics.render().split(separator: "\n").map(String.init)
        let outcomes = metrics.filter { $0.hasPrefix("ferry_operations_total") }.map { $0.replacingOccurrences(of: "ferry_operations_total", with: "") }
        print("  reconcile outcomes: " + outcomes.joined(separator: ", "))
        // Reconciles per kind (all outcomes), per claim: the amplification (ideal ≈ 1–3 per object).
        var perKind: [String: Double] = [:]
        for line in outcomes {
            guard let kind = line.split(separator: "\"").dropFirst().first, let value = line.split(separator: " ").last.flatMap({ Double($0) })
            else { continue }
            perKind[String(kind), default: 0] += value
        }
        print("  reconciles: " + ["claim", "link", "source"].map { "\($0) \(Int(perKind[$0] ?? 0)) (\(String(format: "%.2f", (perKind[$0] ?? 0) / Double(max(n, 1)))) per claim)" }
            .joined(separator: ", "))
        let adds = metrics.filter { $0.hasPrefix("ferry_workqueue_adds_total{") }.map { $0.replacingOccurrences(of: "ferry_workqueue_adds_total", with: "") }
        print("  work-queue adds by cause: " + adds.sorted().joined(separator: ", "))
        let filtered = metrics.filter { $0.hasPrefix("ferry_informer_events_filtered_total{") }
            .map { $0.replacingOccurrences(of: "ferry_informer_events_filtered_total", with: "") }
        print("  informer updates that woke nothing (WakeFilter): " + (filtered.isEmpty ? "none counted" : filtered.sorted().joined(separator: ", ")))
    }
}

import Foundation
import Kube
import KopiaTestSupport
import LocalCluster
import Logging
import Synchronization
import Testing

/// A local control plane (API server and every default component: CSI driver `local.csi.ferry.io` with fault
/// hooks, PV binder, external-provisioner, snapshot controller, scheduler, kubelet) with the real `ferry controller`
/// process beside it, driven with kubectl like a user would. The API server's CrossNamespaceVolumeDataSource gate is
/// off (a managed cluster): Ferry's DataSourceLinks are the way across namespaces.
///
/// Shared by one suite through ``ControllerClusterTrait`` (`@Suite(.controllerCluster)`), reached in tests as
/// `ControllerCluster.current`.
final class ControllerCluster: Sendable {
    @TaskLocal static var current: ControllerCluster?

    let instance: LocalClusterInstance
    let directory: URL
    let faults: CSIFaults
    let client: KubeClient
    let controller: FerryProcess
    /// Flags every `ferry controller` of this cluster gets.
    let controllerArguments: [String]

    static let repositoryRoot = Fixtures.packageRoot

    /// The built `ferry` executable (beside the test bundle), or `FERRY_BINARY`.
    static var ferryBinary: String {
        if let override = ProcessInfo.processInfo.environment["FERRY_BINARY"], !override.isEmpty { return override }
        var dir = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("ferry")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
            dir = dir.deletingLastPathComponent()
        }
        return repositoryRoot.appendingPathComponent(".build/debug/ferry").path
    }

    /// Starts the cluster, installs Ferry's CRDs with kubectl, and starts `ferry controller` unless `startController`
    /// is false (crash tests start their own).
    init(startController: Bool = true, extraControllerArguments: [String] = []) async throws {
        directory = URL(fileURLWithPath: "/tmp/ferry-e2e-ctl-\(UInt32.random(in: 0...UInt32.max))")
        faults = CSIFaults()
        var logger = Logger(label: "e2e-cluster")
        logger.logLevel = .error
        var options = LocalClusterOptions(directory: directory, csiFaults: faults)
        options.storeDumpDirectory = ProcessInfo.processInfo.environment["FERRY_STORE_DUMP_DIR"].map { URL(fileURLWithPath: $0) }
        instance = try await LocalClusterInstance.start(options: options, logger: logger)
        client = try instance.makeClient()
        controllerArguments = ["--csi-address", "unix://" + directory.appendingPathComponent("csi.sock").path,
                               "--kubeconfig", instance.kubeconfigPath.path, "--namespace", "ferry-system",
                               "--retry-interval-start", "100ms", "--retry-interval-max", "2s", "--timeout", "1s",
                               "--http-endpoint", "127.0.0.1:0"] + extraControllerArguments
        controller = FerryProcess(log: directory.appendingPathComponent("ferry-controller.log"))
        do {
            try await kubectl(["apply", "-f", Self.repositoryRoot.appendingPathComponent("helm/ferry/crds").path])
            try await kubectl(["apply", "-f", "-"], stdin: Self.baseObjects)
            if startController { try controller.start(controllerArguments) }
        } catch {
            await stop()
            throw error
        }
    }

    /// A kubeconfig for `ferry controller` as user `user` (a bearer token, no groups: deny rules apply to it).
    func tokenKubeconfig(user: String) throws -> String {
        let token = "\(user)-token-\(UInt32.random(in: 0...UInt32.max))"
        instance.server.addToken(token, for: .init(name: user))
        let path = directory.appendingPathComponent("kubeconfig-\(user)").path
        let text = """
            apiVersion: v1
            kind: Config
            clusters: [{name: local, cluster: {server: "\(instance.serverURL)", certificate-authority: "\(directory.appendingPathComponent("pki/ca.crt").path)"}}]
            users: [{name: \(user), user: {token: \(token)}}]
            contexts: [{name: local, context: {cluster: local, user: \(user), namespace: ferry-system}}]
            current-context: local
            """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Stops the controller, the cluster, and removes the cluster directory.
    func stop() async {
        await controller.stop()
        await instance.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    static let baseObjects = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: ferry-system}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: production}
        ---
        apiVersion: storage.k8s.io/v1
        kind: StorageClass
        metadata: {name: local}
        provisioner: local.csi.ferry.io
        reclaimPolicy: Delete
        volumeBindingMode: Immediate
        ---
        apiVersion: snapshot.storage.k8s.io/v1
        kind: VolumeSnapshotClass
        metadata: {name: local, annotations: {snapshot.storage.kubernetes.io/is-default-class: "true"}}
        driver: local.csi.ferry.io
        deletionPolicy: Delete
        """

    // MARK: kubectl

    /// Runs kubectl (the pinned PyPI build) against the cluster; returns its stdout. Records an issue (with stderr)
    /// on a non-zero exit unless `expectSuccess` is false. A `get` that could not reach the API server (a TLS
    /// handshake or connection timing out while the machine is overloaded) is tried again for up to a minute rather
    /// than answering "" as if the object had no such field.
    @discardableResult
    func kubectl(_ arguments: [String], stdin: String? = nil, expectSuccess: Bool = true) async throws -> String {
        let transient = ["Unable to connect to the server", "TLS handshake timeout", "connection refused", "i/o timeout",
                         "context deadline exceeded", "the server is currently unable", "Client.Timeout", "EOF"]
        let end = ContinuousClock.now + .seconds(60)
        while true {
            let (status, out, err) = try await runKubectl(arguments, stdin: stdin)
            if status != 0, arguments.first == "get", ContinuousClock.now < end,
               transient.contains(where: { err.contains($0) }) {
                print("e2e: kubectl \(arguments.prefix(3).joined(separator: " ")) failed, trying again: \(err.prefix(300))")
                try await Task.sleep(for: .milliseconds(500))
                continue
            }
            if status == 0, !err.isEmpty {
                print("e2e: kubectl \(arguments.prefix(3).joined(separator: " ")) succeeded with stderr: \(err.prefix(300))")
            }
            if expectSuccess, status != 0 {
                Issue.record("kubectl \(arguments.joined(separator: " ")) failed (\(status)): \(out)\(err)")
            }
            return out
        }
    }

    private func runKubectl(_ arguments: [String], stdin: String?) async throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["kubectl"] + arguments
        var env = ProcessInfo.processInfo.environment
        env["KUBECONFIG"] = instance.kubeconfigPath.path
        env["KUBECACHEDIR"] = directory.appendingPathComponent("kubectl-cache").path
        env["HOME"] = directory.path
        process.environment = env
        // stdout alone is the answer. client-go logs to stderr even when the command succeeds (a discovery request
        // that timed out and was retried — `memcache.go … couldn't get current server API group list` —, "Waited for
        // … due to client-side throttling", API warnings); such a line mixed into a jsonpath phase or an events JSON
        // made `phase` not "Pending" and `warnings` empty (unparseable), as if the controller had misbehaved.
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let input = Pipe()
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        // Read and wait on Dispatch threads: the cooperative pool (2 threads) also runs the in-process cluster.
        let (data, errorData) = await withCheckedContinuation { (c: CheckedContinuation<(Data, Data), Never>) in
            DispatchQueue.global().async {
                let stderrText = Mutex(Data())
                let group = DispatchGroup()
                group.enter()
                DispatchQueue.global().async {
                    let d = (try? errors.fileHandleForReading.readToEnd()) ?? Data()
                    stderrText.withLock { $0 = d }
                    group.leave()
                }
                let d = (try? output.fileHandleForReading.readToEnd()) ?? Data()
                group.wait()
                process.waitUntilExit()
                c.resume(returning: (d, stderrText.withLock { $0 }))
            }
        }
        return (process.terminationStatus, String(decoding: data, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }

    /// `kubectl apply -f -` with `yaml`.
    func apply(_ yaml: String) async throws { try await kubectl(["apply", "-f", "-"], stdin: yaml) }

    /// A claim's phase as kubectl shows it.
    func phase(_ namespace: String, _ claim: String) async throws -> String {
        try await kubectl(["get", "pvc", "-n", namespace, claim, "-o", "jsonpath={.status.phase}"], expectSuccess: false)
    }

    /// The messages of the Warning events on an object, as `kubectl get events -o json` lists them (oldest first).
    func warnings(_ namespace: String, _ name: String) async throws -> [String] {
        let text = try await kubectl(["get", "events", "-n", namespace, "--field-selector",
                                      "involvedObject.name=\(name),type=Warning", "-o", "json"], expectSuccess: false)
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let items = object["items"] as? [[String: Any]] else { return [] }
        return items.compactMap { $0["message"] as? String }
    }

    // MARK: The driver's and the store's view

    /// The driver's volumes (its own records in `DIR/csi/volumes/`), by CreateVolume name.
    func backendVolumes() -> [(name: String, id: String)] {
        let dir = directory.appendingPathComponent("csi/volumes")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.compactMap { file in
            guard let data = FileManager.default.contents(atPath: dir.appendingPathComponent(file).path),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let name = object["name"] as? String, let id = object["id"] as? String else { return nil }
            return (name, id)
        }
    }

    /// The directory holding a backend volume's data.
    func volumeDirectory(_ id: String) -> URL { directory.appendingPathComponent("volumes/\(id)") }

    /// An FNV-1a hash of every file below `root`, by relative path (to compare two trees).
    static func treeDigest(_ root: URL) -> [String: Int] {
        var sizes: [String: Int] = [:]
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return [:] }
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                  let data = FileManager.default.contents(atPath: url.path) else { continue }
            var hash: UInt64 = 1469598103934665603
            for byte in data { hash = (hash ^ UInt64(byte)) &* 1099511628211 }
            sizes[String(url.path.dropFirst(root.path.count)), default: 0] = Int(truncatingIfNeeded: hash)
        }
        return sizes
    }

    // MARK: Fixtures

    /// `production/webapp-data` filled by a pod, and the ready snapshot `production/webapp-nightly` of it.
    func seedProduction() async throws {
        try await apply("""
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: webapp-data, namespace: production}
            spec:
              storageClassName: local
              accessModes: [ReadWriteOnce]
              resources: {requests: {storage: 64Mi}}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: fill, namespace: production}
            spec:
              restartPolicy: Never
              containers:
              - name: fill
                image: busybox
                command: [sh, -c, "mkdir -p /data/db && printf 'orders: 1042\\n' > /data/db/stats.txt && head -c 65536 /dev/urandom > /data/blob.bin"]
                volumeMounts: [{name: data, mountPath: /data}]
              volumes:
              - name: data
                persistentVolumeClaim: {claimName: webapp-data}
            """)
        try await kubectl(["wait", "-n", "production", "--for=jsonpath={.status.phase}=Succeeded", "pod/fill", "--timeout=60s"])
        try await apply("""
            apiVersion: snapshot.storage.k8s.io/v1
            kind: VolumeSnapshot
            metadata: {name: webapp-nightly, namespace: production}
            spec: {volumeSnapshotClassName: local, source: {persistentVolumeClaimName: webapp-data}}
            """)
        try await kubectl(["wait", "-n", "production", "--for=jsonpath={.status.readyToUse}=true",
                           "volumesnapshot/webapp-nightly", "--timeout=60s"])
    }

    /// The data directory of a bound claim's backend volume.
    func dataOf(_ namespace: String, _ claim: String) async throws -> URL? {
        let pvc = try await client.get(PersistentVolumeClaim.self, name: claim, namespace: namespace)
        guard let pvName = pvc.spec.volumeName, !pvName.isEmpty else { return nil }
        let pv = try await client.get(PersistentVolume.self, name: pvName)
        return pv.spec.csi?.volumeHandle.map { volumeDirectory($0) }
    }

    /// A namespace, a DataSourceLink in it to `source` in production, and a claim naming the link.
    func linkedClaim(_ namespace: String, claim: String = "restored", link: String = "to-prod",
                     kind: String = "VolumeSnapshot", source: String = "webapp-nightly", size: String = "64Mi",
                     storageClass: String = "local", extraSpec: String = "") async throws {
        let group = kind == "VolumeSnapshot" ? "snapshot.storage.k8s.io" : "\"\""
        try await apply("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: \(namespace)}
            ---
            apiVersion: ferry.io/v1alpha1
            kind: DataSourceLink
            metadata: {name: \(link), namespace: \(namespace)}
            spec:
              sourceRef: {apiGroup: \(group), kind: \(kind), namespace: production, name: \(source)}
            ---
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: \(claim), namespace: \(namespace)}
            spec:
              storageClassName: \(storageClass)
              accessModes: [ReadWriteOnce]
              resources: {requests: {storage: \(size)}}
              dataSourceRef: {apiGroup: ferry.io, kind: DataSourceLink, name: \(link)}
            \(extraSpec)
            """)
    }

    /// A ReferenceGrant in production allowing claims of `from` to use `kind` objects (optionally one `name`).
    func grant(_ name: String, from: String, kind: String = "VolumeSnapshot", toName: String? = nil,
               fromKind: String = "PersistentVolumeClaim") async throws {
        let group = kind == "VolumeSnapshot" ? "snapshot.storage.k8s.io" : "\"\""
        let nameField = toName.map { ", name: \($0)" } ?? ""
        try await apply("""
            apiVersion: gateway.networking.k8s.io/v1beta1
            kind: ReferenceGrant
            metadata: {name: \(name), namespace: production}
            spec:
              from: [{group: "", kind: \(fromKind), namespace: \(from)}]
              to: [{group: \(group), kind: \(kind)\(nameField)}]
            """)
    }
}

/// A `ferry` child process (its output in a log file); stopped with SIGTERM, or killed.
final class FerryProcess: @unchecked Sendable {  // @unchecked: the Process is guarded by `lock`
    let log: URL
    private let lock = NSLock()
    private var process: Process?

    init(log: URL) { self.log = log }

    func start(_ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: ControllerCluster.ferryBinary)
        p.arguments = ["controller"] + arguments
        if !FileManager.default.fileExists(atPath: log.path) { FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        p.standardOutput = handle
        p.standardError = handle
        var env = ProcessInfo.processInfo.environment
        env["FERRY_LOG_LEVEL"] = "info"
        p.environment = env
        try p.run()
        lock.withLock { process = p }
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
    var isRunning: Bool { lock.withLock { process?.isRunning ?? false } }

    /// SIGKILL without waiting (for `defer` blocks); nothing if not running.
    func killNow() {
        guard let p = lock.withLock({ process }), p.isRunning else { return }
        kill(p.processIdentifier, SIGKILL)
    }

    /// SIGKILL, then waits for the exit.
    func kill9() async {
        guard let p = lock.withLock({ process }) else { return }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        await Self.waitExit(p, .seconds(10))
    }

    /// SIGTERM, then SIGKILL after 10 s.
    func stop() async {
        guard let p = lock.withLock({ process }) else { return }
        if p.isRunning { kill(p.processIdentifier, SIGTERM) }
        await Self.waitExit(p, .seconds(10))
        if p.isRunning { kill(p.processIdentifier, SIGKILL); await Self.waitExit(p, .seconds(5)) }
    }

    private static func waitExit(_ p: Process, _ timeout: Duration) async {
        let end = ContinuousClock.now + timeout
        while p.isRunning, ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(20)) }
    }
}

/// Starts one ``ControllerCluster`` (with production's claim and snapshot) for a whole suite and stops it after.
struct ControllerClusterTrait: SuiteTrait, TestScoping {
    /// false: the suite starts its own `ferry controller` processes.
    var startController = true
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let cluster = try await ControllerCluster(startController: startController)
        do {
            try await cluster.seedProduction()
            try await ControllerCluster.$current.withValue(cluster) { try await function() }
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }
}

extension Trait where Self == ControllerClusterTrait {
    static var controllerCluster: Self { ControllerClusterTrait() }
    /// The cluster without a `ferry controller`: the suite starts (and kills) its own.
    static var controllerClusterWithoutController: Self { ControllerClusterTrait(startController: false) }
}

/// Polls `condition` until it holds or `timeout` passes.
/// A condition that throws counts as not (yet) holding.
func poll(_ timeout: Duration = .seconds(20), every interval: Duration = .milliseconds(50),
          _ condition: () async throws -> Bool) async -> Bool {
    let end = ContinuousClock.now + timeout
    while ContinuousClock.now < end {
        if (try? await condition()) == true { return true }
        try? await Task.sleep(for: interval)
    }
    return (try? await condition()) == true
}

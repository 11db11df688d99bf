public import Foundation
public import Kube
public import LocalCluster
import Logging
import Synchronization
import Testing

/// A local control plane (``LocalClusterInstance``: API server and the default components) for end-to-end suites,
/// driven with kubectl like a user would, optionally with Ferry's CRDs and base objects installed and the real
/// `ferry controller` process beside it. Suites subclass it for their own fixtures and share one per suite through
/// ``ClusterSuiteTrait``.
///
/// ``stop()`` stops the controller, every process handed to ``track(_:)``, the cluster, and removes its directory.
open class E2ECluster: @unchecked Sendable {  // @unchecked: immutable but for `tracked`, guarded by a Mutex
    public let instance: LocalClusterInstance
    public let directory: URL
    public let client: KubeClient
    public let kubectlRunner: Kubectl
    /// The `ferry controller` of this cluster (started by `init` unless told not to).
    public let controller: FerryProcess
    /// Flags every `ferry controller` of this cluster gets.
    public let controllerArguments: [String]
    private let tracked = Mutex<[Process]>([])

    public static var repositoryRoot: URL { E2EPaths.repositoryRoot }
    public static var ferryBinary: String { E2EPaths.ferryBinary }

    /// The flags `ferry controller` needs to reach a cluster in `directory` (CSI socket `csi.sock`, kubeconfig,
    /// namespace `ferry-system`, fast retries, a free metrics port).
    public static func controllerFlags(directory: URL, kubeconfig: String, timeout: String) -> [String] {
        ["--csi-address", "unix://" + directory.appendingPathComponent("csi.sock").path,
         "--kubeconfig", kubeconfig, "--namespace", "ferry-system",
         "--retry-interval-start", "100ms", "--retry-interval-max", "2s", "--timeout", timeout,
         "--http-endpoint", "127.0.0.1:0"]
    }

    /// Starts the cluster of `options`; with `installFerry`, applies Ferry's CRDs (helm/ferry/crds) and
    /// ``baseObjects`` with kubectl, then starts `ferry controller` (flags: ``controllerFlags`` with `timeout`, then
    /// `controllerArguments`) unless `startController` is false. A failure stops what was started.
    public init(options: LocalClusterOptions, logLabel: String = "e2e-cluster", installFerry: Bool = true,
                startController: Bool = true, timeout: String = "1s", controllerArguments extra: [String] = []) async throws {
        var options = options
        if options.storeDumpDirectory == nil {
            options.storeDumpDirectory = ProcessInfo.processInfo.environment["FERRY_STORE_DUMP_DIR"]
                .flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
        }
        var logger = Logger(label: logLabel)
        logger.logLevel = .error
        let instance = try await LocalClusterInstance.start(options: options, logger: logger)
        let client: KubeClient
        do { client = try instance.makeClient() } catch {
            await instance.stop()
            try? FileManager.default.removeItem(at: options.directory)
            throw error
        }
        self.instance = instance
        self.client = client
        directory = options.directory
        kubectlRunner = Kubectl(kubeconfig: instance.kubeconfigPath.path, home: directory)
        controllerArguments = Self.controllerFlags(directory: directory, kubeconfig: instance.kubeconfigPath.path,
                                                   timeout: timeout) + extra
        controller = FerryProcess(log: directory.appendingPathComponent("ferry-controller.log"))
        guard installFerry else { return }
        do {
            try await kubectl(["apply", "-f", Self.repositoryRoot.appendingPathComponent("helm/ferry/crds").path])
            try await kubectl(["apply", "-f", "-"], stdin: Self.baseObjects)
            if startController { try controller.start(controllerArguments) }
        } catch {
            await stop()
            throw error
        }
    }

    /// Stops the controller and the tracked processes (SIGTERM, then SIGKILL), the cluster, and removes the cluster
    /// directory. Subclasses that override it call `super.stop()`.
    open func stop() async {
        await controller.stop()
        for p in tracked.withLock({ $0 }) { await terminate(p, grace: .seconds(5)) }
        await instance.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs `body`, then ``stop()`` — also when `body` throws.
    public func stopAfter<T>(_ body: () async throws -> T) async throws -> T {
        let result: T
        do { result = try await body() } catch {
            await stop()
            throw error
        }
        await stop()
        return result
    }

    /// A process (a peer the suite started) that ``stop()`` ends.
    public func track(_ process: Process) { tracked.withLock { $0.append(process) } }

    /// Namespaces `ferry-system` and `production`, StorageClass `local` and the default VolumeSnapshotClass `local`
    /// of the local CSI driver.
    public static let baseObjects = """
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

    /// A kubeconfig for `ferry controller` as user `user` (a bearer token, no groups: deny rules apply to it).
    public func tokenKubeconfig(user: String) throws -> String {
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

    // MARK: kubectl

    /// Runs kubectl against the cluster; returns its stdout (``Kubectl/output(_:stdin:expectSuccess:retryFor:)``:
    /// idempotent verbs retried while the API server is unreachable, an issue with stderr recorded on failure unless
    /// `expectSuccess` is false).
    @discardableResult
    public func kubectl(_ arguments: [String], stdin: String? = nil, expectSuccess: Bool = true) async throws -> String {
        try await kubectlRunner.output(arguments, stdin: stdin, expectSuccess: expectSuccess)
    }

    /// `kubectl apply -f -` with `yaml`.
    public func apply(_ yaml: String) async throws { try await kubectl(["apply", "-f", "-"], stdin: yaml) }

    /// A claim's phase as kubectl shows it ("" when it cannot be read).
    public func phase(_ namespace: String, _ claim: String) async throws -> String {
        try await kubectl(["get", "pvc", "-n", namespace, claim, "-o", "jsonpath={.status.phase}"], expectSuccess: false)
    }

    /// The messages of the Warning events on an object, as `kubectl get events -o json` lists them (oldest first).
    public func warnings(_ namespace: String, _ name: String) async throws -> [String] {
        let text = try await kubectl(["get", "events", "-n", namespace, "--field-selector",
                                      "involvedObject.name=\(name),type=Warning", "-o", "json"], expectSuccess: false)
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              let items = object["items"] as? [[String: Any]] else { return [] }
        return items.compactMap { $0["message"] as? String }
    }

    /// The events about an object, read through the API.
    public func events(_ namespace: String, _ name: String) async throws -> [CoreEvent] {
        try await client.list(CoreEvent.self, namespace: namespace,
                              options: ListOptions(fieldSelector: "involvedObject.name=\(name)")).items
    }

    /// Waits up to `timeout` for an event about `namespace/name` with `reason`; true if one came.
    public func waitForEvent(_ namespace: String, _ name: String, reason: String,
                             timeout: Duration = .seconds(20)) async -> Bool {
        await poll(timeout) { try await self.events(namespace, name).contains { $0.reason == reason } }
    }

    // MARK: Volumes

    /// The directory holding a backend volume's data (the local CSI driver's `DIR/volumes/<id>`).
    public func volumeDirectory(_ id: String) -> URL { directory.appendingPathComponent("volumes/\(id)") }

    /// An FNV-1a hash of every file below `root`, by relative path (to compare two trees).
    public static func treeDigest(_ root: URL) -> [String: Int] {
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
}

public import Foundation
public import Kube
import CurlHTTP
public import Logging
public import LocalHTTPS
import Synchronization

/// One running local cluster: the API server on 127.0.0.1, `DIR/kubeconfig` (cluster-admin), and the simulated
/// components, each running in its own task.
///
/// Start order: TLS material (`DIR/pki/`), the API server with namespaces `default` and `kube-system`, the cluster's
/// CRDs (`ClusterCRDs`, minus `options.withoutCRDs`), `DIR/kubeconfig`, then every component's `run(context:)`.
/// `stop()` cancels the components, waits for them to return, and stops the API server. A component whose `run`
/// throws is logged (`component.name`, `error`) and not restarted; the cluster keeps serving.
///
/// Thread-safety: all members may be used from any task; `stop()` is idempotent.
public final class LocalClusterInstance: Sendable {
    public let options: LocalClusterOptions
    /// The API server (fault hooks, direct seeding, store access for tests).
    public let server: KubeAPIServer
    /// `DIR/kubeconfig`: cluster `local`, user `kubernetes-admin` (client certificate, group `system:masters`), CA,
    /// certificate and key inline.
    public let kubeconfigPath: URL
    public let certificates: LocalCertificates
    private let logger: Logger
    private let tasks = Mutex<[Task<Void, Never>]>([])
    private let stopped = Mutex(false)

    private init(options: LocalClusterOptions, server: KubeAPIServer, kubeconfigPath: URL,
                 certificates: LocalCertificates, logger: Logger) {
        self.options = options
        self.server = server
        self.kubeconfigPath = kubeconfigPath
        self.certificates = certificates
        self.logger = logger
    }

    /// `https://127.0.0.1:<port>`.
    public var serverURL: String { server.baseURL }

    /// Starts a cluster in this process.
    /// - Parameters:
    ///   - options: directory, nodes, feature gate, image table, CRDs to leave out, port.
    ///   - components: the simulated components to run; nil runs `LocalCluster.defaultComponents(options:)`.
    ///   - logger: the cluster's and the components' logger.
    /// - Returns: once the API server serves and every component's task has been started (components become ready
    ///   on their own; wait for what a test needs through the API).
    /// - Throws: `LocalClusterError` when DIR cannot be prepared, the port cannot be bound or a CRD cannot be
    ///   installed.
    public static func start(options: LocalClusterOptions, components: [any ClusterComponent]? = nil,
                             logger: Logger = Logger(label: "ferry.localcluster")) async throws -> LocalClusterInstance {
        let fm = FileManager.default
        let dir = options.directory
        do {
            try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            throw LocalClusterError("cannot create the cluster directory \(dir.path): \(error)")
        }
        let certificates = try LocalCertificates.generate(in: dir.appendingPathComponent("pki"))
        let server = try KubeAPIServer(certificates: certificates, port: options.port,
                                       crossNamespaceVolumeDataSource: options.crossNamespaceVolumeDataSource,
                                       behaviour: .cluster, authorizeWithRBAC: options.authorizeWithRBAC)
        for (name, crd) in try ClusterCRDs.all() where !options.withoutCRDs.contains(name) {
            try server.seed(crd, as: CustomResourceDefinition.resourceType)
        }
        let kubeconfig = dir.appendingPathComponent("kubeconfig")
        do {
            try Self.kubeconfigText(server: server.baseURL, certificates: certificates)
                .write(to: kubeconfig, atomically: true, encoding: .utf8)
            try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: kubeconfig.path)
        } catch {
            server.stop()
            throw LocalClusterError("cannot write \(kubeconfig.path): \(error)")
        }
        let instance = LocalClusterInstance(options: options, server: server, kubeconfigPath: kubeconfig,
                                            certificates: certificates, logger: logger)
        let context = ComponentContext(client: try instance.makeClient(userAgent: "ferry-localcluster"),
                                       options: options, logger: logger)
        for component in components ?? LocalCluster.defaultComponents(options: options) {
            let task = Task {
                do {
                    try await component.run(context: context)
                } catch is CancellationError {
                } catch {
                    logger.error("component failed", metadata: ["component.name": "\(component.name)",
                                                                "error": "\(error)"])
                }
            }
            instance.tasks.withLock { $0.append(task) }
        }
        return instance
    }

    /// A cluster-admin client of this cluster (the kubeconfig's credentials).
    public func makeClient(userAgent: String = "ferry-test", requestTimeout: Duration = .seconds(30)) throws -> KubeClient {
        let tls = TLSOptions(certificateAuthority: .file(certificates.caCertificate),
                             clientCertificate: .file(certificates.adminCertificate),
                             clientKey: .file(certificates.adminKey))
        let config = KubeConfig(server: server.baseURL, tls: tls, userAgent: userAgent, requestTimeout: requestTimeout)
        return try KubeClient(config: config, logger: logger)
    }

    /// Cancels every component, waits for them to return, then stops the API server. Idempotent.
    public func stop() async {
        let first = stopped.withLock { s -> Bool in
            defer { s = true }
            return !s
        }
        guard first else { return }
        let running = tasks.withLock { t -> [Task<Void, Never>] in
            defer { t = [] }
            return t
        }
        for task in running { task.cancel() }
        for task in running { await task.value }
        if let dir = options.storeDumpDirectory {
            do {
                try writeStoreDump(to: dir.appendingPathComponent("cluster-\(UUID().uuidString).json"))
            } catch {
                logger.error("store dump failed", metadata: ["error": "\(error)"])
            }
        }
        server.stop()
    }

    /// Writes every stored object as `{"items": [...]}` (the input of `scripts/validate-store-dumps.py`).
    /// `stop()` does this on its own into `$FERRY_STORE_DUMP_DIR` when that is set (`scripts/run-tests.sh` sets it).
    public func writeStoreDump(to file: URL) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(JSONCoding.serialize(server.dump())).write(to: file)
    }

    static func kubeconfigText(server: String, certificates: LocalCertificates) throws -> String {
        func b64(_ name: String) throws -> String { Data(try certificates.bytes(name)).base64EncodedString() }
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - name: local
              cluster:
                server: \(server)
                certificate-authority-data: \(try b64("ca.crt"))
            users:
            - name: kubernetes-admin
              user:
                client-certificate-data: \(try b64("admin.crt"))
                client-key-data: \(try b64("admin.key"))
            contexts:
            - name: kubernetes-admin@local
              context:
                cluster: local
                user: kubernetes-admin
                namespace: default
            current-context: kubernetes-admin@local
            preferences: {}

            """
    }
}

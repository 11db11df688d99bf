public import Foundation
public import Kube
public import Logging

/// Options of one local cluster: the flags of `ferry-localcluster up` (README, "The local control plane").
public struct LocalClusterOptions: Sendable {
    /// DIR: `kubeconfig`, `csi.sock`, `volumes/<volumeHandle>/`, `logs/<namespace>/<pod>/<container>.log` live here.
    public var directory: URL
    /// Number of simulated nodes (`node-1` … `node-N`), each with topology labels.
    public var nodes: Int
    /// The API server's (and the simulated external-provisioner's) `CrossNamespaceVolumeDataSource` gate.
    public var crossNamespaceVolumeDataSource: Bool
    /// Container image repository name (any tag) → local executable the kubelet runs for it.
    public var images: [String: String]
    /// CRDs (by `metadata.name`, e.g. `referencegrants.gateway.networking.k8s.io`) left out at start.
    public var withoutCRDs: Set<String>
    /// Port of the API server on 127.0.0.1; 0 picks a free one.
    public var port: Int
    /// Where `stop()` writes a dump of the store (for the kubernetes-validate sweep); nil = no dump.
    public var storeDumpDirectory: URL?
    /// The API server authorizes users outside `system:masters` with the stored RBAC objects (ServiceAccount tokens
    /// from `kubectl create token` then get exactly their bindings); false allows everything.
    public var authorizeWithRBAC: Bool
    /// The CSI driver's fault hooks (tests inject errors, delays and held calls through it).
    public var csiFaults: CSIFaults

    public init(directory: URL, nodes: Int = 1, crossNamespaceVolumeDataSource: Bool = false,
                images: [String: String] = [:], withoutCRDs: Set<String> = [], port: Int = 0,
                storeDumpDirectory: URL? = nil, authorizeWithRBAC: Bool = false, csiFaults: CSIFaults = CSIFaults()) {
        self.csiFaults = csiFaults
        self.directory = directory
        self.nodes = nodes
        self.crossNamespaceVolumeDataSource = crossNamespaceVolumeDataSource
        self.images = images
        self.withoutCRDs = withoutCRDs
        self.port = port
        self.storeDumpDirectory = storeDumpDirectory
        self.authorizeWithRBAC = authorizeWithRBAC
    }
}

/// What a simulated component is given when the cluster starts it.
public struct ComponentContext: Sendable {
    /// A cluster-admin client of the local API server: components act through the API, as the real ones do,
    /// so every write they make passes the same validation as kubectl's.
    public let client: KubeClient
    public let options: LocalClusterOptions
    public let logger: Logger

    public init(client: KubeClient, options: LocalClusterOptions, logger: Logger) {
        self.client = client
        self.options = options
        self.logger = logger
    }
}

/// A simulated cluster component (PV binder, external-provisioner, snapshot controller, scheduler, kubelet, CSI
/// driver). `run` serves until its task is cancelled, then returns after cleaning up what it started.
public protocol ClusterComponent: Sendable {
    /// Short name for logs (`pv-binder`, `external-provisioner`, …).
    var name: String { get }
    func run(context: ComponentContext) async throws
}

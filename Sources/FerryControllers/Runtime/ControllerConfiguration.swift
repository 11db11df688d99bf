public import Kube
public import Logging
public import Foundation

/// Settings of the controllers (the flags of `ferry controller`, as values).
public struct ControllerConfiguration: Sendable {
    /// The CSI driver Ferry serves (its GetPluginInfo name); nil = standalone (Kopia sources only).
    public var driver: DriverCapabilities?
    public var featureGates: FeatureGates
    /// `--timeout`: each CSI call's deadline.
    public var timeout: Duration
    /// `--retry-interval-start` / `--retry-interval-max`.
    public var retryIntervalStart: Duration
    public var retryIntervalMax: Duration
    /// `--worker-threads`: claims reconciled concurrently.
    public var workers: Int
    /// How often every waiting key is looked at again even without an event (bounds every wait).
    public var resyncInterval: Duration
    /// How often the orphaned-finalizer sweep runs (0 = only at start).
    public var sweepInterval: Duration
    public var defaultFSType: String
    public var extraCreateMetadata: Bool
    public var preventVolumeModeConversion: Bool
    /// `--strict-topology`: under WaitForFirstConsumer, send only the selected node's topology.
    public var strictTopology: Bool
    /// `--immediate-topology`: under Immediate binding without allowedTopologies, send the aggregated topology of
    /// the nodes where the driver runs (true, upstream's default) or no requirement (false).
    public var immediateTopology: Bool
    /// Component name on events.
    public var component: String

    public init(driver: DriverCapabilities?, featureGates: FeatureGates = FeatureGates(), timeout: Duration = .seconds(10),
                retryIntervalStart: Duration = .seconds(1), retryIntervalMax: Duration = .seconds(300), workers: Int = 10,
                resyncInterval: Duration = .seconds(600), sweepInterval: Duration = .seconds(300), defaultFSType: String = "",
                extraCreateMetadata: Bool = false, preventVolumeModeConversion: Bool = true, strictTopology: Bool = false,
                immediateTopology: Bool = true, component: String = "ferry") {
        self.driver = driver
        self.featureGates = featureGates
        self.timeout = timeout
        self.retryIntervalStart = retryIntervalStart
        self.retryIntervalMax = retryIntervalMax
        self.workers = max(1, workers)
        self.resyncInterval = resyncInterval
        self.sweepInterval = sweepInterval
        self.defaultFSType = defaultFSType
        self.extraCreateMetadata = extraCreateMetadata
        self.preventVolumeModeConversion = preventVolumeModeConversion
        self.strictTopology = strictTopology
        self.immediateTopology = immediateTopology
        self.component = component
    }
}

/// Everything a reconciler acts through; built once by ``Controller`` and handed to plug-in reconcilers (the
/// populator's). All parts are injected, so tests use in-memory fakes.
public struct ReconcileContext: Sendable {
    public var kube: any KubeVerbs
    public var cache: any ClusterCache
    /// nil in standalone mode (no CSI socket).
    public var csi: (any CSIControllerCalls)?
    public var feedback: Feedback
    public var metrics: ControllerMetrics
    public var configuration: ControllerConfiguration
    public var logger: Logger
    /// Wall-clock time (provenance timestamps); injected for tests.
    public var now: @Sendable () -> Date
    /// `storage.kubernetes.io/csiProvisionerIdentity` for this process.
    public var provisionerIdentity: String
    /// Claims whose retries are delayed after an infeasible (INVALID_ARGUMENT) CreateVolume.
    public let infeasibleDelays = InfeasibleDelays()
    /// Claims whose PV this process has seen or created (spares the source-protection reconciler a GET each).
    public let provisionedClaims = ProvisionedClaims()
    /// Live reads of source objects shared by claims reading the same object within 250 ms.
    public let sharedReads = SharedReads()
    /// Serialises adding and removing a source's protection finalizer.
    public let sourceLocks = SourceLocks()
    /// The topology requirement each claim's CreateVolume carried, so a retry repeats the same request.
    public let topologyMemo = TopologyMemo()

    public init(kube: any KubeVerbs, cache: any ClusterCache, csi: (any CSIControllerCalls)?, feedback: Feedback,
                metrics: ControllerMetrics, configuration: ControllerConfiguration, logger: Logger,
                now: @escaping @Sendable () -> Date = { Date() }, provisionerIdentity: String? = nil) {
        self.kube = kube
        self.cache = cache
        self.csi = csi
        self.feedback = feedback
        self.metrics = metrics
        self.configuration = configuration
        self.logger = logger
        self.now = now
        let ms = Int64(now().timeIntervalSince1970 * 1000)
        self.provisionerIdentity = provisionerIdentity
            ?? "\(ms)-\(Int.random(in: 1000...9999))-\(configuration.driver?.name ?? "ferry")"
    }

    /// Grant decision from the cache, for a reference in a link or claim.
    public func decideGrant(_ request: GrantRequest) -> GrantDecision {
        GrantDecision.decide(request, grants: cache.grants(in: request.source.namespace))
    }

    public func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: now())
    }
}

/// The populator's plug-in (issue 13): reconciles claims whose source is a `ferry.io/KopiaSnapshot` (direct, or
/// through a DataSourceLink). Ferry's runtime has already applied the grant rule and the feature gate; the grant is
/// re-checked by the runtime on every attempt, so `authority` is current. See /work/notes/controller-seams.md.
public protocol KopiaClaimReconciling: Sendable {
    func reconcile(claim: PersistentVolumeClaim, source: KopiaSourceRequest, context: ReconcileContext) async -> ReconcileOutcome
}

/// What the runtime hands the Kopia reconciler.
public struct KopiaSourceRequest: Sendable, Hashable {
    /// The KopiaSnapshot reference, with the claim it serves.
    public var request: GrantRequest
    /// What allowed it (same namespace or a grant).
    public var authority: GrantAuthority
    /// The DataSourceLink's name when the claim went through one.
    public var link: String?
    public init(request: GrantRequest, authority: GrantAuthority, link: String?) {
        self.request = request
        self.authority = authority
        self.link = link
    }
}

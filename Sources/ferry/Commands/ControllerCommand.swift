import ArgumentParser
import CSI
import FerryControllers
import Foundation
import GRPCTransport
#if canImport(Glibc)
import Glibc
#endif
import Kube
import Logging
import Synchronization

/// `ferry controller`: the sidecar. Runs beside a CSI driver on its controller socket and provisions claims whose
/// `dataSourceRef` names a DataSourceLink (→ VolumeSnapshot / PVC in any namespace, gated by ReferenceGrants) or a
/// KopiaSnapshot; explains native cross-namespace references that no grant allows.
struct ControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller",
        abstract: "Run Ferry's controller (the CSI sidecar).",
        discussion: """
            Flags mirror external-provisioner's where the meaning is the same. Durations use Go syntax (10s, 5m).
            At startup Ferry probes the driver until it is ready, reads its name and capabilities, checks the CRDs
            it needs and whether the API server keeps a namespaced dataSourceRef, and prints one line per problem.
            SIGTERM/SIGINT: stop taking work, abandon in-flight steps (all are idempotent), release the lease, exit 0.
            """)

    @Option(help: "The CSI driver's controller socket: unix:///path or an absolute path.")
    var csiAddress = "/run/csi/socket"
    @Flag(help: "Run without a CSI driver (Kopia sources only, grant diagnostics).")
    var standalone = false
    @Option(help: "Path to a kubeconfig (default: in-cluster, else $KUBECONFIG or ~/.kube/config).")
    var kubeconfig: String?
    @Option(name: .customLong("feature-gates"), help: "Feature gates, e.g. CrossNamespaceVolumeDataSource=true (repeatable; later values win).")
    var featureGates: [String] = []
    @Flag(name: .customLong("leader-election"), help: "Elect a leader with a coordination.k8s.io Lease; only the leader acts.")
    var leaderElection = false
    @Option(help: "Namespace of the leader-election Lease (default: --namespace).")
    var leaderElectionNamespace: String?
    @Option(help: "Lease duration (a standby takes over after the holder stopped renewing for this long).")
    var leaderElectionLeaseDuration = "15s"
    @Option(help: "Renew deadline of the leader.")
    var leaderElectionRenewDeadline = "10s"
    @Option(help: "Retry period of leader election.")
    var leaderElectionRetryPeriod = "2s"
    @Option(help: "Claims reconciled concurrently.")
    var workerThreads = 10
    @Option(help: "Deadline of each CSI call.")
    var timeout = "10s"
    @Option(help: "First retry delay of a failed claim (doubles per failure).")
    var retryIntervalStart = "1s"
    @Option(help: "Longest retry delay of a failed claim.")
    var retryIntervalMax = "5m"
    @Option(help: "Client-side limit on API requests per second (reads and writes of the reconcilers).")
    var kubeApiQps: Double = 200
    @Option(help: "Burst of the client-side API limit.")
    var kubeApiBurst = 400
    @Option(help: "Serve /metrics, /healthz and /readyz on this address (host:port or :port); empty = off.")
    var httpEndpoint = ""
    @Option(help: "Ferry's own namespace (Lease, work objects; default: the configuration's).")
    var namespace: String?
    @Flag(name: .customLong("strict-topology"), help: "WaitForFirstConsumer: send only the selected node's topology to CreateVolume (default: the topologies of every node with the driver's topology keys, selected node first).")
    var strictTopology = false
    @Option(name: .customLong("immediate-topology"), help: "Immediate binding without allowedTopologies: send the topologies of every node where the driver runs (true) or no topology requirement (false).")
    var immediateTopology = "true"
    @Option(help: "How often orphaned source-protection finalizers are swept (0 = only at start).")
    var orphanSweepInterval = "5m"
    @Option(help: "How often waiting claims are looked at again without an event.")
    var resyncInterval = "10m"
    @Option(help: "Identity in the Lease and on events (default: the host name).")
    var identity: String?
    @OptionGroup(title: "Kopia populator")
    var populator: PopulatorOptions
    @OptionGroup(title: "Kopia repository cache")
    var repositoryCache: RepositoryCacheOptions

    func run() async throws {
        var logger = Logger(label: "ferry.controller")
        logger.logLevel = ProcessInfo.processInfo.environment["FERRY_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        func duration(_ flag: String, _ value: String) throws -> Duration {
            guard let d = GoDuration.parse(value), d >= .zero else {
                throw ValidationError("--\(flag): invalid duration \(value) (use Go syntax: 500ms, 10s, 5m)")
            }
            return d
        }
        let gates: FeatureGates
        do { gates = try FeatureGates(parsing: featureGates) } catch { throw ValidationError("--feature-gates: \(error.message)") }
        let callTimeout = try duration("timeout", timeout)
        let retryStart = try duration("retry-interval-start", retryIntervalStart)
        let retryMax = try duration("retry-interval-max", retryIntervalMax)
        let sweep = try duration("orphan-sweep-interval", orphanSweepInterval)
        let resync = try duration("resync-interval", resyncInterval)
        let lease = (try duration("leader-election-lease-duration", leaderElectionLeaseDuration),
                     try duration("leader-election-renew-deadline", leaderElectionRenewDeadline),
                     try duration("leader-election-retry-period", leaderElectionRetryPeriod))
        guard Self.goBool(immediateTopology) != nil else {
            throw ValidationError("--immediate-topology: invalid boolean \(immediateTopology) (true or false)")
        }
        guard workerThreads > 0 else { throw ValidationError("--worker-threads must be at least 1") }
        guard kubeApiQps > 0, kubeApiBurst > 0 else { throw ValidationError("--kube-api-qps and --kube-api-burst must be positive") }

        let client: KubeClient
        do {
            let config = try KubeConfig.load(kubeconfig: kubeconfig, environment: ProcessInfo.processInfo.environment)
            client = try KubeClient(config: config, logger: logger)
        } catch {
            Self.say("Kubernetes configuration: \(error.message)")
            throw ExitCode(ExitCodes.usage)
        }
        let ownNamespace = namespace ?? client.config.namespace
        let me = identity ?? ProcessInfo.processInfo.hostName
        let metrics = ControllerMetrics()
        let state = ServingState()

        var endpoint: HTTPEndpoint?
        if !httpEndpoint.isEmpty {
            switch Self.makeEndpoint(httpEndpoint, metrics: metrics, state: state) {
            case .success(let e): endpoint = e
            case .failure(let error): throw ValidationError("--http-endpoint: \(error.message)")
            }
        }

        let server = endpoint
        let log = logger
        let gate = ShutdownGate()
        try await withShutdownSignals(gate: gate) { [self] in
            await withTaskGroup(of: Void.self) { group in
                if let server { group.addTask { await server.run() } }
                group.addTask {
                    await self.serve(client: client, namespace: ownNamespace, identity: me, gates: gates, timeout: callTimeout,
                                     retry: (retryStart, retryMax), sweep: sweep, resync: resync, lease: lease,
                                     metrics: metrics, state: state, gate: gate, logger: log)
                }
                await group.next()
                group.cancelAll()
            }
        }
        logger.info("controller stopped")
    }

    /// Hands the heap pages freed after the initial lists (every page's JSON and the decoded lists, dropped once
    /// the caches hold their objects) back to the OS: glibc keeps them mapped otherwise, and RSS stays at the
    /// start-up peak for the process's lifetime.
    static func returnFreedMemory() {
        #if canImport(Glibc)
        // malloc_trim(3) is not in Glibc's module map (it lives in <malloc.h>): look it up.
        typealias Trim = @convention(c) (Int) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") {
            _ = unsafeBitCast(symbol, to: Trim.self)(0)
        }
        #endif
    }

    /// Liveness and readiness as /healthz and /readyz report them.
    final class ServingState: Sendable {
        private let flags = Mutex((live: true, ready: false))
        var live: Bool { flags.withLock { $0.live } }
        var ready: Bool { flags.withLock { $0.ready } }
        func set(live: Bool? = nil, ready: Bool? = nil) {
            flags.withLock { f in
                if let live { f.live = live }
                if let ready { f.ready = ready }
            }
        }
    }

    static func makeEndpoint(_ address: String, metrics: ControllerMetrics, state: ServingState) -> Result<HTTPEndpoint, HTTPEndpointError> {
        Result { () throws(HTTPEndpointError) -> HTTPEndpoint in
            try HTTPEndpoint(address: address) { path in answer(path, metrics: metrics, state: state) }
        }
    }

    static func answer(_ path: String, metrics: ControllerMetrics, state: ServingState) -> (Int, String, String) {
        switch path {
        case "/metrics": return (200, "text/plain; version=0.0.4; charset=utf-8", metrics.render())
        case "/healthz", "/livez": return state.live ? (200, "text/plain", "ok\n") : (503, "text/plain", "stopping\n")
        case "/readyz": return state.ready ? (200, "text/plain", "ok\n") : (503, "text/plain", "not ready\n")
        default: return (404, "text/plain", "not found\n")
        }
    }

    /// Go's `strconv.ParseBool`, as external-provisioner reads `--immediate-topology=false`.
    static func goBool(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "true", "TRUE", "True": true
        case "0", "f", "F", "false", "FALSE", "False": false
        default: nil
        }
    }

    static func say(_ line: String) { FileHandle.standardError.write(Data("ferry controller: \(line)\n".utf8)) }

    // swiftlint:disable:next function_parameter_count
    func serve(client: KubeClient, namespace: String, identity: String, gates: FeatureGates, timeout: Duration,
               retry: (Duration, Duration), sweep: Duration, resync: Duration, lease: (Duration, Duration, Duration),
               metrics: ControllerMetrics, state: ServingState, gate: ShutdownGate, logger: Logger) async {
        var problems: [String] = []
        var driver: DriverCapabilities?
        var channel: GRPCChannel?
        if !standalone {
            let target: String
            do { target = try normalizedUnixAddress(csiAddress) } catch {
                Self.say("--csi-address: \(error.message) (got \(csiAddress))")
                return
            }
            do { channel = try GRPCChannel(target: target, logger: logger) } catch {
                Self.say("cannot open the CSI channel \(target): \(error)")
                return
            }
            guard let channel else { return }
            driver = await StartupChecks.driver(identity: IdentityClient(channel: channel), controller: ControllerClient(channel: channel),
                                                timeout: timeout, logger: logger, problems: &problems)
            guard let name = driver?.name else { channel.close(); return }
            logger.info("CSI driver ready", metadata: ["csi.driver": "\(name)"])
        }
        defer { channel?.close() }
        let kube = RateLimitedKube(LiveKube(client: client), qps: kubeApiQps, burst: kubeApiBurst)
        let (served, kindProblems) = await StartupChecks.kinds(kube: kube)
        problems += kindProblems
        let probe = await GateProbe.run(client: client, namespace: namespace)
        if probe != .kept { problems.append(probe.line) } else { logger.info("gate probe", metadata: ["result": "\(probe.line)"]) }
        for p in problems { Self.say(p) }
        if !standalone, let d = driver, !d.controllerService || !d.createDeleteVolume {
            Self.say("the driver cannot create volumes; running for grant diagnostics only")
        }

        let configuration = ControllerConfiguration(
            driver: driver, featureGates: gates, timeout: timeout, retryIntervalStart: retry.0, retryIntervalMax: retry.1,
            workers: workerThreads, resyncInterval: resync, sweepInterval: sweep, strictTopology: strictTopology,
            immediateTopology: Self.goBool(immediateTopology) ?? true, component: "ferry")
        // Populator pods are watched cluster-wide when RBAC allows it (repositoryPVC pods run in owner namespaces).
        let listAll = (try? await client.canI("list", group: "", resource: "pods"))?.allowed == true
        let watchAll = (try? await client.canI("watch", group: "", resource: "pods"))?.allowed == true
        let cache = InformerCache(client: client, served: served, populatorNamespace: populator.workNamespace ?? namespace,
                                  populatorPodsInEveryNamespace: listAll && watchAll,
                                  topology: driver?.accessibilityConstraints ?? false, logger: logger)
        let context = ReconcileContext(
            kube: kube, cache: cache, csi: channel.map { ControllerClient(channel: $0) },
            feedback: Feedback(sink: EventRecorder(client: client, component: "ferry", host: identity, logger: logger)),
            metrics: metrics, configuration: configuration, logger: logger)
        let kopia: KopiaPopulator?
        do { kopia = try populator.makePopulator(namespace: namespace, cache: repositoryCache, logger: logger) } catch {
            Self.say("the Kopia populator cannot start (claims with Kopia sources will wait): \(error)")
            kopia = nil
        }
        let controller = Controller(context: context, kopia: kopia)
        controller.register(cache)
        // The owner's side of every KopiaSnapshot: status kept current and its repository kept open, claims or not.
        let kopiaSnapshots = served.kopiaSnapshots ? kopia.map {
            KopiaSnapshotController(client: client, reconciler: KopiaSnapshotStatusReconciler(
                populator: $0, recheckInterval: $0.repositories.indexRefreshInterval), context: context, logger: logger)
        } : nil

        let leading = LeadingFlag()
        let work: @Sendable () async throws -> Void = {
            metrics.set("ferry_leader", to: 1)
            leading.set(true)
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await gate.wait() }
                group.addTask { await cache.run() }
                group.addTask {
                    await cache.waitForSync()
                    guard !Task.isCancelled else { return }
                    state.set(ready: true)
                    Self.returnFreedMemory()
                    logger.info("caches synced, reconciling")
                    await controller.run()
                }
                if let kopiaSnapshots { group.addTask { await kopiaSnapshots.run() } }
                await group.next()
                group.cancelAll()
            }
            state.set(ready: false)
            metrics.set("ferry_leader", to: 0)
        }
        if leaderElection {
            // A standby is ready (it can take over); readiness flips to false only while not serving.
            state.set(ready: true)
            let elector = LeaderElector(
                client: client,
                configuration: .init(leaseName: "ferry-\(Self.leaseSuffix(driver?.name ?? "standalone"))",
                                     leaseNamespace: leaderElectionNamespace ?? namespace, identity: identity,
                                     leaseDuration: lease.0, renewDeadline: lease.1, retryPeriod: lease.2),
                logger: logger)
            // SIGTERM ends the work (the gate), so the elector returns normally and releases the Lease; a replica
            // that is only campaigning is cancelled at once, a leader after a grace period at the latest.
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled, !gate.isTriggered {
                        do {
                            try await elector.run(work)
                        } catch {
                            if Task.isCancelled || gate.isTriggered { break }
                            logger.warning("leadership lost; campaigning again", metadata: ["error": "\(error)"])
                        }
                    }
                }
                group.addTask {
                    await gate.wait()
                    if leading.value { try? await Task.sleep(for: .seconds(5)) }
                }
                await group.next()
                group.cancelAll()
            }
        } else {
            try? await work()
        }
        _ = leading
        state.set(live: false)
    }

    /// A Lease name from the driver's name (DNS-1123 label characters only).
    static func leaseSuffix(_ driver: String) -> String {
        let s = driver.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        return String(String(s).prefix(50)).trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }
}

/// A flag the leader-election wiring reads (is this replica leading?).
final class LeadingFlag: Sendable {
    private let flag = Mutex(false)
    var value: Bool { flag.withLock { $0 } }
    func set(_ v: Bool) { flag.withLock { $0 = v } }
}

/// Runs `body`; on SIGTERM or SIGINT triggers `gate` (graceful shutdown), and cancels `body` if it has not
/// returned 10 s later (or on a second signal).
func withShutdownSignals(gate: ShutdownGate, _ body: @escaping @Sendable () async -> Void) async throws {
    let task = Task { await body() }
    signal(SIGTERM, SIG_IGN)
    signal(SIGINT, SIG_IGN)
    let sources = [SIGTERM, SIGINT].map { sig -> any DispatchSourceSignal in
        let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
        source.setEventHandler {
            if gate.isTriggered { task.cancel(); return }
            gate.trigger()
            Task {
                try? await Task.sleep(for: .seconds(10))
                task.cancel()
            }
        }
        source.resume()
        return source
    }
    await task.value
    for s in sources { s.cancel() }
}

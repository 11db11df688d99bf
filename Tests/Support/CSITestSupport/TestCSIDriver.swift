public import CSI
public import GRPCTransport
import Synchronization

/// An in-memory CSI driver (Identity, Controller and Node) for tests, served through the real transport by
/// ``TestCSIDriver/serve(logger:)``.
///
/// Behaviour follows the CSI spec where controllers depend on it: CreateVolume is idempotent by name (a
/// different capacity for an existing name is ALREADY_EXISTS) and echoes the content source; sources must exist
/// (NOT_FOUND otherwise); DeleteVolume/DeleteSnapshot are idempotent; List* paginate with `max_entries` and
/// numeric `starting_token`s (ABORTED for a bad token). Every call is recorded, and ``inject(_:into:)`` makes a
/// method fail with a status or wait before answering.
public final class TestCSIDriver: IdentityService, ControllerService, NodeService, Sendable {
    /// What the driver reports about itself.
    public struct Configuration: Sendable {
        public var name = "ferry.test.csi"
        public var vendorVersion = "1.0.0"
        public var manifest: [String: String] = ["build": "test"]
        public var pluginCapabilities: [PluginCapability.Service.TypeEnum] = [
            .controllerService, .volumeAccessibilityConstraints,
        ]
        public var controllerCapabilities: [ControllerServiceCapability.RPC.TypeEnum] = [
            .createDeleteVolume, .createDeleteSnapshot, .listVolumes, .listSnapshots, .cloneVolume, .getCapacity,
            .expandVolume, .publishUnpublishVolume,
        ]
        public var nodeCapabilities: [NodeServiceCapability.RPC.TypeEnum] = [.stageUnstageVolume, .getVolumeStats]
        public var nodeID = "node-1"
        /// The node's topology, also given to volumes created without requirements.
        public var topology: Topology? = Topology(segments: ["topology.ferry.test/zone": "zone-a"])
        public var defaultCapacityBytes: Int64 = 1 << 30
        public var availableCapacityBytes: Int64 = 1 << 40
        public init() {}
    }

    /// A fault to inject into one method.
    public struct Fault: Sendable {
        /// Wait this long (honouring cancellation) before answering.
        public var delay: Duration?
        /// Then fail with this error instead of answering.
        public var error: RPCError?
        /// How many calls the fault applies to; `nil` = all until cleared.
        public var times: Int?

        public init(delay: Duration? = nil, error: RPCError? = nil, times: Int? = nil) {
            self.delay = delay
            self.error = error
            self.times = times
        }
    }

    /// One received call: the method name (e.g. `CreateVolume`) and the decoded request.
    public struct RecordedCall: Sendable {
        public var method: String
        public var request: any CSIMessage
        public var deadline: ContinuousClock.Instant?
    }

    struct State {
        var volumes: [String: Volume] = [:]  // by volume ID
        var volumeNames: [String: String] = [:]  // name -> volume ID
        var snapshots: [String: Snapshot] = [:]
        var snapshotNames: [String: String] = [:]
        var published: [String: Set<String>] = [:]  // volume ID -> node IDs
        var staged: Set<String> = []
        var nextID = 1
        var calls: [RecordedCall] = []
        var faults: [String: Fault] = [:]
        var clock: Int64 = 1_700_000_000
    }

    public let configuration: Configuration
    let state = Mutex(State())

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    /// Every call received so far, in arrival order.
    public var calls: [RecordedCall] { state.withLock { $0.calls } }

    /// The calls of one method (e.g. `CreateVolume`), with their typed requests.
    public func requests<Request: CSIMessage>(_ method: String, as _: Request.Type = Request.self) -> [Request] {
        calls.filter { $0.method == method }.compactMap { $0.request as? Request }
    }

    /// Volumes currently stored, by ID.
    public var volumes: [String: Volume] { state.withLock { $0.volumes } }
    public var snapshots: [String: Snapshot] { state.withLock { $0.snapshots } }

    /// Makes `method` (e.g. `CreateVolume`) wait and/or fail; `nil` clears it.
    public func inject(_ fault: Fault?, into method: String) {
        state.withLock { $0.faults[method] = fault }
    }

    /// Seeds a snapshot (e.g. one a VolumeSnapshotContent points at) without a CreateSnapshot call.
    public func addSnapshot(_ snapshot: Snapshot) {
        state.withLock { $0.snapshots[snapshot.snapshotId] = snapshot }
    }

    /// Seeds a volume without a CreateVolume call.
    public func addVolume(_ volume: Volume) {
        state.withLock { $0.volumes[volume.volumeId] = volume }
    }

    /// Records the call, then applies the method's fault, if any.
    func enter(_ method: String, _ request: some CSIMessage, _ context: ServerContext) async throws {
        let fault = state.withLock { state -> Fault? in
            state.calls.append(RecordedCall(method: method, request: request, deadline: context.deadline))
            guard var fault = state.faults[method] else { return nil }
            if let times = fault.times {
                fault.times = times - 1
                state.faults[method] = times - 1 > 0 ? fault : nil
            }
            return fault
        }
        guard let fault else { return }
        if let delay = fault.delay { try await Task.sleep(for: delay) }
        if let error = fault.error { throw error }
    }

    // MARK: Identity

    public func getPluginInfo(_ request: GetPluginInfoRequest, context: ServerContext) async throws -> GetPluginInfoResponse {
        try await enter("GetPluginInfo", request, context)
        return .init(name: configuration.name, vendorVersion: configuration.vendorVersion, manifest: configuration.manifest)
    }

    public func getPluginCapabilities(
        _ request: GetPluginCapabilitiesRequest, context: ServerContext
    ) async throws -> GetPluginCapabilitiesResponse {
        try await enter("GetPluginCapabilities", request, context)
        return .init(capabilities: configuration.pluginCapabilities.map { .init(type: .service(.init(type: $0))) })
    }

    public func probe(_ request: ProbeRequest, context: ServerContext) async throws -> ProbeResponse {
        try await enter("Probe", request, context)
        return .init(ready: true)
    }
}

public import CSI
public import FerryControllers
public import GRPCTransport
import Synchronization

/// An in-memory ``CSIControllerCalls``: CreateVolume idempotent by name and echoing the content source (unless
/// told not to), DeleteVolume idempotent, faults per method, every call recorded.
public final class FakeCSIController: CSIControllerCalls, Sendable {
    struct State {
        var volumes: [String: Volume] = [:]  // by name
        var calls: [String] = []
        var createRequests: [CreateVolumeRequest] = []
        var faults: [String: [RPCError]] = [:]
        var echoContentSource = true
        var next = 1
    }
    private let state = Mutex(State())
    public let capabilityList: [ControllerServiceCapability.RPC.TypeEnum]

    public init(capabilities: [ControllerServiceCapability.RPC.TypeEnum] = [.createDeleteVolume, .createDeleteSnapshot, .cloneVolume]) {
        capabilityList = capabilities
    }

    public var volumes: [String: Volume] { state.withLock { $0.volumes } }
    public var calls: [String] { state.withLock { $0.calls } }
    /// Every CreateVolume request received (failed ones included), oldest first.
    public var createVolumeRequests: [CreateVolumeRequest] { state.withLock { $0.createRequests } }
    /// The next calls of `method` (`CreateVolume`, `DeleteVolume`) fail with these errors, in order.
    public func fail(_ method: String, with errors: [RPCError]) { state.withLock { $0.faults[method, default: []] += errors } }
    public func setEchoContentSource(_ on: Bool) { state.withLock { $0.echoContentSource = on } }

    private func enter(_ method: String) throws {
        let e = state.withLock { s -> RPCError? in
            s.calls.append(method)
            guard var list = s.faults[method], !list.isEmpty else { return nil }
            let e = list.removeFirst()
            s.faults[method] = list
            return e
        }
        if let e { throw e }
    }

    public func capabilities(timeout: Duration) async throws -> ControllerGetCapabilitiesResponse {
        try enter("ControllerGetCapabilities")
        return .init(capabilities: capabilityList.map { .init(type: .rpc(.init(type: $0))) })
    }

    public func createVolume(_ request: CreateVolumeRequest, timeout: Duration) async throws -> CreateVolumeResponse {
        state.withLock { $0.createRequests.append(request) }
        try enter("CreateVolume")
        return state.withLock { s in
            if let v = s.volumes[request.name] { return .init(volume: v) }
            let v = Volume(capacityBytes: request.capacityRange?.requiredBytes ?? 0, volumeId: "vol-\(s.next)",
                           volumeContext: ["fake": "1"], contentSource: s.echoContentSource ? request.volumeContentSource : nil)
            s.next += 1
            s.volumes[request.name] = v
            return .init(volume: v)
        }
    }

    public func deleteVolume(_ request: DeleteVolumeRequest, timeout: Duration) async throws -> DeleteVolumeResponse {
        try enter("DeleteVolume")
        state.withLock { s in s.volumes = s.volumes.filter { $0.value.volumeId != request.volumeId } }
        return .init()
    }
}

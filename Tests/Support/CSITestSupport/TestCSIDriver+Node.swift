public import CSI
public import GRPCTransport
import Synchronization

extension TestCSIDriver {
    public func nodeStageVolume(_ request: NodeStageVolumeRequest, context: ServerContext) async throws -> NodeStageVolumeResponse {
        try await enter("NodeStageVolume", request, context)
        _ = state.withLock { $0.staged.insert(request.volumeId) }
        return .init()
    }

    public func nodeUnstageVolume(
        _ request: NodeUnstageVolumeRequest, context: ServerContext
    ) async throws -> NodeUnstageVolumeResponse {
        try await enter("NodeUnstageVolume", request, context)
        _ = state.withLock { $0.staged.remove(request.volumeId) }
        return .init()
    }

    public func nodePublishVolume(
        _ request: NodePublishVolumeRequest, context: ServerContext
    ) async throws -> NodePublishVolumeResponse {
        try await enter("NodePublishVolume", request, context)
        return .init()
    }

    public func nodeUnpublishVolume(
        _ request: NodeUnpublishVolumeRequest, context: ServerContext
    ) async throws -> NodeUnpublishVolumeResponse {
        try await enter("NodeUnpublishVolume", request, context)
        return .init()
    }

    public func nodeGetVolumeStats(
        _ request: NodeGetVolumeStatsRequest, context: ServerContext
    ) async throws -> NodeGetVolumeStatsResponse {
        try await enter("NodeGetVolumeStats", request, context)
        guard let volume = state.withLock({ $0.volumes[request.volumeId] }) else {
            throw RPCError(.notFound, "volume \(request.volumeId) not found")
        }
        return .init(usage: [.init(available: volume.capacityBytes, total: volume.capacityBytes, used: 0, unit: .bytes)])
    }

    public func nodeGetCapabilities(
        _ request: NodeGetCapabilitiesRequest, context: ServerContext
    ) async throws -> NodeGetCapabilitiesResponse {
        try await enter("NodeGetCapabilities", request, context)
        return .init(capabilities: configuration.nodeCapabilities.map { .init(type: .rpc(.init(type: $0))) })
    }

    public func nodeGetInfo(_ request: NodeGetInfoRequest, context: ServerContext) async throws -> NodeGetInfoResponse {
        try await enter("NodeGetInfo", request, context)
        return .init(nodeId: configuration.nodeID, maxVolumesPerNode: 100, accessibleTopology: configuration.topology)
    }
}

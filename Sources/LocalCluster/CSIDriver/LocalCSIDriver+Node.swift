public import CSI
import Foundation
public import GRPCTransport

extension LocalCSIDriver {
    public func nodeGetInfo(_ request: NodeGetInfoRequest, context: ServerContext) async throws -> NodeGetInfoResponse {
        .init(nodeId: configuration.nodeID, maxVolumesPerNode: 0, accessibleTopology: Self.topology(configuration.nodeID))
    }

    public func nodeGetCapabilities(
        _ request: NodeGetCapabilitiesRequest, context: ServerContext
    ) async throws -> NodeGetCapabilitiesResponse {
        let caps: [NodeServiceCapability.RPC.TypeEnum] = [.stageUnstageVolume, .getVolumeStats]
        return .init(capabilities: caps.map { .init(type: .rpc(.init(type: $0))) })
    }

    /// Records the volume as staged on this node (directories need no device setup). Idempotent.
    public func nodeStageVolume(_ request: NodeStageVolumeRequest, context: ServerContext) async throws -> NodeStageVolumeResponse {
        guard !request.volumeId.isEmpty, !request.stagingTargetPath.isEmpty else {
            throw RPCError(.invalidArgument, "volume_id and staging_target_path are required")
        }
        guard request.volumeCapability != nil else { throw RPCError(.invalidArgument, "volume_capability is required") }
        guard await store.volume(id: request.volumeId) != nil else {
            throw RPCError(.notFound, "volume \(request.volumeId) not found")
        }
        await store.markStaged(request.volumeId, node: configuration.nodeID, true)
        return .init()
    }

    public func nodeUnstageVolume(
        _ request: NodeUnstageVolumeRequest, context: ServerContext
    ) async throws -> NodeUnstageVolumeResponse {
        guard !request.volumeId.isEmpty, !request.stagingTargetPath.isEmpty else {
            throw RPCError(.invalidArgument, "volume_id and staging_target_path are required")
        }
        await store.markStaged(request.volumeId, node: configuration.nodeID, false)
        return .init()
    }

    /// Makes `target_path` a symbolic link to the volume's directory. Idempotent for the same volume.
    public func nodePublishVolume(
        _ request: NodePublishVolumeRequest, context: ServerContext
    ) async throws -> NodePublishVolumeResponse {
        guard !request.volumeId.isEmpty, !request.targetPath.isEmpty else {
            throw RPCError(.invalidArgument, "volume_id and target_path are required")
        }
        guard request.volumeCapability != nil else { throw RPCError(.invalidArgument, "volume_capability is required") }
        guard await store.volume(id: request.volumeId) != nil else {
            throw RPCError(.notFound, "volume \(request.volumeId) not found")
        }
        guard await store.isStaged(request.volumeId, node: configuration.nodeID) else {
            throw RPCError(.failedPrecondition, "volume \(request.volumeId) is not staged on \(configuration.nodeID)")
        }
        let fm = FileManager.default
        let destination = volumeDirectory(request.volumeId).path
        if let existing = try? fm.destinationOfSymbolicLink(atPath: request.targetPath) {
            guard existing == destination else {
                throw RPCError(.alreadyExists, "\(request.targetPath) is already published for another volume")
            }
            return .init()
        }
        do {
            try fm.createDirectory(atPath: (request.targetPath as NSString).deletingLastPathComponent,
                                   withIntermediateDirectories: true)
            if fm.fileExists(atPath: request.targetPath) { try fm.removeItem(atPath: request.targetPath) }
            try fm.createSymbolicLink(atPath: request.targetPath, withDestinationPath: destination)
        } catch {
            throw RPCError(.internal, "cannot publish \(request.volumeId) at \(request.targetPath): \(error)")
        }
        await store.markPublished(request.targetPath, volume: request.volumeId, node: configuration.nodeID, true)
        return .init()
    }

    /// Removes the link at `target_path`. Idempotent.
    public func nodeUnpublishVolume(
        _ request: NodeUnpublishVolumeRequest, context: ServerContext
    ) async throws -> NodeUnpublishVolumeResponse {
        guard !request.volumeId.isEmpty, !request.targetPath.isEmpty else {
            throw RPCError(.invalidArgument, "volume_id and target_path are required")
        }
        if (try? FileManager.default.destinationOfSymbolicLink(atPath: request.targetPath)) != nil {
            try? FileManager.default.removeItem(atPath: request.targetPath)
        }
        await store.markPublished(request.targetPath, volume: request.volumeId, node: configuration.nodeID, false)
        return .init()
    }

    /// Real usage: the sum of the sizes of the volume's files.
    public func nodeGetVolumeStats(
        _ request: NodeGetVolumeStatsRequest, context: ServerContext
    ) async throws -> NodeGetVolumeStatsResponse {
        guard let record = await store.volume(id: request.volumeId) else {
            throw RPCError(.notFound, "volume \(request.volumeId) not found")
        }
        var used: Int64 = 0
        let root = volumeDirectory(record.id)
        if let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.fileSizeKey]) {
            for case let url as URL in walker {
                used += Int64((try? url.resourceValues(forKeys: [.fileSizeKey]).fileSize) ?? 0)
            }
        }
        return .init(usage: [.init(available: max(0, record.capacityBytes - used), total: record.capacityBytes, used: used,
                                   unit: .bytes)])
    }
}

public import CSI
public import GRPCTransport
import Synchronization

extension TestCSIDriver {
    public func createVolume(_ request: CreateVolumeRequest, context: ServerContext) async throws -> CreateVolumeResponse {
        try await enter("CreateVolume", request, context)
        guard !request.name.isEmpty else { throw RPCError(.invalidArgument, "name is required") }
        guard !request.volumeCapabilities.isEmpty else {
            throw RPCError(.invalidArgument, "volume_capabilities are required")
        }
        let required = request.capacityRange?.requiredBytes ?? 0
        let capacity = required > 0 ? required : configuration.defaultCapacityBytes
        return try state.withLock { state throws(RPCError) -> CreateVolumeResponse in
            if let id = state.volumeNames[request.name], let existing = state.volumes[id] {
                guard existing.capacityBytes == capacity, existing.contentSource == request.volumeContentSource else {
                    throw RPCError(.alreadyExists, "volume \(request.name) exists with different parameters")
                }
                return .init(volume: existing)
            }
            switch request.volumeContentSource?.type {
            case .snapshot(let source)?:
                guard state.snapshots[source.snapshotId] != nil else {
                    throw RPCError(.notFound, "snapshot \(source.snapshotId) not found")
                }
            case .volume(let source)?:
                guard state.volumes[source.volumeId] != nil else {
                    throw RPCError(.notFound, "volume \(source.volumeId) not found")
                }
            case nil:
                break
            }
            let topology = request.accessibilityRequirements.flatMap { $0.preferred.first ?? $0.requisite.first }
                ?? configuration.topology
            let volume = Volume(
                capacityBytes: capacity, volumeId: "vol-\(state.nextID)", volumeContext: ["name": request.name],
                contentSource: request.volumeContentSource, accessibleTopology: topology.map { [$0] } ?? [])
            state.nextID += 1
            state.volumes[volume.volumeId] = volume
            state.volumeNames[request.name] = volume.volumeId
            return .init(volume: volume)
        }
    }

    public func deleteVolume(_ request: DeleteVolumeRequest, context: ServerContext) async throws -> DeleteVolumeResponse {
        try await enter("DeleteVolume", request, context)
        guard !request.volumeId.isEmpty else { throw RPCError(.invalidArgument, "volume_id is required") }
        state.withLock { state in
            state.volumes[request.volumeId] = nil
            state.volumeNames = state.volumeNames.filter { $0.value != request.volumeId }
            state.published[request.volumeId] = nil
        }
        return .init()
    }

    public func controllerPublishVolume(
        _ request: ControllerPublishVolumeRequest, context: ServerContext
    ) async throws -> ControllerPublishVolumeResponse {
        try await enter("ControllerPublishVolume", request, context)
        try state.withLock { state throws(RPCError) in
            guard state.volumes[request.volumeId] != nil else {
                throw RPCError(.notFound, "volume \(request.volumeId) not found")
            }
            state.published[request.volumeId, default: []].insert(request.nodeId)
        }
        return .init(publishContext: ["device": "/dev/test/\(request.volumeId)"])
    }

    public func controllerUnpublishVolume(
        _ request: ControllerUnpublishVolumeRequest, context: ServerContext
    ) async throws -> ControllerUnpublishVolumeResponse {
        try await enter("ControllerUnpublishVolume", request, context)
        state.withLock { _ = $0.published[request.volumeId]?.remove(request.nodeId) }
        return .init()
    }

    public func validateVolumeCapabilities(
        _ request: ValidateVolumeCapabilitiesRequest, context: ServerContext
    ) async throws -> ValidateVolumeCapabilitiesResponse {
        try await enter("ValidateVolumeCapabilities", request, context)
        guard state.withLock({ $0.volumes[request.volumeId] != nil }) else {
            throw RPCError(.notFound, "volume \(request.volumeId) not found")
        }
        return .init(confirmed: .init(
            volumeContext: request.volumeContext, volumeCapabilities: request.volumeCapabilities,
            parameters: request.parameters, mutableParameters: request.mutableParameters))
    }

    public func listVolumes(_ request: ListVolumesRequest, context: ServerContext) async throws -> ListVolumesResponse {
        try await enter("ListVolumes", request, context)
        let (all, published) = state.withLock { ($0.volumes.values.sorted { $0.volumeId < $1.volumeId }, $0.published) }
        let (page, next) = try paginate(all, maxEntries: request.maxEntries, token: request.startingToken)
        return .init(
            entries: page.map {
                .init(volume: $0, status: .init(publishedNodeIds: published[$0.volumeId].map { $0.sorted() } ?? []))
            },
            nextToken: next)
    }

    public func getCapacity(_ request: GetCapacityRequest, context: ServerContext) async throws -> GetCapacityResponse {
        try await enter("GetCapacity", request, context)
        return .init(availableCapacity: configuration.availableCapacityBytes, maximumVolumeSize: 1 << 42)
    }

    public func controllerGetCapabilities(
        _ request: ControllerGetCapabilitiesRequest, context: ServerContext
    ) async throws -> ControllerGetCapabilitiesResponse {
        try await enter("ControllerGetCapabilities", request, context)
        return .init(capabilities: configuration.controllerCapabilities.map { .init(type: .rpc(.init(type: $0))) })
    }

    public func createSnapshot(_ request: CreateSnapshotRequest, context: ServerContext) async throws -> CreateSnapshotResponse {
        try await enter("CreateSnapshot", request, context)
        guard !request.name.isEmpty else { throw RPCError(.invalidArgument, "name is required") }
        return try state.withLock { state throws(RPCError) -> CreateSnapshotResponse in
            if let id = state.snapshotNames[request.name], let existing = state.snapshots[id] {
                guard existing.sourceVolumeId == request.sourceVolumeId else {
                    throw RPCError(.alreadyExists, "snapshot \(request.name) exists for another volume")
                }
                return .init(snapshot: existing)
            }
            guard let volume = state.volumes[request.sourceVolumeId] else {
                throw RPCError(.notFound, "volume \(request.sourceVolumeId) not found")
            }
            state.clock += 1
            let snapshot = Snapshot(
                sizeBytes: volume.capacityBytes, snapshotId: "snap-\(state.nextID)", sourceVolumeId: volume.volumeId,
                creationTime: Timestamp(seconds: state.clock, nanos: 0), readyToUse: true)
            state.nextID += 1
            state.snapshots[snapshot.snapshotId] = snapshot
            state.snapshotNames[request.name] = snapshot.snapshotId
            return .init(snapshot: snapshot)
        }
    }

    public func deleteSnapshot(_ request: DeleteSnapshotRequest, context: ServerContext) async throws -> DeleteSnapshotResponse {
        try await enter("DeleteSnapshot", request, context)
        state.withLock { state in
            state.snapshots[request.snapshotId] = nil
            state.snapshotNames = state.snapshotNames.filter { $0.value != request.snapshotId }
        }
        return .init()
    }

    public func listSnapshots(_ request: ListSnapshotsRequest, context: ServerContext) async throws -> ListSnapshotsResponse {
        try await enter("ListSnapshots", request, context)
        let all = state.withLock { $0.snapshots.values.sorted { $0.snapshotId < $1.snapshotId } }.filter {
            (request.snapshotId.isEmpty || $0.snapshotId == request.snapshotId)
                && (request.sourceVolumeId.isEmpty || $0.sourceVolumeId == request.sourceVolumeId)
        }
        let (page, next) = try paginate(all, maxEntries: request.maxEntries, token: request.startingToken)
        return .init(entries: page.map { .init(snapshot: $0) }, nextToken: next)
    }

    public func controllerExpandVolume(
        _ request: ControllerExpandVolumeRequest, context: ServerContext
    ) async throws -> ControllerExpandVolumeResponse {
        try await enter("ControllerExpandVolume", request, context)
        let capacity = request.capacityRange?.requiredBytes ?? 0
        try state.withLock { state throws(RPCError) in
            guard state.volumes[request.volumeId] != nil else {
                throw RPCError(.notFound, "volume \(request.volumeId) not found")
            }
            state.volumes[request.volumeId]?.capacityBytes = capacity
        }
        return .init(capacityBytes: capacity, nodeExpansionRequired: false)
    }

    private func paginate<T>(_ items: [T], maxEntries: Int32, token: String) throws(RPCError) -> ([T], String) {
        let start: Int
        if token.isEmpty {
            start = 0
        } else if let value = Int(token), value >= 0, value <= items.count {
            start = value
        } else {
            throw RPCError(.aborted, "invalid starting_token \(token)")
        }
        let end = maxEntries > 0 ? min(items.count, start + Int(maxEntries)) : items.count
        return (Array(items[start..<end]), end < items.count ? String(end) : "")
    }
}

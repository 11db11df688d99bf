public import CSI
import Foundation
public import GRPCTransport

extension LocalCSIDriver {
    public func controllerGetCapabilities(
        _ request: ControllerGetCapabilitiesRequest, context: ServerContext
    ) async throws -> ControllerGetCapabilitiesResponse {
        let caps: [ControllerServiceCapability.RPC.TypeEnum] = [
            .createDeleteVolume, .createDeleteSnapshot, .cloneVolume, .listVolumes, .listSnapshots, .getCapacity,
            .expandVolume,
        ]
        return .init(capabilities: caps.map { .init(type: .rpc(.init(type: $0))) })
    }

    /// Creates (or returns, by name) a volume directory, filled from a snapshot or a volume when asked.
    public func createVolume(_ request: CreateVolumeRequest, context: ServerContext) async throws -> CreateVolumeResponse {
        try await configuration.faults?.intercept("CreateVolume")
        guard !request.name.isEmpty else { throw RPCError(.invalidArgument, "name is required") }
        guard !request.volumeCapabilities.isEmpty else { throw RPCError(.invalidArgument, "volume_capabilities are required") }
        for cap in request.volumeCapabilities {
            if case .block? = cap.accessType {
                throw RPCError(.invalidArgument, "block volumes are not supported: volumes of \(Self.driverName) are directories")
            }
        }
        let required = request.capacityRange?.requiredBytes ?? 0
        let limit = request.capacityRange?.limitBytes ?? 0
        if limit > 0, required > limit {
            throw RPCError(.invalidArgument, "required_bytes \(required) exceeds limit_bytes \(limit)")
        }
        let capacity = required > 0 ? required : min(configuration.defaultCapacityBytes, limit > 0 ? limit : .max)
        if let existing = await store.volume(named: request.name) {
            guard existing.capacityBytes >= required, limit == 0 || existing.capacityBytes <= limit,
                  Self.source(of: existing) == request.volumeContentSource else {
                throw RPCError(.alreadyExists, "volume \(request.name) exists with a different capacity or content source")
            }
            return .init(volume: volume(existing))
        }
        guard await store.begin(request.name) else {
            throw RPCError(.aborted, "an operation for volume \(request.name) is already in progress")
        }
        do {
            let record = try await create(request, capacity: capacity)
            await store.end(request.name)
            return .init(volume: volume(record))
        } catch {
            await store.end(request.name)
            throw error
        }
    }

    private func create(_ request: CreateVolumeRequest, capacity: Int64) async throws -> VolumeStore.VolumeRecord {
        guard await store.availableBytes >= capacity else {
            throw RPCError(.resourceExhausted, "insufficient capacity: \(capacity) bytes requested, \(await store.availableBytes) available")
        }
        let node = try placement(request.accessibilityRequirements)
        let id = VolumeStore.id(prefix: "lv", name: request.name)
        let directory = volumeDirectory(id)
        var record = VolumeStore.VolumeRecord(id: id, name: request.name, capacityBytes: capacity, node: node,
                                              parameters: request.parameters)
        switch request.volumeContentSource?.type {
        case .snapshot(let source)?:
            guard let snapshot = await store.snapshot(id: source.snapshotId) else {
                throw RPCError(.notFound, "snapshot \(source.snapshotId) not found")
            }
            guard capacity >= snapshot.sizeBytes else {
                throw RPCError(.outOfRange, "requested capacity \(capacity) is less than the size \(snapshot.sizeBytes) of snapshot \(snapshot.id)")
            }
            try await copyTree(from: snapshotDirectory(snapshot.id), to: directory)
            record.sourceSnapshotID = snapshot.id
        case .volume(let source)?:
            guard let origin = await store.volume(id: source.volumeId) else {
                throw RPCError(.notFound, "volume \(source.volumeId) not found")
            }
            guard capacity >= origin.capacityBytes else {
                throw RPCError(.outOfRange, "requested capacity \(capacity) is less than the capacity \(origin.capacityBytes) of source volume \(origin.id)")
            }
            try await copyTree(from: volumeDirectory(origin.id), to: directory)
            record.sourceVolumeID = origin.id
        case nil:
            do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
                throw RPCError(.internal, "cannot create \(directory.path): \(error)")
            }
        }
        do { try await store.save(record) } catch {
            try? FileManager.default.removeItem(at: directory)
            throw RPCError(.internal, "cannot record volume \(id): \(error)")
        }
        return record
    }

    /// The node a new volume lives on (see the type's documentation).
    private func placement(_ requirements: TopologyRequirement?) throws(RPCError) -> String {
        guard let requirements, !(requirements.preferred.isEmpty && requirements.requisite.isEmpty) else {
            return configuration.nodes.first ?? configuration.nodeID
        }
        for topology in requirements.preferred + requirements.requisite {
            if let node = topology.segments[Self.topologyKey], configuration.nodes.contains(node) { return node }
        }
        throw RPCError(.resourceExhausted, "no requested topology segment names a node of \(Self.driverName) (\(configuration.nodes.joined(separator: ", ")))")
    }

    static func source(of record: VolumeStore.VolumeRecord) -> VolumeContentSource? {
        if let s = record.sourceSnapshotID { return VolumeContentSource(type: .snapshot(.init(snapshotId: s))) }
        if let v = record.sourceVolumeID { return VolumeContentSource(type: .volume(.init(volumeId: v))) }
        return nil
    }

    func volume(_ record: VolumeStore.VolumeRecord) -> Volume {
        Volume(capacityBytes: record.capacityBytes, volumeId: record.id,
               volumeContext: ["localPath": volumeDirectory(record.id).path],
               contentSource: Self.source(of: record),
               accessibleTopology: [Self.topology(record.node ?? configuration.nodes.first ?? configuration.nodeID)])
    }

    /// Deletes a volume and its data. Idempotent; FAILED_PRECONDITION while it is staged or published on a node.
    public func deleteVolume(_ request: DeleteVolumeRequest, context: ServerContext) async throws -> DeleteVolumeResponse {
        try await configuration.faults?.intercept("DeleteVolume")
        guard !request.volumeId.isEmpty else { throw RPCError(.invalidArgument, "volume_id is required") }
        try await store.removeVolume(request.volumeId)
        return .init()
    }

    public func validateVolumeCapabilities(
        _ request: ValidateVolumeCapabilitiesRequest, context: ServerContext
    ) async throws -> ValidateVolumeCapabilitiesResponse {
        guard await store.volume(id: request.volumeId) != nil else {
            throw RPCError(.notFound, "volume \(request.volumeId) not found")
        }
        if request.volumeCapabilities.contains(where: { if case .block? = $0.accessType { true } else { false } }) {
            return .init(message: "block access is not supported")
        }
        return .init(confirmed: .init(volumeContext: request.volumeContext, volumeCapabilities: request.volumeCapabilities,
                                      parameters: request.parameters, mutableParameters: request.mutableParameters))
    }

    public func listVolumes(_ request: ListVolumesRequest, context: ServerContext) async throws -> ListVolumesResponse {
        let all = await store.allVolumes()
        let (page, next) = try paginate(all, maxEntries: request.maxEntries, token: request.startingToken)
        return .init(entries: page.map { .init(volume: volume($0)) }, nextToken: next)
    }

    public func getCapacity(_ request: GetCapacityRequest, context: ServerContext) async throws -> GetCapacityResponse {
        .init(availableCapacity: max(0, await store.availableBytes), maximumVolumeSize: configuration.totalCapacityBytes)
    }

    /// Snapshots a volume by copying its directory. Idempotent by name; NOT_FOUND for a missing source.
    public func createSnapshot(_ request: CreateSnapshotRequest, context: ServerContext) async throws -> CreateSnapshotResponse {
        try await configuration.faults?.intercept("CreateSnapshot")
        guard !request.name.isEmpty else { throw RPCError(.invalidArgument, "name is required") }
        guard !request.sourceVolumeId.isEmpty else { throw RPCError(.invalidArgument, "source_volume_id is required") }
        if let existing = await store.snapshot(named: request.name) {
            guard existing.sourceVolumeID == request.sourceVolumeId else {
                throw RPCError(.alreadyExists, "snapshot \(request.name) exists for another volume (\(existing.sourceVolumeID))")
            }
            return .init(snapshot: snapshot(existing))
        }
        guard let origin = await store.volume(id: request.sourceVolumeId) else {
            throw RPCError(.notFound, "volume \(request.sourceVolumeId) not found")
        }
        guard await store.begin("snapshot/" + request.name) else {
            throw RPCError(.aborted, "an operation for snapshot \(request.name) is already in progress")
        }
        defer { Task { await store.end("snapshot/" + request.name) } }
        let id = VolumeStore.id(prefix: "ls", name: request.name)
        try await copyTree(from: volumeDirectory(origin.id), to: snapshotDirectory(id))
        let now = Date().timeIntervalSince1970
        let record = VolumeStore.SnapshotRecord(
            id: id, name: request.name, sourceVolumeID: origin.id, sizeBytes: origin.capacityBytes,
            creationSeconds: Int64(now), creationNanos: Int32((now - now.rounded(.down)) * 1e9))
        do { try await store.save(record) } catch {
            try? FileManager.default.removeItem(at: snapshotDirectory(id))
            throw RPCError(.internal, "cannot record snapshot \(id): \(error)")
        }
        return .init(snapshot: snapshot(record))
    }

    func snapshot(_ r: VolumeStore.SnapshotRecord) -> Snapshot {
        Snapshot(sizeBytes: r.sizeBytes, snapshotId: r.id, sourceVolumeId: r.sourceVolumeID,
                 creationTime: Timestamp(seconds: r.creationSeconds, nanos: r.creationNanos), readyToUse: true)
    }

    public func deleteSnapshot(_ request: DeleteSnapshotRequest, context: ServerContext) async throws -> DeleteSnapshotResponse {
        guard !request.snapshotId.isEmpty else { throw RPCError(.invalidArgument, "snapshot_id is required") }
        await store.removeSnapshot(request.snapshotId)
        return .init()
    }

    public func listSnapshots(_ request: ListSnapshotsRequest, context: ServerContext) async throws -> ListSnapshotsResponse {
        let all = await store.allSnapshots().filter {
            (request.snapshotId.isEmpty || $0.id == request.snapshotId)
                && (request.sourceVolumeId.isEmpty || $0.sourceVolumeID == request.sourceVolumeId)
        }
        let (page, next) = try paginate(all, maxEntries: request.maxEntries, token: request.startingToken)
        return .init(entries: page.map { .init(snapshot: snapshot($0)) }, nextToken: next)
    }

    /// Records a larger capacity (directories need no resizing).
    public func controllerExpandVolume(
        _ request: ControllerExpandVolumeRequest, context: ServerContext
    ) async throws -> ControllerExpandVolumeResponse {
        guard let record = await store.volume(id: request.volumeId) else {
            throw RPCError(.notFound, "volume \(request.volumeId) not found")
        }
        let wanted = request.capacityRange?.requiredBytes ?? 0
        let capacity = max(record.capacityBytes, wanted)
        do { try await store.setCapacity(record.id, capacity) } catch {
            throw RPCError(.internal, "cannot record volume \(record.id): \(error)")
        }
        return .init(capacityBytes: capacity, nodeExpansionRequired: false)
    }

    private func paginate<T>(_ items: [T], maxEntries: Int32, token: String) throws(RPCError) -> ([T], String) {
        guard maxEntries >= 0 else { throw RPCError(.invalidArgument, "max_entries must not be negative") }
        let start: Int
        if token.isEmpty { start = 0 } else if let value = Int(token), value >= 0, value <= items.count { start = value } else {
            throw RPCError(.aborted, "invalid starting_token \(token)")
        }
        let end = maxEntries > 0 ? min(items.count, start + Int(maxEntries)) : items.count
        return (Array(items[start..<end]), end < items.count ? String(end) : "")
    }
}

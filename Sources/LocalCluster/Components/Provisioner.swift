import CSI
import Foundation
import GRPCTransport
import Kube

/// The sync functions of ``ExternalProvisioner`` (one key at a time).
struct Provisioner: Sendable {
    let client: KubeClient
    let controller: ControllerClient
    let driverName: String
    let timeout: Duration
    let sources: ProvisioningSources
    let claims: Informer<PersistentVolumeClaim>
    let volumes: Informer<PersistentVolume>
    let classes: Informer<StorageClass>
    let nodes: Informer<Node>
    let events: EventRecorder
    /// `storage.kubernetes.io/csiProvisionerIdentity`.
    let identity: String

    static let reservedPrefix = "csi.storage.k8s.io/"

    // MARK: Provisioning

    func syncClaim(_ key: ObjectKey) async -> SyncOutcome {
        guard let claim = claims.get(key), claim.metadata.deletionTimestamp == nil,
              (claim.spec.volumeName ?? "").isEmpty else { return .done }
        let annotations = claim.metadata.annotations
        guard (annotations[Names.storageProvisioner] ?? annotations[Names.betaStorageProvisioner]) == driverName else {
            return .done
        }
        guard let className = claim.spec.storageClassName,
              let storageClass = classes.get(name: className, namespace: nil) else {
            return .retry("storage class of \(key) not found")
        }
        guard storageClass.provisioner == driverName else { return .done }
        let delayed = storageClass.volumeBindingMode == "WaitForFirstConsumer"
        let selectedNode = annotations[Names.selectedNode] ?? ""
        if delayed, selectedNode.isEmpty { return .done }
        let pvName = "pvc-\(claim.metadata.uid ?? "")"
        if volumes.get(name: pvName, namespace: nil) != nil { return .done }
        if (try? await client.get(PersistentVolume.self, name: pvName)) != nil { return .done }
        if claim.spec.selector != nil {
            await events.emit(claim, type: .warning, reason: "ProvisioningFailed", message: "claim Selector is not supported")
            return .retry("claim selector")
        }
        await events.emit(claim, type: .normal, reason: "Provisioning",
                            message: "External provisioner is provisioning volume for claim \"\(key)\"")
        do throws(ProvisionFailure) {
            try await provision(claim, storageClass: storageClass, pvName: pvName, selectedNode: delayed ? selectedNode : nil)
            await events.emit(claim, type: .normal, reason: "ProvisioningSucceeded",
                                message: "Successfully provisioned volume \(pvName)")
            return .done
        } catch {
            switch error {
            case .populator:
                await events.emit(claim, type: .normal, reason: "Provisioning",
                                  message: "Assuming an external populator will provision the volume")
                return .done
            case .reschedule(let message):
                await events.emit(claim, type: .warning, reason: "ProvisioningFailed", message: message)
                var updated = claim
                updated.metadata.annotations[Names.selectedNode] = nil
                _ = try? await client.update(updated)
                return .retry(message)
            case .failed(let message):
                await events.emit(claim, type: .warning, reason: "ProvisioningFailed", message: message)
                return .retry(message)
            }
        }
    }

    private func provision(_ claim: PersistentVolumeClaim, storageClass: StorageClass, pvName: String,
                           selectedNode: String?) async throws(ProvisionFailure) {
        let resolved = try await sources.resolve(claim, storageClass: storageClass)
        if let snapshot = resolved?.snapshot { try await addFinalizer(Names.snapshotSourceProtection, to: snapshot) }
        if let source = resolved?.sourceClaim { try await addFinalizer(Names.cloningProtection, to: source) }
        var request = try createRequest(claim, storageClass: storageClass, pvName: pvName, selectedNode: selectedNode)
        request.volumeContentSource = resolved?.source
        let created: Volume
        do {
            let response = try await controller.createVolume(request, options: CallOptions(timeout: timeout))
            guard let volume = response.volume else { throw ProvisionFailure.failed("CreateVolume returned no volume") }
            created = volume
        } catch let error as RPCError {
            let text = "rpc error: code = \(Self.codeName(error.code)) desc = \(error.message)"
            switch error.code {
            case .resourceExhausted where selectedNode != nil: throw .reschedule(text)
            case .invalidArgument: throw .failed("Volume provisioning failed with infeasible error. Retries will be delayed. \(text)")
            default: throw .failed(text)
            }
        } catch let failure as ProvisionFailure {
            throw failure
        } catch {
            throw .failed("\(error)")
        }
        let requested = request.capacityRange?.requiredBytes ?? 0
        let capacity = created.capacityBytes == 0 ? requested : created.capacityBytes
        if resolved != nil, created.contentSource == nil {
            await deleteQuietly(created.volumeId)
            throw .failed("volume content source missing")
        }
        if capacity < requested {
            await deleteQuietly(created.volumeId)
            throw .failed("created volume capacity \(capacity) less than requested capacity \(requested)")
        }
        let volume = persistentVolume(claim, storageClass: storageClass, pvName: pvName, volume: created, capacity: capacity)
        do { _ = try await client.create(volume) } catch where error.code == .alreadyExists {
        } catch {
            throw .failed("error creating PersistentVolume \(pvName): \(error.message)")
        }
        if let snapshot = resolved?.snapshot, claim.spec.dataSource?.kind == "VolumeSnapshot" {
            await removeFinalizer(Names.snapshotSourceProtection, from: VolumeSnapshot.self, name: snapshot.name,
                                  namespace: snapshot.metadata.namespace)
        }
        if let source = resolved?.sourceClaim {
            let pending = claims.byNamespaceOrAll(source.metadata.namespace).contains {
                $0.key != claim.key && $0.status.phase != "Bound" && $0.spec.dataSource?.kind == "PersistentVolumeClaim"
                    && $0.spec.dataSource?.name == source.name
            }
            if !pending {
                await removeFinalizer(Names.cloningProtection, from: PersistentVolumeClaim.self, name: source.name,
                                      namespace: source.metadata.namespace)
            }
        }
    }

    /// The CreateVolumeRequest of `prepareProvision`.
    func createRequest(_ claim: PersistentVolumeClaim, storageClass: StorageClass, pvName: String,
                       selectedNode: String?) throws(ProvisionFailure) -> CreateVolumeRequest {
        let parameters = storageClass.parameters
        if parameters["csi.storage.k8s.io/fstype"] != nil, parameters["fstype"] != nil {
            throw .failed("fstype specified in parameters with both \"fstype\" and \"csi.storage.k8s.io/fstype\" keys")
        }
        let known = Set(["csi.storage.k8s.io/fstype"] + [
            "provisioner-secret-name", "provisioner-secret-namespace", "controller-publish-secret-name",
            "controller-publish-secret-namespace", "node-stage-secret-name", "node-stage-secret-namespace",
            "node-publish-secret-name", "node-publish-secret-namespace", "controller-expand-secret-name",
            "controller-expand-secret-namespace", "node-expand-secret-name", "node-expand-secret-namespace",
            "secret-name", "secret-namespace",
        ].map { Self.reservedPrefix + $0 })
        for key in parameters.keys where key.hasPrefix(Self.reservedPrefix) && !known.contains(key) {
            throw .failed("found unknown parameter key \"\(key)\" with reserved namespace \(Self.reservedPrefix)")
        }
        let fsType = parameters["csi.storage.k8s.io/fstype"] ?? parameters["fstype"] ?? ""
        let block = claim.spec.volumeMode == "Block"
        let capabilities = claim.spec.accessModes.map { mode -> VolumeCapability in
            let csiMode: VolumeCapability.AccessMode.Mode = switch mode {
            case "ReadOnlyMany": .multiNodeReaderOnly
            case "ReadWriteMany": .multiNodeMultiWriter
            default: .singleNodeWriter
            }
            return VolumeCapability(accessMode: .init(mode: csiMode),
                                    accessType: block ? .block(.init())
                                        : .mount(.init(fsType: fsType, mountFlags: storageClass.mountOptions)))
        }
        return CreateVolumeRequest(
            name: pvName, capacityRange: CapacityRange(requiredBytes: VolumeMatching.requestBytes(claim)),
            volumeCapabilities: capabilities,
            parameters: parameters.filter { !$0.key.hasPrefix(Self.reservedPrefix) && $0.key != "fstype" },
            accessibilityRequirements: try topology(claim, storageClass: storageClass, selectedNode: selectedNode))
    }

    /// `GenerateAccessibilityRequirements`: segments of the nodes the class allows; delayed binding puts the
    /// selected node first, immediate binding rotates by the claim's name.
    private func topology(_ claim: PersistentVolumeClaim, storageClass: StorageClass,
                          selectedNode: String?) throws(ProvisionFailure) -> TopologyRequirement {
        let key = LocalCSIDriver.topologyKey
        let allowed = (storageClass["allowedTopologies"] as [JSONMap]?) ?? []
        let eligible = nodes.list().filter { node in
            node.metadata.labels[key] != nil && (allowed.isEmpty || allowed.contains { term in
                let exprs: [JSONMap] = term["matchLabelExpressions"] ?? []
                return exprs.allSatisfy { e in
                    node.metadata.labels[e["key"] ?? ""].map { (e["values"] as [String]? ?? []).contains($0) } ?? false
                }
            })
        }.sorted { $0.name < $1.name }
        var segments = eligible.compactMap { $0.metadata.labels[key] }.map { Topology(segments: [key: $0]) }
        if let selectedNode {
            guard let node = nodes.get(name: selectedNode, namespace: nil) ?? nil, let value = node.metadata.labels[key] else {
                throw .reschedule("error generating accessibility requirements: node \"\(selectedNode)\" not found or without topology label \(key)")
            }
            let mine = Topology(segments: [key: value])
            segments = [mine] + segments.filter { $0 != mine }
            return TopologyRequirement(requisite: segments, preferred: segments)
        }
        guard !segments.isEmpty else { return TopologyRequirement() }
        let shift = Int(claim.name.utf8.reduce(UInt32(0)) { $0 &* 31 &+ UInt32($1) } % UInt32(segments.count))
        let preferred = Array(segments[shift...] + segments[..<shift])
        return TopologyRequirement(requisite: segments, preferred: preferred)
    }

    /// The PV of `provisionClaimOperation` and `Provision`.
    private func persistentVolume(_ claim: PersistentVolumeClaim, storageClass: StorageClass, pvName: String,
                                  volume: Volume, capacity: Int64) -> PersistentVolume {
        var pv = PersistentVolume(name: pvName)
        pv.metadata.annotations = [
            Names.provisionedBy: driverName,
            "volume.kubernetes.io/provisioner-deletion-secret-name": "",
            "volume.kubernetes.io/provisioner-deletion-secret-namespace": "",
        ]
        let policy = storageClass.reclaimPolicy ?? "Delete"
        if policy == "Delete" { pv.metadata.finalizers = [Names.provisionerFinalizer] }
        pv.spec.accessModes = claim.spec.accessModes
        pv.spec.capacity = ["storage": Quantity.string(bytes: capacity)]
        pv.spec.persistentVolumeReclaimPolicy = policy
        pv.spec.storageClassName = storageClass.name
        pv.spec.mountOptions = storageClass.mountOptions
        pv.spec.volumeMode = claim.spec.volumeMode ?? "Filesystem"
        var csi = CSIPersistentVolumeSource()
        csi.driver = driverName
        csi.volumeHandle = volume.volumeId
        var attributes = volume.volumeContext
        attributes["storage.kubernetes.io/csiProvisionerIdentity"] = identity
        csi.volumeAttributes = attributes
        if claim.spec.volumeMode != "Block" {
            let fsType = storageClass.parameters["csi.storage.k8s.io/fstype"] ?? storageClass.parameters["fstype"] ?? ""
            if !fsType.isEmpty { csi.fsType = fsType }
        }
        pv.spec.csi = csi
        pv.spec.nodeAffinity = NodeAffinity.volumeAffinity(segments: volume.accessibleTopology.map(\.segments))
        pv.spec.claimRef = ObjectReference(apiVersion: "v1", kind: "PersistentVolumeClaim",
                                           namespace: claim.metadata.namespace, name: claim.name,
                                           uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion)
        return pv
    }

    private func deleteQuietly(_ volumeID: String) async {
        for _ in 0..<5 {
            if (try? await controller.deleteVolume(.init(volumeId: volumeID), options: CallOptions(timeout: timeout))) != nil {
                return
            }
        }
    }

    private func addFinalizer<T: KubeResource>(_ finalizer: String, to object: T) async throws(ProvisionFailure) {
        guard !object.metadata.finalizers.contains(finalizer) else { return }
        var updated = object
        updated.metadata.finalizers.append(finalizer)
        do { _ = try await client.update(updated) } catch {
            throw .failed("cannot add finalizer \(finalizer) to \(T.resourceType.kind) \(object.key): \(error.message)")
        }
    }

    private func removeFinalizer<T: KubeResource>(_ finalizer: String, from: T.Type, name: String,
                                                  namespace: String?) async {
        for _ in 0..<5 {
            guard var object = try? await client.get(T.self, name: name, namespace: namespace),
                  object.metadata.finalizers.contains(finalizer) else { return }
            object.metadata.finalizers.removeAll { $0 == finalizer }
            if (try? await client.update(object)) != nil { return }
        }
    }

    static func codeName(_ code: RPCStatusCode) -> String {
        let text = "\(code)"
        return text.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }.joined()
    }

    // MARK: Deletion

    func syncVolume(_ name: String) async -> SyncOutcome {
        guard let volume = volumes.get(name: name, namespace: nil) else { return .done }
        let provisionedBy = volume.metadata.annotations[Names.provisionedBy]
        guard provisionedBy == driverName || (provisionedBy == nil && volume.spec.csi?.driver == driverName) else {
            return .done
        }
        let policy = volume.spec.persistentVolumeReclaimPolicy ?? "Retain"
        let hasFinalizer = volume.metadata.finalizers.contains(Names.provisionerFinalizer)
        do {
            if volume.status.phase == "Bound", volume.metadata.deletionTimestamp == nil, policy == "Delete", !hasFinalizer {
                var pv = volume
                pv.metadata.finalizers.append(Names.provisionerFinalizer)
                _ = try await client.update(pv)
                return .done
            }
            if policy != "Delete", hasFinalizer {
                var pv = volume
                pv.metadata.finalizers.removeAll { $0 == Names.provisionerFinalizer }
                _ = try await client.update(pv)
                return .done
            }
        } catch {
            return .retry("\(error)")
        }
        guard volume.status.phase == "Released", policy == "Delete", hasFinalizer,
              let handle = volume.spec.csi?.volumeHandle else { return .done }
        do {
            _ = try await controller.deleteVolume(.init(volumeId: handle), options: CallOptions(timeout: timeout))
        } catch {
            let text = (error as? RPCError).map { "rpc error: code = \(Self.codeName($0.code)) desc = \($0.message)" } ?? "\(error)"
            await events.emit(volume, type: .warning, reason: "VolumeFailedDelete", message: text)
            return .retry(text)
        }
        do {
            try await client.delete(PersistentVolume.self, name: name,
                                    options: DeleteOptions(preconditionUID: volume.metadata.uid))
        } catch where error.code == .notFound {
            return .done
        } catch {
            return .retry("\(error)")
        }
        await removeFinalizer(Names.provisionerFinalizer, from: PersistentVolume.self, name: name, namespace: nil)
        return .done
    }
}

extension Informer {
    /// Objects of one namespace, or all (a linear scan; the informers here carry no indexers).
    func byNamespaceOrAll(_ namespace: String?) -> [T] {
        list().filter { namespace == nil || $0.metadata.namespace == namespace }
    }
}

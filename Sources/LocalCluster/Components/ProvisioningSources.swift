import CSI
import Kube

/// Why a claim was not provisioned (the library's ProvisioningState, reduced to what the simulation acts on).
enum ProvisionFailure: Error, Sendable {
    /// Warning `ProvisioningFailed` with this text; retried with backoff.
    case failed(String)
    /// As `failed`, and the claim's `selected-node` is removed so the scheduler picks again (ProvisioningReschedule).
    case reschedule(String)
    /// A kind this provisioner does not know: Normal `Provisioning` "Assuming an external populator will provision
    /// the volume", no retries (IgnoredError).
    case populator
}

/// The content source of a claim: `(*csiProvisioner).dataSource`, `getSnapshotSource`, `getPVCSource` and the
/// ReferenceGrant rule `IsGranted` of external-provisioner (kubernetes.md §1.2–1.5, §1.9, §1.11), with their
/// texts (Appendix A).
struct ProvisioningSources: Sendable {
    let client: KubeClient
    let driverName: String
    let crossNamespaceVolumeDataSource: Bool
    let capabilities: Set<ControllerServiceCapability.RPC.TypeEnum>

    struct Resolved: Sendable {
        var source: VolumeContentSource
        /// The VolumeSnapshot (for its finalizer) or the source PVC (for cloning protection).
        var snapshot: VolumeSnapshot?
        var sourceClaim: PersistentVolumeClaim?
    }

    /// The normalised data source: `spec.dataSource` in the claim's namespace, else `spec.dataSourceRef` with its
    /// namespace (or the claim's).
    static func reference(of claim: PersistentVolumeClaim) -> (TypedObjectReference, String)? {
        let namespace = claim.metadata.namespace ?? "default"
        if let ds = claim.spec.dataSource, !(ds.name ?? "").isEmpty { return (ds, namespace) }
        if let ref = claim.spec.dataSourceRef, !(ref.name ?? "").isEmpty {
            return (ref, (ref.namespace ?? "").isEmpty ? namespace : ref.namespace ?? namespace)
        }
        return nil
    }

    /// Resolves the claim's source to a CSI content source, or nil when it has none.
    func resolve(_ claim: PersistentVolumeClaim, storageClass: StorageClass) async throws(ProvisionFailure) -> Resolved? {
        guard let (ref, namespace) = Self.reference(of: claim) else { return nil }
        let claimNamespace = claim.metadata.namespace ?? "default"
        let name = ref.name ?? ""
        let kind = ref.kind ?? ""
        if namespace != claimNamespace {
            guard crossNamespaceVolumeDataSource else {
                throw .failed("dataSourceRef namespace specified but the CrossNamespaceVolumeDataSource feature is disabled")
            }
            guard await isGranted(ref, sourceNamespace: namespace, claimNamespace: claimNamespace) else {
                throw .failed("accessing \(namespace)/\(name) of \(kind) dataSource from \(claimNamespace)/\(claim.name) isn't allowed")
            }
        }
        switch (ref.apiGroup ?? "", kind) {
        case (VolumeSnapshot.resourceType.group, "VolumeSnapshot"):
            do {
                return try await snapshotSource(name: name, namespace: namespace, claim: claim, storageClass: storageClass)
            } catch {
                throw .failed("error getting handle for DataSource Type VolumeSnapshot by Name \(name): \(error.message)")
            }
        case ("", "PersistentVolumeClaim"):
            do {
                return try await claimSource(name: name, namespace: namespace, claim: claim, storageClass: storageClass)
            } catch {
                throw .failed("error getting handle for DataSource Type PersistentVolumeClaim by Name \(name): \(error.message)")
            }
        default:
            throw .populator
        }
    }

    struct SourceError: Error { var message: String; init(_ m: String) { message = m } }

    /// `IsGranted`: a grant in the source namespace from PVCs of the claim's namespace to this group/kind/name.
    func isGranted(_ ref: TypedObjectReference, sourceNamespace: String, claimNamespace: String) async -> Bool {
        guard let grants = try? await client.listAll(ReferenceGrant.self, namespace: sourceNamespace) else { return false }
        return grants.items.contains { grant in
            grant.spec.from.contains { ($0.group ?? "") == "" && $0.kind == "PersistentVolumeClaim" && $0.namespace == claimNamespace }
                && grant.spec.to.contains {
                    ($0.group ?? "") == (ref.apiGroup ?? "") && $0.kind == ref.kind
                        && (($0.name ?? "").isEmpty || $0.name == ref.name)
                }
        }
    }

    private func snapshotSource(name: String, namespace: String, claim: PersistentVolumeClaim,
                                storageClass: StorageClass) async throws(SourceError) -> Resolved {
        guard capabilities.contains(.createDeleteSnapshot) else {
            throw SourceError("CSI driver does not support snapshot restore: \(driverName)")
        }
        let snapshot: VolumeSnapshot
        do { snapshot = try await client.get(VolumeSnapshot.self, name: name, namespace: namespace) } catch {
            throw SourceError("error getting snapshot \(name) from api server: \(error.message)")
        }
        if snapshot.metadata.deletionTimestamp != nil,
           !snapshot.metadata.finalizers.contains(Names.snapshotSourceProtection) {
            throw SourceError("snapshot \(name) is being deleted")
        }
        guard let contentName = snapshot.status.boundVolumeSnapshotContentName, !contentName.isEmpty else {
            throw SourceError("snapshot \(name) not bound")
        }
        let content: VolumeSnapshotContent
        do { content = try await client.get(VolumeSnapshotContent.self, name: contentName) } catch {
            throw SourceError("error getting snapshotcontent \(contentName) for snapshot \(namespace)/\(name) from api server: \(error.message)")
        }
        let ref = content.spec.volumeSnapshotRef
        guard ref.uid == snapshot.metadata.uid, ref.namespace == namespace, ref.name == name else {
            throw SourceError("snapshotcontent \(contentName) for snapshot \(namespace)/\(name) is bound to a different snapshot")
        }
        guard content.spec.driver == storageClass.provisioner else {
            throw SourceError("snapshotcontent \(contentName) for snapshot \(namespace)/\(name) is not handled by CSI driver of StorageClass \(storageClass.name) (\(storageClass.provisioner ?? ""))")
        }
        guard snapshot.status.readyToUse == true else { throw SourceError("snapshot \(name) is not Ready") }
        guard let handle = content.status.snapshotHandle, !handle.isEmpty else {
            throw SourceError("snapshot handle \(contentName) is not available")
        }
        if let size = snapshot.status.restoreSize.flatMap(Quantity.bytes) {
            let requested = VolumeMatching.requestBytes(claim)
            if requested < size {
                throw SourceError("requested volume size \(requested) is less than the size \(size) for the source snapshot \(name)")
            }
        }
        if let sourceMode = content.spec.sourceVolumeMode, let mode = claim.spec.volumeMode, sourceMode != mode,
           content.metadata.annotations["snapshot.storage.kubernetes.io/allow-volume-mode-change"] != "true" {
            throw SourceError("requested volume \(namespace)/\(claim.name) modifies the mode of the source volume but does not have permission to do so. snapshot.storage.kubernetes.io/allow-volume-mode-change annotation is not present on snapshotcontent \(contentName)")
        }
        return Resolved(source: VolumeContentSource(type: .snapshot(.init(snapshotId: handle))), snapshot: snapshot)
    }

    private func claimSource(name: String, namespace: String, claim: PersistentVolumeClaim,
                             storageClass: StorageClass) async throws(SourceError) -> Resolved {
        guard capabilities.contains(.cloneVolume) else {
            throw SourceError("CSI driver does not support cloning: \(driverName)")
        }
        let invalid = SourceError("claim in dataSource not bound or invalid")
        let source: PersistentVolumeClaim
        do { source = try await client.get(PersistentVolumeClaim.self, name: name, namespace: namespace) } catch {
            throw SourceError("error getting PVC \(namespace)/\(name) from api server: \(error.message)")
        }
        guard source.status.phase == "Bound", source.metadata.deletionTimestamp == nil else { throw invalid }
        guard !(source.spec.storageClassName ?? "").isEmpty, !(claim.spec.storageClassName ?? "").isEmpty else {
            throw SourceError("the source PVC and destination PVCs must have a storage class for cloning")
        }
        let requested = VolumeMatching.requestBytes(claim)
        let sourceSize = VolumeMatching.requestBytes(source)
        guard requested >= sourceSize else {
            throw SourceError("error, new PVC request must be greater than or equal in size to the specified PVC data source, requested \(requested) but source is \(sourceSize)")
        }
        guard let volumeName = source.spec.volumeName, !volumeName.isEmpty else { throw invalid }
        let volume: PersistentVolume
        do { volume = try await client.get(PersistentVolume.self, name: volumeName) } catch { throw invalid }
        guard let csi = volume.spec.csi, csi.driver == storageClass.provisioner,
              let ref = volume.spec.claimRef, ref.uid == source.metadata.uid, ref.namespace == namespace, ref.name == name,
              volume.status.phase == "Bound", let handle = csi.volumeHandle else { throw invalid }
        guard VolumeMatching.volumeMode(source.spec.volumeMode) == VolumeMatching.volumeMode(claim.spec.volumeMode) else {
            throw SourceError("the source PVC and destination PVCs must be in the same volume mode for cloning. Source is \(VolumeMatching.volumeMode(source.spec.volumeMode)). Destination is \(VolumeMatching.volumeMode(claim.spec.volumeMode))")
        }
        return Resolved(source: VolumeContentSource(type: .volume(.init(volumeId: handle))), sourceClaim: source)
    }
}

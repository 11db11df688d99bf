public import CSI
public import Kube

/// The source-claim checks of external-provisioner's `getPVCSource` (kubernetes.md §1.9), with its texts, over the
/// source claim and its PersistentVolume as read by the caller. Pure.
public struct CloneSourceCheck: Sendable {
    public var provisioner: String
    /// Whether the driver reports `CLONE_VOLUME`.
    public var driverSupportsClone: Bool

    public init(provisioner: String, driverSupportsClone: Bool) {
        self.provisioner = provisioner
        self.driverSupportsClone = driverSupportsClone
    }

    /// Checks of the source claim alone. Returns the PV name to read next.
    public func volumeName(reference: SourceReference, source: PersistentVolumeClaim?, claim: PersistentVolumeClaim)
        -> Result<String, SourceProblem> {
        let name = reference.name
        guard driverSupportsClone else {
            return .failure(wrap(.unsupported, name,
                                 "CSI driver does not support clone operations: controller CLONE_VOLUME capability is not reported"))
        }
        guard let source else {
            return .failure(wrap(.notFound, name,
                                 "error getting PVC \(name) (namespace \"\(reference.namespace)\") from api server: persistentvolumeclaims \"\(name)\" not found"))
        }
        guard source.status.phase == "Bound" else {
            return .failure(wrap(.notReady, name,
                                 "the PVC DataSource \(name) must have a status of Bound. Got \(source.status.phase ?? "")"))
        }
        guard source.metadata.deletionTimestamp == nil else {
            return .failure(wrap(.notFound, name, "the PVC DataSource \(name) is currently being deleted"))
        }
        guard source.spec.storageClassName != nil else {
            return .failure(wrap(.incompatible, name, "the source PVC (\(name)) storageclass cannot be empty"))
        }
        guard claim.spec.storageClassName != nil else {
            return .failure(wrap(.incompatible, name, "the requested PVC (\(claim.name)) storageclass cannot be empty"))
        }
        let requested = Quantity.storage(claim.spec.resources.requests) ?? 0
        let sourceSize = Quantity.storage(source.spec.resources.requests) ?? 0
        if requested < sourceSize {
            return .failure(wrap(.incompatible, name,
                                 "error, new PVC request must be greater than or equal in size to the specified PVC data source, requested \(requested) but source is \(sourceSize)"))
        }
        guard let volume = source.spec.volumeName, !volume.isEmpty else {
            return .failure(wrap(.notReady, name, "volume name is empty in source PVC \(name)"))
        }
        return .success(volume)
    }

    /// Checks of the source's PersistentVolume, then the volumeMode rule (identical modes both ways).
    public func resolve(reference: SourceReference, source: PersistentVolumeClaim, volume: PersistentVolume?,
                        claim: PersistentVolumeClaim) -> Result<ResolvedSource, SourceProblem> {
        let name = reference.name
        let invalid = wrap(.notReady, name, "claim in dataSource not bound or invalid")
        guard let volume, let csi = volume.spec.csi, csi.driver == provisioner, let handle = csi.volumeHandle,
              !handle.isEmpty else {
            if let driver = volume?.spec.csi?.driver, driver != provisioner {
                return .failure(wrap(.incompatible, name, "claim in dataSource not bound or invalid"))
            }
            return .failure(invalid)
        }
        let ref = volume.spec.claimRef
        guard let ref, ref.uid == source.metadata.uid, ref.namespace == source.metadata.namespace, ref.name == source.name,
              volume.status.phase == "Bound" else {
            return .failure(invalid)
        }
        let want = claim.spec.volumeMode ?? "Filesystem"
        let have = volume.spec.volumeMode ?? "Filesystem"
        if want != have {
            return .failure(wrap(.incompatible, name,
                                 "the source PVC and destination PVCs must have the same volume mode for cloning.  Source is \(have).  Destination is \(want)"))
        }
        return .success(ResolvedSource(
            reference: reference, uid: source.metadata.uid ?? "",
            contentSource: VolumeContentSource(type: .volume(.init(volumeId: handle))), handle: handle,
            holderName: volume.name, sizeBytes: Quantity.storage(source.spec.resources.requests)))
    }

    func wrap(_ kind: SourceProblem.Kind, _ name: String, _ text: String) -> SourceProblem {
        SourceProblem(kind, "error getting handle for DataSource Type PersistentVolumeClaim by Name \(name): \(text)")
    }
}

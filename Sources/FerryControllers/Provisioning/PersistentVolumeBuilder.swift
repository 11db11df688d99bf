public import CSI
public import Kube

/// Ferry's provenance annotations on the PVs it creates (kubernetes.md §7: upstream records none).
public enum Provenance {
    public static let sourceKind = "ferry.io/source-kind"
    public static let sourceNamespace = "ferry.io/source-namespace"
    public static let sourceName = "ferry.io/source-name"
    public static let sourceUID = "ferry.io/source-uid"
    /// The snapshot handle (restore) or source volume handle (clone).
    public static let sourceHandle = "ferry.io/source-handle"
    /// The ReferenceGrant that allowed it (`namespace/name`), empty for same-namespace sources.
    public static let grant = "ferry.io/grant"
    /// The DataSourceLink the claim named, when it went through one.
    public static let link = "ferry.io/link"
    public static let provisionedAt = "ferry.io/provisioned-at"
}

/// Builds the PersistentVolume for a created volume, pre-bound to the claim (kubernetes.md §1.8). Pure.
public struct PersistentVolumeBuilder: Sendable {
    public static let provisionedBy = "pv.kubernetes.io/provisioned-by"
    public static let deletionSecretName = "volume.kubernetes.io/provisioner-deletion-secret-name"
    public static let deletionSecretNamespace = "volume.kubernetes.io/provisioner-deletion-secret-namespace"
    public static let provisionerFinalizer = "external-provisioner.volume.kubernetes.io/finalizer"
    public static let provisionerIdentityKey = "storage.kubernetes.io/csiProvisionerIdentity"

    public var driverName: String
    /// `<ms-timestamp>-<random>-<driver>`, fixed per process as upstream's.
    public var provisionerIdentity: String

    public init(driverName: String, provisionerIdentity: String) {
        self.driverName = driverName
        self.provisionerIdentity = provisionerIdentity
    }

    /// - Parameters:
    ///   - authority: what allowed the source (recorded as provenance).
    ///   - link: the DataSourceLink's name when the claim named one.
    ///   - now: RFC 3339 time for the provenance timestamp.
    public func build(claim: PersistentVolumeClaim, storageClass: StorageClass, plan: VolumePlan, volume: Volume,
                      source: ResolvedSource?, authority: GrantAuthority?, link: String?, now: String) -> PersistentVolume {
        var pv = PersistentVolume(name: plan.request.name)
        var annotations: [String: String] = [
            Self.provisionedBy: driverName,
            Self.deletionSecretName: plan.secretRefs[.provisioner]?.name ?? "",
            Self.deletionSecretNamespace: plan.secretRefs[.provisioner]?.namespace ?? "",
        ]
        if let source {
            annotations[Provenance.sourceKind] = source.reference.kind
            annotations[Provenance.sourceNamespace] = source.reference.namespace
            annotations[Provenance.sourceName] = source.reference.name
            annotations[Provenance.sourceUID] = source.uid
            annotations[Provenance.sourceHandle] = source.handle
            if case .grant(let g)? = authority { annotations[Provenance.grant] = "\(g.namespace)/\(g.name)" }
            else { annotations[Provenance.grant] = "" }
            annotations[Provenance.provisionedAt] = now
        }
        if let link { annotations[Provenance.link] = link }
        pv.metadata.annotations = annotations
        let reclaim = storageClass.reclaimPolicy ?? "Delete"
        if reclaim == "Delete" { pv.metadata.finalizers = [Self.provisionerFinalizer] }

        var spec = PersistentVolumeSpec()
        spec.accessModes = claim.spec.accessModes
        spec.mountOptions = storageClass.mountOptions
        spec.capacity = ["storage": Quantity.format(bytes: volume.capacityBytes)]
        var csi = CSIPersistentVolumeSource()
        csi.driver = driverName
        csi.volumeHandle = volume.volumeId
        var attributes = volume.volumeContext
        attributes[Self.provisionerIdentityKey] = provisionerIdentity
        csi.volumeAttributes = attributes
        if !plan.block, let fsType = plan.fsType { csi.fsType = fsType }
        for (kind, field) in [(StorageClassParameters.SecretKind.controllerPublish, "controllerPublishSecretRef"),
                              (.nodeStage, "nodeStageSecretRef"), (.nodePublish, "nodePublishSecretRef"),
                              (.controllerExpand, "controllerExpandSecretRef"), (.nodeExpand, "nodeExpandSecretRef")] {
            if let ref = plan.secretRefs[kind] {
                csi.object[field] = ["name": .string(ref.name), "namespace": .string(ref.namespace ?? "")]
            }
        }
        spec.csi = csi
        spec.persistentVolumeReclaimPolicy = reclaim
        spec.nodeAffinity = TopologyPlanner.nodeAffinity(volume.accessibleTopology)
        spec.volumeMode = claim.spec.volumeMode ?? "Filesystem"
        spec.storageClassName = storageClass.name
        if let vac = claim.spec.volumeAttributesClassName { spec.object["volumeAttributesClassName"] = .string(vac) }
        spec.claimRef = ObjectReference(apiVersion: "v1", kind: "PersistentVolumeClaim", namespace: claim.namespace,
                                        name: claim.name, uid: claim.metadata.uid,
                                        resourceVersion: claim.metadata.resourceVersion)
        pv.spec = spec
        return pv
    }
}

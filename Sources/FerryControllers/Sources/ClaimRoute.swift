public import Kube

/// Which path a claim takes, decided from the claim, its StorageClass and (for links) the link (ARCHITECTURE.md §1
/// table). Pure.
public enum ClaimRoute: Sendable, Hashable {
    /// Not Ferry's: no Ferry data source, another provisioner, already bound, or being deleted.
    case ignore(String)
    /// `dataSourceRef` names a `ferry.io/DataSourceLink` in the claim's namespace; read it next.
    case link(ObjectKey)
    /// A namespaced VolumeSnapshot/PVC `dataSourceRef`: external-provisioner provisions it; Ferry only diagnoses a
    /// missing grant (one Warning event with the YAML that would allow it).
    case native(GrantRequest)
    /// A VolumeSnapshot or PVC source Ferry provisions through CSI (via a link).
    case csi(GrantRequest, link: String?)
    /// A Kopia snapshot: the populating reconciler's (direct, cross-namespace with the gate, or via a link).
    case kopia(GrantRequest, link: String?)
    /// A link or reference to a kind Ferry does not handle.
    case unsupported(String)

    public static let linkGroup = "ferry.io"
    public static let linkKind = "DataSourceLink"

    /// The first decision, without the link.
    /// - Parameters:
    ///   - driverName: the CSI driver Ferry serves; claims of other provisioners are ignored (nil = standalone:
    ///     only Kopia sources are handled, for any provisioner).
    public static func decide(claim: PersistentVolumeClaim, storageClass: StorageClass?, driverName: String?) -> ClaimRoute {
        let ns = claim.namespace ?? ""
        if claim.metadata.deletionTimestamp != nil { return .ignore("claim is being deleted") }
        if let volume = claim.spec.volumeName, !volume.isEmpty { return .ignore("claim is bound to \(volume)") }
        guard let ref = claim.spec.dataSourceRef, let kind = ref.kind, let name = ref.name else {
            return .ignore("claim has no dataSourceRef")
        }
        let group = ref.apiGroup ?? ""
        // Names come from users: refuse what cannot be a path segment before any request is built from it.
        if let problem = PathSegment.problem(name) ?? ref.namespace.flatMap(PathSegment.problem) {
            return .unsupported("dataSourceRef names an invalid object: \(problem)")
        }
        let source = SourceReference(group: group, kind: kind, namespace: ref.namespace ?? ns, name: name)
        let request = GrantRequest(claimNamespace: ns, claimName: claim.name, source: source)
        if source.isKopiaSnapshot { return .kopia(request, link: nil) }
        let ours = driverName != nil && storageClass?.provisioner == driverName
        if group == linkGroup, kind == linkKind {
            guard ours || driverName == nil else { return .ignore("StorageClass provisioner is not \(driverName ?? "")") }
            guard ref.namespace == nil || ref.namespace == ns else {
                return .unsupported("a DataSourceLink must be in the claim's namespace \(ns), not \(ref.namespace ?? "")")
            }
            return .link(ObjectKey(namespace: ns, name: name))
        }
        if request.crossesNamespaces, source.isVolumeSnapshot || source.isPersistentVolumeClaim {
            return ours ? .native(request) : .ignore("StorageClass provisioner is not \(driverName ?? "")")
        }
        return .ignore("dataSourceRef \(source) is not a Ferry source")
    }

    /// The decision once the link has been read (nil = not found).
    public static func decide(claim: PersistentVolumeClaim, link: DataSourceLink?, linkKey: ObjectKey) -> Result<ClaimRoute, SourceProblem> {
        guard let link else {
            return .failure(SourceProblem(.notFound, "DataSourceLink \(linkKey) not found"))
        }
        guard let target = LinkTarget.reference(link),
              PathSegment.problem(target.name) == nil, PathSegment.problem(target.namespace) == nil else {
            return .failure(SourceProblem(.incompatible,
                                          "DataSourceLink \(linkKey) has an incomplete or invalid spec.sourceRef (kind and a valid name are required)"))
        }
        let request = GrantRequest(claimNamespace: claim.namespace ?? "", claimName: claim.name, source: target)
        if target.isKopiaSnapshot { return .success(.kopia(request, link: link.name)) }
        if target.isVolumeSnapshot || target.isPersistentVolumeClaim { return .success(.csi(request, link: link.name)) }
        return .success(.unsupported("DataSourceLink \(linkKey) points at \(target.kind).\(target.group), which Ferry does not handle"))
    }
}

/// Reading a DataSourceLink's `spec.sourceRef`.
public enum LinkTarget {
    /// The link's source, with the namespace defaulting to the link's own.
    public static func reference(_ link: DataSourceLink) -> SourceReference? {
        let ref = link.spec.sourceRef
        guard let kind = ref.kind, !kind.isEmpty, let name = ref.name, !name.isEmpty else { return nil }
        return SourceReference(group: ref.apiGroup ?? "", kind: kind, namespace: ref.namespace ?? link.namespace ?? "",
                               name: name)
    }
}

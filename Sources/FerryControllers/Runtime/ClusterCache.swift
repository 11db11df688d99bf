public import Kube

/// The cached view of the cluster a reconcile reads first (STYLE.md §3b: cache first, live GET where upstream does
/// one). ``InformerCache`` in production; the in-memory fake in tests.
public protocol ClusterCache: Sendable {
    func claim(_ key: ObjectKey) -> PersistentVolumeClaim?
    func storageClass(named name: String) -> StorageClass?
    func link(_ key: ObjectKey) -> DataSourceLink?
    func snapshot(_ key: ObjectKey) -> VolumeSnapshot?
    /// Every ReferenceGrant (either version) in a namespace.
    func grants(in namespace: String) -> [GrantRule]
    /// Claims whose Ferry source is this object: directly (`dataSourceRef`) or through a DataSourceLink.
    func claims(referencing source: SourceReference) -> [PersistentVolumeClaim]
    /// The claims of ``claims(referencing:)`` that still depend on the source (`SourceProtection.isDependent`).
    func dependentClaims(of source: SourceReference) -> [PersistentVolumeClaim]
    /// The keys of ``dependentClaims(of:)``.
    func dependentClaimKeys(of source: SourceReference) -> [ObjectKey]
    /// Claims still waiting on a source in a namespace (``SourceProtection/isDependent(_:)``: no volume yet, not being
    /// deleted) and every link whose source lies there: what a grant change there may unblock or revoke. Bound claims
    /// are left out — a grant deleted after the PV exists revokes nothing (kubernetes.md §1.4).
    func dependents(ofSourceNamespace namespace: String) -> (claims: [ObjectKey], links: [ObjectKey])
    /// Claims that name a DataSourceLink.
    func claims(usingLink key: ObjectKey) -> [ObjectKey]
    /// DataSourceLinks whose `spec.sourceRef` is this source (what a change of the source may change in their status).
    func linkKeys(referencing source: SourceReference) -> [ObjectKey]
    /// Sources (VolumeSnapshots and PersistentVolumeClaims) that carry Ferry's protection finalizer.
    func protectedSources() -> [SourceReference]
    /// The CSINodes and Nodes as the topology of `driver`'s volumes needs them (external-provisioner's CSINode and
    /// Node listers); nil when this cache does not watch them (a driver without VOLUME_ACCESSIBILITY_CONSTRAINTS).
    func nodeTopology(driver: String) -> NodeTopologyView?
}

extension ClusterCache {
    public func dependentClaims(of source: SourceReference) -> [PersistentVolumeClaim] {
        claims(referencing: source).filter(SourceProtection.isDependent)
    }
    public func dependentClaimKeys(of source: SourceReference) -> [ObjectKey] { dependentClaims(of: source).map(\.key) }
}

/// Index keys shared by the cache implementations (pure).
public enum CacheIndex {
    public static let bySource = "ferry.source"
    public static let bySourceNamespace = "ferry.source-namespace"
    public static let byLink = "ferry.link"
    /// `bySource` and `byLink` restricted to claims that still depend on their source: a source's change wakes only
    /// those, without reading every bound claim that once came from it.
    public static let byDependentSource = "ferry.dependent-source"
    public static let byDependentLink = "ferry.dependent-link"
    /// The source namespaces of claims that still depend on their direct source (a grant change there wakes them).
    public static let byDependentSourceNamespace = "ferry.dependent-source-namespace"

    public static func sourceKey(_ s: SourceReference) -> String { "\(s.group)/\(s.kind)/\(s.namespace)/\(s.name)" }

    /// A claim's direct source (not through a link), if it names one in any namespace.
    public static func directSource(_ claim: PersistentVolumeClaim) -> SourceReference? {
        guard let ref = claim.spec.dataSourceRef, let kind = ref.kind, let name = ref.name else { return nil }
        let group = ref.apiGroup ?? ""
        if group == ClaimRoute.linkGroup, kind == ClaimRoute.linkKind { return nil }
        return SourceReference(group: group, kind: kind, namespace: ref.namespace ?? claim.namespace ?? "", name: name)
    }

    /// The link a claim names, if any.
    public static func link(_ claim: PersistentVolumeClaim) -> ObjectKey? {
        guard let ref = claim.spec.dataSourceRef, ref.apiGroup == ClaimRoute.linkGroup, ref.kind == ClaimRoute.linkKind,
              let name = ref.name else { return nil }
        return ObjectKey(namespace: claim.namespace, name: name)
    }

    public static func claimSourceKeys(_ claim: PersistentVolumeClaim) -> [String] {
        directSource(claim).map { [sourceKey($0)] } ?? []
    }
    public static func claimSourceNamespaces(_ claim: PersistentVolumeClaim) -> [String] {
        directSource(claim).map { [$0.namespace] } ?? []
    }
    public static func claimLinkKeys(_ claim: PersistentVolumeClaim) -> [String] {
        link(claim).map { [$0.description] } ?? []
    }
    public static func dependentClaimSourceKeys(_ claim: PersistentVolumeClaim) -> [String] {
        SourceProtection.isDependent(claim) ? claimSourceKeys(claim) : []
    }
    public static func dependentClaimSourceNamespaces(_ claim: PersistentVolumeClaim) -> [String] {
        SourceProtection.isDependent(claim) ? claimSourceNamespaces(claim) : []
    }
    public static func dependentClaimLinkKeys(_ claim: PersistentVolumeClaim) -> [String] {
        SourceProtection.isDependent(claim) ? claimLinkKeys(claim) : []
    }
    public static func linkSourceKeys(_ link: DataSourceLink) -> [String] {
        LinkTarget.reference(link).map { [sourceKey($0)] } ?? []
    }
    public static func linkSourceNamespaces(_ link: DataSourceLink) -> [String] {
        LinkTarget.reference(link).map { [$0.namespace] } ?? []
    }
}

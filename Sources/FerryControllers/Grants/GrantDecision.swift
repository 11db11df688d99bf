public import Kube

/// A reference from a claim (or a DataSourceLink standing in for one) to a source object, as the grant rule sees it.
public struct SourceReference: Sendable, Hashable, CustomStringConvertible {
    /// API group of the source (`""` for core kinds such as PersistentVolumeClaim).
    public var group: String
    public var kind: String
    public var namespace: String
    public var name: String

    public init(group: String, kind: String, namespace: String, name: String) {
        self.group = group
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public var key: ObjectKey { ObjectKey(namespace: namespace, name: name) }
    public var description: String { "\(kind).\(group.isEmpty ? "core" : group) \(namespace)/\(name)" }

    public static let volumeSnapshotGroup = "snapshot.storage.k8s.io"
    public var isVolumeSnapshot: Bool { group == Self.volumeSnapshotGroup && kind == "VolumeSnapshot" }
    public var isPersistentVolumeClaim: Bool { group == "" && kind == "PersistentVolumeClaim" }
    public var isKopiaSnapshot: Bool { group == "ferry.io" && kind == "KopiaSnapshot" }
}

/// What asks for the source: the claim's namespace and name (a link's namespace is its claim's namespace).
public struct GrantRequest: Sendable, Hashable {
    /// Namespace of the referring PersistentVolumeClaim.
    public var claimNamespace: String
    /// Name of the referring PersistentVolumeClaim (for messages only; the rule has no name dimension on `from`).
    public var claimName: String
    public var source: SourceReference

    public init(claimNamespace: String, claimName: String, source: SourceReference) {
        self.claimNamespace = claimNamespace
        self.claimName = claimName
        self.source = source
    }

    /// Whether the grant rule applies at all (it applies only across namespaces).
    public var crossesNamespaces: Bool { source.namespace != claimNamespace }
}

/// Why a reference is allowed.
public enum GrantAuthority: Sendable, Hashable {
    /// Source and claim share a namespace: no grant needed.
    case sameNamespace
    /// This grant (in the source's namespace) allows it.
    case grant(GrantRule)

    /// The grant's name, nil for ``sameNamespace``.
    public var grantName: String? {
        if case .grant(let g) = self { g.name } else { nil }
    }
}

/// Why a reference is denied; ``message`` reproduces external-provisioner's texts (kubernetes.md Appendix A).
public enum GrantDenial: Sendable, Hashable {
    /// No ReferenceGrant in the source namespace allows it.
    case noGrant(GrantRequest)
    /// A namespaced `dataSourceRef` while Ferry's `CrossNamespaceVolumeDataSource` gate is off.
    case featureDisabled(GrantRequest)

    public var request: GrantRequest {
        switch self { case .noGrant(let r), .featureDisabled(let r): r }
    }

    /// external-provisioner's text for the same decision.
    public var message: String {
        switch self {
        case .noGrant(let r):
            "accessing \(r.source.namespace)/\(r.source.name) of \(r.source.kind) dataSource from \(r.claimNamespace)/\(r.claimName) isn't allowed"
        case .featureDisabled:
            "dataSourceRef namespace specified but the CrossNamespaceVolumeDataSource feature is disabled"
        }
    }

    /// A condition/event reason.
    public var reason: String {
        switch self { case .noGrant: "ReferenceGrantMissing"; case .featureDisabled: "FeatureDisabled" }
    }
}

/// The one answer of the grant rule: allowed (with what allowed it) or denied (with why). No boolean-plus-error.
public enum GrantDecision: Sendable, Hashable {
    case allowed(GrantAuthority)
    case denied(GrantDenial)

    public var isAllowed: Bool { if case .allowed = self { true } else { false } }

    /// external-provisioner's ReferenceGrant rule (`IsGranted`, kubernetes.md §1.3), over the grants in the
    /// source's namespace. Pure: grants come from a cache the caller reads.
    ///
    /// - A grant counts if any `from` entry is group `""`, kind `PersistentVolumeClaim`, namespace = the claim's, and
    ///   any `to` entry has the source's group and kind and a name that is absent, empty or the source's name.
    /// - Same namespace: always allowed, without a grant. Grants from other namespaces never count.
    /// - Among several matching grants the first by name is reported, so the answer is stable.
    public static func decide(_ request: GrantRequest, grants: [GrantRule]) -> GrantDecision {
        guard request.crossesNamespaces else { return .allowed(.sameNamespace) }
        let matching = grants.filter { grant in
            grant.namespace == request.source.namespace
                && grant.from.contains { $0.group == "" && $0.kind == "PersistentVolumeClaim" && $0.namespace == request.claimNamespace }
                && grant.to.contains {
                    $0.group == request.source.group && $0.kind == request.source.kind
                        && ($0.name == nil || $0.name == "" || $0.name == request.source.name)
                }
        }
        guard let first = matching.min(by: { ($0.name, $0.version) < ($1.name, $1.version) }) else {
            return .denied(.noGrant(request))
        }
        return .allowed(.grant(first))
    }

    /// The decision for a namespaced `dataSourceRef` on a claim (the native path), honouring Ferry's feature gate as
    /// external-provisioner does: gate off and a namespace set → ``GrantDenial/featureDisabled``.
    public static func decideNative(_ request: GrantRequest, gateEnabled: Bool, grants: [GrantRule]) -> GrantDecision {
        if request.crossesNamespaces, !gateEnabled { return .denied(.featureDisabled(request)) }
        return decide(request, grants: grants)
    }
}

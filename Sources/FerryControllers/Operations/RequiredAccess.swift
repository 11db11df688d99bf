/// The RBAC the controllers need (ARCHITECTURE.md §2.5), one row per verb and resource, with why: what
/// `ferry kube check` asks the API server about (moved here from the command, issue 17 item 9).
public struct RequiredAccess: Sendable, Hashable {
    public var verb: String
    public var group: String
    public var resource: String
    /// A subresource (`status`): RBAC authorizes `resource/subresource` apart from the resource.
    public var subresource: String?
    /// Checked in Ferry's own namespace (work namespace) rather than cluster-wide.
    public var namespaced: Bool
    public var why: String

    public init(_ verb: String, _ group: String, _ resource: String, subresource: String? = nil, namespaced: Bool = false,
                why: String) {
        self.verb = verb
        self.group = group
        self.resource = resource
        self.subresource = subresource
        self.namespaced = namespaced
        self.why = why
    }

    public static let controller: [RequiredAccess] = [
        .init("watch", "", "persistentvolumeclaims", why: "find claims with Ferry data sources"),
        .init("update", "", "persistentvolumeclaims", why: "source-protection finalizers on clone sources"),
        .init("create", "", "persistentvolumes", why: "the PV of a provisioned volume"),
        .init("get", "", "persistentvolumes", why: "idempotency after a restart, clone sources"),
        .init("watch", "storage.k8s.io", "storageclasses", why: "provisioner, parameters and topology of claims"),
        .init("watch", "", "nodes", why: "topology values of CreateVolume (topology drivers)"),
        .init("watch", "storage.k8s.io", "csinodes", why: "the driver's topology keys per node (topology drivers)"),
        .init("get", "snapshot.storage.k8s.io", "volumesnapshots", why: "snapshot sources (live reads)"),
        .init("watch", "snapshot.storage.k8s.io", "volumesnapshots", why: "wake claims when a snapshot becomes ready"),
        .init("update", "snapshot.storage.k8s.io", "volumesnapshots", why: "source-protection finalizers"),
        .init("get", "snapshot.storage.k8s.io", "volumesnapshotcontents", why: "snapshot handles"),
        .init("watch", "gateway.networking.k8s.io", "referencegrants", why: "the grant rule; re-enqueue on change"),
        .init("watch", "ferry.io", "kopiasnapshots", why: "Kopia sources"),
        .init("watch", "ferry.io", "datasourcelinks", why: "links in the claims' namespaces"),
        .init("update", "ferry.io", "datasourcelinks", subresource: "status", why: "Granted and Ready conditions"),
        .init("update", "ferry.io", "kopiasnapshots", subresource: "status", why: "the Ready condition and the resolved snapshot"),
        .init("create", "", "pods", namespaced: true, why: "populator pods in the work namespace"),
        .init("delete", "", "pods", namespaced: true, why: "cleanup of populator pods"),
        .init("watch", "", "pods", namespaced: true, why: "populator pods wake their PVC when they end"),
        .init("create", "", "secrets", namespaced: true, why: "short-lived repository credentials for populator pods"),
        .init("create", "", "events", why: "feedback on claims"),
        .init("update", "coordination.k8s.io", "leases", namespaced: true, why: "leader election"),
    ]

    /// The CRDs Ferry relies on, with what is lost without each.
    public static let crds: [(name: String, without: String)] = [
        ("volumesnapshots.snapshot.storage.k8s.io", "no VolumeSnapshot sources"),
        ("volumesnapshotcontents.snapshot.storage.k8s.io", "no VolumeSnapshot sources"),
        ("referencegrants.gateway.networking.k8s.io", "every cross-namespace source is denied (install the Gateway API standard channel)"),
        ("datasourcelinks.ferry.io", "no DataSourceLinks (install helm/ferry/crds)"),
        ("kopiasnapshots.ferry.io", "no Kopia sources (install helm/ferry/crds)"),
    ]
}
